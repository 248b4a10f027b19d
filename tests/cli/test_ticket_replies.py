"""A customer writing again: to a solved ticket (reopened), to a closed one (a linked
follow-up, or reopened per `tickets.reply_to_closed`); escalation keeps SLA history."""

from __future__ import annotations

import json

import pytest
from conftest import git

from crmkit.store import yamlio

CONFIG_TAIL = """
calendars:
  office:
    timezone: Europe/Stockholm
    hours: {mon: [08:00-17:00], tue: [08:00-17:00], wed: [08:00-17:00], thu: [08:00-17:00], fri: [08:00-17:00]}
sla:
  policies:
    - id: standard
      calendar: office
      targets:
        normal: {first_response: 4h, next_response: 4h, resolution: 2d}
        high: {first_response: 1h, next_response: 1h, resolution: 1d}
"""


@pytest.fixture
def ws(make_ws):
    from conftest import MINIMAL_CONFIG

    return make_ws({"crmkit.yaml": MINIMAL_CONFIG + CONFIG_TAIL,
                    "companies/plain-ab.yaml": "name: Plain AB\n",
                    "contacts/anna.yaml": "name: Anna\ncompany: plain-ab\nemail: anna@plain.se\n",
                    "rules/escalation.yaml": "- id: breached-raise\n  when: sla.state == breached\n"
                                             "  priority: raise\n"})


def add(run, ws, now: str) -> str:
    r = run(["--now", now, "ticket", "add", "Printer on fire", "contact=anna", "company=plain-ab", "owner=karin"], ws)
    assert r.exit_code == 0, r.stderr
    return r.stdout.strip().split("/")[1]


def load(ws, tid: str) -> dict:
    return yamlio.load_fast(ws / f"tickets/{tid}.yaml")


def close(run, ws, tid: str, status: str) -> None:
    run(["--now", "2026-11-23T09:30", "ticket", "reply", tid, "-m", "Fixed"], ws)
    run(["--now", "2026-11-23T10:00", "ticket", "status", tid, "solved"], ws)
    if status == "closed":
        assert run(["--now", "2026-11-23T10:30", "ticket", "status", tid, "closed"], ws).exit_code == 0


def test_a_reply_to_a_solved_ticket_reopens_it_and_says_so(run, ws) -> None:
    tid = add(run, ws, "2026-11-23T09:00")
    close(run, ws, tid, "solved")
    r = run(["--now", "2026-11-23T11:00", "ticket", "reply", tid, "--customer", "-m", "Still burning"], ws)
    assert r.exit_code == 0 and "reopened (status solved -> open)" in r.stdout
    r = run(["--now", "2026-11-23T12:00", "ticket", "list", "--json"], ws)
    sla = json.loads(r.stdout)[0]["sla"]
    assert sla["next_response"]["state"] == "running" and sla["resolution"]["state"] == "running"


def test_a_reply_to_a_closed_ticket_opens_a_linked_follow_up(run, ws) -> None:
    tid = add(run, ws, "2026-11-23T09:00")
    close(run, ws, tid, "closed")
    before = load(ws, tid)
    r = run(["--now", "2026-11-24T09:00", "ticket", "reply", tid, "--customer", "-m", "It is back", "--json"], ws)
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    new = out["ticket"]
    assert new != tid and out["replied_to"] == tid and "opened follow-up ticket" in out["changes"][0]
    follow = load(ws, new)
    assert follow["follow_up_of"] == tid and follow["status"] == "open" and follow["subject"] == "Re: Printer on fire"
    assert (follow["contact"], follow["company"], follow["owner"]) == ("anna", "plain-ab", "karin")
    assert follow["events"][-1]["type"] == "customer_replied" and follow["events"][-1]["body"] == "It is back"
    old = load(ws, tid)
    assert old["status"] == "closed" and old["events"][:-1] == before["events"]
    assert old["events"][-1]["type"] == "followed_up" and old["events"][-1]["ticket"] == new
    assert git(ws, "status", "--porcelain") == ""
    assert f"follow-up ticket/{new} for closed ticket/{tid}" in git(ws, "log", "-1", "--format=%s")
    r = run(["--now", "2026-11-24T10:00", "ticket", "list", "--json", "--where", f"follow_up_of == {tid}"], ws)
    sla = json.loads(r.stdout)[0]["sla"]
    assert sla["first_response"]["state"] == "running"          # a new ticket, new clocks
    assert run(["check"], ws).exit_code == 0


def test_reply_to_closed_can_reopen_instead(run, ws) -> None:
    text = (ws / "crmkit.yaml").read_text() + "tickets:\n  reply_to_closed: reopen\n"
    (ws / "crmkit.yaml").write_text(text)
    git(ws, "commit", "-qam", "reopen closed tickets")
    tid = add(run, ws, "2026-11-23T09:00")
    close(run, ws, tid, "closed")
    r = run(["--now", "2026-11-24T09:00", "ticket", "reply", tid, "--customer"], ws)
    assert r.exit_code == 0 and "reopened (status closed -> open)" in r.stdout
    assert load(ws, tid)["status"] == "open" and not list((ws / "tickets").glob("*.yaml"))[1:]


def test_escalation_does_not_move_a_recorded_breach(run, ws) -> None:
    tid = add(run, ws, "2026-11-23T08:00")                   # normal: first response due 12:00
    r = run(["--now", "2026-11-23T12:30", "tick"], ws)
    assert r.exit_code == 0, r.stderr
    t = load(ws, tid)
    assert t["priority"] == "high"                           # raised by the rule
    r = run(["--now", "2026-11-23T13:00", "ticket", "list", "--json"], ws)
    fr = json.loads(r.stdout)[0]["sla"]["first_response"]
    assert fr["state"] == "breached" and fr["due"] == "2026-11-23T12:00:00+01:00" and fr["target"] == "4h 00m"
    r = run(["--now", "2026-11-23T13:00", "show", tid], ws)
    assert "since 2026-11-23 12:00" in r.stdout
