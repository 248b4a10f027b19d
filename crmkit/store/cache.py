"""The disposable caches under .crmkit/cache: pickled, versioned, never trusted blindly.

A cache file holds a header (the format version and whatever else its content
depends on) and a payload. Reading gives the payload only when the header matches;
anything unreadable is simply a miss, so a cache can always be deleted. Writing is
atomic and silent on a read-only or full disk: crmkit then works, only slower.

Per-file entries are kept while the file's size and mtime stay the same, except
for files changed in the last RACY_SECONDS, whose mtime could still hide a change
made within the same clock tick (the "racy" case git's index guards against too).
"""

from __future__ import annotations

import pickle
import time
from pathlib import Path
from typing import Any

from crmkit.store import yamlio

#: Bump when what a cache holds changes shape: old files are then misses.
CACHE_VERSION = 1
RACY_SECONDS = 2.0


def cache_path(root: Path, name: str) -> Path:
    """Where the cache `name` of the workspace at `root` lives."""
    return root / ".crmkit" / "cache" / f"{name}.pickle"


def racy_after() -> float:
    """mtime (ns) from which a file is too recent to cache; compare st_mtime_ns with it."""
    return (time.time() - RACY_SECONDS) * 1e9


def load(path: Path, header: tuple[Any, ...]) -> Any:
    """The payload stored with exactly this header, or None (missing, stale or unreadable)."""
    try:
        with open(path, "rb") as fh:
            stored = pickle.load(fh)
    except Exception:  # noqa: BLE001 - a missing or broken cache is simply rebuilt
        return None
    if not isinstance(stored, tuple) or len(stored) != len(header) + 1 or stored[:-1] != header:
        return None
    return stored[-1]


def save(root: Path, path: Path, header: tuple[Any, ...], payload: Any) -> None:
    """Store the payload under the header, atomically; the cache folder is git-ignored."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        gitignore = root / ".crmkit" / ".gitignore"
        if not gitignore.exists():
            gitignore.write_text("*\n")
        yamlio.atomic_write_bytes(path, pickle.dumps((*header, payload), protocol=5))
    except OSError:
        pass  # a read-only workspace still works, only slower
