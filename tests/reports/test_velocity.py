"""The velocity report, against the hand-computed workspace of sales_report_data."""

from __future__ import annotations

from decimal import Decimal

from sales_report_data import CFG, DEALS, NOW, by_key

from crmkit.reports.velocity import velocity_report


def test_velocity() -> None:
    rep = velocity_report(DEALS, CFG, NOW)
    st = by_key(rep.data["stages"], "stage")
    assert st["lead"]["avg_days"] == Decimal("31.0")
    assert st["proposal"]["avg_days"] == Decimal("62.0")  # 1 Sep 10:00+02 to 2 Nov 10:00+01: 62 days 1 hour
    assert [st[s]["reached"] for s in ("lead", "qualified", "proposal", "negotiation")] == [7, 5, 5, 4]
    assert st["lead"]["conversion"] == Decimal("71.4")
    assert st["proposal"]["conversion"] == Decimal("80.0")
    assert st["negotiation"]["conversion"] == Decimal("50.0") and st["negotiation"]["next"] == "won"
    v = rep.data["velocity"]
    # 4 open x 50% x 50 000 / 93 days
    assert v["open"] == 4 and v["per_day"] == Decimal("1075.27") and v["per_30_days"] == Decimal("32258.06")


def test_velocity_by_owner() -> None:
    rep = velocity_report(DEALS, CFG, NOW, by="owner")
    g = by_key(rep.data["groups"], "owner")
    # daniel: 2 open, won 1 of 1, 50 000, 93 days -> 2 x 1 x 50 000 / 93
    assert g["daniel"]["per_day"] == Decimal("1075.27")
    assert g["karin"]["per_day"] is None  # no won deal: no size, no cycle
