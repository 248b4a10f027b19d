"""The disposable caches under .crmkit/cache: pickled, versioned, never trusted blindly.

A cache file holds a header (the format version and whatever else its content
depends on) and a payload. Reading gives the payload only when the header matches;
anything unreadable is simply a miss, so a cache can always be deleted. Writing is
atomic and silent on a read-only or full disk: crmkit then works, only slower.

Per-file entries are kept while the file's size and mtime stay the same, except
for files changed in the last RACY_SECONDS, whose mtime could still hide a change
made within the same clock tick (the "racy" case git's index guards against too).

Unpickling runs code, so a cache file is only unpickled when this machine wrote it:
each file carries a keyed BLAKE2b digest of its bytes, with a key kept inside the
repository's git folder (`.git/crmkit-cache-key`), which no clone, pull or push
carries; without git, in the user's cache folder. A pickle a hostile repository
force-added under `.crmkit/cache` has no valid digest: it is a miss, never loaded.
"""

from __future__ import annotations

import os
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


MAGIC = b"crmkit-cache-1\n"
DIGEST_SIZE = 32
KEY_NAME = "crmkit-cache-key"
_KEYS: dict[Path, bytes | None] = {}


def _key_dir(root: Path) -> Path | None:
    """The git folder of the repository holding `root` (a worktree's own), else the user's
    cache folder; None when there is neither."""
    for folder in [root, *root.parents]:
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():  # a linked worktree or a submodule: "gitdir: PATH"
            try:
                text = dot_git.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError):
                return None
            if text.startswith("gitdir:"):
                target = Path(text[len("gitdir:"):].strip())
                target = target if target.is_absolute() else folder / target
                return target if target.is_dir() else None
            return None
    base = os.environ.get("XDG_CACHE_HOME") or (os.path.join(os.path.expanduser("~"), ".cache"))
    return Path(base) / "crmkit" if base and not base.startswith("~") else None


def _key(root: Path, create: bool) -> bytes | None:
    """This machine's key for the caches of the workspace at `root` (made on first save)."""
    key = _KEYS.get(root)
    if key is not None or (root in _KEYS and not create):
        return key
    where = _key_dir(root)
    key = None
    if where is not None:
        path = where / KEY_NAME
        try:
            key = path.read_bytes()
        except OSError:
            if create:
                try:
                    where.mkdir(parents=True, exist_ok=True)
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    with os.fdopen(fd, "wb") as fh:
                        fh.write(os.urandom(32))
                except FileExistsError:
                    pass  # another crmkit made it just now: read theirs
                except OSError:
                    return None
                try:
                    key = path.read_bytes()
                except OSError:
                    key = None
        if key is not None and len(key) != 32:
            key = None  # not ours: never trusted
    _KEYS[root] = key
    return key


def _digest(key: bytes, data: bytes | memoryview) -> bytes:
    from _blake2 import blake2b  # hashlib without OpenSSL's import cost on every command

    return blake2b(data, key=key, digest_size=DIGEST_SIZE).digest()


def _root_of(path: Path) -> Path:
    return path.parent.parent.parent  # ROOT/.crmkit/cache/NAME.pickle


def load(path: Path, header: tuple[Any, ...]) -> Any:
    """The payload stored with exactly this header, or None (missing, stale, unreadable,
    or not written by this machine: then it is never unpickled)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError:
        return None
    start = len(MAGIC) + DIGEST_SIZE
    if not raw.startswith(MAGIC) or len(raw) <= start:
        return None
    key = _key(_root_of(path), create=False)
    if key is None:
        return None
    # a plain comparison: the one who could time it is the one running crmkit
    if raw[len(MAGIC):start] != _digest(key, memoryview(raw)[start:]):
        return None
    try:
        stored = pickle.loads(memoryview(raw)[start:])
    except Exception:  # noqa: BLE001 - a broken cache is simply rebuilt
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
        key = _key(root, create=True)
        if key is None:
            return  # no key, no cache: an unsigned pickle would never be loaded
        data = pickle.dumps((*header, payload), protocol=5)
        yamlio.atomic_write_bytes(path, MAGIC + _digest(key, data) + data)
    except OSError:
        pass  # a read-only workspace still works, only slower
