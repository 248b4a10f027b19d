"""What a newcomer meets first: the editor fallback, a likely duplicate contact, wording."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest
from conftest import git

from crmkit.store import yamlio

FAKE_EDITOR = """#!{python}
import sys
path = sys.argv[-1]
text = open(path, encoding="utf-8").read()
open(path, "w", encoding="utf-8").write(text.replace("title: VD", "title: CTO"))
"""


@pytest.fixture
def ws(make_ws):
    return make_ws({
        "contacts/bjorn-odegard.yaml": "name: Bjørn Ødegård\nemail: bjorn@nordvik.no\nphone: \"+47 22 33 44 55\"\n"
                                       "title: VD\ncountry: NO\n",
    })


def _bin_with(tmp_path: Path, names: list[str]) -> Path:
    """A folder for $PATH holding git and fake editors by these names, and nothing else."""
    import shutil

    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    (folder / "git").symlink_to(shutil.which("git"))
    for name in names:
        path = folder / name
        path.write_text(FAKE_EDITOR.format(python=sys.executable))
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return folder


@pytest.mark.parametrize("found", [["vi"], ["nano"]])
def test_edit_without_editor_variables_falls_back_to_vi_then_nano(run, ws, tmp_path, monkeypatch, found) -> None:
    folder = _bin_with(tmp_path, found)
    monkeypatch.setenv("PATH", str(folder))
    r = run(["edit", "bjorn-odegard"], ws)
    assert r.exit_code == 0, r.stderr
    assert yamlio.load_fast(ws / "contacts/bjorn-odegard.yaml")["title"] == "CTO"


def test_edit_prefers_visual_over_editor(run, ws, tmp_path, monkeypatch) -> None:
    folder = _bin_with(tmp_path, ["good-editor"])
    monkeypatch.setenv("VISUAL", str(folder / "good-editor"))
    monkeypatch.setenv("EDITOR", "/nonexistent/editor")
    assert run(["edit", "bjorn-odegard"], ws).exit_code == 0


def test_edit_with_no_editor_at_all_says_what_to_do(run, ws, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(_bin_with(tmp_path, [])))
    r = run(["edit", "bjorn-odegard"], ws)
    assert r.exit_code == 2 and "set $EDITOR" in r.stderr and "vi or nano" in r.stderr


@pytest.mark.parametrize("args,why", [
    (["Bjørn Ødegård"], "the same name Bjørn Ødegård"),
    (["Bjorn Odegard"], "the same name Bjørn Ødegård"),
    (["B. Ødegård", "phone=22 33 44 55", "country=NO"], "the same phone +47 22 33 44 55"),
])
def test_a_likely_duplicate_contact_needs_force(run, ws, args, why) -> None:
    r = run(["contact", "add", *args], ws)
    assert r.exit_code == 1, r.stdout
    assert f"contact/bjorn-odegard (Bjørn Ødegård) has {why}" in r.stderr and "--force" in r.stderr
    assert not (ws / "contacts/bjorn-odegard-2.yaml").exists()
    r = run(["contact", "add", *args, "--force"], ws)
    assert r.exit_code == 0, r.stderr
    assert len(list((ws / "contacts").glob("*.yaml"))) == 2


def test_another_person_is_added_without_fuss(run, ws) -> None:
    r = run(["contact", "add", "Bjørn Ødegaard-Hansen", "phone=+47 99 88 77 66"], ws)
    assert r.exit_code == 0, r.stderr


def test_help_says_an_activity(run, ws) -> None:
    r = run(["activity", "--help"], ws)
    assert "Add an activity" in r.stdout and "Add a activity" not in r.stdout
    r = run(["activity", "add", "--help"], ws)
    assert "Add an activity" in r.stdout
    assert "Add a deal" in run(["deal", "--help"], ws).stdout


def test_tick_commit_counts_in_the_singular(run, make_ws) -> None:
    ws = make_ws({"crmkit.yaml": __import__("conftest").MINIMAL_CONFIG + (
        "sla:\n  policies:\n    - id: all\n      calendar: 24/7\n      targets:\n        normal: {first_response: 1h}\n"),
        "rules/escalation.yaml": "- id: late\n  when: sla.state == breached\n  set: {line: second}\n"})
    r = run(["--now", "2026-11-23T09:00", "ticket", "add", "Help"], ws)
    assert r.exit_code == 0, r.stderr
    r = run(["--now", "2026-11-23T11:00", "tick"], ws)
    assert r.exit_code == 0, r.stderr
    assert git(ws, "log", "-1", "--format=%s").strip() == "crmkit: tick: 1 escalation, 1 SLA breach"


def test_import_says_matched_by_id_when_the_id_column_matched(run, ws, tmp_path) -> None:
    csv_file = tmp_path / "c.csv"
    csv_file.write_text("id,name,email\nbjorn-odegard,Bjørn Ødegård,bjorn@nordvik.no\n", encoding="utf-8")
    r = run(["import", "csv", str(csv_file), "--kind", "contact", "--dry-run"], ws)
    assert "matched by id" in r.stdout and "matched by email" not in r.stdout, r.stdout
