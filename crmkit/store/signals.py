"""Signals inside a transaction: SIGTERM, SIGHUP and SIGINT become `Interrupted`, so the
transaction rolls back; inside a critical section (moving HEAD, rolling back) they wait."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any


class Interrupted(BaseException):
    """SIGTERM, SIGHUP or SIGINT arrived inside a transaction (it was rolled back).

    A BaseException, like KeyboardInterrupt, so that no `except Exception` in a command's
    code can swallow it half way."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.exit_code = 128 + signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name


CAUGHT = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


class SignalGuard:
    """Turns SIGTERM/SIGHUP/SIGINT into `Interrupted` for the scope of a transaction; inside
    `critical()` (moving HEAD, rolling back) the signal waits until the section is done."""

    def __init__(self) -> None:
        self.depth = 0
        self.pending: int | None = None
        self._saved: dict[int, Any] = {}

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self.depth:
            self.pending = signum
            return
        raise Interrupted(signum)

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signals reach only the main thread; a worker thread has nothing to install
        for sig in CAUGHT:
            try:
                self._saved[sig] = signal.signal(sig, self._handler)
            except (ValueError, OSError):
                pass

    def restore(self) -> None:
        for sig, old in self._saved.items():
            try:
                signal.signal(sig, old)
            except (ValueError, OSError, TypeError):
                pass
        self._saved.clear()

    @contextmanager
    def critical(self) -> Iterator[None]:
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
        if self.depth == 0 and self.pending is not None:
            signum, self.pending = self.pending, None
            raise Interrupted(signum)
