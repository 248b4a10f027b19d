"""`ticket list` with SLA columns, `show` of a ticket, tick's dry run and notifications, report sla on the sample."""

from __future__ import annotations

import json

import pytest
from conftest import MINIMAL_CONFIG, git

CONFIG = MINIMAL_CONFIG.replace("users:\n", "users:\n  zsofia: {name: Szőke Zsófia, email: zsofia@example.se}\n") + """
calendars:
  office:
    timezone: Europe/Stockholm
    hours: {mon: [08:00-12:00, 13:00-17:00], tue: [08:00-17:00], wed: [08:00-17:00], thu: [08:00-17:00], fri: [08:00-16:00]}
    holidays: [SE]
sla:
  at_risk: 75%
  policies:
    - id: standard
      calendar: office
      targets:
        normal: {first_response: 4h, next_response: 4h, resolution: 2d}
"""

ESCALATION = """
- id: breached
  when: sla.state == breached and line == first
  set: {line: second}
  assign: zsofia
  priority: raise
  notify: ticket-escalated
"""


@pytest.fixture
def ws(make_ws):
    return make_ws({"crmkit.yaml": CONFIG, "rules/escalation.yaml": ESCALATION,
                    "companies/plain-ab.yaml": "name: Plain AB\n"})


def add(run, ws, now: str, subject: str, *fields: str) -> str:
    r = run(["--now", now, "ticket", "add", subject, *fields], ws)
    assert r.exit_code == 0, r.stderr
    return r.stdout.strip().split("/")[1]


def test_list_shows_the_sla_at_a_glance(run, ws) -> None:
    a = add(run, ws, "2026-11-20T15:00", "Friday ticket", "company=plain-ab")
    b = add(run, ws, "2026-11-23T08:00", "Monday ticket", "company=plain-ab")
    run(["--now", "2026-11-23T08:30", "ticket", "reply", b], ws)
    r = run(["--now", "2026-11-23T09:30", "ticket", "list"], ws)
    assert r.exit_code == 0, r.stderr
    header, _rule, *rows = r.stdout.splitlines()
    assert header.split() == ["ID", "SUBJECT", "STATUS", "PRIORITY", "LINE", "OWNER", "SLA", "NEXT", "DUE", "LEFT"]
    row_a = next(x for x in rows if x.startswith(a))
    # Friday 15-16, Monday 08-09:30: 2.5 of 4 hours, due 11:00
    assert "running" in row_a and "first_response" in row_a and "2026-11-23 11:00" in row_a and "1h 30m" in row_a
    row_b = next(x for x in rows if x.startswith(b))
    assert "resolution" in row_b and "2026-11-25 09:00" in row_b      # 2d = 2 x 9h (Tuesday is longest)
    r = run(["--now", "2026-11-23T11:30", "ticket", "list", "--where", "sla.state == breached", "--format", "csv"], ws)
    assert [line.split(",")[0] for line in r.stdout.splitlines()[1:]] == [a]
    assert r.stdout.splitlines()[1].endswith(",breached,first_response,2026-11-23 11:00,'-30m")
    r = run(["--now", "2026-11-23T09:30", "ticket", "list", "--json", "--sort", "sla.due"], ws)
    data = json.loads(r.stdout)
    assert [d["id"] for d in data] == [a, b] and data[0]["sla"]["first_response"]["left"] == "1h 30m"


def test_show_prints_the_sla_in_one_line(run, ws) -> None:
    a = add(run, ws, "2026-11-23T08:00", "Help", "company=plain-ab")
    r = run(["--now", "2026-11-23T11:30", "show", a], ws)
    assert r.exit_code == 0, r.stderr
    assert "\nsla:\n  policy: standard\n" in r.stdout
    line = next(x for x in r.stdout.splitlines() if x.startswith("  summary: "))
    assert "at_risk (standard/office): first_response at_risk, 30m left (due 2026-11-23 12:00)" in line
    r = run(["--now", "2026-11-23T11:30", "--json", "show", a], ws)
    assert json.loads(r.stdout)["computed"]["sla"]["state"] == "at_risk"


def test_tick_dry_run_changes_nothing_and_a_real_run_notifies(run, ws) -> None:
    a = add(run, ws, "2026-11-23T08:00", "Broken", "company=plain-ab", "owner=karin")
    head = git(ws, "rev-parse", "HEAD")
    r = run(["--now", "2026-11-23T14:00", "tick", "--dry-run"], ws)
    assert r.exit_code == 0, r.stderr
    assert f"would record ticket/{a}: first_response breached" in r.stdout
    assert f"would escalate ticket/{a}: rule breached" in r.stdout
    assert git(ws, "rev-parse", "HEAD") == head
    r = run(["--now", "2026-11-23T14:00", "tick"], ws)
    assert r.exit_code == 0, r.stderr
    outbox = list((ws / "outbox").glob("*.eml"))
    assert len(outbox) == 1 and "zsofia@example.se" in outbox[0].read_text()
    changed = git(ws, "show", "--name-only", "--format=", "HEAD").split()
    assert f"tickets/{a}.yaml" in changed and any(p.startswith("outbox/") for p in changed)
    events = [e for e in json.loads(run(["--json", "show", a], ws).stdout)["record"]["events"]]
    assert [e["type"] for e in events] == ["created", "breached", "assigned", "priority", "escalated"]
    assert events[-1]["changes"] == ["line=second", "owner karin -> zsofia", "priority normal -> high"]
    assert all(e["by"] == "crmkit" for e in events[1:])
    r = run(["--now", "2026-11-23T15:00", "tick"], ws)
    assert r.exit_code == 0 and "nothing to do" in r.stderr and r.stdout == ""


