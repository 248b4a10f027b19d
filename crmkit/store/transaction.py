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
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmkit.errors import EXIT_NOT_READY, CrmkitError
from crmkit.store.faults import fault
from crmkit.store.journal import JOURNAL_DIR, Journal, new_id
from crmkit.store.signals import SignalGuard

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace


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
        plain = yamlio.to_plain(data)
        # a copy of its own for what was read: the caller may change the record it gets
        ws.patch(kind, record_id, yamlio.as_read(yamlio.to_plain(data), text), path)
        return Record(kind, record_id, plain, path)

    def update(self, kind: str, record_id: str, fn: Any, *, plain: bool = False) -> bool:
        """Load one record faithfully, let `fn` change it in place, write it back if it changed.

        `plain=True`: `fn` works on a plain dict as well (tick's events, priorities, owners).
        Then, when the file is as it was read, `fn` changes a copy of the record read and the
        change is made on the text (store/textedit.py) instead of a round-trip load and dump,
        if the text says exactly that afterwards; else the same change goes the faithful
        way. `fn` runs once either way."""
        from crmkit.errors import NotFound
        from crmkit.store import yamlio

        ws = self.ws
        path = ws.path_for(kind, record_id)
        if not path.exists():
            raise NotFound(f"no {kind} with id {record_id!r}")
        raw = yamlio.read_text(path, keep_style=True)
        wanted: dict[str, Any] | None = None
        if plain:
            current = ws.unchanged(kind, record_id, path)
            if current is not None:
                wanted = yamlio.to_plain(current)
                fn(wanted)
                if wanted == current:
                    return False
                if self._update_text(kind, record_id, path, raw, current, wanted):
                    return True
        before, style = yamlio.split_style(raw)
        doc = yamlio.loads_roundtrip(before, ws.rel(path))
        if doc is None:
            from ruamel.yaml.comments import CommentedMap

            doc = CommentedMap()
        old = yamlio.to_plain(doc)
        if wanted is None:
            fn(doc)
        else:  # fn ran on the copy already: the same change, field by field
            _apply_fields(doc, old, wanted)
        after = yamlio.apply_style(yamlio.dumps(doc), style)  # CRLF and BOM kept as the file had them
        if after == raw:
            return False
        plain = yamlio.to_plain(doc)
        self._refuse_bad_write(kind, record_id, old if isinstance(old, dict) else None, plain, after, path)
        self._remember(path)
        yamlio.atomic_write_text(path, after)
        # the one record replaced in what was read, as a fresh read would give it
        # (tests/store/test_linear.py compares the two after tick and route)
        ws.patch(kind, record_id, yamlio.as_read(plain, after.lstrip("\ufeff")), path)
        return True

    def _update_text(self, kind: str, record_id: str, path: Path, raw: str, current: dict[str, Any],
                     wanted: dict[str, Any]) -> bool:
        """`update`'s text edit: made, checked by parsing it back, validated, written."""
        from crmkit.errors import CrmkitError
        from crmkit.store import yamlio
        from crmkit.store.textedit import edited

        text = edited(raw, current, wanted)
        if text is None:
            return False
        try:
            parsed = yamlio.loads_fast(text)
        except CrmkitError:
            return False
        expected = yamlio.as_read(wanted, text)
        if parsed != expected or repr(parsed) != repr(expected):
            return False  # the round trip will say it right
        self._refuse_bad_write(kind, record_id, current, wanted, text, path)
        self._remember(path)
        yamlio.atomic_write_text(path, text)
        self.ws.patch(kind, record_id, parsed, path)
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
        self.ws.patch(kind, record_id, None, path)

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


def _apply_fields(doc: Any, old: dict[str, Any], wanted: dict[str, Any]) -> None:
    """Make the round-trip `doc` (whose plain value is `old`) say `wanted`: changed and new
    fields set, removed ones deleted, a list that only grew extended (its items keep
    their comments)."""
    for key in [k for k in old if k not in wanted]:
        del doc[key]
    for key, value in wanted.items():
        was = old.get(key)
        if key in old and was == value and type(was) is type(value):
            continue
        if isinstance(was, list) and isinstance(value, list) and value[:len(was)] == was \
                and isinstance(doc.get(key), list):
            doc[key].extend(value[len(was):])
        else:
            doc[key] = value


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
