"""One value as the text of a table or spreadsheet cell."""

from __future__ import annotations

import datetime as dt
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """Text for a cell: lists comma-joined, mappings as key=value, dates ISO, booleans yes/no."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(cell(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={cell(v)}" for k, v in value.items())
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def safe_cell(text: str) -> str:
    """Keep a spreadsheet from running a cell as a formula (CSV injection): prefix a quote."""
    return "'" + text if text.startswith(FORMULA_START) else text
