"""Events: registrations and attendance logged on the event, attendees made leads once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import git

EVENT = """\
name: Nordic ERP Days 2026
type: fair
date: 2026-11-12
location: Stockholm
segment: customers
owner: karin
"""


@pytest.fixture
def ws(make_ws) -> Path:
    return make_ws({
        "companies/ek-bygg.yaml": "name: Ek Bygg AB\n",
        "contacts/anna.yaml": "name: Anna Ek\nemail: anna@ekbygg.se\ncompany: ek-bygg\ntags: [customer]\n",
        "contacts/bo.yaml": "name: Bo Ek\nemail: bo@ekbygg.se\ncompany: ek-bygg\ntags: [customer]\n",
        "segments/customers.yaml": "kind: contact\nwhere: '\"customer\" in tags'\n",
        "events/erp-days.yaml": EVENT,
    })


def _leads(ws: Path) -> list[dict]:
    return [yaml.safe_load(p.read_text()) for p in sorted((ws / "leads").glob("*.yaml"))]


def test_register_attend_and_leads(run, ws) -> None:
    assert run(["--now", "2026-10-20T10:00", "event", "register", "erp-days", "anna"], ws).exit_code == 0
    assert run(["--now", "2026-10-21T10:00", "event", "register", "erp-days", "bo"], ws).exit_code == 0
    r = run(["--now", "2026-10-22T10:00", "event", "register", "erp-days", "--name", "Sanna Berg",
             "--email", "sanna@berg.se", "--company", "Berg AB"], ws)
    assert r.exit_code == 0, r.stderr
    r = run(["--now", "2026-10-22T11:00", "event", "register", "erp-days", "anna"], ws)
    assert "already registered" in r.stdout
    assert run(["--now", "2026-11-12T10:30", "event", "attend", "erp-days", "anna"], ws).exit_code == 0
    assert run(["--now", "2026-11-12T11:00", "event", "attend", "erp-days", "--name", "Sanna Berg",
                "--email", "sanna@berg.se"], ws).exit_code == 0
    r = run(["--now", "2026-11-12T14:00", "event", "attend", "erp-days", "--name", "Walk In",
             "--email", "walk@in.se"], ws)
    assert "attended (walk-in)" in r.stdout
    event = yaml.safe_load((ws / "events/erp-days.yaml").read_text())
    assert [(r.get("contact") or r.get("email"), bool(r.get("attended"))) for r in event["registrations"]] == [
        ("anna", True), ("bo", False), ("sanna@berg.se", True), ("walk@in.se", True)]
    r = run(["--now", "2026-11-13T09:00", "event", "leads", "erp-days", "--json"], ws)
    assert r.exit_code == 0, r.stderr
    assert len(json.loads(r.stdout)["leads"]) == 3            # Bo did not come
    leads = _leads(ws)
    assert sorted((ld["name"], ld["source"], ld["owner"], ld["status"]) for ld in leads) == [
        ("Anna Ek", "event/erp-days", "karin", "prospect"), ("Sanna Berg", "event/erp-days", "karin", "prospect"),
        ("Walk In", "event/erp-days", "karin", "prospect")]
    anna = next(ld for ld in leads if ld["name"] == "Anna Ek")
    assert anna["company_name"] == "Ek Bygg AB" and anna["email"] == "anna@ekbygg.se" and anna["contact"] == "anna"
    event = yaml.safe_load((ws / "events/erp-days.yaml").read_text())
    assert all(r.get("lead") for r in event["registrations"] if r.get("attended"))
    assert git(ws, "status", "--porcelain") == ""
    # a second run makes none
    r = run(["--now", "2026-11-14T09:00", "event", "leads", "erp-days", "--json"], ws)
    assert json.loads(r.stdout)["leads"] == [] and len(_leads(ws)) == 3
    assert run(["check"], ws).exit_code == 0


def test_bad_events_are_reported(run, ws) -> None:
    (ws / "events/erp-days.yaml").write_text(EVENT.replace("segment: customers", "segment: nope")
                                             + "registrations:\n  - {contact: anna}\n  - {contact: anna}\n")
    git(ws, "commit", "-qam", "break")
    r = run(["check"], ws)
    assert r.exit_code == 1
    assert "events/erp-days.yaml:5: event: segment: no segment named 'nope'" in r.stdout
    assert "registrations[2]: contact/anna is registered twice" in r.stdout
    r = run(["event", "register", "erp-days"], ws)
    assert r.exit_code == 2 and "needs --name and --email" in r.stderr


def test_the_sample_event_s_attendees_are_leads(run, sample_ws) -> None:
    r = run(["--now", "2026-11-23T09:00", "event", "leads", "budapest-erp-day-2026", "--json"], sample_ws)
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["leads"] == [] and sorted(x["reason"] for x in out["left"]) == [
        "already a lead: lead/ld-20261113-3xdpf", "already a lead: lead/ld-20261119-k3y8p"]
    for lid in ("ld-20261113-3xdpf", "ld-20261119-k3y8p"):
        lead = yaml.safe_load((sample_ws / "leads" / f"{lid}.yaml").read_text())
        assert lead["source"] == "event/budapest-erp-day-2026"
    # a visitor logged at the door becomes a lead of the event, once
    run(["--now", "2026-11-12T11:00", "event", "attend", "budapest-erp-day-2026", "kovacs-peter"], sample_ws)
    r = run(["--now", "2026-11-13T09:00", "event", "leads", "budapest-erp-day-2026", "--json"], sample_ws)
    (lid,) = json.loads(r.stdout)["leads"]
    lead = yaml.safe_load((sample_ws / "leads" / f"{lid}.yaml").read_text())
    assert (lead["name"], lead["source"], lead["owner"]) == ("Kovács Péter", "event/budapest-erp-day-2026", "karin")


def test_leads_follow_from_event_and_person_and_a_rerun_is_quiet(run, ws, tmp_path) -> None:
    """README: `made lead/ld-20261112-...`: the id's date is when they attended, and the rest
    follows from event and person, so two clones make the same lead and a pull holds it once."""
    assert run(["--now", "2026-11-12T10:30", "event", "attend", "erp-days", "anna"], ws).exit_code == 0
    git(tmp_path, "clone", "-q", str(ws), str(tmp_path / "other"))
    made = []
    for where, now in ((ws, "2026-11-13T09:00"), (tmp_path / "other", "2026-11-20T16:00")):
        r = run(["--now", now, "event", "leads", "erp-days", "--json"], where)
        assert r.exit_code == 0, r.stderr
        made.append(json.loads(r.stdout)["leads"])
    assert made[0] == made[1] and made[0][0].startswith("ld-20261112-")
    assert (ws / "leads" / f"{made[0][0]}.yaml").read_bytes() == \
        (tmp_path / "other/leads" / f"{made[0][0]}.yaml").read_bytes()
    assert (ws / "events/erp-days.yaml").read_bytes() == (tmp_path / "other/events/erp-days.yaml").read_bytes()
    again = run(["--now", "2026-11-14T09:00", "event", "leads", "erp-days"], ws)
    assert again.exit_code == 0 and again.stdout == "" and "warning" not in again.stderr, again.stderr
    assert "no attendee left to make a lead of" in again.stderr
