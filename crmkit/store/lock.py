"""The workspace lock: one writer at a time (`.crmkit/lock`, flock); a second writer waits
$CRMKIT_LOCK_TIMEOUT seconds, then fails as busy (exit 3)."""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from crmkit.errors import WorkspaceBusy
from crmkit.store import paths


@contextmanager
def hold(root: Path, timeout: float | None = None) -> Iterator[None]:
    """The workspace lock for writers; a second writer waits briefly, then fails as busy."""
    if timeout is None:
        from crmkit.store.settings import lock_timeout

        timeout = lock_timeout()
    lock_dir = root / ".crmkit"
    paths.guard(lock_dir / "lock")
    lock_dir.mkdir(exist_ok=True)
    gitignore = lock_dir / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("*\n")
    fh = open(lock_dir / "lock", "a+")
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WorkspaceBusy(
                        f"workspace busy: another crmkit command is writing to {root} "
                        f"(waited {timeout:g}s); try again"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        fh.close()
