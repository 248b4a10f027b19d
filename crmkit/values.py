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
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from crmkit.errors import CrmkitError

_SPACES = re.compile(r"[\s\u00a0\u202f']")


def to_decimal(value: Any, what: str = "amount") -> Decimal:
    """An exact Decimal from an int, a float's shortest text, or text like '12 345,50' or '12,345.50'."""
    if isinstance(value, bool):
        raise CrmkitError(f"{what}: {value!r} is not an amount")
    if isinstance(value, Decimal):
        return _finite(value, value, what)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return _finite(Decimal(repr(value)), value, what)
    if isinstance(value, str):
        text = _SPACES.sub("", value.strip()).replace("\u2212", "-")
        text = re.sub(r"(?i)(kr|sek|nok|eur|huf|ft|€|\$)$", "", text)
        if "," in text and "." in text:
            # the separator that comes last is the decimal one
            if text.rfind(",") > text.rfind("."):
                text = text.replace(".", "").replace(",", ".")
            else:
                text = text.replace(",", "")
        elif "," in text:
            text = text.replace(",", ".")
        if re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
            try:
                return Decimal(text)
            except InvalidOperation:
                pass
    raise CrmkitError(f"{what}: {value!r} is not an amount")


def _finite(number: Decimal, original: Any, what: str) -> Decimal:
    """NaN and infinity are not money."""
    if not number.is_finite():
        raise CrmkitError(f"{what}: {original!r} is not an amount")
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
