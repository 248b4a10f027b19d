"""Routing: which records, first match, manual owners, idempotency, explain, apply."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from crmkit.errors import RuleError
from crmkit.sales import routing, routing_explain
from crmkit.sales.rules import load_checked
from crmkit.store import appending
from crmkit.store.workspace import Workspace

CONFIG = """\
name: Test AB
timezone: Europe/Stockholm
currency: SEK
users:
  daniel: {name: Daniel Berg, email: daniel@example.se}
  sofia: {name: Sofia Ek, email: sofia@example.se}
  erik: {name: Erik Ny, email: erik@example.se}
  lars: {name: Lars Ås, email: lars@example.se}
  karin: {name: Karin Lind, email: karin@example.se}
  alan: {name: Alan Smith, email: alan@example.se}
pools:
  sellers:
    strategy: round_robin
    members: [sofia, erik, lars]
    fallback: daniel
pipeline:
  stages:
    - {name: lead, probability: 10}
    - {name: won, probability: 100, category: closed, won: true}
"""

RULES = """\
- id: prospect-large
  when: status == prospect and users > 50
  assign: karin
  tags: [large]
- id: prospect-small
  when: status == prospect
  assign: alan
- id: qualified-large
  when: status == qualified and users >= 50
  assign: daniel
- id: qualified-small
  when: status == qualified
  pool: sellers
- id: fallback
  assign: daniel
"""

NOW = "2026-11-22T09:30:00+01:00"


def lead(name: str, **fields: object) -> str:
    lines = [f"name: {name}"] + [f"{k}: {v}" for k, v in fields.items()]
    return "\n".join(lines) + "\n"


def open_ws(root: Path, now: str = NOW) -> Workspace:
    return Workspace(root, now=now)


def git_count(root: Path) -> int:
    out = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
    return int(out.stdout)


@pytest.fixture
def ws_with(make_ws):  # type: ignore[no-untyped-def]
    def build(leads: dict[str, str], rules: str = RULES, config: str = CONFIG) -> Path:
        files = {"crmkit.yaml": config, "rules/routing.yaml": rules}
        files.update({f"leads/{k}.yaml": v for k, v in leads.items()})
        return make_ws(files)

    return build


def plan_for(root: Path, **kwargs: object) -> routing.Plan:
    ws = open_ws(root)
    return routing.plan(ws, load_checked(ws), **kwargs)  # type: ignore[arg-type]


def test_first_match_wins_in_file_order(ws_with) -> None:  # type: ignore[no-untyped-def]
    root = ws_with({
        "ld-1": lead("Big", status="prospect", users=100),
        "ld-2": lead("Small", status="prospect", users=10),
        "ld-3": lead("Qual", status="qualified", users=50),
        "ld-4": lead("Nostatus"),
    })
    p = plan_for(root)
    got = {a.id: (a.owner, a.rule) for a in p.assignments}
    assert got == {
        "ld-1": ("karin", "prospect-large"),  # also matches prospect-small, which comes later
        "ld-2": ("alan", "prospect-small"),
        "ld-3": ("daniel", "qualified-large"),
        "ld-4": ("daniel", "fallback"),
    }
    big = next(a for a in p.assignments if a.id == "ld-1")
    assert big.tags == ["large"] and big.reason == "no owner"


def test_reordering_rules_changes_the_winner(ws_with) -> None:  # type: ignore[no-untyped-def]
    # the general prospect rule first: it now wins for the large prospect too
    rules = """\
- id: prospect-any
  when: status == prospect
  assign: alan
- id: prospect-large
  when: status == prospect and users > 50
  assign: karin
- id: fallback
  assign: daniel
