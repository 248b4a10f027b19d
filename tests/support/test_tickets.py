"""Ticket lifecycle: replies, status changes, reassignment and priority as appended events."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from crmkit.errors import CrmkitError, UsageError
from crmkit.support.tickets import assign, reply, set_priority, set_status

AT = dt.datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
USERS = {"nora": {}, "zsofia": {}}


def ticket(**fields: object) -> dict:
    return {"subject": "x", "status": "new", "priority": "normal", "events": [{"type": "created", "at": AT, "by": "a"}],
            **fields}


def test_our_reply_opens_a_new_ticket() -> None:
    doc = ticket()
    assert reply(doc, by="nora", at=AT, customer=False, body="On it") == ["replied", "status new -> open"]
    assert doc["status"] == "open"
    assert doc["events"][1] == {"type": "replied", "at": AT, "by": "nora", "body": "On it"}
    assert doc["events"][2] == {"type": "status", "at": AT, "by": "nora", "from": "new", "to": "open"}


@pytest.mark.parametrize("status, after", [("pending", "open"), ("solved", "open"), ("open", "open"), ("new", "new")])
def test_the_customers_reply_reopens_pending_and_solved(status: str, after: str) -> None:
    doc = ticket(status=status)
    reply(doc, by="anna", at=AT, customer=True, body=None)
    assert doc["status"] == after and doc["events"][1]["type"] == "customer_replied"
    assert "body" not in doc["events"][1]


def test_status_changes_and_reopening() -> None:
    doc = ticket(status="open")
    assert set_status(doc, "open", by="n", at=AT) == []                 # no change, no event
    set_status(doc, "solved", by="n", at=AT)
    set_status(doc, "closed", by="n", at=AT)
    with pytest.raises(CrmkitError, match="only be reopened"):
        set_status(doc, "pending", by="n", at=AT)
    assert set_status(doc, "open", by="n", at=AT) == ["status closed -> open"]
    assert [e.get("to") for e in doc["events"][1:]] == ["solved", "closed", "open"]
    with pytest.raises(UsageError):
        set_status(doc, "frozen", by="n", at=AT)


def test_assign_records_from_and_to() -> None:
    doc = ticket()
    assign(doc, "nora", by="x", at=AT, users=USERS)
    assert assign(doc, "zsofia", by="x", at=AT, users=USERS) == ["owner nora -> zsofia"]
    assert doc["events"][-1] == {"type": "assigned", "at": AT, "by": "x", "to": "zsofia", "from": "nora"}
    assert assign(doc, "zsofia", by="x", at=AT, users=USERS) == []
    with pytest.raises(CrmkitError, match="not a user"):
        assign(doc, "ghost", by="x", at=AT, users=USERS)


def test_priority_raise_stops_at_urgent() -> None:
    doc = ticket(priority="high")
    assert set_priority(doc, "raise", by="x", at=AT) == ["priority high -> urgent"]
    assert set_priority(doc, "raise", by="x", at=AT) == []
    with pytest.raises(UsageError):
        set_priority(doc, "critical", by="x", at=AT)
