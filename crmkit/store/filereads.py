"""Reading a kind's record files fast: through the parse cache, and derived values of them.

`RecordFiles` is the part of :class:`crmkit.store.workspace.Workspace` that lists a
kind's files (never following a link), serves unchanged files from the pickled parse
cache (`store/cache.py`) and parses only the rest (`store/parsing.py`). Workspace
inherits it; the state it reads is the workspace's own, declared here for the types.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmkit.errors import CrmkitError, Problem
from crmkit.store import cache, paths, yamlio
from crmkit.store.parsing import parse_files
from crmkit.store.records import FOLDERS, Record
from crmkit.store.sharing import long_lived


class RecordFiles:
    """Record files read through the parse cache (the workspace's fast read path)."""

    root: Path
    warnings: list[Problem]
    _unsafe_said: set[Problem]
    #: (size, mtime) of the record files read, when old enough to trust (not racy)
    _stats: dict[str, dict[str, tuple[int, int]]]
    _tombstones: dict[str, dict[str, str]]

    if TYPE_CHECKING:  # Workspace's own, used here

        def index(self, kind: str) -> dict[str, Record]: ...

        def tombstones(self, kind: str) -> dict[str, str]: ...

        def rel(self, path: Path) -> str: ...

    def derived(
        self, kind: str, name: str, fn: Callable[[str, dict[str, Any]], Any], key: str = ""
    ) -> list[tuple[str, Any]] | None:
        """`fn(id, data)` for every record of a kind, as (id, value) pairs sorted by id.

        The values are cached beside the parse cache, per file and kept while its size
        and mtime stay the same, and as a whole while `key` (whatever else `fn` depends
        on) is unchanged. A warm run then unpickles only the small values instead of
        whole records: `list --json` keeps each row's JSON text, the pipeline reports a
        summary of the fields they read. None when a file cannot be read: the caller
        then takes the ordinary path, which warns. `fn` never returns None (None marks
        a merged record in the cache).
        """
        entries = self._entries(kind)
        path = cache.cache_path(self.root, f"{FOLDERS[kind]}.{name}")
        header = (cache.CACHE_VERSION, key)
        with long_lived():
            stored: dict[str, tuple[int, int, Any]] = cache.load(path, header) or {}
            racy_after = cache.racy_after()
            out: list[tuple[str, Any]] = []
            fresh: dict[str, tuple[int, int, Any]] = {}
            changed = False
            yamlio.COUNTS["visit"] += len(entries)
            for entry in entries:
                try:
                    st = entry.stat()
                except FileNotFoundError:
                    continue
                size, mtime = st.st_size, st.st_mtime_ns
                fname = entry.name
                rid = fname[:-5]
                hit = stored.get(fname)
                if hit is None or hit[0] != size or hit[1] != mtime:
                    changed = True
                    rec = self.index(kind).get(rid)
                    if rec is not None:
                        hit = (size, mtime, fn(rid, rec.data))
                    elif rid in self.tombstones(kind):
                        hit = (size, mtime, None)
                    else:
                        return None  # broken: let the ordinary path warn
                if mtime < racy_after:  # else too recent to trust its mtime: not kept
                    fresh[fname] = hit
                value = hit[2]
                if value is not None:
                    out.append((rid, value))
            if changed or len(fresh) != len(stored):
                cache.save(self.root, path, header, fresh)
            out.sort(key=operator.itemgetter(0))
            return out

    def _entries(self, kind: str) -> list[os.DirEntry[str]]:
        """The record files of a kind (hidden files and editors' leftovers skipped)."""
        folder = self.root / FOLDERS[kind]
        try:
            paths.guard(folder)
            entries = [e for e in os.scandir(folder)
                       if e.name.endswith(".yaml") and not e.name.startswith(".")]
        except FileNotFoundError:
            return []
        except paths.UnsafePath as exc:
            self._warn_unsafe(exc)
            return []
        links = [e for e in entries if e.is_symlink()]  # never followed: they may point outside
        for e in links:
            self._warn_unsafe(paths.UnsafePath("is a symbolic link; not read", path=self.rel(Path(e.path))))
        return [e for e in entries if not e.is_symlink()] if links else entries

    def _warn_unsafe(self, exc: CrmkitError) -> None:
        problem = Problem(exc.path or "", None, "symlink", exc.message)
        # once per command: a folder listed again (check reads it from its own cache
        # first, then the checkers read records) must not warn again after it was reported
        if problem not in self._unsafe_said:
            self._unsafe_said.add(problem)
            self.warnings.append(problem)

    def _read_kind(self, kind: str) -> list[Record]:
        entries = self._entries(kind)
        path_of_cache = cache.cache_path(self.root, FOLDERS[kind])
        header = (cache.CACHE_VERSION,)
        stored: dict[str, tuple[int, int, Any]] = cache.load(path_of_cache, header) or {}
        fresh: dict[str, tuple[int, int, Any]] = {}
        changed = False
        racy_after = cache.racy_after()
        out: list[Record] = []
        tombstones = self._tombstones.setdefault(kind, {})
        yamlio.COUNTS["visit"] += len(entries)
        found: list[tuple[os.DirEntry[str], int, int, Any]] = []
        missed: list[int] = []
        for entry in entries:
            try:
                st = entry.stat()
            except FileNotFoundError:
                continue
            size, mtime = st.st_size, st.st_mtime_ns
            hit = stored.get(entry.name)
            if hit is not None and hit[0] == size and hit[1] == mtime:
                found.append((entry, size, mtime, hit))
            else:
                missed.append(len(found))
                found.append((entry, size, mtime, None))
        # a broken file's error is cached too: it is not parsed again until it changes
        for at, data in zip(missed, parse_files([found[i][0].path for i in missed]), strict=True):
            found[at] = (*found[at][:3], (found[at][1], found[at][2], data))
            changed = True
        stats = self._stats[kind] = {}
        for entry, size, mtime, hit in found:
            name = entry.name
            data = hit[2]
            rid = name[:-5]
            if mtime < racy_after:
                fresh[name] = hit
                stats[rid] = (size, mtime)
            else:
                changed = True
            if type(data) is dict:
                if "merged_into" in data:
                    tombstones[rid] = str(data["merged_into"])
                    continue
                out.append(Record(kind, rid, data, entry.path))
            else:
                self.warnings.append(Problem(self.rel(Path(entry.path)), data.line, "yaml", data.message))
        if changed or len(fresh) != len(stored):
            cache.save(self.root, path_of_cache, header, fresh)
        out.sort(key=lambda r: r.id)
        return out
