"""One value as the text of a table or spreadsheet cell."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

#: Characters a cell may start with that make a spreadsheet consider it a formula.
#: Only some of those cells are dangerous (see `runs_as_formula`); a quote that crmkit
#: itself puts before any of them is removed again on import.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# After a leading + or -, text a spreadsheet reads as a plain number (-5000, -12,5, +1.5e3)
# or that is a phone number (+46 70 123 45 67, +36 (1) 234-5678): digits, spaces and
# . , ( ) / - only, so no function name, cell reference or "|" can be in it.
_NUMBER_OR_PHONE = re.compile(r"[+-](?:\d[\d.,]*(?:[eE][+-]?\d+)?|[\d\s().,/-]*\d[\d\s().,/-]*)?")


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


class TextFormula(str):
    """A cell crmkit writes as a formula on purpose (`="0150"`, Excel's way to keep text as
    text); the only kind of cell that is not defused."""


def runs_as_formula(text: str) -> bool:
    """Whether a spreadsheet opening this cell could run it as a formula (CSV injection).

    `=` and `@` always; a leading tab or carriage return (Excel strips it, then looks
    again); `+` or `-` unless what follows is a number or a phone number, so
    negative amounts and international phone numbers go out exactly as they are.
    """
    if not text.startswith(FORMULA_START):
        return False
    if text[0] in "+-":
        return _NUMBER_OR_PHONE.fullmatch(text) is None
    return True


def safe_cell(text: str) -> str:
    """Keep a spreadsheet from running a cell as a formula: prefix a quote where `runs_as_formula`."""
    return "'" + text if runs_as_formula(text) else text
