"""The one-process merge (store/merge_batch.py: `crmkit sync`, `crmkit merge-branch`) gives
the bytes git's per-file driver gives, on real clones merged by real git."""

from __future__ import annotations

import datetime as dt
import random
import re
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

from team_day import commands, run_day
from team_helpers import clone, crm, git, make_origin, pull

TEAM = "\nteam:\n  stable_ids: true\n"
MORNING = dt.datetime(2026, 11, 24, 8, 0, tzinfo=ZoneInfo("Europe/Stockholm"))


def _days(tmp_path: Path, seed: int, n: int = 30) -> tuple[Path, Path]:
    """Clone a after its day is pushed, and clone b after its own day (not yet merged)."""
    origin = make_origin(tmp_path, TEAM)
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    for name, ws in (("a", a), ("b", b)):
        rng = random.Random(f"{seed}-{name}")
        assert not run_day(ws, commands(ws, rng, name, n), MORNING + dt.timedelta(minutes=7 * (name == "b")), rng)
    assert git(a, "push", "-q").returncode == 0
    assert git(b, "fetch", "-q").returncode == 0
    return a, b


def _tree(ws: Path) -> str:
    return git(ws, "rev-parse", "HEAD^{tree}").stdout.strip()


def test_a_day_merged_in_one_process_is_the_per_file_merge(tmp_path: Path) -> None:
    _, b = _days(tmp_path, 3)
    batch = tmp_path / "b-batch"
    shutil.copytree(b, batch, symlinks=True)  # the same clone twice, .git/config (the driver) included
    both = set(git(b, "diff", "--name-only", "HEAD...origin/main").stdout.split()) & set(
        git(b, "diff", "--name-only", "origin/main...HEAD").stdout.split())
    assert len(both) >= 3, "the day changes some files on both sides"
    per_file = pull(b)
    assert per_file.returncode == 0, per_file.stdout + per_file.stderr
    res = crm(batch, "merge-branch", "origin/main")
    assert res.exit_code == 0, res.stderr
    merged = re.search(r"merged origin/main: (\d+) record files merged field by field, committed", res.stderr)
    assert merged and int(merged.group(1)) >= 3, res.stderr
    assert _tree(batch) == _tree(b)
    assert git(batch, "rev-parse", "HEAD^2").stdout == git(b, "rev-parse", "HEAD^2").stdout
    assert not git(batch, "status", "--porcelain").stdout
    assert crm(batch, "check").exit_code == 0


def test_a_real_conflict_is_left_marked_as_the_per_file_driver_marks_it(tmp_path: Path) -> None:
    origin = make_origin(tmp_path)
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    assert crm(a, "set", "nordvik-as", "industry=utilities").exit_code == 0
    assert crm(a, "ticket", "reply", "tk-20261122-9f2pe", "-m", "On it", now="2026-11-24T09:00").exit_code == 0
    git(a, "push", "-q")
    assert crm(b, "set", "nordvik-as", "industry=power").exit_code == 0
    assert crm(b, "ticket", "reply", "tk-20261122-9f2pe", "-m", "Fixed", now="2026-11-24T10:00").exit_code == 0
    git(b, "fetch", "-q")
    batch = tmp_path / "b-batch"
    shutil.copytree(b, batch, symlinks=True)
    assert pull(b).returncode != 0
    res = crm(batch, "merge-branch", "origin/main")
    assert res.exit_code == 1
    assert "companies/nordvik-as.yaml: conflict in industry" in res.stderr
    for rel in ("companies/nordvik-as.yaml", "tickets/tk-20261122-9f2pe.yaml"):
        assert (batch / rel).read_bytes() == (b / rel).read_bytes(), rel
    unmerged = ["companies/nordvik-as.yaml"]
    for ws in (b, batch):
        assert git(ws, "diff", "--name-only", "--diff-filter=U").stdout.split() == unmerged
    assert "On it" in (batch / "tickets/tk-20261122-9f2pe.yaml").read_text()
    assert git(batch, "merge", "--abort").returncode == 0


def test_nothing_to_merge_and_a_fast_forward(tmp_path: Path) -> None:
    origin = make_origin(tmp_path)
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    assert crm(b, "merge-branch", "origin/main").exit_code == 0
    assert crm(a, "set", "nordvik-as", "industry=utilities").exit_code == 0
    git(a, "push", "-q")
    git(b, "fetch", "-q")
    assert crm(b, "merge-branch", "origin/main").exit_code == 0
    assert _tree(b) == _tree(a)
    bad = crm(b, "merge-branch", "no-such-branch")
    assert bad.exit_code == 1 and "git merge failed" in bad.stderr


