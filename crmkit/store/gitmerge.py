"""git for a merge resolved in one process (store/merge_batch.py): the merge itself, and the
index and object-store plumbing that resolves its unmerged files without a process per file.

Plain subprocesses, as in gitio's transaction part: each call is one git process for the
whole merge, fed on stdin.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from crmkit.store.gitio import GitError, cat_file_batch, git, git_dir
from crmkit.store.gitteam import MERGE_DRIVER_KEY


def unmerged_entries(top: Path) -> dict[str, dict[int, tuple[str, str]]]:
    """Each path a merge left unmerged, with its index stages (1 ancestor, 2 ours, 3 theirs),
    each as (mode, object id)."""
    out = git(top, "ls-files", "-u", "-z")
    found: dict[str, dict[int, tuple[str, str]]] = {}
    for entry in out.split("\0"):
        if "\t" in entry:
            meta, rel = entry.split("\t", 1)
            mode, oid, stage = meta.split()
            found.setdefault(rel, {})[int(stage)] = (mode, oid)
    return found


def unmerged_stages(top: Path) -> dict[str, set[int]]:
    """Each path a merge left unmerged, with the index stages it has (1 ancestor, 2 ours, 3 theirs)."""
    return {rel: set(stages) for rel, stages in unmerged_entries(top).items()}


def objects(top: Path, oids: Iterable[str]) -> dict[str, bytes]:
    """The content of each blob named by its object id (those the repository has), in one
    `git cat-file --batch`."""
    return cat_file_batch(top, list(dict.fromkeys(oids)))


def write_blobs(top: Path, texts: list[bytes]) -> list[str]:
    """Store each of `texts` as a blob; their object ids, in order.

    One `git fast-import` for all of them: it writes one pack (loose objects when there
    are few), where `git hash-object -w` or `update-index --add` would write and compress
    a loose object per file, and it names the ids in the repository's own hash (SHA-1 or
    SHA-256) through `get-mark`."""
    import subprocess

    if not texts:
        return []
    parts: list[bytes] = []
    for i, data in enumerate(texts, 1):
        parts.append(b"blob\nmark :%d\ndata %d\n" % (i, len(data)))
        parts.append(data)
        parts.append(b"\n")
    parts.extend(b"get-mark :%d\n" % i for i in range(1, len(texts) + 1))
    proc = subprocess.run(["git", "fast-import", "--quiet"], cwd=top, input=b"".join(parts), capture_output=True)
    oids = proc.stdout.decode("ascii", "replace").split()
    if proc.returncode != 0 or len(oids) != len(texts):
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git fast-import failed: {lines[-1] if lines else f'exit code {proc.returncode}'}")
    return oids


def stage_entries(top: Path, entries: list[tuple[str, str, str]]) -> None:
    """Put each (mode, object id, path) in the index at stage 0, in one `git update-index
    --index-info`: a merged entry replaces the path's unmerged stages. The files on disk
    are not read (nor their stat data recorded: git's next index refresh does)."""
    if not entries:
        return
    listing = "".join(f"{mode} {oid}\t{rel}\0" for mode, oid, rel in entries).encode("utf-8", "surrogateescape")
    git(top, "update-index", "-z", "--index-info", input=listing)


def merge_attribute(top: Path, rels: list[str]) -> dict[str, str]:
    """The `merge` attribute of each path ("unspecified", "set", or a driver's name)."""
    if not rels:
        return {}
    listing = ("\0".join(rels) + "\0").encode("utf-8", "surrogateescape")
    fields = git(top, "check-attr", "-z", "--stdin", "merge", input=listing).split("\0")
    return {fields[i]: fields[i + 2] for i in range(0, len(fields) - 2, 3)}


def merge_bases(top: Path, a: str, b: str) -> list[str]:
    return git(top, "merge-base", "--all", a, b, check=False).split()


def merge_head(top: Path) -> str | None:
    """The commit being merged in (MERGE_HEAD), or None when no merge is in progress."""
    try:
        return (git_dir(top) / "MERGE_HEAD").read_text(encoding="utf-8").split()[0]
    except (OSError, IndexError):
        return None


def run_merge(top: Path, args: list[str], *, driver: str | None, env: dict[str, str]) -> tuple[int, str]:
    """`git [-c merge.crmkit.driver=DRIVER] <args>` (a pull or a merge); (exit code, output).

    DRIVER "false" keeps every file both sides changed unmerged in the index, for one
    process to resolve afterwards; None leaves git's configured driver alone."""
    import subprocess

    config = ["-c", f"{MERGE_DRIVER_KEY}={driver}"] if driver else []
    full_env = {**os.environ, **env, "GIT_TERMINAL_PROMPT": "0", "GIT_MERGE_AUTOEDIT": "no"}
    proc = subprocess.run(["git", *config, *args], cwd=top, env=full_env, capture_output=True)
    return proc.returncode, (proc.stdout + proc.stderr).decode("utf-8", "replace").strip()
