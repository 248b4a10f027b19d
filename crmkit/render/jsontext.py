"""Values JSON does not know, as the documented JSON shapes write them."""

from __future__ import annotations

import datetime as dt
import re
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


def jsonable(value: Any) -> Any:
    """A record value as plain JSON data: mappings and lists kept, dates and times as ISO
    8601, Decimals as exact text (what export and the vCard X- properties write)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, _ISO_TYPES):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


_ISO_DATE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")
_ISO_TIME = re.compile(r"\A\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})\Z")


def revive(value: Any) -> Any:
    """The inverse of `jsonable` for what YAML reads as dates: ISO dates and zoned timestamps
    in JSON text become dates and timestamps again; anything else stays as it is."""
    if isinstance(value, dict):
        return {k: revive(v) for k, v in value.items()}
    if isinstance(value, list):
        return [revive(v) for v in value]
    if isinstance(value, str):
        try:
            if _ISO_DATE.match(value):
                return dt.date.fromisoformat(value)
            if _ISO_TIME.match(value):
                return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return value
