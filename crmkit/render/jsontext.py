"""Values JSON does not know, as the documented JSON shapes write them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

_ISO_TYPES = (dt.datetime, dt.date, dt.time)


def json_default(value: Any) -> Any:
    """Dates and times as ISO 8601, money (Decimal) as exact text, sets as sorted lists."""
    if type(value) in _ISO_TYPES or isinstance(value, _ISO_TYPES):
        return value.isoformat()
    if isinstance(value, (Decimal, Path)):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return str(value)
