"""Numbers (and chart months) in reports for people, in the workspace locale: grouping, signs, short forms.

The renderers for people (table, md, html and its charts) write numbers the way the
workspace's ``locale`` does, through Babel as offers do: ``5 911 500`` in sv_SE, nb_NO
and hu_HU (no-break spaces, so a figure never wraps), ``12,5 %``, ``1,2 mn``. English
workspaces (and no locale at all) keep the English forms (``5,911,500``, ``12.5%``,
``1.2M``, ``350k``) exactly as they always were. JSON and CSV are for machines and never
use this module: plain ``5911500.00``.

The locale is set for one rendering by :func:`number_locale` (crmkit.render.report.render
does it), so the cell formatter deep inside a table needs no extra argument.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

#: None: the English forms. Otherwise a Babel locale name such as "sv_SE".
_LOCALE: ContextVar[str | None] = ContextVar("crmkit_report_locale", default=None)


@lru_cache(maxsize=32)
def people_locale(locale: object) -> str | None:
    """The locale numbers follow: None (English forms) for no locale, an English one, or one
    Babel does not know (`crmkit check` is where a bad ``locale`` is reported, not a report)."""
    if not locale or not isinstance(locale, str) or locale.replace("-", "_").split("_")[0].lower() == "en":
        return None
    from babel import Locale, UnknownLocaleError

    name = locale.replace("-", "_")
    try:
        Locale.parse(name)
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    return name


@contextmanager
def number_locale(locale: str | None) -> Iterator[None]:
    """Numbers rendered inside this block follow ``locale`` (see :func:`people_locale`)."""
    token = _LOCALE.set(people_locale(locale))
    try:
        yield
    finally:
        _LOCALE.reset(token)


def current() -> str | None:
    return _LOCALE.get()


def whole(d: Decimal | int, locale: str | None = None) -> str:
    """A whole number, grouped: ``1,081,500`` or, in sv_SE, ``1 081 500`` (no-break spaces).
    ``locale`` overrides the rendering's locale (for text a report builds itself)."""
    loc = people_locale(locale) if locale is not None else _LOCALE.get()
    if loc is None:
        return f"{d:,}"
    from babel.numbers import format_decimal

    return format_decimal(d, format="#,##0", locale=loc)


def decimal(d: Decimal) -> str:
    """A number with the decimals it has (``3.5`` / ``3,5``), not grouped."""
    loc = _LOCALE.get()
    text = str(d)
    return text if loc is None else text.replace(".", _decimal_sign(loc))


def percent(d: Decimal, locale: str | None = None) -> str:
    """A percent number (``12.5`` means 12.5 %) with one decimal at most: ``12.5%``, ``12,5 %``, ``50%``.
    ``locale`` overrides the rendering's locale (for text a report builds itself)."""
    text = str(d.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    if text.endswith(".0"):
        text = text[:-2]
    loc = people_locale(locale) if locale is not None else _LOCALE.get()
    if loc is None:
        return text + "%"
    from babel.numbers import format_percent

    return format_percent(Decimal(text) / 100, locale=loc, decimal_quantization=False)


def short(v: float) -> str:
    """Chart axis and label numbers: ``1.2M``, ``350k``, ``900``; ``1,2 mn``, ``350 tn`` in sv_SE."""
    loc = _LOCALE.get()
    a = abs(v)
    if loc is not None:
        if a < 1e3:
            return f"{v:.0f}"
        from babel.numbers import format_compact_decimal

        # thousands whole, millions with one decimal: as the English 350k and 1.2M
        return format_compact_decimal(v, locale=loc, fraction_digits=0 if a < 1e6 else 1)
    if a >= 1e9:
        return f"{v / 1e9:.1f}bn".replace(".0bn", "bn")
    if a >= 1e6:
        return f"{v / 1e6:.1f}M".replace(".0M", "M")
    if a >= 1e3:
        return f"{v / 1e3:.0f}k"
    return f"{v:.0f}"


def month_label(day: dt.date, locale: str | None = None) -> str:
    """A chart's month: ``Dec 2026``, or as ``locale`` writes it (``dec. 2026`` in sv_SE)."""
    loc = people_locale(locale)
    if loc is None:
        return day.strftime("%b %Y")
    from babel.dates import format_skeleton

    return format_skeleton("yMMM", day, locale=loc)  # the locale's order: 2026. dec. in hu


def _decimal_sign(loc: str) -> str:
    from babel.numbers import get_decimal_symbol

    return get_decimal_symbol(loc)
