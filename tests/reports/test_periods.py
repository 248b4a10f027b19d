"""Report periods."""

from __future__ import annotations

import datetime as dt

import pytest

from crmkit.errors import UsageError
from crmkit.reports.periods import parse_period


@pytest.mark.parametrize(
    "text, start, end",
    [
        ("month", "2026-11-01", "2026-11-23"),
        ("quarter", "2026-10-01", "2026-11-23"),
        ("year", "2026-01-01", "2026-11-23"),
        ("last-month", "2026-10-01", "2026-10-31"),
        ("last-quarter", "2026-07-01", "2026-09-30"),
        ("last-year", "2025-01-01", "2025-12-31"),
        ("30d", "2026-10-25", "2026-11-23"),
        ("12m", "2025-11-24", "2026-11-23"),
        ("2026-02", "2026-02-01", "2026-02-28"),
        ("2026-Q1", "2026-01-01", "2026-03-31"),
        ("2026-01-05..2026-02-01", "2026-01-05", "2026-02-01"),
    ],
)
def test_parse_period(text: str, start: str, end: str) -> None:
    p = parse_period(text, dt.date(2026, 11, 23))
    assert (p.start.isoformat(), p.end.isoformat()) == (start, end)


@pytest.mark.parametrize("text", ["fortnight", "0d", "2026-02-01..2026-01-01", "x..y"])
def test_bad_period(text: str) -> None:
    with pytest.raises(UsageError):
        parse_period(text, dt.date(2026, 11, 23))
