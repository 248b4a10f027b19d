"""A part of a workspace as a git repository of its own (a partner's slice), and what
changed there since: the files and git work of `crmkit partner export|import`.

The domain (crmkit.sales.partner_slice) decides which files belong to a slice and
which changes it takes back; this module only writes the repository and reads it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from crmkit.errors import CrmkitError
from crmkit.store import gitio, yamlio
from crmkit.store.records import ID_RE


def _safe(rel: str) -> str:
    parts = rel.split("/")
    if rel.startswith("/") or any(p in ("", ".", "..", ".git") for p in parts):
        raise CrmkitError(f"{rel!r}: not a path inside a slice")
    return rel


def write_repository(dest: Path, files: dict[str, bytes], message: str, config: dict[str, Any]) -> str:
    """A new git repository at `dest` holding exactly `files`, in one commit (its sha).
    Refuses a `dest` that holds anything; on failure nothing of it is left."""
    from crmkit.store.transaction import commit_identity

    dest = dest.resolve()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise CrmkitError(f"{dest} exists and is not an empty folder; export into a new one")
    created = not dest.exists()
    rels = sorted(_safe(r) for r in files)
    try:
        dest.mkdir(parents=True, exist_ok=True)
        gitio.init(dest)
        for rel in rels:
            path = dest / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            yamlio.atomic_write_bytes(path, files[rel])
        ident = commit_identity(config, dest)
        sha = gitio.build_commit(dest, rels, message, ident, gitio.git_dir(dest) / "crmkit-slice-index", None)
        assert sha is not None
        gitio.move_head(dest, sha, None, message.splitlines()[0])
        gitio.sync_index(dest, rels)
    except BaseException:
        if created:
            shutil.rmtree(dest, ignore_errors=True)
        else:
            for child in dest.iterdir():
                shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)
        raise
    return sha


def read_changes(src: Path) -> tuple[str, dict[str, str], dict[str, bytes], dict[str, bytes]]:
    """(the slice's first commit, {path: A|M|D} committed since, the files then, the files now)."""
    top = gitio.find_worktree(src.resolve())
    if top is None or top != src.resolve():
        raise CrmkitError(f"{src} is not a partner's slice (no git repository at its top)")
    if gitio.git(top, "status", "--porcelain", "--untracked-files=normal").strip():
        raise CrmkitError(f"{src} has changes that are not committed; commit them there first")
    roots = gitio.git(top, "rev-list", "--max-parents=0", "HEAD").split()
    if len(roots) != 1:
        raise CrmkitError(f"{src} is not a slice made by `crmkit partner export` (it has {len(roots)} first commits)")
    first = roots[0]
    status: dict[str, str] = {}
    for line in gitio.git(top, "diff", "--name-status", "--no-renames", first, "HEAD").splitlines():
        code, _, rel = line.partition("\t")
        status[rel] = code[:1]
    then = gitio.blobs(top, first, sorted(status))
    now = gitio.blobs(top, "HEAD", sorted(r for r, c in status.items() if c != "D"))
    return first, status, then, now


def read_file_at(src: Path, rev: str, rel: str) -> bytes | None:
    top = gitio.find_worktree(src.resolve())
    assert top is not None
    return gitio.blobs(top, rev, [rel]).get(rel)


def record_path(rel: str) -> tuple[str, str] | None:
    """(folder, id) of a record file path such as leads/ld-1.yaml, else None."""
    folder, _, name = rel.partition("/")
    if "/" in name or not name.endswith(".yaml") or not ID_RE.match(name[:-5]):
        return None
    return folder, name[:-5]
