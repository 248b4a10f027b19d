"""`crmkit deal move`: history, won/lost rules, reopening, commits, exact diffs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

DEAL = """\
# a hand-written comment survives
title: Nordvik ERP rollout
company: nordvik-as
owner: daniel
stage: proposal
value: "120000.00"   # quoted on purpose
currency: SEK
probability: 60
expected_close: 2026-12-10
stage_history:
  - {stage: lead, at: 2026-09-01T09:00:00+02:00, by: daniel}
  - {stage: proposal, at: 2026-10-01T09:00:00+02:00, by: daniel}
created: 2026-09-01T09:00:00+02:00
custom_field: keep me
"""

#: The company the deal names: a deal whose company is missing is not moved.
COMPANY = {"companies/nordvik-as.yaml": "name: Nordvik AS\n"}


def git(ws: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=ws, check=True, capture_output=True, text=True).stdout


def test_move_appends_history_and_commits(make_ws, run) -> None:
    ws = make_ws({"deals/nordvik-erp.yaml": DEAL, **COMPANY})
    r = run(["deal", "move", "nordvik-erp", "negotiation", "--now", "2026-11-23T10:00"], ws)
    assert r.exit_code == 0, r.stderr
    assert r.stdout == "moved deal/nordvik-erp: proposal -> negotiation\n"
    text = (ws / "deals/nordvik-erp.yaml").read_text()
    assert "# a hand-written comment survives" in text and 'value: "120000.00"   # quoted on purpose' in text
    assert "custom_field: keep me" in text
    assert "stage: negotiation\n" in text
    assert "  - stage: negotiation\n    at: 2026-11-23T10:00:00+01:00\n    from: proposal\n    by: tester\n" in text
    diff = git(ws, "show", "--format=%s%n%b", "HEAD")
    assert diff.startswith("crmkit: move deal/nordvik-erp to negotiation")
    assert "Crmkit-Command: crmkit" in diff
    changed = [ln for ln in diff.splitlines() if ln.startswith(("+", "-")) and not ln.startswith(("+++", "---"))]
    assert changed == ["-stage: proposal", "+stage: negotiation", "+  - stage: negotiation",
                       "+    at: 2026-11-23T10:00:00+01:00", "+    from: proposal", "+    by: tester"]


def test_won_forces_probability_and_sets_close_date(make_ws, run) -> None:
    ws = make_ws({"deals/nordvik-erp.yaml": DEAL, **COMPANY})
    r = run(["deal", "move", "nordvik-erp", "won", "--close-date", "2026-11-20", "--now", "2026-11-23T10:00"], ws)
    assert r.exit_code == 0, r.stderr
    assert "closed 2026-11-20" in r.stdout and "probability forced to 100" in r.stdout
    text = (ws / "deals/nordvik-erp.yaml").read_text()
    assert "probability: 100\n" in text and "closed: 2026-11-20\n" in text


def test_lost_needs_reason(make_ws, run) -> None:
    ws = make_ws({"deals/nordvik-erp.yaml": DEAL, **COMPANY})
    r = run(["deal", "move", "nordvik-erp", "lost"], ws)
    assert r.exit_code == 2 and "needs a reason" in r.stderr and r.stdout == ""
    assert (ws / "deals/nordvik-erp.yaml").read_text() == DEAL
    r = run(["deal", "move", "nordvik-erp", "lost", "--reason", "chose a competitor", "--now", "2026-11-23"], ws)
    assert r.exit_code == 0, r.stderr
    text = (ws / "deals/nordvik-erp.yaml").read_text()
    assert "lost_reason: chose a competitor" in text and "probability: 0\n" in text


def test_reopen_keeps_history(make_ws, run) -> None:
    ws = make_ws({"deals/nordvik-erp.yaml": DEAL, **COMPANY})
    assert run(["deal", "move", "nordvik-erp", "lost", "--reason", "budget", "--now", "2026-11-20"], ws).exit_code == 0
    r = run(["deal", "move", "nordvik-erp", "proposal", "--now", "2026-11-23", "--json"], ws)
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["from"] == "lost" and data["to"] == "proposal" and "reopened from lost" in data["notes"]
    text = (ws / "deals/nordvik-erp.yaml").read_text()
    assert "closed:" not in text and "lost_reason" not in text and "probability" not in text
    assert text.count("  - stage:") + text.count("  - {stage:") == 4
    assert "reason: budget" in text


def test_same_stage_is_noop_and_makes_no_commit(make_ws, run) -> None:
    ws = make_ws({"deals/nordvik-erp.yaml": DEAL, **COMPANY})
    head = git(ws, "rev-parse", "HEAD")
    r = run(["deal", "move", "nordvik-erp", "proposal"], ws)
    assert r.exit_code == 0 and "already in proposal" in r.stdout
    assert git(ws, "rev-parse", "HEAD") == head


def test_errors(make_ws, run) -> None:
    ws = make_ws({"deals/nordvik-erp.yaml": DEAL, **COMPANY})
    r = run(["deal", "move", "nordvik-erp", "signed"], ws)
    assert r.exit_code == 1 and "unknown stage 'signed'; stages are: lead" in r.stderr
    r = run(["deal", "move", "nope", "won"], ws)
    assert r.exit_code == 1 and "nope" in r.stderr
    r = run(["deal", "move", "nordvik-erp", "won", "--close-date", "tomorrow"], ws)
    assert r.exit_code == 2 and "YYYY-MM-DD" in r.stderr
    r = run(["deal", "move", "nordvik-erp", "won", "--close-date", "2030-01-01", "--now", "2026-11-23"], ws)
    assert r.exit_code == 2 and "in the future" in r.stderr
    assert (ws / "deals/nordvik-erp.yaml").read_text() == DEAL


def test_dry_run_writes_nothing(make_ws, run) -> None:
    ws = make_ws({"deals/nordvik-erp.yaml": DEAL, **COMPANY})
    r = run(["deal", "move", "nordvik-erp", "won", "--dry-run", "--now", "2026-11-23"], ws)
    assert r.exit_code == 0 and r.stdout.startswith("would move deal/nordvik-erp: proposal -> won")
    assert (ws / "deals/nordvik-erp.yaml").read_text() == DEAL


def test_a_deal_with_a_missing_company_or_no_amount_is_not_moved_until_fixed(make_ws, run) -> None:
    ws = make_ws({"deals/nordvik-erp.yaml": DEAL.replace("company: nordvik-as", "company: nordvik-gone"), **COMPANY})
    head = git(ws, "rev-parse", "HEAD")
    before = (ws / "deals/nordvik-erp.yaml").read_text()
    r = run(["deal", "move", "nordvik-erp", "negotiation"], ws)
    assert r.exit_code == 1 and r.stdout == ""
    assert r.stderr == ("crmkit: error: deals/nordvik-erp.yaml: company: no company with id 'nordvik-gone'; "
                        "nothing was written\n")
    assert (ws / "deals/nordvik-erp.yaml").read_text() == before and git(ws, "rev-parse", "HEAD") == head
    # set judges the deal the same way, and fixing the company is the way out
    assert run(["set", "nordvik-erp", "probability=70"], ws).exit_code == 1
    assert run(["set", "nordvik-erp", "company=nordvik-as"], ws).exit_code == 0
    (ws / "deals/nordvik-erp.yaml").write_text(DEAL.replace('value: "120000.00"', "value: abc"))
    git(ws, "commit", "-qam", "a hand edit", "--author", "T <t@example.com>")
    r = run(["deal", "move", "nordvik-erp", "negotiation"], ws)
    assert r.exit_code == 1 and "value: expected an amount, found 'abc'" in r.stderr and r.stderr.count("\n") == 1
    assert "stage: proposal" in (ws / "deals/nordvik-erp.yaml").read_text()
    assert run(["set", "nordvik-erp", "value=120000"], ws).exit_code == 0
    assert run(["deal", "move", "nordvik-erp", "negotiation"], ws).exit_code == 0
