"""Cells for `export csv --excel`: what Excel and LibreOffice on the user's locale read right.

A spreadsheet guesses each CSV cell's type with the machine's locale, so:

* numbers are written with the locale's decimal mark (`1234,5` for sv, nb, da, fi,
  hu, de...; `1234.5` for en), because Swedish Excel and LibreOffice read `1234.5`
  as text;
* text that a spreadsheet would turn into a number and so change (a zip code
  `0150`, an id `007`, a phone number `+46701234567`, a digit string longer than
  the 15 digits a spreadsheet keeps) is written as `="0150"`, the one form both
  Excel and LibreOffice keep as that exact text. `import csv` reads it back as `0150`.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from crmkit.render.cells import TextFormula

# digits a spreadsheet reads as a number, losing a leading 0 or +, or digits past the 15th
_LOSSY_NUMBER = re.compile(r"\+\d+|0\d+|\d{16,}")
_DECIMAL_TEXT = re.compile(r"-?\d+\.\d+")


def decimal_mark(locale: str) -> str:
    """The decimal mark of a locale such as sv_SE or en_GB (from CLDR through Babel)."""
    from babel import Locale, UnknownLocaleError
    from babel.numbers import get_decimal_symbol

    try:
        return str(get_decimal_symbol(Locale.parse(locale.replace("-", "_"))))
    except (UnknownLocaleError, ValueError, TypeError):
        return "."


def numeric_type(t: Any) -> bool:
    return t in ("int", "number", "amount")


def excel_cell(value: Any, field_type: Any, decimal: str, plain: str) -> str:
    """The cell text for one value; `plain` is what a plain CSV export writes for it."""
    if isinstance(value, bool):
        return plain
    if isinstance(value, (int, float, Decimal)):
        return plain.replace(".", decimal) if decimal != "." else plain
    if isinstance(value, str):
        text = value.strip()
        if numeric_type(field_type) and _DECIMAL_TEXT.fullmatch(text):
            try:
                Decimal(text)
            except InvalidOperation:  # pragma: no cover - the pattern allows only digits
                return plain
            return text.replace(".", decimal)
        if not numeric_type(field_type) and _LOSSY_NUMBER.fullmatch(value):
            return TextFormula(f'="{value}"')
    return plain
