"""Transactions: every write command commits exactly its own changes, or leaves all as it was.

One scope covers writing, staging and committing (`Workspace.transaction`):

1. Pre-flight, before the first write: the repository can take a commit (no stale
   `.git/index.lock`, no merge or rebase in progress), and there is an identity.
2. A journal (`.crmkit/tx/journal`, git-ignored) names each file before it changes, with a
   copy of its original when git cannot give it back (a file with edits of yours folded in
   by `--include-edits`, or a workspace without git). The journal is fsynced when it is
   started and before the commit, so a kill -9 at any point leaves enough to finish or undo.
3. The commit goes through a separate index (GIT_INDEX_FILE) built from HEAD, then the
   user's real index is updated for crmkit's own paths only: your staged work in other
   files stays staged and uncommitted.
4. Any exception, SIGTERM, SIGHUP or SIGINT before the commit puts every file back.

The next crmkit command, reading or writing, finds a journal left by a killed command,
and completes it (all files written: it commits them, or finds the commit made) or undoes
it (restores every file), and says which on stderr.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from crmkit.errors import EXIT_NOT_READY, CrmkitError
from crmkit.store.faults import fault
from crmkit.store.yamlio import fsync_dir

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

JOURNAL_DIR = Path(".crmkit") / "tx"
JOURNAL = JOURNAL_DIR / "journal"


class Interrupted(BaseException):
    """SIGTERM, SIGHUP or SIGINT arrived inside a transaction (it was rolled back).

    A BaseException, like KeyboardInterrupt, so that no `except Exception` in a command's
    code can swallow it half way."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.exit_code = 128 + signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


class DiskFull(CrmkitError):
    """No room for the writes (nothing was changed)."""

    exit_code = EXIT_NOT_READY


