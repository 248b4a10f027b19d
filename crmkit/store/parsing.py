"""Cold reads: parsing the record files the parse cache does not hold, on every CPU.

A cold read of 10,000 deals is almost all YAML construction, which holds the GIL:
threads would not help, processes do. Above PARALLEL_MIN files, the files are split
into one ordered chunk per usable CPU and parsed in forked workers with exactly the
function the one-process path uses (`parse_file`), so both give the same values
(tests/store/test_parsing.py compares them); a pool that cannot start (no fork, a
sandbox refusing processes) means the one-process path, never an error.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from crmkit.errors import CrmkitError
from crmkit.store import yamlio
from crmkit.store.sharing import shared

#: Fewer misses than this are parsed in-process: starting workers costs ~50 ms each.
PARALLEL_MIN = 1500

#: How many processes the last `parse_files` used (tests and bench/ look).
LAST_WORKERS = 1

def parse_file(path: str) -> dict[str, Any] | CrmkitError:
    """One record file on the fast path: its data, or the error that says why it cannot be read."""
    try:
        data = yamlio.load_fast(Path(path))
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise CrmkitError("a record must be a YAML mapping", path=path, line=1)
        return shared(data)  # type: ignore[no-any-return]
    except CrmkitError as exc:
        return exc


def _parse_chunk(paths: list[str]) -> list[tuple[Any, ...]]:
    # errors travel as plain fields: CrmkitError's constructor takes keywords pickle does not pass
    out: list[tuple[Any, ...]] = []
    for path in paths:
        got = parse_file(path)
        if isinstance(got, CrmkitError):
            out.append(("error", type(got), got.message, got.path, got.line, got.column))
        else:
            out.append(("ok", got))
    return out


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def parse_files(paths: list[str]) -> list[dict[str, Any] | CrmkitError]:
    """`parse_file` of each path, in order; on every usable CPU when there are many."""
    global LAST_WORKERS
    LAST_WORKERS = 1
    workers = min(_cpus(), 8)
    if len(paths) < PARALLEL_MIN or workers < 2:
        return [parse_file(p) for p in paths]
    try:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("fork")
        size = -(-len(paths) // workers)
        chunks = [paths[i:i + size] for i in range(0, len(paths), size)]
        with ProcessPoolExecutor(max_workers=len(chunks), mp_context=context) as pool:
            results = list(pool.map(_parse_chunk, chunks))
    except (OSError, ValueError, RuntimeError, ImportError):
        return [parse_file(p) for p in paths]
    out: list[dict[str, Any] | CrmkitError] = []
    for chunk in results:
        for item in chunk:
            # shared in the worker already: texts repeated within a chunk arrive as one object
            out.append(item[1] if item[0] == "ok" else item[1](item[2], path=item[3], line=item[4], column=item[5]))
    yamlio.COUNTS["parse"] += len(paths)  # parsed in the workers: counted here
    LAST_WORKERS = len(chunks)
    return out
