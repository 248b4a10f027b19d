"""Values as a person writes them, for text meant to be read (emails, notifications).

Templates print whatever a record holds; without this, a list came out as
`['large']` and a timestamp as `datetime.datetime(2026, 11, 22, ..., ZoneInfo(...))`
in a field of a mapping. Every `{{ ... }}` of a template goes through `human`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any


def human(value: Any, tz: Any = None) -> Any:
    """`['large', 'nordic']` -> `large, nordic`; a timestamp -> `2026-11-22 09:30` (in `tz`);
    a date -> `2026-11-22`; True -> `yes`; a mapping -> `key: value, ...`. Text and
    numbers pass unchanged (so filters such as `money` keep their output)."""
    if value is None or isinstance(value, (str, int, float, Decimal)) and not isinstance(value, bool):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None and tz is not None:
            value = value.astimezone(tz)
        return value.strftime("%Y-%m-%d %H:%M") if (value.second, value.microsecond) == (0, 0) \
            else value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return ", ".join(f"{k}: {human(v, tz)}" for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(str(human(v, tz)) for v in value)
    return value
