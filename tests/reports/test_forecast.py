"""The forecast report, against the hand-computed workspace of sales_report_data."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sales_report_data import CFG, DEALS, NOW, by_key

from crmkit.errors import UsageError
from crmkit.reports.forecast import forecast_report


def test_forecast_by_month() -> None:
    rep = forecast_report(DEALS, CFG, NOW, months=3)
    b = by_key(rep.data["buckets"], "month")
    assert list(b) == ["overdue", "2026-11", "2026-12", "2027-01", "later", "no date"]
    assert b["overdue"]["best_case"] == Decimal("23000.00") and b["overdue"]["weighted"] == Decimal("11500.00")
    # months with no deals are there, with zeros; this month shows what was won in it
    assert b["2026-11"]["count"] == 0 and b["2026-11"]["value"] == 0 and b["2026-11"]["won"] == Decimal("50000.00")
    assert b["2027-01"]["count"] == 0 and b["2027-01"]["weighted"] == 0
    assert b["2026-12"]["pipeline"] == Decimal("100000.00") and b["2026-12"]["weighted"] == Decimal("10000.00")
    assert b["later"]["commit"] == Decimal("10200.00") and b["later"]["weighted"] == Decimal("7650.00")
    assert b["no date"]["count"] == 1 and b["no date"]["no_value"] == 1
    t = rep.data["totals"]
    assert (t["count"], t["value"], t["weighted"], t["won"]) == (4, Decimal("133200.00"), Decimal("29150.00"), Decimal("50000.00"))


def test_forecast_flags_overdue_deals() -> None:
    rep = forecast_report(DEALS, CFG, NOW, months=3)
    assert [o["deal"] for o in rep.data["overdue"]] == ["b"]
    assert rep.data["overdue"][0]["days_overdue"] == 53
    chart = rep.charts[0]
    assert chart.labels[0] == "overdue" and chart.highlight and chart.highlight[0]


def test_forecast_expected_close_today_is_not_overdue() -> None:
    rep = forecast_report([("x", {"stage": "lead", "value": 10, "expected_close": "2026-11-23"})], CFG, NOW, months=1)
    assert rep.data["overdue"] == [] and rep.data["buckets"][1]["count"] == 1


def test_forecast_months_bounds() -> None:
    with pytest.raises(UsageError):
        forecast_report(DEALS, CFG, NOW, months=0)


def test_forecast_by_owner() -> None:
    rep = forecast_report(DEALS, CFG, NOW, months=3, by="owner")
    rows = {(g["owner"], g["month"]): g for g in rep.data["groups"]}
    assert rows[("karin", "overdue")]["value"] == Decimal("23000.00")
    assert rows[("daniel", "2026-12")]["weighted"] == Decimal("10000.00")
