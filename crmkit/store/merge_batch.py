"""A merge whose record files are resolved in one process, not one driver process per file.

git starts a `merge=crmkit` driver once for every file both sides changed: a Python
start-up each, so a merge of 1,000 such files takes minutes (bench/RESULTS.md). Here
git merges with the driver switched off (`-c merge.crmkit.driver=false`: each such
file stays unmerged in the index, with its three stages), and one process then reads
every stage of every unmerged record file from the index (`git ls-files -u`, one
`git cat-file --batch` per stage), merges each with `merge_driver.merge_texts` (the
driver's own rules, so the bytes are the ones a per-file merge writes), writes the
results and stages the clean ones. The merge is committed when nothing is left; a
real conflict is left marked in its file, as git leaves it, for the caller to report
or undo.

`crmkit sync` and `crmkit merge-branch` merge this way; a plain `git pull` still runs
the per-file driver. A criss-cross history (two merge bases) is merged by git with the
per-file driver too: git first merges the merge bases into a virtual ancestor, and
with the driver off that ancestor would carry conflict markers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crmkit.store import gitio, team, yamlio
from crmkit.store.merge_driver import DRIVER, MergeResult, merge_message, merge_texts


@dataclass
class Resolution:
    """What one pass over the unmerged files did."""

    resolved: list[str] = field(default_factory=list)
    #: record files with a real conflict, and the fields that conflict
    conflicts: dict[str, list[str]] = field(default_factory=dict)
    #: unmerged files this merge does not handle (not record files, or deleted on one side)
    other: list[str] = field(default_factory=list)


@dataclass
class MergeOutcome:
    ok: bool  # merged and committed (or nothing to merge): no file is left unmerged
    output: str = ""
    resolution: Resolution = field(default_factory=Resolution)
    committed: bool = False
    per_file: bool = False  # git ran the per-file driver (criss-cross history)

    @property
    def unmerged(self) -> list[str]:
        return sorted([*self.resolution.conflicts, *self.resolution.other])


def _decode(data: bytes) -> str:
    # surrogateescape: bytes that are not UTF-8 come out exactly as they went in (as in the driver)
    return data.decode("utf-8", errors="surrogateescape")


def merge_one(rel: str, base: str, ours: str, theirs: str) -> MergeResult:
    """One file, as the per-file driver merges it (the same labels, so the same markers)."""
    labels = ("ours", f"theirs ({rel})")
    if rel.endswith(".eml"):
        return merge_message(base, ours, theirs, labels=labels)
    return merge_texts(base, ours, theirs, rel, labels=labels)


def resolve_unmerged(top: Path) -> Resolution:
    """Merge every unmerged `merge=crmkit` file of the merge in progress from its index stages."""
    stages = gitio.unmerged_stages(top)
    done = Resolution()
    if not stages:
        return done
    attrs = gitio.merge_attribute(top, sorted(stages))
    # Both sides must have the file: a modify/delete is git's to report (the driver never runs).
    ours_rels = sorted(r for r, s in stages.items() if attrs.get(r) == DRIVER and {2, 3} <= s)
    done.other = sorted(set(stages) - set(ours_rels))
    base = gitio.blobs(top, ":1", [r for r in ours_rels if 1 in stages[r]])
    ours = gitio.blobs(top, ":2", ours_rels)
    theirs = gitio.blobs(top, ":3", ours_rels)
    for rel in ours_rels:
        ours_text = _decode(ours[rel])
        result = merge_one(rel, _decode(base.get(rel, b"")), ours_text, _decode(theirs[rel]))
        path = top / rel
        data = result.text.encode("utf-8", errors="surrogateescape")
        try:
            on_disk = path.read_bytes()
        except OSError:
            on_disk = None
        if on_disk != data:
            yamlio.atomic_write_bytes(path, data, durable=False)  # as git writes a merge's files
        if result.conflicts:
            done.conflicts[rel] = result.conflicts
        else:
            done.resolved.append(rel)
    gitio.sync_index(top, done.resolved)  # staged: their three stages become one
    return done


@contextmanager
def _binary_override(top: Path, prefixes: list[str]) -> Iterator[None]:
    """Make git leave `merge=crmkit` files unmerged without starting the driver for each.

    git's built-in `binary` merge keeps ours and marks the file conflicted, all in git's
    own process; the driver switched off (`merge.crmkit.driver=false`) would cost a
    process start per file still (about 3 ms of CPU, 12 ms on a busy machine, each).
    .git/info/attributes overrides .gitattributes, so the patterns that name the crmkit
    driver are repeated there with `merge=binary` for the length of the merge."""
    path = gitio.info_attributes(top)
    patterns: list[str] = []
    for prefix in prefixes:
        try:
            lines = (top / prefix / ".gitattributes").read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields and not line.startswith("#") and f"merge={DRIVER}" in fields[1:]:
                patterns.append(f"{prefix}/{fields[0]}" if prefix not in ("", ".") else fields[0])
    if path is None or not patterns:
        yield
        return
    try:
        before = team.without_override(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        before = ""
    if before and not before.endswith("\n"):
        before += "\n"
    added = team.OVERRIDE_BEGIN + "".join(f"{p} merge=binary\n" for p in patterns) + team.OVERRIDE_END
    path.parent.mkdir(parents=True, exist_ok=True)
    yamlio.atomic_write_text(path, before + added)
    try:
        yield
    finally:
        try:
            now = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            now = ""
        yamlio.atomic_write_text(path, team.without_override(now))


def merge(top: Path, git_args: list[str], config: dict[str, Any] | None = None,
          folders: list[str] | None = None) -> MergeOutcome:
    """Run `git <git_args>` (a `pull --no-rebase` or a `merge REF`) with the record files
    resolved here; commit when nothing is left unmerged.

    On a real conflict the merge stays in progress, the conflicting files marked, as a
    plain git merge leaves it: the caller reports it or runs `git merge --abort`."""
    env = gitio.identity(top, config or {}).env()
    with _binary_override(top, sorted({"", *(f for f in folders or [] if f != ".")})):
        # the driver off too: a file the override does not name is still left unmerged
        code, output = gitio.run_merge(top, [*git_args, "--no-edit", "--no-commit"], driver="false", env=env)
    theirs = gitio.merge_head(top)
    if theirs is None:  # up to date, a fast-forward, or git refused before merging anything
        return MergeOutcome(ok=code == 0, output=output)
    if len(gitio.merge_bases(top, "HEAD", theirs)) > 1:
        gitio.git(top, "merge", "--abort")
        code, output = gitio.run_merge(top, [*git_args, "--no-edit"], driver=None, env=env)
        left = gitio.unmerged_stages(top)
        outcome = MergeOutcome(ok=code == 0, output=output, committed=code == 0, per_file=True)
        outcome.resolution.other = sorted(left)
        return outcome
    done = resolve_unmerged(top)
    outcome = MergeOutcome(ok=False, output=output, resolution=done)
    if done.conflicts or done.other:
        return outcome
    gitio.git(top, "commit", "--no-edit", "--quiet", env=env)
    outcome.ok = outcome.committed = True
    return outcome


def merge_ref(ws: Any, ref: str) -> MergeOutcome:
    """`crmkit merge-branch REF`: merge REF into the checked-out branch."""
    top = gitio.find_worktree(ws.root)
    if top is None:
        raise gitio.GitError(f"{ws.root} is not a git repository")
    outcome = merge(top, ["merge", ref], ws.config, [os.path.relpath(ws.root, top)])
    ws.invalidate()
    return outcome
