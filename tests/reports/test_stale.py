"""The stale-deals report, against the hand-computed workspace of sales_report_data."""

from __future__ import annotations

import datetime as dt

from sales_report_data import ACTIVITIES, CFG, DEALS, NOW, by_key

from crmkit.reports.stale import stale_report


def test_stale() -> None:
    rep = stale_report(DEALS, ACTIVITIES, CFG, NOW, days=30)
    rows = rep.data["deals"]
    assert [r["deal"] for r in rows] == ["b", "a", "c"]
    b, a, c = rows
    assert b["idle_days"] == 69
    assert b["reasons"] == ["no activity since created 69 days ago", "expected close 2026-10-01 passed"]
    assert b["next_follow_up"] == dt.date(2026, 11, 23)  # the demo call due today
    assert a["idle_days"] == 22 and a["last_activity"] == dt.date(2026, 11, 1)
    assert a["reasons"] == ["follow-up overdue"]
    assert c["reasons"] == ["no follow-up planned"]
    assert rep.data["counts"] == {"idle": 1, "past_expected_close": 1, "no_follow_up": 2}


def test_stale_limit_keeps_counts() -> None:
    rep = stale_report(DEALS, ACTIVITIES, CFG, NOW, days=30, limit=1)
    assert [r["deal"] for r in rep.data["deals"]] == ["b"]
    assert rep.data["found"] == 3 and rep.data["counts"]["no_follow_up"] == 2


def test_stale_threshold() -> None:
    rep = stale_report(DEALS, ACTIVITIES, CFG, NOW, days=20)
    a = by_key(rep.data["deals"], "deal")["a"]
    assert a["reasons"][0] == "no activity for 22 days"