def say(text: str) -> None:
    """One line on stderr: what crmkit did on its own (recovery, the identity it chose)."""
    try:
        sys.stderr.write(f"crmkit: {text}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


# -- signals --------------------------------------------------------------------------------

CAUGHT = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


class SignalGuard:
    """Turns SIGTERM/SIGHUP/SIGINT into `Interrupted` for the scope of a transaction; inside
    `critical()` (moving HEAD, rolling back) the signal waits until the section is done."""

    def __init__(self) -> None:
        self.depth = 0
        self.pending: int | None = None
        self._saved: dict[int, Any] = {}

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self.depth:
            self.pending = signum
            return
        raise Interrupted(signum)

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signals reach only the main thread; a worker thread has nothing to install
        for sig in CAUGHT:
            try:
                self._saved[sig] = signal.signal(sig, self._handler)
            except (ValueError, OSError):
                pass

    def restore(self) -> None:
        for sig, old in self._saved.items():
            try:
                signal.signal(sig, old)
            except (ValueError, OSError, TypeError):
                pass
        self._saved.clear()

    @contextmanager
    def critical(self) -> Iterator[None]:
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
        if self.depth == 0 and self.pending is not None:
            signum, self.pending = self.pending, None
            raise Interrupted(signum)


# -- the journal ------------------------------------------------------------------------------


class Journal:
    """An append-only file of JSON lines: a header, one line per path before it changes, and
    state lines ("written" with the final message, "commit" with the sha about to be HEAD)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir = root / JOURNAL_DIR
        self.path = root / JOURNAL
        self.fd: int | None = None
        self.n_backups = 0

    @property
    def active(self) -> bool:
        return self.fd is not None

    def begin(self, header: dict[str, Any]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        ignore = self.root / ".crmkit" / ".gitignore"
        if not ignore.exists():
            ignore.write_text("*\n")
        for old in self.dir.iterdir():  # backups of a journal already dealt with
            old.unlink()
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
        self._line(header)
        self.sync()
        fsync_dir(self.dir)

    def _line(self, data: dict[str, Any]) -> None:
        assert self.fd is not None
        # one write() per line: a kill leaves at most a torn last line, which loading skips
        try:
            os.write(self.fd, (json.dumps(data, ensure_ascii=False) + "\n").encode("utf-8"))
        except OSError as exc:  # a full disk: the error names the journal, the file it could not grow
            raise OSError(exc.errno, exc.strerror, str(self.path)) from None

    def sync(self) -> None:
        if self.fd is not None:
            os.fsync(self.fd)

    def add(self, rel: str, existed: bool, original: bytes | None, durable: bool = False) -> None:
        """Record `rel` (relative to the workspace) before it changes, with a copy of its
        original beside the journal. The copy is fsynced only when git cannot give the
        original back (`durable`); otherwise a copy torn by a machine crash (its sha1 tells)
        is replaced by git's."""
        import hashlib

        backup = digest = None
        if original is not None:
            self.n_backups += 1
            backup = f"orig-{self.n_backups}"
            digest = hashlib.sha1(original).hexdigest()
            with open(self.dir / backup, "wb") as fh:
                fh.write(original)
                if durable:
                    fh.flush()
                    os.fsync(fh.fileno())
        self._line({"path": rel, "existed": existed, "backup": backup, "sha1": digest})

    def mark(self, state: str, **extra: Any) -> None:
        self._line({"state": state, **extra})
        self.sync()

    def end(self) -> None:
        """The transaction is over (committed or rolled back): forget it."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        for path in sorted(self.dir.glob("orig-*")):
            path.unlink(missing_ok=True)
        self.path.unlink(missing_ok=True)
        self.n_backups = 0


def load_journal(root: Path) -> dict[str, Any] | None:
    """What a journal left behind says: header, paths, last state; None when there is none."""
    path = root / JOURNAL
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    header: dict[str, Any] | None = None
    entries: list[dict[str, Any]] = []
    states: list[dict[str, Any]] = []
    for line in raw.split(b"\n"):
        try:
            item = json.loads(line)
        except ValueError:
            continue  # a torn last line: its file was not touched yet
        if header is None:
            header = item
        elif "path" in item:
            entries.append(item)
        elif "state" in item:
            states.append(item)
    if header is None:
        return {"header": {}, "entries": [], "states": []}
    return {"header": header, "entries": entries, "states": states}


def new_id() -> str:
    return time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(4)


def is_disk_full(exc: BaseException) -> bool:
    """ENOSPC or EDQUOT from a write of ours, or git saying so while it wrote objects."""
    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    return isinstance(exc, CrmkitError) and ("No space left on device" in exc.message
                                             or "Disk quota exceeded" in exc.message)


def free_bytes(path: Path) -> int | None:
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def block_size(path: Path) -> int:
    try:
        return max(os.statvfs(path).f_frsize, 512)
    except OSError:
        return 4096


# -- the transaction ----------------------------------------------------------------------------

_SAID_IDENTITY = False


class Transaction:
    """The files one command writes; committed together, restored if the command fails."""

    def __init__(self, ws: Workspace, message: str, command: str) -> None:
        from crmkit.store import gitio

        self.ws = ws
        self.message = message
        self.command = command
        self.notes: list[str] = []
        self.touched: list[Path] = []
        self._originals: dict[Path, bytes | None] = {}
        self.commits: list[str] = []
        self.guard = SignalGuard()
        self.journal = Journal(ws.root)
        self.include_edits = bool(getattr(ws, "include_edits", False))
        self.top = gitio.find_worktree(ws.root) if ws.commit_enabled else None
        self._dirty: dict[str, str] = {}
        self._folded: list[str] = []
        self._mutex = threading.Lock()  # routing writes from a thread pool
        self._root_prefix = str(ws.root) + os.sep
        #: the workspace's path inside the git work tree ("" at its top, "sub/" nested)
        self._top_prefix = "" if self.top is None or self.top == ws.root else \
            os.path.relpath(ws.root, self.top).replace(os.sep, "/") + "/"
        self.id = new_id()

    # -- the scope -------------------------------------------------------------------------

    def begin(self) -> None:
        """Pre-flight: refuse what would fail at commit time, before anything is written."""
        from crmkit.store import gitio

        free = free_bytes(self.ws.root)
        if free is not None and free < 256 * 1024:
            raise DiskFull(f"no room left on the disk holding {self.ws.root} ({free} bytes free); "
                           "nothing was changed")
        if self.top is None:
            return
        for warning in gitio.preflight(self.top):
            say(f"warning: {warning}")
        self._dirty = gitio.status_paths(self.top, self.ws.root)

    def need_space(self, files: int, size: int = 0) -> None:
        """Refuse (DiskFull) before writing when `files` new files of about `size` bytes in all
        will not fit: each small file takes at least one block, its temp copy another."""
        free = free_bytes(self.ws.root)
        if free is None:
            return
        need = 2 * files * block_size(self.ws.root) + 2 * size + 1024 * 1024
        if free < need:
            raise DiskFull(f"not enough room on the disk holding {self.ws.root}: {files} files need about "
                           f"{need // 1024} KiB, {free // 1024} KiB free; nothing was changed")

    def fail(self, exc: BaseException) -> BaseException | None:
        """Roll back after `exc`; return the error to raise instead (disk full), if any."""
        self.rollback()
        if is_disk_full(exc):
            why = exc.strerror if isinstance(exc, OSError) else str(exc)
            return DiskFull(f"the disk holding {self.ws.root} is full ({why}); every file was "
                            "put back, nothing was changed")
        return None

    # -- writing ---------------------------------------------------------------------------

    def _remember(self, path: Path) -> None:
        # _originals doubles as the set of touched paths: a list lookup here made a
        # 10,000-record import or routing run quadratic.
        if path in self._originals:
            return
        with self._mutex:
            if path in self._originals:
                return
            from crmkit.store import paths

            paths.guard(path)  # never read, write or remove through a link
            try:
                original: bytes | None = path.read_bytes()
            except FileNotFoundError:
                original = None
            rel = self._rel(path)
            fsync_backup = self.top is None
            if self.top is not None:
                status = self._dirty.get(self._top_prefix + rel) if self._dirty else None
                if status is not None:
                    if not self.include_edits:
                        what = "is not tracked by git" if status == "??" else "has changes not committed"
                        raise CrmkitError(
                            f"{rel} {what} (git status {status.strip()}); crmkit would commit your edits under "
                            "its own message: commit or stash them first, or rerun with --include-edits")
                    self._folded.append(rel)
                    fsync_backup = True
            if not self.journal.active:
                self.journal.begin({"id": self.id, "command": self.command, "pid": os.getpid(),
                                    "git": self.top is not None,
                                    "head": self._head_now() if self.top is not None else None})
            self.journal.add(rel, original is not None, original, durable=fsync_backup)
            self._originals[path] = original
            self.touched.append(path)
        fault("write")

    def _rel(self, path: Path) -> str:
        # os.path.relpath costs more than the journal line itself on a 2,000-file import;
        # the paths a transaction touches are under the root, so a slice does
        text = str(path)
        if text.startswith(self._root_prefix):
            return text[len(self._root_prefix):]
        return os.path.relpath(path, self.ws.root)

    def _head_now(self) -> str | None:
        from crmkit.store import gitio

        assert self.top is not None
        return gitio.head(self.top)

    def note(self, line: str) -> None:
        self.notes.append(line)

    def create(self, kind: str, data: dict[str, Any], record_id: str | None = None) -> Any:
        """Write a new record; an id is made when none is given. Never overwrites."""
        from crmkit.store import yamlio
        from crmkit.store.records import Record
        from crmkit.store.records import new_id as new_record_id

        ws = self.ws
        if record_id is None:
            record_id = new_record_id(kind, data, ws.taken_ids(kind), ws.now())
        path = ws.path_for(kind, record_id)
        if path.exists():
            raise CrmkitError(f"{kind}/{record_id} already exists", path=ws.rel(path))
        text = yamlio.dumps(data)
        self._refuse_bad_write(kind, record_id, None, data, text, path)
        self._remember(path)
        yamlio.atomic_write_text(path, text)
        ws.invalidate(kind)
        return Record(kind, record_id, yamlio.to_plain(data), path)

    def update(self, kind: str, record_id: str, fn: Any) -> bool:
        """Load one record faithfully, let `fn` change it in place, write it back if it changed."""
        from crmkit.errors import NotFound
        from crmkit.store import yamlio

        ws = self.ws
        path = ws.path_for(kind, record_id)
        if not path.exists():
            raise NotFound(f"no {kind} with id {record_id!r}")
        raw = yamlio.read_text(path, keep_style=True)
        before, style = yamlio.split_style(raw)
        doc = yamlio.loads_roundtrip(before, ws.rel(path))
        if doc is None:
            from ruamel.yaml.comments import CommentedMap

            doc = CommentedMap()
        old = yamlio.to_plain(doc)
        fn(doc)
        after = yamlio.apply_style(yamlio.dumps(doc), style)  # CRLF and BOM kept as the file had them
        if after == raw:
            return False
        self._refuse_bad_write(kind, record_id, old if isinstance(old, dict) else None,
                               yamlio.to_plain(doc), after, path)
        self._remember(path)
        yamlio.atomic_write_text(path, after)
        ws.invalidate(kind)
        return True

    #: Set by `merge`, the one command that writes tombstones (merged_into).
    reserved_ok = False

    def _refuse_bad_write(self, kind: str, record_id: str, before: dict[str, Any] | None, after: Any,
                          text: str, path: Path) -> None:
        """The one validation every write passes (store/validate.py write_problems)."""
        from crmkit.store.validate import write_problems

        if not isinstance(after, dict):
            raise CrmkitError("a record must be a YAML mapping; nothing was written", path=self.ws.rel(path))
        found = write_problems(self.ws, kind, record_id, before, after, len(text.encode("utf-8")),
                               reserved_ok=self.reserved_ok)
        if found:
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            raise CrmkitError(f"{found[0]}{more}; nothing was written", path=self.ws.rel(path))

    def delete(self, kind: str, record_id: str) -> None:
        path = self.ws.path_for(kind, record_id)
        self._remember(path)
        path.unlink(missing_ok=True)
        self.ws.invalidate(kind)

    def _inside(self, relpath: str) -> Path:
        from crmkit.errors import UsageError

        path = (self.ws.root / relpath).resolve()
        if self.ws.root not in path.parents or self.ws.root / ".crmkit" in [path, *path.parents]:
            raise UsageError(f"{relpath!r} is outside the workspace")
        return path

    def adopt(self, relpath: str) -> None:
        """Let this command change `relpath` even though it has uncommitted changes: a file
        that is the command's own input (a message put into outbox/ by hand)."""
        if self.top is not None:
            self._dirty.pop(os.path.relpath(self._inside(relpath), self.top), None)

    def write_file(self, relpath: str, data: bytes | str) -> Path:
        from crmkit.store import yamlio

        path = self._inside(relpath)
        self._remember(path)
        yamlio.atomic_write_bytes(path, data.encode("utf-8") if isinstance(data, str) else data)
        return path

    def remove_file(self, relpath: str) -> None:
        path = self._inside(relpath)
        self._remember(path)
        path.unlink(missing_ok=True)

    # -- ending ------------------------------------------------------------------------------

    def rollback(self) -> None:
        """Put back every file this transaction changed that is not committed yet."""
        from crmkit.store import yamlio

        with self.guard.critical():
            failed = False
            items = list(self._originals.items())
            # files this command created go first: on a full disk that frees room for the rest
            for path, original in sorted(items, key=lambda item: item[1] is not None):
                try:
                    if original is None:
                        path.unlink(missing_ok=True)
                    else:
                        yamlio.atomic_write_bytes(path, original)
                except OSError:
                    failed = True
            clean_temp_files([p for p, _ in items])
            if not failed:
                # else the journal stays: the next command finishes putting things back
                self.journal.end()
            self._originals.clear()
            self.touched = []
            self.ws.invalidate()

    def commit_now(self) -> str | None:
        """Commit what was touched so far (exactly those files) and start afresh."""
        from crmkit.store import gitio

        touched = self.touched
        if not touched or self.top is None:
            # nothing written, or --no-commit / no git: the files stay as written
            self.journal.end()
            self._originals.clear()
            self.touched = []
            return None
        notes = list(self.notes)
        if self._folded:
            notes.append("includes uncommitted edits that were already in: " + ", ".join(sorted(self._folded)))
        message = gitio.commit_message(self.message, notes, self.command)
        self.journal.mark("written", message=message)
        fault("before-commit")
        top = self.top
        rels = sorted({self._top_prefix + self._rel(p) for p in touched})
        head = gitio.head(top)
        sha = gitio.build_commit(top, rels, message, commit_identity(self.ws.config, top),
                                 self.ws.root / JOURNAL_DIR / f"index-{self.id}", head)
        if sha is not None:
            self.journal.mark("commit", sha=sha)
            fault("before-ref")
        with self.guard.critical():
            if sha is not None:
                gitio.move_head(top, sha, head, message.splitlines()[0])
                self.commits.append(sha)
            # committed (or nothing differed from HEAD): nothing is left to roll back
            self._originals.clear()
            self.touched = []
            self.notes = []
            self._folded = []
            fault("after-ref")
            try:
                gitio.sync_index(top, rels)
            except CrmkitError as exc:
                say(f"warning: committed, but git's index could not be brought up to date ({exc}); "
                    "the next crmkit command does it")
                return sha
            self.journal.end()
        return sha


def commit_identity(config: dict[str, Any], top: Path) -> Any:
    """git's identity, else crmkit.yaml's `git:`, else `crmkit <crmkit@HOSTNAME>` (said once)."""
    from crmkit.store import gitio

    global _SAID_IDENTITY
    ident = gitio.identity(top, config)
    if ident.source == "fallback" and not _SAID_IDENTITY:
        _SAID_IDENTITY = True
        say(f"note: no git identity configured; committing as {ident.name} <{ident.email}> "
            "(set git config user.name and user.email, or git: {name:, email:} in crmkit.yaml)")
    return ident


def clean_temp_files(paths: list[Path]) -> int:
    """Remove the temp files (.NAME.yaml.XXXX.tmp) an interrupted atomic write left beside `paths`."""
    removed = 0
    for path in paths:
        try:
            for tmp in path.parent.glob(f".{path.name}.*.tmp"):
                tmp.unlink(missing_ok=True)
                removed += 1
        except OSError:
            pass
    return removed


# -- recovery -------------------------------------------------------------------------------------


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
