"""Ctrl-C while a job runs on the main thread: a stop request, then a KeyboardInterrupt once the job is gone.

Python runs signal handlers between bytecodes of the main thread, and during a job those bytecodes are often
inside the ctypes callbacks wasmtime calls (the WASI functions, the epoch-deadline check). A KeyboardInterrupt
raised there escapes the callback before it can answer wasmtime, which then reads garbage and crashes the
process. So while a job runs on the main thread, SIGINT only sets a flag the deadline check reads; the job stops
like a cancelled one (nothing published), and the handler that was installed before is called afterwards, at a
safe point — by default it raises KeyboardInterrupt as usual.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

__all__ = ["SigintDeferral"]


class SigintDeferral:
    """Defers SIGINT for the duration of a ``with`` block on the main thread (elsewhere it does nothing).

    ``on_signal`` is called (from the signal handler, so it must only set flags) when SIGINT arrives; after the
    block, :meth:`deliver` hands the signal to the previous handler. Only a Python-level handler is replaced:
    an ignored or default-action SIGINT is left alone.
    """

    def __init__(self, on_signal: Callable[[], None]) -> None:
        self._on_signal = on_signal
        self._previous: Any = None
        self._pending: tuple[int, FrameType | None] | None = None
        self.active = False

    def __enter__(self) -> SigintDeferral:
        if threading.current_thread() is not threading.main_thread():
            return self
        previous = signal.getsignal(signal.SIGINT)
        if not callable(previous):  # SIG_IGN, SIG_DFL, or set outside Python
            return self
        self._previous = previous
        signal.signal(signal.SIGINT, self._handle)
        self.active = True
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self._pending = (signum, frame)
        self._on_signal()

    def __exit__(self, *exc: object) -> None:
        if self.active:
            signal.signal(signal.SIGINT, self._previous)
            self.active = False

    @property
    def pending(self) -> bool:
        """True when SIGINT arrived during the block."""
        return self._pending is not None

    def deliver(self) -> None:
        """Call the previous handler for a SIGINT that arrived during the block (it usually raises)."""
        if self._pending is not None and callable(self._previous):
            signum, frame = self._pending
            self._pending = None
            self._previous(signum, frame)
