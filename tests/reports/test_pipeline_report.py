"""The pipeline report, against the hand-computed workspace of sales_report_data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sales_report_data import CFG, DEALS, NOW, by_key

from crmkit.render.report import render
from crmkit.reports.periods import parse_period
from crmkit.reports.pipeline import pipeline_report


def test_pipeline_by_stage() -> None:
    rep = pipeline_report(DEALS, CFG, NOW)
    stages = by_key(rep.data["stages"], "stage")
    assert list(stages) == ["lead", "qualified", "proposal", "negotiation"]
    assert (stages["lead"]["count"], stages["lead"]["value"], stages["lead"]["weighted"]) == (1, Decimal("100000.00"), Decimal("10000.00"))
    assert stages["qualified"]["count"] == 0 and stages["qualified"]["value"] == 0
    assert (stages["proposal"]["value"], stages["proposal"]["weighted"]) == (Decimal("23000.00"), Decimal("11500.00"))
    neg = stages["negotiation"]
    assert (neg["count"], neg["value"], neg["weighted"], neg["no_value"]) == (2, Decimal("10200.00"), Decimal("7650.00"), 1)
    assert rep.data["totals"] == {"stage": "total", "count": 4, "value": Decimal("133200.00"),
                                  "weighted": Decimal("29150.00"), "no_value": 1}


def test_pipeline_closed_in_period_apart() -> None:
    rep = pipeline_report(DEALS, CFG, NOW)  # default period: this quarter to date
    assert rep.data["period"]["start"] == "2026-10-01"
    assert rep.data["closed"]["won"] == {"outcome": "won", "count": 1, "value": Decimal("50000.00")}
    assert rep.data["closed"]["lost"] == {"outcome": "lost", "count": 1, "value": Decimal("30000.00")}
    rep = pipeline_report(DEALS, CFG, NOW, period=parse_period("2025", NOW.date()))
    assert rep.data["closed"]["won"]["value"] == Decimal("20000.00")
    assert rep.data["closed"]["lost"]["count"] == 0


def test_pipeline_by_owner() -> None:
    rep = pipeline_report(DEALS, CFG, NOW, by="owner")
    groups = by_key(rep.data["groups"], "owner")
    assert groups["daniel"]["count"] == 2 and groups["daniel"]["value"] == Decimal("100000.00")
    assert groups["daniel"]["weighted"] == Decimal("10000.00") and groups["daniel"]["won_value"] == Decimal("50000.00")
    assert groups["karin"]["value"] == Decimal("33200.00") and groups["karin"]["weighted"] == Decimal("19150.00")
    assert groups["karin"]["lost"] == 1 and groups["karin"]["lost_value"] == Decimal("30000.00")
    assert rep.sections[0].title == "Open deals by owner"


def test_pipeline_in_another_currency() -> None:
    deals = [("x", {"stage": "proposal", "value": 1150}), ("y", {"stage": "proposal", "value": 100, "currency": "EUR"})]
    rep = pipeline_report(deals, CFG, NOW, currency="EUR")
    assert rep.data["currency"] == "EUR"
    assert rep.data["totals"]["value"] == Decimal("200.00")
    assert rep.data["totals"]["weighted"] == Decimal("100.00")


def test_pipeline_never_mixes_currencies_without_rate() -> None:
    """Kronor are never added to forints: the HUF deal is left out, named, and the report partial."""
    whole = pipeline_report(DEALS, CFG, NOW)
    deals = DEALS + [("h", {"stage": "lead", "value": 1000000, "currency": "HUF"})]
    rep = pipeline_report(deals, CFG, NOW)
    assert rep.partial and not whole.partial
    assert rep.data["totals"] == whole.data["totals"]
    assert rep.data["left_out"] == [{"deal": "h", "value": "1000000", "currency": "HUF"}]
    assert any("deals/h.yaml (1000000 HUF)" in w and "pipeline.rates" in w for w in rep.warnings)


def test_pipeline_unknown_stage_is_counted_and_warned() -> None:
    rep = pipeline_report([("z", {"stage": "limbo", "value": 5})], CFG, NOW)
    rows = by_key(rep.data["stages"], "stage")
    assert rows["limbo"]["count"] == 1 and rows["limbo"]["category"] == "unknown"
    assert any("unknown stage 'limbo'" in w for w in rep.warnings)


def test_pipeline_empty_workspace() -> None:
    rep = pipeline_report([], CFG, NOW)
    assert rep.data["totals"]["count"] == 0 and rep.data["totals"]["value"] == 0
    for fmt in ("table", "json", "csv", "md", "html"):
        assert render(rep, fmt)


def test_pipeline_as_of_rebuilds_from_history() -> None:
    rep = pipeline_report(DEALS, CFG, NOW, as_of=dt.date(2026, 10, 15))
    stages = by_key(rep.data["stages"], "stage")
    # e was in proposal on 15 October; a (created 1 Oct) in lead; d (created 10 Oct) negotiation;
    # c did not exist yet; b in proposal; f already lost (closed 2 Oct), g won long ago
    assert stages["lead"]["count"] == 1
    assert stages["proposal"]["count"] == 2 and stages["proposal"]["value"] == Decimal("73000.00")
    assert stages["negotiation"]["count"] == 1 and stages["negotiation"]["value"] == Decimal("10200.00")
    assert rep.data["totals"]["count"] == 4
    assert rep.data["as_of"] == "2026-10-15"
    assert rep.data["closed"]["won"]["count"] == 0 and rep.data["closed"]["lost"]["count"] == 1


def test_the_funnel_note_rounds_as_the_table_does() -> None:
    deals = [("x", {"stage": "lead", "value": 5}), ("y", {"stage": "proposal", "value": "20.00"})]  # weighted 10.50
    rep = pipeline_report(deals, CFG, NOW)
    assert "weighted 11" in rep.charts[0].note and rep.sections[0].total["weighted"] == Decimal("10.50")
    total_line = next(ln for ln in render(rep, "table").splitlines() if ln.startswith("total"))
    assert total_line.split()[-1] == "11"
