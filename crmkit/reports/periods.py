"""Report periods: "month", "last-quarter", "2026-Q4", "30d" or START..END, as inclusive date ranges."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from crmkit.errors import UsageError


@dataclass(frozen=True)
class Period:
    """An inclusive range of dates with a label for people."""

    start: dt.date
    end: dt.date
    label: str

    def __contains__(self, d: object) -> bool:
        return isinstance(d, dt.date) and self.start <= d <= self.end

    def to_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "label": self.label}


def month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


def add_months(d: dt.date, n: int) -> dt.date:
    y, mo = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, mo + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def month_end(d: dt.date) -> dt.date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


PERIOD_HELP = (
    "month, quarter, year, last-month, last-quarter, last-year, 30d, 12m, 2026, 2026-11, 2026-Q4 "
    "or START..END (ISO dates)"
)


def parse_period(text: str, today: dt.date) -> Period:
    """A period from its name: ``month`` (this month to date), ``quarter``, ``year``, ``last-month``,
    ``last-quarter``, ``last-year``, ``30d``/``12m`` (trailing), ``2026``, ``2026-11``, ``2026-Q4``,
    or ``2026-01-01..2026-03-31``."""
    t = text.strip().lower()
    q_start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    if t in ("month", "this-month", "mtd"):
        return Period(month_start(today), today, f"{today:%Y-%m} to date")
    if t in ("quarter", "this-quarter", "qtd"):
        return Period(q_start, today, f"{today.year}-Q{(today.month - 1) // 3 + 1} to date")
    if t in ("year", "this-year", "ytd"):
        return Period(dt.date(today.year, 1, 1), today, f"{today.year} to date")
    if t == "last-month":
        s = add_months(month_start(today), -1)
        return Period(s, month_end(s), f"{s:%Y-%m}")
    if t == "last-quarter":
        s = add_months(q_start, -3)
        return Period(s, month_end(add_months(s, 2)), f"{s.year}-Q{(s.month - 1) // 3 + 1}")
    if t == "last-year":
        return Period(dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31), str(today.year - 1))
    mt = re.fullmatch(r"(\d+)([dwm])", t)
    if mt:
        n, unit = int(mt.group(1)), mt.group(2)
        if n <= 0:
            raise UsageError(f"period '{text}' must be positive")
        if unit == "m":
            start = add_months(today, -n) + dt.timedelta(days=1)
        else:
            start = today - dt.timedelta(days=n * (7 if unit == "w" else 1) - 1)
        return Period(start, today, f"last {n}{unit} ({start.isoformat()}..{today.isoformat()})")
    if re.fullmatch(r"\d{4}", t):
        y = int(t)
        return Period(dt.date(y, 1, 1), dt.date(y, 12, 31), t)
    mt = re.fullmatch(r"(\d{4})-(\d{2})", t)
    if mt:
        s = dt.date(int(mt.group(1)), int(mt.group(2)), 1)
        return Period(s, month_end(s), t)
    mt = re.fullmatch(r"(\d{4})-q([1-4])", t)
    if mt:
        s = dt.date(int(mt.group(1)), 3 * (int(mt.group(2)) - 1) + 1, 1)
        return Period(s, month_end(add_months(s, 2)), t.upper())
    if ".." in t:
        a, b = t.split("..", 1)
        try:
            s, e = dt.date.fromisoformat(a.strip()), dt.date.fromisoformat(b.strip())
        except ValueError:
            raise UsageError(f"period '{text}': dates must be YYYY-MM-DD") from None
        if e < s:
            raise UsageError(f"period '{text}' ends before it starts")
        return Period(s, e, f"{s.isoformat()}..{e.isoformat()}")
    raise UsageError(f"unknown period '{text}'; use {PERIOD_HELP}")
