"""Serve by value on the sample workspace: triage, SLA policies and escalation read the tier;
and both stories of the sample (the platinum ticket, the upset customer who became satisfied)."""

from __future__ import annotations

import json
from pathlib import Path

from crmkit.store import yamlio
from crmkit.store.workspace import Workspace
from crmkit.support.sla import policy_for
from crmkit.support.tick import plan_tick
from tests.conftest import git

NOW = "2026-11-23T10:00:00+01:00"


def add_ticket(run, ws: Path, now: str, subject: str, *fields: str) -> str:
    r = run(["--now", now, "ticket", "add", subject, *fields], ws)
    assert r.exit_code == 0, r.stderr
    return r.stdout.strip().split("/")[1]


def load(ws: Path, tid: str) -> dict:
    return yamlio.load_fast(ws / f"tickets/{tid}.yaml")


def test_sample_tiers(sample_ws: Path, run) -> None:
    r = run(["--now", NOW, "company", "list", "--where", "tier == platinum", "--format", "json"], sample_ws)
    assert r.exit_code == 0, r.stderr
    assert [c["id"] for c in json.loads(r.stdout)] == ["dunamenti-gepgyar-kft"]
    r = run(["--now", NOW, "company", "list", "--where", "tier == gold", "--format", "json"], sample_ws)
    assert sorted(c["id"] for c in json.loads(r.stdout)) == ["akerberg-ab", "nordvik-as", "northgate-retail-ltd"]
    assert run(["check"], sample_ws).exit_code == 0


def test_a_platinum_customers_ticket_goes_to_second_line_by_its_tier(sample_ws: Path, run) -> None:
    platinum = add_ticket(run, sample_ws, NOW, "Invoices stuck", "company=dunamenti-gepgyar-kft",
                          "contact=nagy-erzsebet")
    plain = add_ticket(run, sample_ws, NOW, "Question about an export", "company=sodergran-revision-ab",
                       "contact=ulf-sodergran")
    r = run(["--now", "2026-11-23T10:05:00+01:00", "route", "--kind", "ticket", "--explain", platinum], sample_ws)
    assert "platinum-second-line" in r.stdout and "company.tier == platinum" in r.stdout
    r = run(["--now", "2026-11-23T10:05:00+01:00", "route", "--kind", "ticket"], sample_ws)
    assert r.exit_code == 0, r.stderr
    t = load(sample_ws, platinum)
    assert (t["line"], t["priority"], t["owner"], t["routing"]["rule"]) == (
        "second", "high", "zsofia", "platinum-second-line")
    assert load(sample_ws, plain)["routing"]["rule"] == "first-line"
    assert "platinum-second-line" in git(sample_ws, "log", "-1", "--format=%B")


def test_an_upset_key_customers_new_ticket_skips_first_line(sample_ws: Path, run) -> None:
    """Bjørn (Nordvik, gold tier) was satisfied after the ERP win; his complaint makes him upset."""
    ws = Workspace(sample_ws, now=NOW)
    from crmkit.conditions.views import view

    assert view(ws, ws.get("bjorn-odegard", "contact"))["sentiment"] == "satisfied"
    tid = add_ticket(run, sample_ws, NOW, "Third wrong invoice this month", "company=nordvik-as",
                     "contact=bjorn-odegard", "tags=complaint")
    r = run(["--now", "2026-11-23T10:05:00+01:00", "route", "--kind", "ticket"], sample_ws)
    assert r.exit_code == 0, r.stderr
    t = load(sample_ws, tid)
    assert (t["routing"]["rule"], t["line"], t["priority"]) == ("upset-key-customer", "second", "high")
    # the same ticket from a contact who is not upset would have been a gold first-line ticket
    other = add_ticket(run, sample_ws, NOW, "Question", "company=nordvik-as", "contact=ingrid-solberg")
    run(["--now", "2026-11-23T10:06:00+01:00", "route", "--kind", "ticket"], sample_ws)
    assert load(sample_ws, other)["routing"]["rule"] == "gold-high-priority"


