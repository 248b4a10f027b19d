"""A merge whose record files are resolved in one process, not one driver process per file.

git starts a `merge=crmkit` driver once for every file both sides changed: a Python
start-up each, so a merge of 1,000 such files takes minutes (bench/RESULTS.md). Here
git merges with the driver switched off (`-c merge.crmkit.driver=false`: each such
file stays unmerged in the index, with its three stages), and one process then reads
every stage of every unmerged record file from the index (`git ls-files -u`, one
`git cat-file --batch`), merges each with `merge_driver.merge_texts` (the driver's own
rules, so the bytes are the ones a per-file merge writes) and stages the clean ones
(a handful of git processes for the whole merge, none per file; see `resolve_unmerged`). The merge is committed when nothing is left; a
real conflict is left marked in its file, as git leaves it, for the caller to report
or undo.

`crmkit sync` and `crmkit merge-branch` merge this way; a plain `git pull` still runs
the per-file driver. A criss-cross history (two merge bases) is merged by git with the
per-file driver too: git first merges the merge bases into a virtual ancestor, and
with the driver off that ancestor would carry conflict markers.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmkit.store import gitio, gitmerge, gitteam, paths, team, yamlio

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace
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


#: Index modes of regular files (the only ones merged here; a link is git's to report).
_FILE_MODES = frozenset({"100644", "100755"})


def resolve_unmerged(top: Path) -> Resolution:
    """Merge every unmerged `merge=crmkit` file of the merge in progress from its index stages.

    No process per file: the stages' contents come from one `git cat-file --batch`, the
    merged texts go into the object store in one `git fast-import` and into the index in
    one `git update-index --index-info`. Only the files whose result differs from ours
    (git left ours in the work tree) are written; the commit's index refresh records
    their stat data."""
    entries = gitmerge.unmerged_entries(top)
    done = Resolution()
    if not entries:
        return done
    attrs = gitmerge.merge_attribute(top, sorted(entries))
    # Both sides must have the file: a modify/delete is git's to report (the driver never runs).
    rels = sorted(r for r, s in entries.items() if attrs.get(r) == DRIVER and {2, 3} <= s.keys()
                  and all(mode in _FILE_MODES for mode, _oid in s.values()))
    done.other = sorted(set(entries) - set(rels))
    contents = gitmerge.objects(top, [oid for r in rels for _mode, oid in entries[r].values()])
    staged: list[tuple[str, str, str]] = []  # (mode, object id or "" for a new blob, path)
    new_texts: list[bytes] = []
    for rel in rels:
        stages = entries[rel]
        base_data = contents[stages[1][1]] if 1 in stages else b""
        ours_data, theirs_data = contents[stages[2][1]], contents[stages[3][1]]
        result = merge_one(rel, _decode(base_data), _decode(ours_data), _decode(theirs_data))
        data = result.text.encode("utf-8", errors="surrogateescape")
        if data != ours_data:
            _overwrite(top / rel, data)
        if result.conflicts:
            done.conflicts[rel] = result.conflicts
            continue
        done.resolved.append(rel)
        mode = _mode(stages)
        if data == ours_data:
            staged.append((mode, stages[2][1], rel))
            continue
        if data == theirs_data:
            staged.append((mode, stages[3][1], rel))
        else:
            staged.append((mode, "", rel))
            new_texts.append(data)
    new_oids = iter(gitmerge.write_blobs(top, new_texts))
    staged = [(mode, oid or next(new_oids), rel) for mode, oid, rel in staged]
    gitmerge.stage_entries(top, staged)  # staged: their three stages become one
    return done


def _overwrite(path: Path, data: bytes) -> None:
    """Write a merge's result over ours' file, in place.

    Not a temp file and a rename: git writes a merge's work-tree files without either
    (a killed merge is undone by `git merge --abort`, which puts them back from the
    index), and on this kind of file system a new file costs three to six times a
    rewrite of an existing one (bench/RESULTS.md). No link is followed, and a FIFO in
    the file's place is refused rather than waited on."""
    paths.guard(path, final=False)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                     0o644)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO):
            raise paths.UnsafePath("is a symbolic link or not a regular file; the merge leaves it alone",
                                   path=str(path)) from None
        raise
    with os.fdopen(fd, "wb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise paths.UnsafePath("is not a regular file; the merge leaves it alone", path=str(path))
        fh.write(data)


def _mode(stages: dict[int, tuple[str, str]]) -> str:
    """The merged file mode: the side's that changed it (the executable bit), else ours."""
    base, ours, theirs = stages.get(1, stages[2])[0], stages[2][0], stages[3][0]
    return theirs if ours == base else ours


@contextmanager
def _binary_override(top: Path, prefixes: list[str]) -> Iterator[None]:
    """Make git leave `merge=crmkit` files unmerged without starting the driver for each.

    git's built-in `binary` merge keeps ours and marks the file conflicted, all in git's
    own process; the driver switched off (`merge.crmkit.driver=false`) would cost a
    process start per file still (about 3 ms of CPU, 12 ms on a busy machine, each).
    .git/info/attributes overrides .gitattributes, so the patterns that name the crmkit
    driver are repeated there with `merge=binary` for the length of the merge."""
    path = gitteam.info_attributes(top)
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
        code, output = gitmerge.run_merge(top, [*git_args, "--no-edit", "--no-commit"], driver="false", env=env)
    theirs = gitmerge.merge_head(top)
    if theirs is None:  # up to date, a fast-forward, or git refused before merging anything
        return MergeOutcome(ok=code == 0, output=output)
    if len(gitmerge.merge_bases(top, "HEAD", theirs)) > 1:
        gitio.git(top, "merge", "--abort")
        code, output = gitmerge.run_merge(top, [*git_args, "--no-edit"], driver=None, env=env)
        left = gitmerge.unmerged_stages(top)
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


def merge_ref(ws: Workspace, ref: str) -> MergeOutcome:
    """`crmkit merge-branch REF`: merge REF into the checked-out branch."""
    top = gitio.find_worktree(ws.root)
    if top is None:
        raise gitio.GitError(f"{ws.root} is not a git repository")
    outcome = merge(top, ["merge", ref], ws.config, [os.path.relpath(ws.root, top)])
    ws.invalidate()
    return outcome
