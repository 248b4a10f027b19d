"""Values: exact decimals from any way people write amounts, rounding and locale formatting.

Amounts are never floats in arithmetic. A YAML number is turned into a Decimal
from its shortest text (12345.5 -> Decimal("12345.5")), and text is read the way
Nordic and Hungarian spreadsheets write it ("12 345,50").

Formatting follows CLDR through Babel, exactly as Babel emits it: Swedish groups
thousands with a no-break space (U+00A0) and puts one before "kr", so 12345.5 SEK
is "12\u00a0345,50\u00a0kr". We keep the no-break spaces on purpose: an amount
never wraps across lines in an offer or an email. Tests pin these exact strings.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from crmkit.errors import CrmkitError

#: Grouping people type or paste: spaces of every kind (U+00A0 and U+202F from
#: formatted offers) and the Swiss apostrophe.
_GROUPING = re.compile(r"[\s\u00a0\u202f']")
_CURRENCY = re.compile(r"(?i)(kr|sek|nok|eur|huf|ft|€|\$)$")
_PLAIN = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_AMBIGUOUS = re.compile(r"[+-]?[1-9]\d*,\d{3}")  # "0,125" can only be a decimal comma


def parse_decimal(value: Any, locale: str | None = None, *, refuse_ambiguous: bool = False) -> Decimal | None:
    """The one reader of numbers and amounts: an exact Decimal, or None when `value` is none.

    The rule, in order:

    1. None, booleans and empty text are no number; an int is itself, a float is read
       from its shortest text (0.1 is 0.1), a Decimal is itself. NaN and infinities are
       no number.
    2. Text: a trailing currency (kr, SEK, NOK, EUR, HUF, Ft, €, $) and grouping (any
       space, U+00A0, U+202F, an apostrophe) are dropped; U+2212 is a minus sign.
    3. The plain form ``[+-]digits[.digits][e±n]`` (what YAML, JSON and programs write)
       is read as it is, whatever the locale: the dot is the decimal point.
    4. With a `locale` (the workspace's ``locale``), Babel's
       ``babel.numbers.parse_decimal`` reads the text by that locale's symbols.
    5. Otherwise (or when the locale cannot read it) the spreadsheet rule: with both
       ``,`` and ``.`` the one that comes last is the decimal separator ("12.345,50",
       "12,345.50"); a lone comma is a decimal comma, as Nordic and Hungarian
       spreadsheets write it: ``"12,345"`` is 12.345. With `refuse_ambiguous` (imports
       from unknown spreadsheets) a lone comma before exactly three digits is neither
       and the text is no number.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        d = Decimal(repr(value))
        return d if d.is_finite() else None
    if not isinstance(value, str):
        return None
    text = _CURRENCY.sub("", _GROUPING.sub("", value.strip()).replace("\u2212", "-"))
    if _PLAIN.fullmatch(text):
        return Decimal(text)
    if not text or not re.fullmatch(r"[+-]?[\d.,]+", text):
        return None
    if locale is not None:
        from babel.numbers import NumberFormatError
        from babel.numbers import parse_decimal as babel_parse

        try:
            return babel_parse(text, locale=locale, strict=True)
        except (NumberFormatError, ValueError):
            pass
    if refuse_ambiguous and _AMBIGUOUS.fullmatch(text):
        return None
    if "," in text and "." in text:
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif "," in text:
        text = text.replace(",", ".")
    return Decimal(text) if _PLAIN.fullmatch(text) else None


def to_decimal(value: Any, what: str = "amount", locale: str | None = None) -> Decimal:
    """:func:`parse_decimal`, for a value that must be an amount: an error naming `what` otherwise."""
    number = parse_decimal(value, locale)
    if number is None:
        raise CrmkitError(f"{what}: {value!r} is not an amount")
    return number


@lru_cache(maxsize=64)
def minor_unit(currency: str) -> Decimal:
    """The smallest unit of a currency (0.01 for SEK, 1 for JPY and HUF), from Babel's CLDR data."""
    from babel.numbers import get_currency_precision

    return Decimal(1).scaleb(-get_currency_precision(currency.upper()))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round half up to the currency's minor unit."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def format_money(amount: Decimal, currency: str, locale: str = "sv_SE") -> str:
    """12345.5 SEK in sv_SE -> '12 345,50 kr' (with no-break spaces, as CLDR writes it)."""
    from babel.numbers import format_currency

    return format_currency(round_money(amount, currency), currency.upper(), locale=locale)


def format_number(amount: Decimal, locale: str = "sv_SE") -> str:
    """2.5 -> '2,5' in Swedish; quantities keep their decimals."""
    from babel.numbers import format_decimal

    return format_decimal(amount, locale=locale)


def format_percent(rate: Decimal, locale: str = "sv_SE") -> str:
    """25 -> '25\u00a0%' in Swedish, '25%' in English, 12.5 -> '12,5\u00a0%'.

    Rates are written as percent numbers in records; the locale decides the sign's spacing.
    """
    from babel.numbers import format_percent as fp

    return fp(rate / 100, locale=locale, decimal_quantization=False)


# -- dates ---------------------------------------------------------------------------
# The one reader of dates and timestamps in YAML values (ISO 8601, aware or in a zone).


def to_date(value: Any) -> dt.date | None:
    """A date from a YAML value (date, datetime, ISO text); None when absent or unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return dt.date.fromisoformat(text[:10])
        except ValueError:
            return None
    return None


def to_datetime(value: Any, tz: dt.tzinfo) -> dt.datetime | None:
    """An aware datetime from a YAML value; dates are the start of that day in ``tz``."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=tz)
    if isinstance(value, str):
        text = value.strip()
        try:
            d = dt.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        except ValueError:
            return None
        return d if d.tzinfo is not None else d.replace(tzinfo=tz)
    return None


def local_date(value: dt.datetime, tz: dt.tzinfo) -> dt.date:
    return value.astimezone(tz).date()