def test_tick_without_sla_or_rules_does_nothing(run, make_ws) -> None:
    root = make_ws({})
    add(run, root, "2026-11-23T08:00", "Help")
    r = run(["--now", "2026-11-30T08:00", "tick"], root)
    assert r.exit_code == 0 and r.stdout == ""


def test_sample_workspace_sla(run, sample_ws) -> None:
    r = run(["--now", "2026-11-23T10:00:00+01:00", "ticket", "list", "--json"], sample_ws)
    assert r.exit_code == 0, r.stderr
    states = {t["id"]: t["sla"]["state"] for t in json.loads(r.stdout)}
    assert set(states.values()) >= {"met", "paused", "running", "breached"}
    assert states["tk-20261118-ymcdy"] == "paused"          # pending on the customer
    r = run(["--now", "2026-11-23T10:00:00+01:00", "report", "sla", "--format", "json"], sample_ws)
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["period"]["tickets"] == 14  # 12, and the two of the value and satisfaction stories
    r = run(["--now", "2026-11-23T10:00:00+01:00", "tick", "--dry-run", "--json"], sample_ws)
    assert r.exit_code == 0, r.stderr
    r = run(["check"], sample_ws)
    assert r.exit_code == 0, r.stdout


def test_check_names_a_missing_notification_template(run, ws) -> None:
    (ws / "rules/escalation.yaml").write_text(ESCALATION.replace("ticket-escalated", "no-such-template"))
    r = run(["check"], ws)
    assert r.exit_code == 1
    assert "rules/escalation.yaml:7: rule-template: rule breached: no mail template 'no-such-template'" in r.stdout


def test_escalate_by_hand(run, ws) -> None:
    a = add(run, ws, "2026-11-23T08:00", "Hard one", "company=plain-ab", "owner=karin")
    r = run(["--now", "2026-11-23T09:00", "ticket", "escalate", a, "--to", "zsofia", "-r", "needs a developer"], ws)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.strip() == f"ticket/{a}: line=second, owner karin -> zsofia"
    record = json.loads(run(["--json", "show", a], ws).stdout)["record"]
    assert record["line"] == "second" and record["owner"] == "zsofia"
    assert record["events"][-1] == {"type": "escalated", "at": "2026-11-23T09:00:00+01:00", "by": "tester",
                                    "changes": ["line=second", "owner karin -> zsofia"],
                                    "reason": "needs a developer"}
    assert git(ws, "log", "-1", "--format=%s").strip() == f"crmkit: escalate ticket/{a}"
    r = run(["ticket", "escalate", a], ws)
    assert r.exit_code == 1 and "already on second line" in r.stderr
    r = run(["--now", "2026-11-23T10:00", "report", "sla", "--format", "json"], ws)
    assert json.loads(r.stdout)["escalated"] == {"tickets": 1, "share": "100.0"}


def test_a_later_rule_notifies_the_owner_an_earlier_rule_just_assigned(run, ws) -> None:
    (ws / "rules/escalation.yaml").write_text(ESCALATION + "- id: tell\n  when: sla.state == breached\n"
                                              "  notify: ticket-at-risk\n")
    add(run, ws, "2026-11-23T08:00", "Broken", "company=plain-ab", "owner=karin")
    r = run(["--now", "2026-11-23T14:00", "tick"], ws)
    assert r.exit_code == 0, r.stderr
    names = sorted(p.name for p in (ws / "outbox").glob("*.eml"))
    assert len(names) == 2 and all("-zsofia-" in n for n in names)


def test_each_round_of_next_response_is_recorded_breached_once(run, ws) -> None:
    (ws / "rules/escalation.yaml").write_text("[]\n")
    a = add(run, ws, "2026-11-23T08:00", "Chatty", "company=plain-ab")
    run(["--now", "2026-11-23T08:10", "ticket", "reply", a], ws)
    run(["--now", "2026-11-23T08:20", "ticket", "reply", a, "--customer"], ws)
    assert "next_response breached" in run(["--now", "2026-11-23T14:00", "tick"], ws).stdout
    assert run(["--now", "2026-11-23T14:30", "tick"], ws).stdout == ""
    run(["--now", "2026-11-23T15:00", "ticket", "reply", a], ws)
    run(["--now", "2026-11-23T15:10", "ticket", "reply", a, "--customer"], ws)
    assert run(["--now", "2026-11-24T10:00", "tick"], ws).stdout == ""            # 3h50m of 4h
    assert "next_response breached" in run(["--now", "2026-11-24T10:30", "tick"], ws).stdout
    assert run(["--now", "2026-11-24T11:00", "tick"], ws).stdout == ""