"""
    root = ws_with({"ld-1": lead("Big", status="prospect", users=100)}, rules)
    (a,) = plan_for(root).assignments
    assert (a.owner, a.rule) == ("alan", "prospect-any")


def test_apply_commits_once_and_second_run_changes_nothing(ws_with) -> None:  # type: ignore[no-untyped-def]
    root = ws_with({"ld-1": lead("Big", status="prospect", users=100), "ld-2": lead("Small", status="prospect", users=3)})
    before = git_count(root)
    ws = open_ws(root)
    p = routing.plan(ws, load_checked(ws))
    sha = routing.apply(ws, p, "crmkit route")
    assert sha and git_count(root) == before + 1
    msg = subprocess.run(["git", "log", "-1", "--format=%B"], cwd=root, capture_output=True, text=True).stdout
    assert "lead/ld-1 -> karin (rule prospect-large)" in msg
    assert "lead/ld-2 -> alan (rule prospect-small)" in msg
    assert (root / "leads/ld-1.yaml").read_text() == (
        "name: Big\nstatus: prospect\nusers: 100\nowner: karin\ntags:\n  - large\n"
        "routing:\n  rule: prospect-large\n  at: 2026-11-22T09:30:00+01:00\n  status: prospect\n  owner: karin\n")
    # the second run (a minute later, as from cron) finds nothing to do and makes no commit
    ws2 = open_ws(root, "2026-11-22T09:31:00+01:00")
    p2 = routing.plan(ws2, load_checked(ws2))
    assert p2.assignments == [] and p2.unassigned == []
    assert routing.apply(ws2, p2, "crmkit route") is None
    assert git_count(root) == before + 1


def test_status_change_reroutes(ws_with) -> None:  # type: ignore[no-untyped-def]
    root = ws_with({"ld-1": lead("Big", status="qualified", users=100, owner="karin",
                                 routing="{rule: prospect-large, at: 2026-11-20T10:00:00+01:00, status: prospect, owner: karin}")})
    (a,) = plan_for(root).assignments
    assert (a.owner, a.previous_owner, a.rule) == ("daniel", "karin", "qualified-large")
    assert "status changed from prospect to qualified" in a.reason


def test_manual_owner_is_kept_unless_forced(ws_with) -> None:  # type: ignore[no-untyped-def]
    root = ws_with({
        # set by a person: no routing block
        "ld-1": lead("Hand", status="prospect", users=100, owner="sofia"),
        # routed to daniel, then handed to erik by a person, then its status changed
        "ld-2": lead("Handed", status="qualified", users=100, owner="erik",
                     routing="{rule: x, at: 2026-11-20T10:00:00+01:00, status: prospect, owner: daniel}"),
    })
    p = plan_for(root)
    assert p.assignments == []
    assert {(s.id, s.owner) for s in p.skipped} == {("ld-1", "sofia"), ("ld-2", "erik")}
    forced = plan_for(root, force=True)
    assert {(a.id, a.owner) for a in forced.assignments} == {("ld-1", "karin"), ("ld-2", "daniel")}
    assert all("forced over" in a.reason for a in forced.assignments)


def test_closed_records_are_not_routed(ws_with) -> None:  # type: ignore[no-untyped-def]
    root = ws_with({"ld-1": lead("Gone", status="disqualified", disqualified_reason="no budget"),
                    "ld-2": lead("Done", status="converted")})
    assert plan_for(root).assignments == []


def test_routed_record_that_lost_its_owner_is_routed_again(ws_with) -> None:  # type: ignore[no-untyped-def]
    root = ws_with({"ld-1": lead("Big", status="prospect", users=100,
                                 routing="{rule: prospect-large, at: 2026-11-20T10:00:00+01:00, status: prospect, owner: karin}")})
    (a,) = plan_for(root).assignments
    assert a.owner == "karin" and a.reason == "no owner"


def test_text_where_a_number_is_counted_does_not_match_and_explain_says_why(ws_with) -> None:  # type: ignore[no-untyped-def]
    root = ws_with({"ld-1": lead("Many", status="prospect", users="many")})
    ws = open_ws(root)
    rules = load_checked(ws)
    (a,) = routing.plan(ws, rules).assignments
    assert (a.owner, a.rule) == ("alan", "prospect-small")
    info = routing_explain.explain(ws, rules, ws.get("ld-1"))
    first = info["rules"][0]
    assert first["id"] == "prospect-large" and first["matched"] is False
    assert any("users is 'many' (text)" in n and "not a number" in n for n in first["notes"])
    assert info["winner"] == "prospect-small"
    text = "\n".join(routing_explain.explain_text(info))
    assert "rule prospect-large (rules/routing.yaml:1): no match" in text
    assert "rule prospect-small (rules/routing.yaml:5): MATCH (first match wins)" in text
    assert "rule fallback (rules/routing.yaml:14): matches too, but an earlier rule won" in text
    assert "=> alan (rule prospect-small)" in text


def test_explain_of_a_record_left_alone_says_why(ws_with) -> None:  # type: ignore[no-untyped-def]
    root = ws_with({"ld-1": lead("Hand", status="prospect", users=100, owner="sofia")})
    ws = open_ws(root)
    info = routing_explain.explain(ws, load_checked(ws), ws.get("ld-1"))
    assert info["outcome"]["routed"] is False
    assert "set by a person" in info["outcome"]["why"]
    assert info["winner"] == "prospect-large"


def test_syntax_error_stops_before_anything_changes(ws_with) -> None:  # type: ignore[no-untyped-def]
    bad = RULES.replace("users > 50", "users => 50")
    root = ws_with({"ld-1": lead("Big", status="prospect", users=100)}, bad)
    ws = open_ws(root)
    with pytest.raises(RuleError) as err:
        load_checked(ws)
    assert err.value.path == "rules/routing.yaml" and err.value.line == 2 and err.value.column == 30
    assert "unknown operator '=>' at column 30" in str(err.value)
    assert str(err.value).startswith("rules/routing.yaml:2: ")


def test_set_action_and_status_bookkeeping(ws_with) -> None:  # type: ignore[no-untyped-def]
    rules = """\
