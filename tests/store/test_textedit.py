"""tick's text edits write exactly the bytes the round-trip edit writes, and fall back to
it whenever the text is not one crmkit would have written."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crmkit.store import textedit, yamlio
from crmkit.store.workspace import Workspace
from crmkit.support.tick import run_tick

REPO = Path(__file__).resolve().parents[2]
NOW = "2026-11-22T12:00:00+01:00"


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".git" not in p.parts and ".crmkit" not in p.parts}


def test_tick_by_text_equals_tick_by_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = tmp_path / "a"
    subprocess.run([sys.executable, str(REPO / "bench" / "generate.py"), str(first), "--deals", "10",
                    "--tickets", "60", "--leads", "0", "--contacts", "30", "--companies", "6",
                    "--activities", "0"], check=True, capture_output=True)
    old = time.time() - 3600
    for path in first.rglob("*.yaml"):
        os.utime(path, (old, old))
    second = tmp_path / "b"
    shutil.copytree(first, second, symlinks=True)

    made = []
    real = textedit.edited

    def counting(*args: object) -> str | None:
        text = real(*args)  # type: ignore[arg-type]
        made.append(text is not None)
        return text

    monkeypatch.setattr(textedit, "edited", counting)
    parses = yamlio.COUNTS["parse"]
    by_text = run_tick(Workspace(first, now=NOW), "crmkit tick")
    parses = yamlio.COUNTS["parse"] - parses
    monkeypatch.setattr(textedit, "edited", lambda *args: None)
    by_round_trip = run_tick(Workspace(second, now=NOW), "crmkit tick")

    assert by_text.to_lines() == by_round_trip.to_lines() and len(by_text.to_lines()) > 20
    assert sum(made) > 20  # the text path did the work
    assert tree(first) == tree(second)
    log = ["git", "log", "-1", "--format=%B"]
    assert subprocess.run(log, cwd=first, capture_output=True, text=True).stdout == \
        subprocess.run(log, cwd=second, capture_output=True, text=True).stdout


BEFORE = {"subject": "Down", "priority": "normal", "events": [{"type": "created", "by": "anna"}]}
RAW = "subject: Down\npriority: normal\nevents:\n  - type: created\n    by: anna\n"


def test_an_edit_is_the_text_plus_the_new_lines() -> None:
    after = {**BEFORE, "priority": "high", "events": [*BEFORE["events"], {"type": "priority", "to": "high"}],
             "line": "second"}
    text = textedit.edited(RAW, BEFORE, after)
    assert text == ("subject: Down\npriority: high\nevents:\n  - type: created\n    by: anna\n"
                    "  - type: priority\n    to: high\nline: second\n")
    assert yamlio.loads_fast(text) == after


@pytest.mark.parametrize("raw", [
    RAW.replace("priority: normal", "priority: normal  # agreed with the customer"),
    RAW.replace("\n", "\r\n"),
    RAW.replace("events:\n  - type", "events:\n- type").replace("    by", "  by"),
    "priority: normal\nsubject: Down\nevents:\n  - type: created\n    by: anna\n",  # keys in another order
    RAW + "# the end\n",
])
def test_anything_unusual_goes_the_round_trip_way(raw: str) -> None:
    after = {**BEFORE, "priority": "high", "events": [*BEFORE["events"], {"type": "x", "at": dt.date(2026, 1, 1)}]}
    assert textedit.edited(raw, BEFORE, after) is None


def test_a_list_that_is_not_last_grows_in_place() -> None:
    raw = RAW + "owner: zsofia\n"
    before = {**BEFORE, "owner": "zsofia"}
    after = {**before, "events": [*BEFORE["events"], {"type": "escalated", "rule": "r1"}]}
    text = textedit.edited(raw, before, after)
    assert text == RAW + "  - type: escalated\n    rule: r1\nowner: zsofia\n"
    assert yamlio.loads_fast(text) == after
