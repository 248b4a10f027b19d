"""The transaction journal (`.crmkit/tx/journal`): the files a transaction is about to
change, copies of originals git cannot give back, and how far it got (store/transaction.py
writes it, store/recovery.py reads what a killed command left)."""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

from crmkit.store.yamlio import fsync_dir

JOURNAL_DIR = Path(".crmkit") / "tx"
JOURNAL = JOURNAL_DIR / "journal"


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
