"""The agenda report, against the hand-computed workspace of sales_report_data."""

from __future__ import annotations

from sales_report_data import ACTIVITIES, CFG, NOW, by_key

from crmkit.reports.agenda import agenda_report


def test_agenda() -> None:
    rep = agenda_report(ACTIVITIES, CFG, NOW, days=7)
    items = rep.data["items"]
    assert [(i["owner"], i["bucket"], i["activity"]) for i in items] == [
        ("alan", "coming", "act-8"),
        ("daniel", "overdue", "act-1"),
        ("karin", "today", "act-6"),
    ]
    assert items[1]["days"] == -3 and items[1]["about"] == "deal/a"
    assert rep.data["counts"] == {"overdue": 1, "today": 1, "coming": 1, "later": 1}
    groups = by_key(rep.data["groups"], "owner")
    assert groups["daniel"]["overdue"] == 1 and groups["karin"]["today"] == 1


def test_agenda_window() -> None:
    rep = agenda_report(ACTIVITIES, CFG, NOW, days=8)
    assert rep.data["counts"]["coming"] == 2 and rep.data["counts"]["later"] == 0
