"""The support desk through the CLI: ticket commands, triage, SLA in list and show, tick, report sla."""

from __future__ import annotations

import json

import pytest
from conftest import MINIMAL_CONFIG, git

from crmkit.store import yamlio

CONFIG = MINIMAL_CONFIG.replace("users:\n", "users:\n  nora: {name: Nora E, email: nora@example.se}\n"
                                "  zsofia: {name: Szőke Zsófia, email: zsofia@example.se}\n") + """
pools:
  first-line: {strategy: least_loaded, members: [nora, alan], fallback: daniel}
calendars:
  office:
    timezone: Europe/Stockholm
    hours: {mon: [08:00-17:00], tue: [08:00-17:00], wed: [08:00-17:00], thu: [08:00-17:00], fri: [08:00-17:00]}
    holidays: [SE]
sla:
  at_risk: 0.75
  policies:
    - id: gold
      when: company.agreement == gold
      calendar: 24/7
      targets:
        high: {first_response: 1h, resolution: 8h}
    - id: standard
      calendar: office
      targets:
        normal: {first_response: 4h, resolution: 2d}
        high: {first_response: 2h, resolution: 1d}
        urgent: {first_response: 1h, resolution: 4h}
"""

TRIAGE = """
- id: outage
  when: '"outage" in tags or priority == urgent'
  set: {line: second, priority: urgent}
  assign: zsofia
- id: gold
  when: company.agreement == gold
  set: {priority: high}
  pool: first-line
- id: rest
  pool: first-line
"""

ESCALATION = """
- id: breach-to-second-line
  when: line == first and sla.state == breached
  set: {line: second}
  assign: zsofia
  priority: raise
- id: waiting
  when: sla.waiting_hours >= 2
  repeat: 4h
"""


@pytest.fixture
def ws(make_ws):
    return make_ws({
        "crmkit.yaml": CONFIG,
        "rules/triage.yaml": TRIAGE,
        "rules/escalation.yaml": ESCALATION,
        "companies/gold-ab.yaml": "name: Gold AB\nagreement: gold\n",
        "companies/plain-ab.yaml": "name: Plain AB\n",
        "contacts/anna.yaml": "name: Anna\ncompany: plain-ab\nemail: anna@plain.se\n",
    })


def add_ticket(run, ws, now: str, subject: str, *fields: str) -> str:
    r = run(["--now", now, "ticket", "add", subject, *fields], ws)
    assert r.exit_code == 0, r.stderr
    return r.stdout.strip().split("/")[1]


def load(ws, tid: str) -> dict:
    return yamlio.load_fast(ws / f"tickets/{tid}.yaml")


def test_triage_routes_tickets_by_rules(run, ws) -> None:
    a = add_ticket(run, ws, "2026-11-23T09:00", "Everything is down", "company=plain-ab", "tags=outage")
    b = add_ticket(run, ws, "2026-11-23T09:00", "Question", "company=gold-ab")
    c = add_ticket(run, ws, "2026-11-23T09:00", "Other question", "company=plain-ab")
    r = run(["--now", "2026-11-23T09:05", "route", "--kind", "ticket"], ws)
    assert r.exit_code == 0, r.stderr
    assert (load(ws, a)["line"], load(ws, a)["priority"], load(ws, a)["owner"]) == ("second", "urgent", "zsofia")
    assert (load(ws, b)["priority"], load(ws, b)["line"]) == ("high", "first")
    assert {load(ws, b)["owner"], load(ws, c)["owner"]} == {"nora", "alan"}      # least loaded spreads them
    r = run(["--now", "2026-11-23T09:05", "route", "--kind", "ticket", "--explain", a], ws)
    assert "outage" in r.stdout


def test_reply_status_assign_append_events(run, ws) -> None:
    tid = add_ticket(run, ws, "2026-11-23T09:00", "Help", "company=plain-ab", "contact=anna")
    assert run(["--now", "2026-11-23T09:30", "ticket", "reply", tid, "-m", "Looking at it"], ws).exit_code == 0
    run(["--now", "2026-11-23T10:00", "ticket", "status", tid, "pending"], ws)
    run(["--now", "2026-11-23T11:00", "ticket", "reply", tid, "--customer", "-m", "Still broken"], ws)
    r = run(["--now", "2026-11-23T11:05", "ticket", "assign", tid, "nora"], ws)
    assert r.exit_code == 0, r.stderr
    t = load(ws, tid)
    kinds = [(e["type"], e.get("to")) for e in t["events"]]
    assert kinds == [("created", None), ("replied", None), ("status", "open"), ("status", "pending"),
                     ("customer_replied", None), ("status", "open"), ("assigned", "nora")]
    assert t["status"] == "open" and t["owner"] == "nora"
    assert git(ws, "log", "-1", "--format=%s").strip() == f"crmkit: assign nora to ticket/{tid}"
    r = run(["ticket", "assign", tid, "nobody"], ws)
    assert r.exit_code == 1 and "not a user" in r.stderr
    r = run(["ticket", "status", tid, "frozen"], ws)
    assert r.exit_code == 2


