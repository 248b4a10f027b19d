"""Workspace.derived: values computed from records, cached per file by size and mtime."""

from __future__ import annotations

import os
import time
from pathlib import Path

from crmkit.store.workspace import Workspace

DEALS = {
    "deals/a.yaml": "title: Alpha\nstage: lead\nvalue: 100\n",
    "deals/b.yaml": "title: Beta\nstage: won\nvalue: 200\n",
    "deals/c.yaml": "title: Gamma\nstage: lost\n",
}


def _age(root: Path, seconds: float = 3600) -> None:
    """Every record file written long ago: past the racy window, so its entry is cached."""
    past = time.time() - seconds
    for path in root.glob("deals/*.yaml"):
        os.utime(path, (past, past))


def _derive(root: Path, calls: list[str], key: str = "") -> list[tuple[str, object]] | None:
    def title(rid: str, data: dict) -> str:
        calls.append(rid)
        return str(data.get("title"))

    return Workspace(root).derived("deal", "titles", title, key=key)


def test_values_are_computed_once_then_served_from_the_cache(make_ws) -> None:
    root = make_ws(DEALS)
    _age(root)
    calls: list[str] = []
    assert _derive(root, calls) == [("a", "Alpha"), ("b", "Beta"), ("c", "Gamma")]
    assert sorted(calls) == ["a", "b", "c"]
    calls.clear()
    assert _derive(root, calls) == [("a", "Alpha"), ("b", "Beta"), ("c", "Gamma")]
    assert calls == []


def test_a_changed_added_or_removed_file_is_seen(make_ws) -> None:
    root = make_ws(DEALS)
    _age(root)
    _derive(root, [])
    (root / "deals/a.yaml").write_text("title: Alfa\nstage: lead\nvalue: 100\n")  # same size, new mtime
    (root / "deals/d.yaml").write_text("title: Delta\n")
    (root / "deals/c.yaml").unlink()
    past = time.time() - 1800  # changed half an hour ago; b keeps its older mtime
    for name in ("a", "d"):
        os.utime(root / f"deals/{name}.yaml", (past, past))
    calls: list[str] = []
    assert _derive(root, calls) == [("a", "Alfa"), ("b", "Beta"), ("d", "Delta")]
    assert sorted(calls) == ["a", "d"]  # b is served from the cache


def test_a_new_key_recomputes_everything(make_ws) -> None:
    root = make_ws(DEALS)
    _age(root)
    _derive(root, [], key="v1")
    calls: list[str] = []
    _derive(root, calls, key="v2")
    assert sorted(calls) == ["a", "b", "c"]


def test_recent_files_are_not_trusted_to_the_cache(make_ws) -> None:
    root = make_ws(DEALS)
    _age(root)
    os.utime(root / "deals/b.yaml")  # just now: a same-size change in this clock tick could hide
    _derive(root, [])
    calls: list[str] = []
    _derive(root, calls)
    assert calls == ["b"]


def test_merged_records_are_left_out_and_broken_files_refused(make_ws) -> None:
    root = make_ws({**DEALS, "deals/old.yaml": "merged_into: a\n"})
    _age(root)
    assert [rid for rid, _ in _derive(root, [])] == ["a", "b", "c"]
    calls: list[str] = []
    assert [rid for rid, _ in _derive(root, calls)] == ["a", "b", "c"]
    assert calls == []  # the merged record's place in the cache is kept too
    (root / "deals/bad.yaml").write_text("title: a\ntitle: b\n")
    assert _derive(root, []) is None  # the caller takes the ordinary path, which warns
