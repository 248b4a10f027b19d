"""A record's history from git: its commits, also after the record was removed."""

from __future__ import annotations

from pathlib import Path

from crmkit.errors import CrmkitError
from crmkit.store import gitio
from crmkit.store.records import KINDS, parse_ref
from crmkit.store.workspace import Workspace


def record_history(ws: Workspace, ref: str, limit: int | None = None) -> tuple[str, list[gitio.Change]]:
    """(the record's path relative to the workspace, its changes newest first)."""
    try:
        path = ws.get(ref).path
    except CrmkitError:
        # A removed record still has a history: look for its file in any kind's folder.
        kind, rid = parse_ref(ref)
        candidates = [ws.path_for(k, rid) for k in ([kind] if kind else KINDS)]
        path = candidates[0]
        for c in candidates:
            if gitio.history(ws.root, c, limit=1):
                path = c
                break
    if gitio.find_worktree(ws.root) is None:
        raise CrmkitError("this workspace is not a git repository, so there is no history")
    changes = gitio.history(ws.root, path, limit=limit)
    if not changes:
        raise CrmkitError(f"no commits touch {ws.rel(path)}")
    return ws.rel(path), changes


def head_commit(root: Path) -> str | None:
    """The commit HEAD points at in the workspace's repository (None outside git or before
    the first commit): `-v` compares it before and after a command."""
    return gitio.head_sha(root) if gitio.find_worktree(root) is not None else None


def commits_after(root: Path, before: str | None) -> list[tuple[str, str]]:
    """(sha, subject) of the commits made since `before`, oldest first."""
    return gitio.commits_since(root, before)
