"""Settings read from the environment, each parsed once with a clear error.

An environment variable is input like any other: `CRMKIT_LOCK_TIMEOUT=abc` is the
user's mistake (exit 2, usage), never an internal error.
"""

from __future__ import annotations

import math
import os

from crmkit.errors import UsageError

DEFAULT_LOCK_TIMEOUT = 10.0
#: A day: longer than any sane wait, and small enough for time.monotonic() arithmetic.
MAX_LOCK_TIMEOUT = 86_400.0


def lock_timeout() -> float:
    """$CRMKIT_LOCK_TIMEOUT: seconds a writer waits for the workspace lock (default 10)."""
    text = os.environ.get("CRMKIT_LOCK_TIMEOUT")
    if text is None or not text.strip():
        return DEFAULT_LOCK_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0 <= value <= MAX_LOCK_TIMEOUT:
        raise UsageError(
            f"CRMKIT_LOCK_TIMEOUT={text!r}: expected a number of seconds from 0 to {MAX_LOCK_TIMEOUT:g}"
        )
    return value
