"""`crmkit lead add|qualify|disqualify|convert|score` through the command line."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

SCORING = """\
cap: 100
groups:
  - name: size
    cap: 50
    rules:
      - {when: "users >= 100", points: 40}
      - {when: "users >= 50", points: 20}
  - name: channel
    rules:
      - {when: "source == web_form", points: 30}
bands: {hot: 70, warm: 40, cold: null}
"""


def commits(root: Path) -> int:
    return int(subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout)


@pytest.fixture
def root(make_ws) -> Path:  # type: ignore[no-untyped-def]
    return make_ws({"rules/scoring.yaml": SCORING})


def test_add_with_key_value(root: Path, run) -> None:  # type: ignore[no-untyped-def]
    r = run(["lead", "add", "Anna Berg", "email=anna@nordvik.no", "users=100", "source=web_form",
             "--now", "2026-11-22T10:00"], root)
    assert r.exit_code == 0, r.stderr
    ref = r.stdout.strip()
    assert ref.startswith("lead/ld-20261122-")
    text = (root / "leads" / f"{ref.split('/')[1]}.yaml").read_text()
    assert "users: 100\n" in text and "status: prospect\n" in text


def test_add_json_form_on_stdin(root: Path, run) -> None:  # type: ignore[no-untyped-def]
    form = {"name": "Anna Berg", "email": "anna@nordvik.no", "company": "Nordvik AS", "users": "100",
            "phone": "0767101055", "utm_campaign": "erp-autumn"}
    r = run(["lead", "add", "-", "source=web_form", "--json"], root, input=json.dumps(form))
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    rec = out["record"]
    assert rec["company_name"] == "Nordvik AS" and rec["users"] == 100 and rec["phone"] == "0767101055"
    assert rec["utm_campaign"] == "erp-autumn" and rec["source"] == "web_form" and rec["status"] == "prospect"
    r = run(["lead", "add", "--json-input"], root, input=json.dumps({"name": "B", "email": "b@b.se"}))
    assert r.exit_code == 0 and r.stdout.startswith("lead/")
    msg = subprocess.run(["git", "log", "-1", "--format=%s"], cwd=root, capture_output=True, text=True).stdout
    assert msg.startswith("crmkit: add lead/ld-") and msg.strip().endswith("from a form")


@pytest.mark.parametrize("text,fragment", [
    ('{"name": "Anna", "email": ', "the form is not valid JSON"),
    ('{"name": "Anna"}', "the form lacks email"),
    ('{"users": 5}', "the form lacks name and email"),
    ('"just text"', "must be a JSON object"),
])
def test_bad_forms_are_refused_and_nothing_written(root: Path, run, text: str, fragment: str) -> None:  # type: ignore[no-untyped-def]
    before = commits(root)
    r = run(["lead", "add", "-"], root, input=text)
    assert r.exit_code == 1
    assert r.stdout == ""
    assert fragment in r.stderr and "nothing was written" in r.stderr
    assert not (root / "leads").exists() or not list((root / "leads").iterdir())
    assert commits(root) == before


def test_form_with_text_where_a_number_belongs_is_kept_with_a_warning(root: Path, run) -> None:  # type: ignore[no-untyped-def]
    r = run(["lead", "add", "-"], root, input='{"name": "Bo", "email": "bo@x.se", "users": "many"}')
    assert r.exit_code == 0
    assert "users: expected a whole number, found 'many'; kept as sent" in r.stderr


def test_qualify_disqualify_convert(root: Path, run) -> None:  # type: ignore[no-untyped-def]
    ref = run(["lead", "add", "Anna Berg", "email=anna@nordvik.no", "company_name=Nordvik AS", "owner=daniel",
               "interest=ERP"], root).stdout.strip()
    lead_id = ref.split("/")[1]
    r = run(["lead", "disqualify", lead_id], root)
    assert r.exit_code == 2 and "--reason" in r.stderr
    r = run(["lead", "disqualify", lead_id, "--reason", "no budget this year"], root)
    assert r.exit_code == 0 and r.stdout.strip() == f"{ref} disqualified"
    r = run(["lead", "convert", lead_id], root)
    assert r.exit_code == 1 and "qualify it first" in r.stderr
    r = run(["lead", "qualify", lead_id, "--json"], root)
    assert json.loads(r.stdout)["status"] == "qualified"
    r = run(["lead", "convert", lead_id, "--value", "250000"], root)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == [
        f"{ref} converted",
        "  contact/anna-berg (created)",
        "  company/nordvik-as (created)",
        "  deal/nordvik-as-erp (owner daniel)",
    ]
    deal = json.loads(run(["show", "deal/nordvik-as-erp", "--json"], root).stdout)["record"]
    assert deal["value"] == "250000" and deal["stage"] == "lead" and deal["lead"] == lead_id
    r = run(["lead", "convert", lead_id], root)
    assert r.exit_code == 1 and "converted already" in r.stderr


def test_score_list_where_sort_and_show(root: Path, run) -> None:  # type: ignore[no-untyped-def]
    big = run(["lead", "add", "Big", "users=150", "source=web_form"], root).stdout.strip().split("/")[1]
    mid = run(["lead", "add", "Mid", "users=60"], root).stdout.strip().split("/")[1]
    small = run(["lead", "add", "Small", "users=3"], root).stdout.strip().split("/")[1]
    r = run(["lead", "score", big], root)
    assert r.stdout.strip() == f"{big}\t80\thot"
    r = run(["lead", "score", big, "--explain"], root)
    assert r.stdout.splitlines()[0] == f"lead/{big}  Big: score 80 (hot)"
    assert "  size: +60 -> 50 (cap 50)" in r.stdout
    info = json.loads(run(["lead", "score", mid, "--explain", "--json"], root).stdout)
    assert info["score"] == 20 and info["band"] == "cold" and info["groups"][0]["rules"][1]["matched"] is True
    rows = json.loads(run(["lead", "list", "--sort", "-score", "--json"], root).stdout)
    assert [(x["id"], x["score"]) for x in rows] == [(big, 80), (mid, 20), (small, 0)]
    rows = json.loads(run(["lead", "list", "--where", "score >= 20 and band != hot", "--json"], root).stdout)
    assert [x["id"] for x in rows] == [mid]
    r = run(["show", big], root)
    assert "score: 80" in r.stdout and "band: hot" in r.stdout
    # the score is computed, never stored
    assert "score" not in (root / "leads" / f"{big}.yaml").read_text()


def test_score_without_rules_says_so(make_ws, run) -> None:  # type: ignore[no-untyped-def]
    root = make_ws({"leads/ld-1.yaml": "name: A\n"})
    r = run(["lead", "score", "ld-1"], root)
    assert r.exit_code == 1 and "no scoring rules: write rules/scoring.yaml" in r.stderr
