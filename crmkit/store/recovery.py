"""Recovery: finish or undo what a killed command's transaction left (its journal), and
`crmkit check`'s list of record files changed outside any transaction."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmkit.errors import CrmkitError
from crmkit.store.journal import JOURNAL_DIR, Journal, load_journal
from crmkit.store.transaction import clean_temp_files, commit_identity, say

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace


def recover(ws: Workspace) -> str | None:
    """Finish or undo what a killed command left (call with the workspace lock held).
    Returns what was done ("completed" / "undone"), or None when there was nothing."""
    from crmkit.store import gitio

    root = ws.root
    found = load_journal(root)
    if found is None:
        return None
    header, entries, states = found["header"], found["entries"], found["states"]
    command = header.get("command") or "a crmkit command"
    paths = [root / e["path"] for e in entries]
    top = gitio.find_worktree(root) if header.get("git") else None
    message = next((s.get("message") for s in states if s.get("state") == "written"), None)
    sha = next((s.get("sha") for s in reversed(states) if s.get("state") == "commit"), None)
    outcome = "undone"
    detail = ""
    if top is not None and message is not None:
        rels = sorted({os.path.relpath(p, top) for p in paths})
        try:
            current = gitio.head(top)
            if sha and current and gitio.is_ancestor(top, sha, current):
                gitio.sync_index(top, rels)
                outcome, detail = "completed", f"its commit {sha[:10]} was made; git's index updated"
            else:
                gitio.preflight(top)
                new = gitio.build_commit(top, rels, message, commit_identity(ws.config, top),
                                         root / JOURNAL_DIR / "index-recover", current)
                if new is not None:
                    gitio.move_head(top, new, current, message.splitlines()[0])
                gitio.sync_index(top, rels)
                outcome = "completed"
                detail = f"every file was written; committed as {new[:10]}" if new else "nothing to commit"
        except CrmkitError as exc:
            detail = f"could not commit ({exc}); "
    if outcome == "undone":
        restored, kept = _undo(root, top, header.get("head"), entries)
        detail += f"{restored} file{'s' if restored != 1 else ''} put back as they were"
        if kept:
            detail += f"; could not restore {', '.join(kept[:5])}"
    clean_temp_files(paths)
    for leftover in (root / JOURNAL_DIR).glob("index-*"):
        leftover.unlink(missing_ok=True)
    Journal(root).end()
    ws.invalidate()
    say(f"recovered: {outcome} the interrupted `{command}` ({detail})")
    return outcome


def _undo(root: Path, top: Path | None, head: str | None, entries: list[dict[str, Any]]) -> tuple[int, list[str]]:
    import hashlib

    from crmkit.store import gitio, yamlio

    restored = 0
    kept: list[str] = []
    need_git: list[dict[str, Any]] = []
    # created files first: on a full disk that frees room for the rest
    for entry in sorted(entries, key=lambda e: bool(e.get("existed"))):
        path = root / entry["path"]
        if not entry.get("existed"):
            if path.exists():
                path.unlink()
            restored += 1
            continue
        backup = entry.get("backup")
        data = None
        if backup:
            try:
                data = (root / JOURNAL_DIR / backup).read_bytes()
            except OSError:
                data = None
            if data is not None and hashlib.sha1(data).hexdigest() != entry.get("sha1"):
                data = None  # torn by a crash of the machine: git's copy is the next best
        if data is None:
            need_git.append(entry)
            continue
        yamlio.atomic_write_bytes(path, data)
        restored += 1
    if need_git:
        blobs = gitio.blobs(top, head, [os.path.relpath(root / e["path"], top) for e in need_git]) \
            if top is not None and head else {}
        for entry in need_git:
            data = blobs.get(os.path.relpath(root / entry["path"], top)) if top is not None else None
            if data is None:
                kept.append(entry["path"])
                continue
            yamlio.atomic_write_bytes(root / entry["path"], data)
            restored += 1
    return restored, kept


def unexplained_changes(ws: Workspace) -> list[str]:
    """`crmkit check`: record files that are changed or untracked in git while no crmkit
    transaction is under way (a journal explains its own files), and stray temp files."""
    from crmkit.store import gitio
    from crmkit.store.records import FOLDERS

    lines: list[str] = []
    found = load_journal(ws.root)
    explained = {e["path"] for e in found["entries"]} if found else set()
    for folder in FOLDERS.values():
        base = ws.root / folder
        if base.is_dir():
            for tmp in sorted(base.glob(".*.tmp")):
                lines.append(f"{ws.rel(tmp)}: a temp file left by an interrupted write (safe to delete)")
    top = gitio.find_worktree(ws.root)
    if top is None:
        return lines
    try:
        status = gitio.status_paths(top, ws.root)
    except CrmkitError:
        return lines
    folders = set(FOLDERS.values())
    for rel_top, code in sorted(status.items()):
        rel = os.path.relpath(top / rel_top, ws.root)
        parts = Path(rel).parts
        if len(parts) != 2 or parts[0] not in folders or not rel.endswith(".yaml") or rel in explained:
            continue
        what = "untracked (not in git)" if code == "??" else f"changed and not committed (git status {code.strip()})"
        lines.append(f"{rel}: {what}")
    return lines