def test_sla_shows_in_list_show_and_conditions(run, ws) -> None:
    tid = add_ticket(run, ws, "2026-11-23T09:00", "Slow", "company=plain-ab")
    r = run(["--now", "2026-11-23T12:30", "ticket", "list", "--json"], ws)
    sla = json.loads(r.stdout)[0]["sla"]
    assert sla["policy"] == "standard" and sla["first_response"]["state"] == "at_risk"   # 3,5 of 4 hours used
    assert sla["first_response"]["left"] == "30m" and sla["state"] == "at_risk"
    r = run(["--now", "2026-11-23T12:30", "ticket", "list", "--where", "sla.state == at_risk", "--format", "csv",
             "--fields", "id,sla.first_response.due"], ws)
    assert r.stdout.splitlines()[1] == f"{tid},2026-11-23T13:00:00+01:00"
    r = run(["--now", "2026-11-23T12:30", "show", tid], ws)
    assert "sla:" in r.stdout and "at_risk" in r.stdout


def test_tick_records_breaches_escalates_once_and_is_idempotent(run, ws) -> None:
    tid = add_ticket(run, ws, "2026-11-23T09:00", "Broken", "company=plain-ab", "owner=nora")
    r = run(["--now", "2026-11-23T14:00", "tick", "--json"], ws)
    assert r.exit_code == 0, r.stderr
    actions = [json.loads(line) for line in r.stdout.splitlines()]
    assert {"action": "breached", "ticket": tid, "target": "first_response",
            "at": "2026-11-23T13:00:00+01:00"} in actions
    assert [a["rule"] for a in actions if a["action"] == "escalated"] == ["breach-to-second-line", "waiting"]
    t = load(ws, tid)
    assert (t["line"], t["owner"], t["priority"]) == ("second", "zsofia", "high")
    assert git(ws, "log", "-1", "--format=%s").strip() == "crmkit: tick: 2 escalations, 1 SLA breach"
    head = git(ws, "rev-parse", "HEAD")
    r = run(["--now", "2026-11-23T14:00", "tick"], ws)
    assert r.exit_code == 0 and git(ws, "rev-parse", "HEAD") == head           # nothing the second time
    # `waiting` repeats after 4 business hours, the other rule never
    r = run(["--now", "2026-11-24T11:00", "tick", "--json"], ws)
    fired = [json.loads(line) for line in r.stdout.splitlines() if '"escalated"' in line]
    assert [a["rule"] for a in fired] == ["waiting"]
    # a tick that comes days late fires the repeat once, on its schedule, and a second
    # tick at the same moment writes nothing (it once fired again per missed interval)
    r = run(["--now", "2026-11-27T16:00", "tick", "--json"], ws)
    fired = [json.loads(line) for line in r.stdout.splitlines() if '"escalated"' in line]
    assert [a["rule"] for a in fired] == ["waiting"]
    head = git(ws, "rev-parse", "HEAD")
    r = run(["--now", "2026-11-27T16:00", "tick"], ws)
    assert r.exit_code == 0 and git(ws, "rev-parse", "HEAD") == head


def test_broken_escalation_rules_stop_tick_and_show_in_check(run, ws) -> None:
    (ws / "rules/escalation.yaml").write_text("- id: bad\n  when: sla.state => breached\n  assign: ghost\n")
    r = run(["tick"], ws)
    assert r.exit_code == 1 and "rules/escalation.yaml:2" in r.stderr and "column" in r.stderr
    r = run(["check"], ws)
    assert "rules/escalation.yaml:2: rule-syntax: rule bad: when: unknown operator '=>'" in r.stdout


def test_report_sla_in_every_format(run, ws, tmp_path) -> None:
    a = add_ticket(run, ws, "2026-11-20T09:00", "Met", "company=plain-ab")
    run(["--now", "2026-11-20T10:00", "ticket", "reply", a], ws)
    run(["--now", "2026-11-20T15:00", "ticket", "status", a, "solved"], ws)
    add_ticket(run, ws, "2026-11-23T08:00", "Late", "company=plain-ab", "priority=high")
    r = run(["--now", "2026-11-23T16:00", "report", "sla", "--format", "json"], ws)
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    rows = {(x["priority"], x["target"]): x for x in data["attainment"]}
    assert rows[("normal", "first_response")]["met"] == 1 and rows[("normal", "resolution")]["met"] == 1
    assert rows[("high", "first_response")]["breached"] == 1
    assert data["attainment_total"] == "66.7"
    assert data["business_hours"]["first_response"] == {"tickets": 1, "median_hours": "1.0", "p90_hours": "1.0"}
    assert [x["target"] for x in data["at_risk_now"]][:1] == ["first_response"]
    for fmt in ("table", "csv", "md", "html"):
        r = run(["--now", "2026-11-23T16:00", "report", "sla", "--format", fmt], ws)
        assert r.exit_code == 0 and "first_response" in r.stdout, fmt
    out = tmp_path / "sla.html"
    run(["--now", "2026-11-23T16:00", "report", "sla", "-o", str(out)], ws)
    assert out.read_text().startswith("<!DOCTYPE html>")
