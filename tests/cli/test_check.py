"""`crmkit check` reports every problem at once, with file and line; `crmkit schema` writes JSON Schemas."""

from __future__ import annotations

import json

import jsonschema

from crmkit.store import yamlio

GOOD_COMPANY = "name: Nordvik AS\ncountry: NO\n"


def test_clean_workspace_passes(run, make_ws) -> None:
    ws = make_ws({"companies/nordvik-as.yaml": GOOD_COMPANY})
    r = run(["check"], ws)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert r.stdout == ""
    assert "ok: 1 records checked" in r.stderr


def test_every_problem_is_reported_with_path_line_and_code(run, make_ws) -> None:
    ws = make_ws({
        "companies/nordvik-as.yaml": GOOD_COMPANY,
        "contacts/anna-berg.yaml": (
            "name: Anna Berg\n"
            "phone: 0767101055\n"          # a number where the schema says text
            "company: nordvik-as\n"
            "address:\n"
            "  city: Oslo\n"
            "  zip: 01234\n"               # leading zero already lost: say so, with its line
            "owner: nobody\n"
        ),
        "contacts/Anna.yaml": "name: Anna\n",
        "contacts/anna.yaml": "name: Anna 2\n",
        "deals/big-deal.yaml": "title: Big deal\ncompany: ghost-ab\nstage: dreaming\nvalue: lots\n",
        "tickets/tk-20261101-aaaaa.yaml": "subject: Help\npriority: critical\n",
        "leads/ld-20261101-bbbbb.yaml": "name: Lead\nname: Again\n",
        "activities/act-20261101-ccccc.yaml": "subject: no type\n",
    })
    r = run(["check"], ws)
    assert r.exit_code == 1
    lines = r.stdout.splitlines()
    expected = [
        "activities/act-20261101-ccccc.yaml:1: required: activity needs a type",
        "contacts/Anna.yaml:1: bad-id: 'Anna' is not a valid id (lowercase letters, digits, '-')",
        "contacts/anna-berg.yaml:2: type: phone: expected text, found the number 767101055; quote it to keep its exact text",
        "contacts/anna-berg.yaml:6: type: address: zip: expected text, found the number 1234; quote it to keep its exact text",
        "contacts/anna-berg.yaml:7: unknown-user: owner 'nobody' is not a user in crmkit.yaml",
        "contacts/anna.yaml:1: duplicate-id: same id as contacts/Anna.yaml (ids are case-insensitive)",
        "deals/big-deal.yaml:2: missing-ref: company: no company with id 'ghost-ab'",
        "deals/big-deal.yaml:3: unknown-stage: stage 'dreaming' is not a pipeline stage in crmkit.yaml",
        "deals/big-deal.yaml:4: type: value: expected an amount, found 'lots'",
        "leads/ld-20261101-bbbbb.yaml:2: yaml: invalid YAML: found duplicate key \"name\"",
        "tickets/tk-20261101-aaaaa.yaml:2: type: priority: 'critical' is not one of low, normal, high, urgent",
    ]
    for line in expected:
        assert line in lines, f"missing: {line}\n--- got:\n" + r.stdout
    assert "problems found" in r.stderr
    j = run(["check", "--json"], ws)
    assert j.exit_code == 1
    data = json.loads(j.stdout)
    assert {"path": "deals/big-deal.yaml", "line": 2, "code": "missing-ref",
            "message": "company: no company with id 'ghost-ab'"} in data


def test_schema_writes_draft7_schemas_that_validate_records(run, make_ws, tmp_path) -> None:
    ws = make_ws({"companies/nordvik-as.yaml": GOOD_COMPANY})
    out = tmp_path / "schemas"
    r = run(["schema", "--out", str(out)], ws)
    assert r.exit_code == 0, r.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(f"{k}.schema.json" for k in ("contact", "company", "lead", "deal", "ticket", "activity", "campaign", "event"))
    schema = json.loads((out / "contact.schema.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    assert not list(validator.iter_errors({"name": "Åsa", "address": {"zip": "01234"}, "custom": 1}))
    assert list(validator.iter_errors({"name": "Åsa", "address": {"zip": 1234}}))
    assert list(validator.iter_errors({"email": "x@y"}))  # name is required


def test_init_makes_a_git_workspace_that_checks_clean(run, tmp_path, monkeypatch) -> None:
    target = tmp_path / "mycrm"
    r = run(["init", str(target)])
    assert r.exit_code == 0, r.stderr
    assert (target / ".git").is_dir() and (target / "crmkit.yaml").is_file()
    assert ".crmkit/" in (target / ".gitignore").read_text()
    assert run(["check"], target).exit_code == 0
    assert yamlio.load_fast(target / "crmkit.yaml")["currency"] == "SEK"
    again = run(["init", str(target)])
    assert again.exit_code == 1 and "already a crmkit workspace" in again.stderr


def test_staged_checks_what_the_next_commit_holds(run, make_ws, tmp_path) -> None:
    from tests.conftest import git

    ws = make_ws({"companies/nordvik-as.yaml": GOOD_COMPANY,
                  "contacts/anna-berg.yaml": "name: Anna Berg\ncompany: nordvik-as\n"})
    # a git rm of a company a contact names: gone from disk and index alike
    git(ws, "rm", "-q", "companies/nordvik-as.yaml")
    r = run(["check", "--staged"], ws)
    assert r.exit_code == 1
    assert "contacts/anna-berg.yaml:2: missing-ref: company: no company with id 'nordvik-as'" in r.stdout
    git(ws, "reset", "-q", "HEAD", "--", "companies/nordvik-as.yaml")
    git(ws, "checkout", "--", "companies/nordvik-as.yaml")
    # a broken file on disk that is not staged is no business of the commit ...
    (ws / "contacts/bad.yaml").write_text("name: Bad\ncompany: ghost-co\n", encoding="utf-8")
    assert run(["check"], ws).exit_code == 1
    r = run(["check", "--staged"], ws)
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "ok: 2 records checked" in r.stderr
    # ... until it is staged; and the staged version is read, not the one on disk
    git(ws, "add", "contacts/bad.yaml")
    (ws / "contacts/bad.yaml").write_text("name: Bad\n", encoding="utf-8")
    r = run(["check", "--staged", "--json"], ws)
    assert r.exit_code == 1
    assert [p["path"] for p in json.loads(r.stdout)] == ["contacts/bad.yaml"]
    # a staged template that does not parse
    (ws / "templates").mkdir()
    (ws / "templates/offer.md.j2").write_text("{% if x %}\nno end\n", encoding="utf-8")
    git(ws, "add", "templates/offer.md.j2")
    r = run(["check", "--staged"], ws)
    assert "templates/offer.md.j2" in r.stdout


def test_staged_outside_git_is_a_clear_error(run, make_ws) -> None:
    ws = make_ws({"companies/nordvik-as.yaml": GOOD_COMPANY}, git=False)
    r = run(["check", "--staged"], ws)
    assert r.exit_code != 0 and "needs a git repository" in r.stderr
    assert "Traceback" not in r.stderr