- id: events
  when: source == event
  assign: alan
  set: {interest: events, status: qualified}
- id: fallback
  assign: daniel
"""
    root = ws_with({"ld-1": lead("Ev", status="prospect", source="event")}, rules)
    ws = open_ws(root)
    p = routing.plan(ws, load_checked(ws))
    (a,) = p.assignments
    assert a.set == {"interest": "events", "status": "qualified"}
    routing.apply(ws, p, "crmkit route")
    ws2 = open_ws(root)
    rec = ws2.get("ld-1")
    assert rec["status"] == "qualified" and rec["routing"]["status"] == "qualified"
    assert routing.plan(ws2, load_checked(ws2)).assignments == []  # the status it set is the status it routed


def test_tickets_use_triage_file_and_kind(ws_with, make_ws) -> None:  # type: ignore[no-untyped-def]
    root = make_ws({
        "crmkit.yaml": CONFIG,
        "rules/routing.yaml": RULES,
        "rules/triage.yaml": "- id: urgent\n  when: priority == urgent\n  assign: erik\n- id: rest\n  assign: sofia\n",
        "tickets/tk-1.yaml": "subject: Down\npriority: urgent\nstatus: new\n",
        "tickets/tk-2.yaml": "subject: Question\npriority: low\nstatus: new\n",
        "leads/ld-1.yaml": lead("Small", status="prospect", users=3),
    })
    p = plan_for(root)
    assert {(a.kind, a.id, a.owner) for a in p.assignments} == {
        ("ticket", "tk-1", "erik"), ("ticket", "tk-2", "sofia"), ("lead", "ld-1", "alan")}
    only_tickets = plan_for(root, kinds=["ticket"])
    assert {a.kind for a in only_tickets.assignments} == {"ticket"}


def test_no_matching_rule_leaves_record_unassigned_and_reported(ws_with) -> None:  # type: ignore[no-untyped-def]
    rules = "- id: only-big\n  when: users > 50\n  assign: karin\n"
    root = ws_with({"ld-1": lead("Small", status="prospect", users=3)}, rules)
    ws = open_ws(root)
    ruleset = load_checked(ws)  # a missing fallback is reported by check, not fatal
    assert any(p.code == "rule-fallback" for p in ruleset.problems)
    p = routing.plan(ws, ruleset)
    assert p.assignments == [] and [a.id for a in p.unassigned] == ["ld-1"]
    assert "no rule matched" in p.unassigned[0].notes[0]


def test_rule_conditions_can_use_the_score(ws_with, make_ws) -> None:  # type: ignore[no-untyped-def]
    rules = "- id: hot\n  when: score >= 50\n  assign: daniel\n- id: rest\n  assign: alan\n"
    scoring = "groups:\n  - name: size\n    rules:\n      - {when: users >= 100, points: 60}\n"
    root = make_ws({"crmkit.yaml": CONFIG, "rules/routing.yaml": rules, "rules/scoring.yaml": scoring,
                    "leads/ld-1.yaml": lead("Big", status="prospect", users=100),
                    "leads/ld-2.yaml": lead("Small", status="prospect", users=1)})
    assert {(a.id, a.owner) for a in plan_for(root).assignments} == {("ld-1", "daniel"), ("ld-2", "alan")}


def test_notify_without_a_mail_module_is_reported(ws_with, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(routing, "notifications_available", lambda: False)
    rules = "- id: all\n  assign: karin\n  notify: new-lead\n"
    root = ws_with({"ld-1": lead("A", status="prospect")}, rules)
    (a,) = plan_for(root).assignments
    assert a.notify == "new-lead"
    assert any("not sent" in n for n in a.notes)


def test_appending_and_round_trip_writes_give_the_same_file(ws_with, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    text = "# a lead from the fair\nname: Big  # as written on the card\nstatus: prospect\nusers: 100\nzip: \"01234\"\n"
    fast_root = ws_with({"ld-1": text})
    slow_root = ws_with({"ld-1": text})
    ws = open_ws(fast_root)
    routing.apply(ws, routing.plan(ws, load_checked(ws)), "crmkit route")
    monkeypatch.setattr(appending.Appender, "new_text", lambda *a, **k: None)  # force the round-trip edit
    ws = open_ws(slow_root)
    routing.apply(ws, routing.plan(ws, load_checked(ws)), "crmkit route")
    fast = (fast_root / "leads/ld-1.yaml").read_text()
    assert fast == (slow_root / "leads/ld-1.yaml").read_text()
    assert fast.startswith(text) and "routing:\n  rule: prospect-large\n" in fast


def test_reroute_edits_existing_fields_in_place(ws_with) -> None:  # type: ignore[no-untyped-def]
    root = ws_with({"ld-1": "name: Big\nstatus: qualified\nusers: 100\nowner: karin  # routed\ntags: [vip]\n"
                            "routing:\n  rule: prospect-large\n  at: 2026-11-20T10:00:00+01:00\n  status: prospect\n"
                            "  owner: karin\nnotes: keep\n"})
    ws = open_ws(root)
    routing.apply(ws, routing.plan(ws, load_checked(ws)), "crmkit route")
    assert (root / "leads/ld-1.yaml").read_text() == (
        "name: Big\nstatus: qualified\nusers: 100\nowner: daniel # routed\ntags: [vip]\n"
        "routing:\n  rule: qualified-large\n  at: 2026-11-22T09:30:00+01:00\n  status: qualified\n"
        "  owner: daniel\nnotes: keep\n")


def test_tickets_are_not_retriaged_when_their_status_changes(make_ws) -> None:  # type: ignore[no-untyped-def]
    root = make_ws({
        "crmkit.yaml": CONFIG,
        "rules/triage.yaml": "- id: rest\n  assign: sofia\n",
        "tickets/tk-1.yaml": "subject: Down\nstatus: open\nowner: erik\n"
                             "routing: {rule: rest, at: 2026-11-20T10:00:00+01:00, status: new, owner: erik}\n",
        "tickets/tk-2.yaml": "subject: Lost its owner\nstatus: open\n"
                             "routing: {rule: rest, at: 2026-11-20T10:00:00+01:00, status: new, owner: erik}\n",
    })
    assert [(a.id, a.owner) for a in plan_for(root).assignments] == [("tk-2", "sofia")]