def test_sla_policy_and_escalation_by_tier(sample_ws: Path, run) -> None:
    tid = add_ticket(run, sample_ws, "2026-11-23T09:00:00+01:00", "Slow report", "company=dunamenti-gepgyar-kft",
                     "contact=nagy-erzsebet", "priority=normal", "line=first", "owner=nora")
    other = add_ticket(run, sample_ws, "2026-11-23T09:00:00+01:00", "Slow report", "company=sodergran-revision-ab",
                       "priority=normal", "line=first", "owner=nora")
    ws = Workspace(sample_ws, now="2026-11-23T10:45:00+01:00")
    assert policy_for(ws, ws.get(tid, "ticket")).id == "platinum"
    assert policy_for(ws, ws.get(other, "ticket")).id == "standard"
    r = run(["--now", "2026-11-23T10:45:00+01:00", "ticket", "list", "--where", f"id == {tid}", "--json"],
            sample_ws)
    [row] = json.loads(r.stdout)
    assert row["sla"]["policy"] == "platinum" and row["sla"]["state"] == "at_risk"  # 1h45 of 2h first response
    plan = plan_tick(ws)
    fired = {(f.ticket.id, f.rule.id) for f in plan.firings}
    assert (tid, "platinum-at-risk") in fired
    assert not any(t == other and rule == "platinum-at-risk" for t, rule in fired)
    r = run(["--now", "2026-11-23T10:45:00+01:00", "tick"], sample_ws)
    assert r.exit_code == 0, r.stderr
    assert load(sample_ws, tid)["priority"] == "high"  # raised by its tier


def test_the_sample_tells_the_satisfaction_story(tmp_path: Path, run) -> None:
    """Grace was upset after a breached first response, rated the fix 5 and became satisfied:
    straight after `init --sample`, in show, history and both reports."""
    root = tmp_path / "fresh"
    r = run(["init", str(root), "--sample", "--json"])
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["sentiment_changes"] == 13
    r = run(["--now", NOW, "show", "grace-mitchell"], root)
    assert r.exit_code == 0, r.stderr
    assert "sentiment: satisfied" in r.stdout
    assert "reason: SLA first_response breached on Dashboard export times out" in r.stdout
    assert "to: upset" in r.stdout and "rated 5 for Dashboard export times out" in r.stdout
    # history: the commit that logged her journey, on top of the init commit
    r = run(["history", "grace-mitchell"], root)
    assert r.exit_code == 0, r.stderr
    newest = r.stdout.split("\n\n")[0]
    assert "crmkit: log the sample's sentiment journeys" in newest
    assert ("contact/grace-mitchell: 2026-11-18 09:15 neutral -> upset (SLA first_response breached on "
            "Dashboard export times out)") in r.stdout
    assert "contact/grace-mitchell: 2026-11-19 08:40 upset -> satisfied (rated 5 for" in r.stdout
    assert "+    to: upset" in r.stdout and "crmkit: init workspace from the sample" in r.stdout
    assert git(root, "status", "--porcelain") == ""
    # the log is exactly what the signals say: nothing left to log, for her or anyone
    r = run(["--now", NOW, "contact", "sentiment"], root)
    assert r.stdout.strip() == "every sentiment change is already logged"
    r = run(["--now", NOW, "report", "satisfaction", "--period", "2026-11", "--json"], root)
    data = json.loads(r.stdout)
    assert data["csat"] == {"ratings": 1, "satisfied": 1, "csat": "100.0"}
    assert data["by_agent"] == [{"agent": "nora", "ratings": 1, "satisfied": 1, "csat": "100.0", "average": "5.0"}]
    assert data["surveys"] == {"sent": 1, "answered": 1, "response_rate": "100.0"}
    grace = [(c["from"], c["to"]) for c in data["journey"]["changes"] if c["contact"] == "grace-mitchell"]
    assert grace == [("neutral", "upset"), ("upset", "satisfied")]
    assert data["journey"]["matrix"]["neutral"]["satisfied"] >= 1
    assert data["by_tier"] == [{"tier": "standard", "ratings": 1, "satisfied": 1, "csat": "100.0", "average": "5.0"}]
    # a later rating is its ticket's commit; her state does not move, so her file is not in it
    run(["--now", NOW, "ticket", "rate", "tk-20261117-m4hx7", "4", "-m", "Still fine a week later"], root)
    assert "rate ticket/tk-20261117-m4hx7 4" not in run(["history", "grace-mitchell"], root).stdout
    assert "rate ticket/tk-20261117-m4hx7 4" in run(["history", "tk-20261117-m4hx7"], root).stdout


def test_the_sample_tells_the_value_story(sample_ws: Path, run) -> None:
    r = run(["--now", NOW, "report", "value", "--since", "2026-08-01", "--json"], sample_ws)
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    top = data["ranked"][0]
    assert (top["customer"], top["tier"]) == ("company/dunamenti-gepgyar-kft", "platinum")
    moves = {m["customer"]: (m["from"], m["to"]) for m in data["movement"]}
    assert moves["company/dunamenti-gepgyar-kft"] == ("standard", "platinum")
    r = run(["--now", NOW, "show", "tk-20261120-p3vx8"], sample_ws)
    assert "rule: platinum-second-line" in r.stdout
    r = run(["--now", NOW, "report", "satisfaction", "--format", "json"], sample_ws)
    tiers = {row["tier"] for row in json.loads(r.stdout)["by_tier"]}
    assert tiers == {"standard"}