def test_the_attributes_override_lasts_for_the_merge_only(tmp_path: Path) -> None:
    from crmkit.store import team

    origin = make_origin(tmp_path)
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    info = b / ".git" / "info" / "attributes"
    info.parent.mkdir(exist_ok=True)
    info.write_text("*.bin binary\n")
    assert crm(a, "ticket", "reply", "tk-20261122-9f2pe", "-m", "On it", now="2026-11-24T09:00").exit_code == 0
    git(a, "push", "-q")
    assert crm(b, "ticket", "reply", "tk-20261122-9f2pe", "-m", "Fixed", now="2026-11-24T10:00").exit_code == 0
    synced = crm(b, "sync", "--no-push")
    assert synced.exit_code == 0, synced.stderr
    text = (b / "tickets/tk-20261122-9f2pe.yaml").read_text()
    assert "On it" in text and "Fixed" in text
    assert info.read_text() == "*.bin binary\n"
    # a merge killed half-way leaves its lines; the next command takes them out
    info.write_text("*.bin binary\n" + team.OVERRIDE_BEGIN + "tickets/*.yaml merge=binary\n" + team.OVERRIDE_END)
    assert crm(b, "deal", "list", "--limit", "1").exit_code == 0
    assert info.read_text() == "*.bin binary\n"


def test_results_equal_to_a_side_a_new_text_and_a_mode_change_are_staged_as_git_stages_them(tmp_path: Path) -> None:
    """The three ways a result is staged (ours' blob as it is, theirs' blob, a new blob
    written by fast-import) and a file mode changed on one side: the same commit tree as
    git's per-file merge, the index merged and agreeing with the work tree."""
    origin = make_origin(tmp_path)
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    me = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    ticket = "tickets/tk-20261122-9f2pe.yaml"
    tags = "companies/nordvik-as.yaml"
    other_rel = "companies/akerberg-ab.yaml"

    def change(ws: Path, rel: str, old: str, new: str) -> None:
        text = (ws / rel).read_text(encoding="utf-8")
        assert old in text, (rel, old)
        (ws / rel).write_text(text.replace(old, new, 1), encoding="utf-8")

    # theirs: a reply on the ticket, a note on the company (ours makes the same one and more)
    assert crm(a, "ticket", "reply", ticket.split("/")[1][:-5], "-m", "On it", now="2026-11-24T09:00").exit_code == 0
    (a / ticket).chmod(0o755)
    git(a, *me, "commit", "-qam", "executable")
    git(a, "push", "-q")
    assert crm(b, "ticket", "reply", ticket.split("/")[1][:-5], "-m", "Fixed", now="2026-11-24T10:00").exit_code == 0
    git(b, "fetch", "-q")
    company = (b / tags).read_text(encoding="utf-8")
    # a file both sides changed where ours is the result: theirs' change is in ours too
    (a / tags).write_text(company + "note: from both\n", encoding="utf-8")
    other = (a / other_rel).read_text(encoding="utf-8")  # and one where theirs is the result
    (a / other_rel).write_text(other + "note: from both\nwebsite: https://other.example\n", encoding="utf-8")
    git(a, *me, "commit", "-qam", "note")
    git(a, "push", "-q")
    (b / tags).write_text(company + "note: from both\nwebsite: https://nordvik.example\n", encoding="utf-8")
    (b / other_rel).write_text(other + "note: from both\n", encoding="utf-8")
    git(b, *me, "commit", "-qam", "note and site")
    git(b, "fetch", "-q")
    batch = tmp_path / "b-batch"
    shutil.copytree(b, batch, symlinks=True)
    assert git(b, *me, "pull", "-q", "--no-rebase", "--no-edit", check=False).returncode == 0
    res = crm(batch, "merge-branch", "origin/main")
    assert res.exit_code == 0, res.stderr
    assert _tree(batch) == _tree(b)
    assert (batch / other_rel).read_text(encoding="utf-8").endswith("website: https://other.example\n")
    assert git(batch, "ls-files", "-s", ticket).stdout.startswith("100755 ")
    assert (batch / ticket).stat().st_mode & 0o111  # the work tree has the bit, as git's checkout gives it
    text = (batch / ticket).read_text(encoding="utf-8")
    assert "On it" in text and "Fixed" in text
    assert not git(batch, "ls-files", "-u").stdout
    assert not git(batch, "status", "--porcelain").stdout
    assert not git(batch, "diff").stdout
