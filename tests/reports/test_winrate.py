"""The win-rate report, against the hand-computed workspace of sales_report_data."""

from __future__ import annotations

from decimal import Decimal

from sales_report_data import CFG, DEALS, NOW, by_key

from crmkit.render.report import render
from crmkit.reports.periods import parse_period
from crmkit.reports.winrate import winrate_report


def test_winrate_totals() -> None:
    rep = winrate_report(DEALS, CFG, NOW)
    t = rep.data["totals"]
    assert (t["won"], t["lost"]) == (1, 1)
    assert t["win_rate"] == Decimal("50.0")
    assert t["win_rate_value"] == Decimal("62.5")  # 50 000 / 80 000
    assert t["avg_size"] == Decimal("50000.00")
    assert t["avg_cycle_days"] == Decimal("93.0")


def test_winrate_by_owner_and_period() -> None:
    rep = winrate_report(DEALS, CFG, NOW, by="owner")
    g = by_key(rep.data["groups"], "owner")
    assert g["daniel"]["win_rate"] == Decimal("100.0") and g["karin"]["win_rate"] == Decimal("0.0")
    assert g["karin"]["avg_size"] is None
    rep = winrate_report(DEALS, CFG, NOW, period=parse_period("2025", NOW.date()))
    assert rep.data["totals"]["won"] == 1 and rep.data["totals"]["avg_cycle_days"] == Decimal("31.0")


def test_winrate_with_nothing_closed() -> None:
    rep = winrate_report(DEALS, CFG, NOW, period=parse_period("2020", NOW.date()))
    assert rep.data["totals"]["win_rate"] is None and rep.data["totals"]["avg_size"] is None
    assert "-" in render(rep, "table")
