"""Record commands end to end through the CLI, on real git workspaces."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git

from crmkit.store.records import KINDS

COMPANY = "name: Nordvik AS\ncountry: NO\ndomain: nordvik.no\nowner: daniel\n"
CONTACT = (
    "# met at Nordic ERP Days\n"
    "name: 'Bjørn Ødegård'\n"
    "email: bjorn@nordvik.no\n"
    "company: nordvik-as\n"
    "phone: \"0767101055\"\n"
    "address:\n"
    "  zip: \"0150\"   # Oslo sentrum\n"
    "  city: Oslo\n"
    "shoe_size: 44\n"
    "tags:\n"
    "  - vip\n"
)
DEAL = (
    "title: Nordvik ERP rollout\ncompany: nordvik-as\ncontacts:\n  - bjorn-odegard\n"
    "stage: proposal\nvalue: 250000\ncurrency: NOK\nowner: daniel\n"
)


@pytest.fixture
def ws(make_ws):
    return make_ws({
        "companies/nordvik-as.yaml": COMPANY,
        "contacts/bjorn-odegard.yaml": CONTACT,
        "deals/nordvik-erp-rollout.yaml": DEAL,
    })


def head_message(ws: Path) -> str:
    return git(ws, "log", "-1", "--format=%B")


def test_add_makes_a_file_an_id_and_one_commit(run, ws) -> None:
    r = run(["contact", "add", "Szőke Zsófia", "email=zsofia@example.hu", "company=nordvik-as",
             "address.zip=01234", "phone=0612345678"], ws)
    assert r.exit_code == 0, r.stderr
    assert r.stdout.strip() == "contact/szoke-zsofia"
    text = (ws / "contacts/szoke-zsofia.yaml").read_text()
    assert "zip: '01234'" in text and "phone: '0612345678'" in text
    msg = head_message(ws)
    assert msg.startswith("crmkit: add contact/szoke-zsofia")
    assert "Crmkit-Command: crmkit -w" in msg and "contact add" in msg
    assert git(ws, "status", "--porcelain") == ""


def test_add_ids_for_high_volume_kinds_need_no_counter(run, ws) -> None:
    ids = set()
    for _ in range(5):
        r = run(["--now", "2026-11-22T10:00", "lead", "add", "Anna", "users=10"], ws)
        assert r.exit_code == 0, r.stderr
        ids.add(r.stdout.strip())
    assert len(ids) == 5
    assert all(i.startswith("lead/ld-20261122-") for i in ids)


def test_add_refuses_missing_reference_and_writes_nothing(run, ws) -> None:
    r = run(["contact", "add", "Ann", "company=no-such-co"], ws)
    assert r.exit_code == 1
    assert "no company with id 'no-such-co'" in r.stderr
    assert not (ws / "contacts/ann.yaml").exists()
    assert "Traceback" not in r.stderr


def test_add_refuses_duplicate_email_unless_merge(run, ws) -> None:
    r = run(["contact", "add", "Bjorn O", "email=BJORN@nordvik.no"], ws)
    assert r.exit_code == 1 and "exists already: bjorn-odegard" in r.stderr
    r = run(["contact", "add", "Bjorn O", "email=BJORN@nordvik.no", "title=CTO", "--merge"], ws)
    assert r.exit_code == 0, r.stderr
    assert "title: CTO" in (ws / "contacts/bjorn-odegard.yaml").read_text()


@pytest.mark.parametrize("bad", ["../evil", "a/b", "Upper", ".."])
def test_ids_that_leave_their_folder_are_refused(run, ws, bad: str) -> None:
    r = run(["show", bad], ws)
    assert r.exit_code == 2, r.stderr
    assert "invalid id" in r.stderr or "unknown record kind" in r.stderr
    r = run(["company", "add", "X", "--id", bad], ws)
    assert r.exit_code == 2


def test_json_and_now_work_before_and_after_the_command(run, ws) -> None:
    a = run(["--json", "deal", "list"], ws)
    b = run(["deal", "list", "--json"], ws)
    assert a.exit_code == b.exit_code == 0
    assert json.loads(a.stdout) == json.loads(b.stdout)
    assert json.loads(a.stdout)[0]["id"] == "nordvik-erp-rollout"
    r1 = run(["--now", "2026-01-02T03:04:05+01:00", "company", "add", "A1"], ws)
    r2 = run(["company", "add", "A2", "--now", "2026-01-02T03:04:05+01:00"], ws)
    assert r1.exit_code == r2.exit_code == 0
    for name in ("a1", "a2"):
        assert "created: 2026-01-02T03:04:05+01:00" in (ws / f"companies/{name}.yaml").read_text()


def test_list_where_sort_limit_fields(run, ws) -> None:
    run(["company", "add", "Åkerberg AB", "country=SE", "employees=120"], ws)
    run(["company", "add", "Budapest Kft", "country=HU", "employees=40"], ws)
    r = run(["company", "list", "--where", "country in [SE, NO]", "--sort", "name", "--fields", "id,country",
             "--format", "csv"], ws)
    assert r.exit_code == 0, r.stderr
    # Å sorts after Z, as in the Swedish and Norwegian alphabets
    assert r.stdout.splitlines() == ["id,country", "nordvik-as,NO", "akerberg-ab,SE"]
    r = run(["company", "list", "--sort", "-employees", "--limit", "1", "--json"], ws)
    assert [row["id"] for row in json.loads(r.stdout)] == ["akerberg-ab"]
    r = run(["contact", "list", "--where", "company.country == NO", "--json"], ws)
    assert [row["id"] for row in json.loads(r.stdout)] == ["bjorn-odegard"]


def test_list_where_unknown_field_is_a_usage_error(run, ws) -> None:
    r = run(["deal", "list", "--where", "vlaue > 5"], ws)
    assert r.exit_code == 2
    assert "unknown field 'vlaue'" in r.stderr


def test_list_where_syntax_error_points_at_the_column(run, ws) -> None:
    r = run(["deal", "list", "--where", "value => 5"], ws)
    assert r.exit_code != 0 and "column" in r.stderr and "Traceback" not in r.stderr


def test_broken_file_does_not_stop_list_it_warns(run, ws) -> None:
    (ws / "contacts/broken.yaml").write_text("name: x\nname: y\n")
    r = run(["contact", "list", "--json"], ws)
    assert r.exit_code == 0
    assert [row["id"] for row in json.loads(r.stdout)] == ["bjorn-odegard"]
    assert "contacts/broken.yaml:2" in r.stderr and "duplicate key" in r.stderr
    r = run(["show", "broken"], ws)
    assert r.exit_code == 1 and "broken.yaml:2" in r.stderr


def test_show_is_the_360_view(run, ws) -> None:
    r = run(["--now", "2026-11-20T10:00", "activity", "add", "Call about rollout", "type=call",
         "contact=bjorn-odegard", "deal=nordvik-erp-rollout"], ws)
    assert r.exit_code == 0, r.stderr
    r = run(["show", "nordvik-as", "--json"], ws)
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["record"]["name"] == "Nordvik AS"
    assert [c["id"] for c in data["related"]["contacts"]] == ["bjorn-odegard"]
    assert [d["id"] for d in data["related"]["deals"]] == ["nordvik-erp-rollout"]
    assert data["related"]["activities"][0]["title"] == "Call about rollout"
    r = run(["show", "contact/bjorn-odegard"], ws)
    assert "company/nordvik-as" in r.stdout and "deal/nordvik-erp-rollout" in r.stdout


def test_set_changes_only_the_lines_it_must(run, ws) -> None:
    r = run(["set", "bjorn-odegard", "title=CTO", "address.city=Bergen", "--unset", "shoe_size"], ws)
    assert r.exit_code == 0, r.stderr
    diff = git(ws, "show", "--format=", "-U0", "HEAD")
    changed = [ln for ln in diff.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    assert sorted(changed) == sorted(["-  city: Oslo", "+  city: Bergen", "-shoe_size: 44", "+title: CTO"])
    text = (ws / "contacts/bjorn-odegard.yaml").read_text()
    assert text.startswith("# met at Nordic ERP Days\nname: 'Bjørn Ødegård'\n")
    assert 'zip: "0150"   # Oslo sentrum' in text


def test_set_refuses_invalid_values_and_writes_nothing(run, ws) -> None:
    before = (ws / "deals/nordvik-erp-rollout.yaml").read_text()
    r = run(["set", "nordvik-erp-rollout", "probability=lots"], ws)
    assert r.exit_code == 2 and "probability" in r.stderr
    r = run(["set", "nordvik-erp-rollout", "owner=nobody"], ws)
    assert r.exit_code == 1 and "not a user" in r.stderr
    assert (ws / "deals/nordvik-erp-rollout.yaml").read_text() == before
    assert git(ws, "status", "--porcelain") == ""


def test_commands_never_commit_the_users_staged_work(run, ws) -> None:
    (ws / "notes.txt").write_text("my own work\n")
    git(ws, "add", "notes.txt")
    r = run(["set", "nordvik-as", "industry=energy"], ws)
    assert r.exit_code == 0, r.stderr
    assert git(ws, "show", "--name-only", "--format=", "HEAD").split() == ["companies/nordvik-as.yaml"]
    assert git(ws, "diff", "--cached", "--name-only").split() == ["notes.txt"]


def test_no_commit_writes_but_does_not_commit(run, ws) -> None:
    r = run(["--no-commit", "set", "nordvik-as", "industry=energy"], ws)
    assert r.exit_code == 0
    assert git(ws, "status", "--porcelain").strip() == "M companies/nordvik-as.yaml"


def test_rm_refuses_while_referenced(run, ws) -> None:
    r = run(["rm", "nordvik-as"], ws)
    assert r.exit_code == 1 and "referenced by contact/bjorn-odegard" in r.stderr
    assert (ws / "companies/nordvik-as.yaml").exists()
    r = run(["rm", "nordvik-as", "--force"], ws)
    assert r.exit_code == 0
    assert not (ws / "companies/nordvik-as.yaml").exists()
    assert head_message(ws).startswith("crmkit: rm company/nordvik-as")


def test_history_follows_renames_and_shows_changes(run, ws) -> None:
    run(["set", "bjorn-odegard", "title=CTO"], ws)
    git(ws, "mv", "contacts/bjorn-odegard.yaml", "contacts/bjorn-odegaard.yaml")
    git(ws, "commit", "-q", "-m", "rename bjorn")
    r = run(["history", "bjorn-odegaard", "--json"], ws)
    assert r.exit_code == 0, r.stderr
    entries = json.loads(r.stdout)
    assert [e["message"].splitlines()[0] for e in entries] == [
        "rename bjorn", "crmkit: set contact/bjorn-odegard", "initial"]
    assert "+title: CTO" in entries[1]["patch"]
    assert entries[0]["status"] == "R"


EDITOR_SCRIPT = """#!{python}
import sys
path = sys.argv[1]
text = open(path, encoding="utf-8").read()
open(path, "w", encoding="utf-8").write(text.replace({old!r}, {new!r}))
"""


def _editor(tmp_path: Path, old: str, new: str) -> str:
    script = tmp_path / f"editor-{abs(hash((old, new)))}.py"
    script.write_text(EDITOR_SCRIPT.format(python=sys.executable, old=old, new=new))
    script.chmod(0o755)
    return str(script)


def test_edit_valid_result_is_written_and_committed(run, ws, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("EDITOR", _editor(tmp_path, "city: Oslo", "city: Tromsø"))
    r = run(["edit", "bjorn-odegard"], ws)
    assert r.exit_code == 0, r.stderr
    assert "city: Tromsø" in (ws / "contacts/bjorn-odegard.yaml").read_text()
    assert head_message(ws).startswith("crmkit: edit contact/bjorn-odegard")


def test_edit_invalid_result_is_refused_and_kept_aside(run, ws, tmp_path, monkeypatch) -> None:
    before = (ws / "contacts/bjorn-odegard.yaml").read_text()
    monkeypatch.setenv("EDITOR", _editor(tmp_path, "company: nordvik-as", "company: [oops"))
    r = run(["edit", "bjorn-odegard"], ws)
    assert r.exit_code == 1 and "invalid YAML" in r.stderr and ".crmkit/rejected/" in r.stderr
    assert (ws / "contacts/bjorn-odegard.yaml").read_text() == before
    assert "company: [oops" in (ws / ".crmkit/rejected/contact-bjorn-odegard.yaml").read_text()
    monkeypatch.setenv("EDITOR", _editor(tmp_path, "company: nordvik-as", "company: ghost-co"))
    r = run(["edit", "bjorn-odegard"], ws)
    assert r.exit_code == 1 and "no company with id 'ghost-co'" in r.stderr
    assert (ws / "contacts/bjorn-odegard.yaml").read_text() == before


def test_not_a_workspace_is_a_clear_error(run, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    r = run(["contact", "list"])
    assert r.exit_code == 1 and "not in a crmkit workspace" in r.stderr


def test_internal_errors_have_no_traceback_unless_debug(run, ws, monkeypatch) -> None:
    import crmkit.reports.related as related

    def explode(*a, **k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(related, "related", explode)
    monkeypatch.setattr("crmkit.cli.records.related", explode)
    r = run(["show", "nordvik-as"], ws)
    assert r.exit_code == 70 and "internal error" in r.stderr and "Traceback" not in r.stderr
    with pytest.raises(RuntimeError):
        run(["--debug", "show", "nordvik-as"], ws)


def test_python_dash_m_and_help_import_nothing_heavy(ws) -> None:
    code = (
        "import sys\n"
        "from crmkit.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('jinja2', 'git', 'babel', 'weasyprint', 'holidays', 'vobject', 'icalendar',\n"
        "                     'ruamel', 'json', 'decimal') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out
    r = subprocess.run([sys.executable, "-m", "crmkit", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and "crmkit" in r.stdout


def test_concurrent_writers_wait_or_fail_busy_without_losing_changes(ws) -> None:
    """Two real processes: the second waits for the lock; with no patience it fails with exit 3."""
    env = dict(os.environ, CRMKIT_LOCK_TIMEOUT="20")
    procs = [
        subprocess.Popen([sys.executable, "-m", "crmkit", "-w", str(ws), "set", "nordvik-as", f"field{i}=v{i}"],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(4)
    ]
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    text = (ws / "companies/nordvik-as.yaml").read_text()
    assert all(f"field{i}: v{i}" in text for i in range(4))
    assert git(ws, "status", "--porcelain") == ""
    # Hold the lock ourselves: a writer with a short patience fails with the busy code.
    import fcntl

    (ws / ".crmkit").mkdir(exist_ok=True)
    with open(ws / ".crmkit/lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        r = subprocess.run([sys.executable, "-m", "crmkit", "-w", str(ws), "set", "nordvik-as", "x=1"],
                           env=dict(os.environ, CRMKIT_LOCK_TIMEOUT="0.3"), capture_output=True, text=True)
    assert r.returncode == 3 and "workspace busy" in r.stderr
    assert "x: 1" not in (ws / "companies/nordvik-as.yaml").read_text()


def test_list_json_from_the_json_cache_equals_the_ordinary_path(run, sample_ws) -> None:
    import time as _time

    for kind in ("deal", "activity", "company"):
        slow = run([kind, "list", "--json", "--sort", "id"], sample_ws).stdout
        assert run([kind, "list", "--json"], sample_ws).stdout == slow          # fills the cache
        assert run([kind, "list", "--json"], sample_ws).stdout == slow          # served from it
        assert json.loads(run([kind, "list", "--json", "--limit", "2"], sample_ws).stdout) == json.loads(slow)[:2]
    _time.sleep(2.1)  # past the racy window, so the entries are cached
    run(["deal", "list", "--json"], sample_ws)
    run(["set", "nordvik-erp-rollout", "title=Nordvik ERP, phase 1"], sample_ws)
    rows = json.loads(run(["deal", "list", "--json"], sample_ws).stdout)
    assert [r["title"] for r in rows if r["id"] == "nordvik-erp-rollout"] == ["Nordvik ERP, phase 1"]
    (sample_ws / "deals/broken.yaml").write_text("title: a\ntitle: b\n")
    r = run(["deal", "list", "--json"], sample_ws)
    assert r.exit_code == 0 and "deals/broken.yaml:2" in r.stderr
    assert "broken" not in [row["id"] for row in json.loads(r.stdout)]



@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_lists_with_default_columns(run, sample_ws, kind) -> None:
    """`crmkit campaign list`, `crmkit event list` as much as `contact list` (README: a record kind)."""
    r = run([kind, "list"], sample_ws)
    assert r.exit_code == 0 and r.stderr == "", r.stderr
    header, rule, *rows = r.stdout.splitlines()
    assert header.split()[0] == "ID" and set(rule) <= {"-", " "} and rows
