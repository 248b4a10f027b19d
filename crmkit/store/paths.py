"""Path safety: no read or write of a workspace file follows a symbolic link or leaves the workspace.

A workspace arrives through pull requests, so its files are untrusted. A symbolic
link in it (a record, a folder such as `activities/`, a template, an include) could
point anywhere on the machine: following it would show, mail or commit a file from
outside, or write into one. crmkit therefore refuses every link below a workspace
root, on every path it reads or writes there:

* `guard(path)` lstat()s each component of `path` below the workspace root it lies
  in and refuses a symbolic link (folders are remembered once checked, so a bulk
  read costs one lstat per folder, not per file);
* `open_nofollow(path)` opens the file itself with O_NOFOLLOW, so the last component
  cannot be swapped for a link between the check and the open.

Roots are registered by `Workspace` when it opens one (`register_root`). Paths that
are not below a registered root (a CSV file named on the command line, crmkit's own
default templates) are the user's choice and are not restricted.

`check` reports every symbolic link in the workspace (`symlinks(ws)`).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmkit.errors import CrmkitError, Problem

if TYPE_CHECKING:
    from crmkit.store.workspace import Workspace

#: Folders never walked for links: git's own, and crmkit's disposable cache.
SKIP_DIRS = {".git", ".crmkit"}

_ROOTS: list[str] = []
_CHECKED_DIRS: set[str] = set()


class UnsafePath(CrmkitError):
    """A workspace path that is a symbolic link or leads outside the workspace."""


def register_root(root: Path) -> None:
    """Make `root` (resolved, absolute) a workspace whose paths are guarded."""
    text = os.fspath(root)
    # Each command starts afresh: a folder checked by an earlier command in the same
    # process (tests, a long-lived caller) may have been replaced by a link since.
    _CHECKED_DIRS.clear()
    if text not in _ROOTS:
        _ROOTS.append(text)
        _ROOTS.sort(key=len, reverse=True)  # the innermost root wins for nested workspaces


def _root_of(path: str) -> str | None:
    for root in _ROOTS:
        if path == root or path.startswith(root + os.sep):
            return root
    return None


def guard(path: Any, *, final: bool = True) -> Any:
    """`path` unchanged, or UnsafePath if it is, or passes through, a link below its workspace.

    `final=False` skips the last component (the caller opens it with O_NOFOLLOW).
    A path that names `..` to climb out of its workspace is refused too.
    """
    raw = os.fspath(path)
    text = raw if os.path.isabs(raw) and "/." not in raw else os.path.abspath(raw)
    root = _root_of(text)
    if root is None:
        joined = raw if os.path.isabs(raw) else os.path.join(os.getcwd(), raw)
        if ".." in raw.split(os.sep) and _root_of(joined):
            raise UnsafePath("leads outside the workspace", path=raw)
        return path
    rel = text[len(root):].lstrip(os.sep)
    if not rel:
        return path
    parts = rel.split(os.sep)
    current = root
    for i, part in enumerate(parts):
        current = current + os.sep + part
        last = i == len(parts) - 1
        if last and not final:
            break
        if not last and current in _CHECKED_DIRS:
            continue
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            break  # the rest does not exist yet: a write will create real folders
        except NotADirectoryError:
            break
        if stat.S_ISLNK(st.st_mode):
            raise UnsafePath(
                "is a symbolic link; crmkit does not follow links in a workspace "
                "(they can point outside it)",
                path=os.path.relpath(current, root),
            )
        if not last and stat.S_ISDIR(st.st_mode):
            _CHECKED_DIRS.add(current)
    return path


def forget_checked() -> None:
    """Drop the remembered folders (after a command replaced some, and in tests)."""
    _CHECKED_DIRS.clear()


def open_nofollow(path: os.PathLike[str] | str) -> int:
    """A read-only descriptor of `path`, refusing a link anywhere below its workspace root."""
    guard(path, final=False)
    try:
        return os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)  # a FIFO must not hang us
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            root = _root_of(os.path.abspath(os.fspath(path)))
            shown = os.path.relpath(path, root) if root else os.fspath(path)
            raise UnsafePath(
                "is a symbolic link; crmkit does not follow links in a workspace "
                "(they can point outside it)",
                path=shown,
            ) from None
        raise


def read_bytes(path: os.PathLike[str] | str, limit: int | None = None) -> bytes:
    """The bytes of a workspace file (no links followed); at most `limit` + 1 bytes are read."""
    fd = open_nofollow(path)
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePath("is not a regular file", path=os.fspath(path))
        # read(limit + 1) would allocate the whole limit for every small file: only when big
        return fh.read(limit + 1) if limit is not None and st.st_size > limit else fh.read()


def read_text(path: os.PathLike[str] | str) -> str:
    """A workspace text file as UTF-8 (no links followed), for templates and messages."""
    return read_bytes(path).decode("utf-8")


def symlinks(ws: Workspace) -> list[Problem]:
    """`crmkit check`: every symbolic link in the workspace, one problem each."""
    problems: list[Problem] = []
    root = os.fspath(ws.root)
    for folder, dirs, files in os.walk(root, followlinks=False):
        if folder == root:
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for name in sorted(dirs + files):
            full = os.path.join(folder, name)
            if os.path.islink(full):
                target = os.readlink(full)
                problems.append(Problem(
                    os.path.relpath(full, root), None, "symlink",
                    f"symbolic link to {target!r}; crmkit refuses to read or write through links "
                    "(replace it with the file itself)",
                ))
    return problems
