"""Records built to live as long as the command: read with the cyclic collector off, with
repeated keys, short texts and time zones shared (store/workspace.py reads with these)."""

from __future__ import annotations

import datetime as dt
import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_ZONES: dict[Any, dt.tzinfo] = {}


@contextmanager
def long_lived() -> Iterator[None]:
    """Build objects that live as long as the command: the cyclic collector off meanwhile,
    then the objects frozen. Reading builds hundreds of thousands of small objects, which
    the collector would only scan again and again (it tripled warm reads of 100,000 deals)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def shared(node: Any) -> Any:
    """The same value with repeated parts shared: keys and short texts interned, one tzinfo
    per offset. The parser makes a new object for each; pickle stores a shared object
    once, so the parse cache gets smaller and loads faster."""
    if isinstance(node, dict):
        return {(sys.intern(k) if type(k) is str else k): shared(v) for k, v in node.items()}
    if isinstance(node, list):
        return [shared(v) for v in node]
    if type(node) is str and len(node) <= 40:
        return sys.intern(node)
    if isinstance(node, dt.datetime) and node.tzinfo is not None:
        zone = _ZONES.setdefault(node.utcoffset(), node.tzinfo)
        return node if zone is node.tzinfo else node.replace(tzinfo=zone)
    return node
