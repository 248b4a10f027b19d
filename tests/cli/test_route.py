"""`crmkit route` end to end, and the issue's story through the command line."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from crmkit.sales.routing import notifications_available

NOW = ["--now", "2026-11-23T09:00:00+01:00"]

CONFIG = """\
name: Test AB
timezone: Europe/Stockholm
currency: SEK
users:
  daniel: {name: Daniel Berg, email: daniel@example.se}
  sofia: {name: Sofia Ek, email: sofia@example.se}
  erik: {name: Erik Ny, email: erik@example.se}
  karin: {name: Karin Lind, email: karin@example.se}
  alan: {name: Alan Smith, email: alan@example.se}
pools:
  sellers:
    members: [sofia, erik]
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


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def commits(root: Path) -> int:
    return int(git(root, "rev-list", "--count", "HEAD"))


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def ws(make_ws, leads: dict[str, str], rules: str = RULES) -> Path:  # type: ignore[no-untyped-def]
    files = {"crmkit.yaml": CONFIG, "rules/routing.yaml": rules}
    files.update({f"leads/{k}.yaml": v for k, v in leads.items()})
    return make_ws(files)


# -- the story ------------------------------------------------------------------------


def test_the_story_web_form_to_karin_qualified_to_daniel_converted(sample_ws: Path, run) -> None:  # type: ignore[no-untyped-def]
    form = json.dumps({"name": "Ingrid Solberg", "email": "ingrid.solberg@fjellkraft.no",
                       "company": "Fjellkraft AS", "users": "100", "country": "NO", "interest": "ERP system",
                       "phone": "+47 22 33 44 55"})
    # a prospect fills in the form on the website
    r = run(["lead", "add", "-", "source=web_form", *NOW], sample_ws, input=form)
    assert r.exit_code == 0, r.stderr
    ref = r.stdout.strip()
    lead_id = ref.split("/")[1]
    assert ref.startswith("lead/ld-20261123-")
    # the rules say: prospects with more than 50 users go to Karin
    r = run(["route", "--dry-run", *NOW], sample_ws)
    assert r.exit_code == 0 and f"{ref} -> karin  rule prospect-large" in r.stdout
    before = commits(sample_ws)
    r = run(["route", "--json", *NOW], sample_ws)
    assert r.exit_code == 0, r.stderr
    mine = [row for row in json_lines(r.stdout) if row["id"] == lead_id]
    assert mine and mine[0]["owner"] == "karin" and mine[0]["rule"] == "prospect-large"
    assert commits(sample_ws) == before + 1
    assert f"{ref} -> karin (rule prospect-large)" in git(sample_ws, "log", "-1", "--format=%B")
    if notifications_available():  # Karin is told
        assert any(f"notify-{lead_id}-karin" in p.name for p in (sample_ws / "outbox").glob("*.eml"))
    # running it again changes nothing
    r = run(["route", *NOW], sample_ws)
    assert r.exit_code == 0 and r.stdout == "" and "nothing to route" in r.stderr
    assert commits(sample_ws) == before + 1
    # Karin calls, judges the prospect qualified
    r = run(["lead", "qualify", lead_id, *NOW], sample_ws)
    assert r.exit_code == 0 and r.stdout.strip() == f"{ref} qualified"
    # qualified leads of 50 users or more go to Daniel
    r = run(["route", "--explain", lead_id, *NOW], sample_ws)
    assert "rule qualified-large (rules/routing.yaml:" in r.stdout and "MATCH (first match wins)" in r.stdout
    assert "=> daniel (rule qualified-large)" in r.stdout
    r = run(["route", *NOW], sample_ws)
    assert r.exit_code == 0 and f"{ref} -> daniel (was karin)  rule qualified-large" in r.stdout
    # Daniel converts it: contact, company and a deal in the first stage, owned by him
    r = run(["lead", "convert", lead_id, "--json", *NOW], sample_ws)
    assert r.exit_code == 0, r.stderr
    conv = json.loads(r.stdout)
    assert conv["owner"] == "daniel" and conv["company_created"] and conv["contact_created"]
    r = run(["show", f"deal/{conv['deal']}", "--json"], sample_ws)
    deal = json.loads(r.stdout)["record"]
    assert deal["stage"] == "lead" and deal["owner"] == "daniel" and deal["company"] == conv["company"]
    r = run(["show", lead_id, "--json"], sample_ws)
    rec = json.loads(r.stdout)["record"]
    assert rec["status"] == "converted" and rec["converted"]["deal"] == conv["deal"]
    # a converted lead is not routed again; the workspace is still clean
    assert "nothing to route" in run(["route", *NOW], sample_ws).stderr
    r = run(["check"], sample_ws)
    assert r.exit_code == 0, r.stdout


def test_sample_rules_pass_check_and_scores_show(sample_ws: Path, run) -> None:  # type: ignore[no-untyped-def]
    r = run(["check"], sample_ws)
    assert r.exit_code == 0, r.stdout
    r = run(["lead", "list", "--sort", "-score", "--fields", "id,score,band", "--json"], sample_ws)
    rows = json.loads(r.stdout)
    scores = [row["score"] for row in rows]
    assert scores == sorted(scores, reverse=True) and all(row["band"] in ("hot", "warm", "cold") for row in rows)
    hot = json.loads(run(["lead", "list", "--where", "score >= 70", "--json"], sample_ws).stdout)
    assert hot and all(row["score"] >= 70 for row in hot)


# -- behaviour ---------------------------------------------------------------------------


