"""`check`'s per-file cache: the same problems as checking afresh, kept while nothing they
depend on changes, and redone when a record, a referenced record, the users or the stages do."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from crmkit.store import yamlio
from crmkit.store.validate import check_records
from crmkit.store.workspace import Workspace

FILES = {
    "contacts/anna.yaml": "name: Anna\ncompany: acme\nemail: anna@example.se\nowner: karin\n",
    "contacts/bo.yaml": "name: Bo\ncompany: nobody\nemail: 'bo at example'\nowner: ghost\n",
    "companies/acme.yaml": "name: Acme\n",
    "companies/gone.yaml": "name: Gone\nmerged_into: acme\nmerged_at: 2026-11-01\n",
    "deals/big.yaml": "title: Big\ncompany: gone\nstage: dreaming\nvalue: 100\ncontacts: [anna, nils]\n",
}


def aged(*paths: Path) -> None:
    """Files (or every record and config file under a folder) an hour old: younger ones
    (racy mtime) are never cached."""
    old = time.time() - 3600
    for given in paths:
        for path in given.rglob("*.yaml") if given.is_dir() else [given]:
            if ".crmkit" not in path.parts:
                os.utime(path, (old, old))


def fresh_check(root: Path) -> list[object]:
    """check_records with no cache at all (the ordinary path)."""
    ws = Workspace(root)
    ws.derived = lambda *args, **kwargs: None  # type: ignore[method-assign]
    return check_records(ws)


def cached_check(root: Path) -> tuple[list[object], int]:
    before = yamlio.COUNTS["parse"]
    problems = check_records(Workspace(root))
    return problems, yamlio.COUNTS["parse"] - before


def test_cached_check_finds_what_a_fresh_check_finds(make_ws: Callable[..., Path]) -> None:
    root = make_ws(FILES)
    aged(root)
    expected = fresh_check(root)
    codes = sorted(p.code for p in expected)  # type: ignore[attr-defined]
    assert codes == ["email", "missing-ref", "missing-ref", "missing-ref", "unknown-stage", "unknown-user"]
    first, _ = cached_check(root)
    warm, parses = cached_check(root)
    assert first == warm == expected
    assert parses == 0  # nothing parsed: every record's answer came from the cache

    # a referenced record appears: the referring file is unchanged, its problem goes
    (root / "contacts" / "nils.yaml").write_text("name: Nils\n")
    aged(root / "contacts" / "nils.yaml")
    now, parses = cached_check(root)
    assert now == fresh_check(root) and len(now) == len(expected) - 1
    assert parses == 1  # only the new file

    # the users in crmkit.yaml change: every owner is judged again
    config = root / "crmkit.yaml"
    config.write_text(config.read_text().replace("  karin: {name: Karin Lind, email: karin@example.se}\n",
                                                 "  ghost: {name: Ghost, email: ghost@example.se}\n"))
    now, _ = cached_check(root)
    assert now == fresh_check(root)
    assert [p.message for p in now if p.code == "unknown-user"] == [  # type: ignore[attr-defined]
        "owner 'karin' is not a user in crmkit.yaml"]


def test_a_broken_file_is_reported_by_the_ordinary_path(make_ws: Callable[..., Path]) -> None:
    root = make_ws({**FILES, "contacts/bad.yaml": "name: [unclosed\n"})
    aged(root)
    cached_check(root)
    warm, _ = cached_check(root)
    assert warm == fresh_check(root)
    assert "contacts/bad.yaml" in {p.path for p in warm}  # type: ignore[attr-defined]
