"""Named points where the fault-injection suite may kill the process.

CRMKIT_FAULT_POINT=name:n kills this process with SIGKILL the n-th time it passes the
named point (several as name:n,name2:m). Only the fault-injection suite sets it; unset,
the cost is one dictionary lookup per point.
"""

from __future__ import annotations

import os
import signal

_FAULTS: dict[str, int] = {}
_PASSES: dict[str, int] = {}


def _load_faults() -> None:
    _FAULTS.clear()
    _PASSES.clear()
    for part in os.environ.get("CRMKIT_FAULT_POINT", "").split(","):
        name, _, n = part.strip().partition(":")
        if name:
            _FAULTS[name] = int(n or "1")


_load_faults()


def fault(name: str) -> None:
    """A named point where the fault-injection suite may kill the process."""
    if not _FAULTS or name not in _FAULTS:
        return
    _PASSES[name] = _PASSES.get(name, 0) + 1
    if _PASSES[name] == _FAULTS[name]:
        os.kill(os.getpid(), signal.SIGKILL)