def test_dry_run_changes_nothing(make_ws, run) -> None:  # type: ignore[no-untyped-def]
    root = ws(make_ws, {"ld-1": "name: A\nstatus: prospect\nusers: 80\n",
                        "ld-2": "name: B\nstatus: prospect\nusers: 8\nowner: sofia\n"})
    before = commits(root)
    text = (root / "leads/ld-1.yaml").read_text()
    r = run(["route", "--dry-run"], root)
    assert r.exit_code == 0
    assert r.stdout.splitlines() == [
        "lead/ld-1 -> karin  rule prospect-large",
        "lead/ld-2 keeps sofia  (owner sofia was set by a person; --force re-routes it)",
    ]
    assert "would route 1 record (dry run: nothing changed)" in r.stderr
    assert commits(root) == before and (root / "leads/ld-1.yaml").read_text() == text
    r = run(["route", "--dry-run", "--json"], root)
    rows = json_lines(r.stdout)
    assert rows[0]["dry_run"] is True and rows[0]["owner"] == "karin"
    assert rows[1] == {"kind": "lead", "id": "ld-2", "owner": "sofia",
                       "skipped": "owner sofia was set by a person; --force re-routes it", "dry_run": True}


def test_force_overrides_manual_owner(make_ws, run) -> None:  # type: ignore[no-untyped-def]
    root = ws(make_ws, {"ld-2": "name: B\nstatus: prospect\nusers: 8\nowner: sofia\n"})
    r = run(["route"], root)
    assert r.exit_code == 0 and r.stdout == ""
    assert "owner: sofia" in (root / "leads/ld-2.yaml").read_text()
    r = run(["route", "--force"], root)
    assert r.stdout.strip() == "lead/ld-2 -> alan (was sofia)  rule prospect-small"
    assert "owner: alan" in (root / "leads/ld-2.yaml").read_text()


def test_json_lines_one_per_assignment(make_ws, run) -> None:  # type: ignore[no-untyped-def]
    root = ws(make_ws, {"ld-1": "name: A\nstatus: qualified\nusers: 8\n", "ld-2": "name: B\nstatus: qualified\nusers: 9\n",
                        "ld-3": "name: C\nstatus: qualified\nusers: 10\n"})
    r = run(["route", "--json"], root)
    rows = json_lines(r.stdout)
    assert [(x["id"], x["owner"], x["rule"], x["pool"]) for x in rows] == [
        ("ld-1", "sofia", "qualified-small", "sellers"), ("ld-2", "erik", "qualified-small", "sellers"),
        ("ld-3", "sofia", "qualified-small", "sellers")]
    assert "pool: sellers" in (root / "leads/ld-1.yaml").read_text()


def test_syntax_error_stops_route_naming_file_line_and_column(make_ws, run) -> None:  # type: ignore[no-untyped-def]
    root = ws(make_ws, {"ld-1": "name: A\nstatus: prospect\nusers: 80\n"}, RULES.replace("users > 50", "users >> 50"))
    before = commits(root)
    text = (root / "leads/ld-1.yaml").read_text()
    for args in (["route"], ["route", "--dry-run"], ["route", "--explain", "ld-1"]):
        r = run(args, root)
        assert r.exit_code == 1
        assert r.stdout == ""
        assert r.stderr.startswith("crmkit: error: rules/routing.yaml:2: rule prospect-large: when: ")
        assert "unexpected '>' at column 31" in r.stderr and "nothing was changed" in r.stderr
    assert commits(root) == before and (root / "leads/ld-1.yaml").read_text() == text
    r = run(["check"], root)
    assert r.exit_code == 1 and "rules/routing.yaml:2: rule-syntax: rule prospect-large" in r.stdout


def test_many_users_does_not_match_and_explain_says_why(make_ws, run) -> None:  # type: ignore[no-untyped-def]
    root = ws(make_ws, {"ld-1": "name: A\nstatus: prospect\nusers: many\n"})
    r = run(["route", "--explain", "ld-1"], root)
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert lines[0] == "lead/ld-1  A  (status prospect, owner none)"
    assert "  rule prospect-large (rules/routing.yaml:1): no match" in lines
    assert any("users is 'many' (text)" in ln and "cannot be compared with 50 (number), not a number -> false" in ln
               for ln in lines)
    assert "  => alan (rule prospect-small)   [no owner]" in lines
    info = json.loads(run(["route", "--explain", "ld-1", "--json"], root).stdout)
    assert [x["matched"] for x in info["rules"]] == [False, True, False, False, True]
    assert info["winner"] == "prospect-small" and info["outcome"]["assignment"]["owner"] == "alan"


def test_unassigned_records_exit_4(make_ws, run) -> None:  # type: ignore[no-untyped-def]
    root = ws(make_ws, {"ld-1": "name: A\nstatus: prospect\nusers: 1\n", "ld-2": "name: B\nstatus: prospect\nusers: 99\n"},
              "- id: big\n  when: users > 50\n  assign: karin\n")
    r = run(["route"], root)
    assert r.exit_code == 4
    assert r.stdout.strip() == "lead/ld-2 -> karin  rule big"
    assert "rule-fallback" in r.stderr and "lead/ld-1: left without an owner: no rule matched" in r.stderr
    assert "1 record left without an owner: lead/ld-1" in r.stderr


def test_route_only_named_records_and_kind(make_ws, run) -> None:  # type: ignore[no-untyped-def]
    root = ws(make_ws, {"ld-1": "name: A\nstatus: prospect\n", "ld-2": "name: B\nstatus: prospect\n"})
    r = run(["route", "ld-2", "--kind", "lead"], root)
    assert r.stdout.strip() == "lead/ld-2 -> alan  rule prospect-small"
    assert "owner" not in (root / "leads/ld-1.yaml").read_text()
