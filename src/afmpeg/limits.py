"""Per-job limits and cancellation: wall time and cancel tokens through wasmtime epoch interruption.

One daemon ticker thread per wasmtime Engine increments the epoch every :data:`TICK_SECONDS` while jobs with a
time limit or a cancel token run (it stops when the last one ends). Such a job gets a Store epoch deadline of
:data:`CHECK_TICKS` ticks and a deadline *callback*: each time the deadline is reached (on the job's own thread)
the callback checks the token and the clock, and either extends the deadline or ends the guest with an error.
No other thread touches the Store.
"""

from __future__ import annotations

import ctypes
import itertools
import threading
import time
import weakref
from typing import Any

from .wasi import _raw

__all__ = ["CancelToken", "LinkedToken", "TICK_SECONDS", "CHECK_TICKS"]

TICK_SECONDS = 0.01
CHECK_TICKS = 5  # the callback runs about every 50 ms of guest execution
STOP_MARKER = "afmpeg:stopped"


class CancelToken:
    """Cancels the job(s) it is passed to (``runtime.run(job, cancel=token)``), from any thread.

    :meth:`cancel` makes a running job stop promptly (within about 50 ms of guest execution) with
    :class:`~afmpeg.Cancelled`; a job started with an already-cancelled token stops at once. Thread-safe.
    """

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask every job using this token to stop."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._event.is_set()

    def __repr__(self) -> str:
        return f"CancelToken(cancelled={self.cancelled})"


class LinkedToken(CancelToken):
    """One job's own token: cancelled by :meth:`cancel` or when any of its ``parents`` (e.g. the caller's token) is.

    Cancelling it does not cancel the parents, so stopping one job (a pool future, an asyncio task, a
    :class:`~afmpeg.RunningJob`, a frame reader) never stops other jobs that share the caller's token.
    """

    def __init__(self, *parents: CancelToken | None) -> None:
        super().__init__()
        self.parents = tuple(p for p in parents if p is not None)

    @property
    def cancelled(self) -> bool:
        """True once this token or one of its parents was cancelled."""
        return self._event.is_set() or any(p.cancelled for p in self.parents)

    @property
    def cancelled_here(self) -> bool:
        """True if this token itself (not a parent) was cancelled."""
        return self._event.is_set()


class Watch:
    """What the deadline callback checks for one job; ``reason`` is ``"timeout"``, ``"cancelled"`` or
    ``"interrupted"`` (Ctrl-C, see :mod:`afmpeg.sigint`) once hit."""

    def __init__(self, time_limit: float | None, cancel: CancelToken | None) -> None:
        self.deadline = None if time_limit is None else time.monotonic() + time_limit
        self.cancel = cancel
        self.interrupted = False
        self.reason: str | None = None

    def check(self) -> str | None:
        if self.interrupted:
            self.reason = "interrupted"
        elif self.cancel is not None and self.cancel.cancelled:
            self.reason = "cancelled"
        elif self.deadline is not None and time.monotonic() >= self.deadline:
            self.reason = "timeout"
        return self.reason


_WATCHES: dict[int, Watch] = {}
_KEYS = itertools.count(1)


def _on_deadline(ctx: int, env: int, delta: Any, kind: Any) -> int:
    # runs on the job's thread inside wasm; must never raise
    try:
        watch = _WATCHES.get(env or 0)
        if watch is None or watch.check() is None:
            delta[0] = CHECK_TICKS
            kind[0] = 0  # WASMTIME_UPDATE_DEADLINE_CONTINUE
            return 0
        return _raw.error_new(STOP_MARKER.encode()) or 0
    except BaseException:  # noqa: BLE001 - never raise into wasmtime
        try:
            delta[0] = CHECK_TICKS
            kind[0] = 0
        except BaseException:  # noqa: BLE001
            pass
        return 0


_CALLBACK = _raw.DEADLINE_CALLBACK(_on_deadline)


def watch_store(engine: Any, store: int, ctx: int, watch: Watch) -> int:
    """Arm ``store``'s epoch deadline and callback for ``watch`` and keep ``engine``'s ticker running until
    :func:`unwatch`; returns the key to pass to it."""
    key = next(_KEYS)
    _WATCHES[key] = watch
    _acquire_ticker(engine)
    _raw.store_epoch_deadline_callback(store, ctypes.cast(_CALLBACK, ctypes.c_void_p).value, key, None)
    _raw.context_set_epoch_deadline(ctx, CHECK_TICKS)
    return key


def unwatch(engine: Any, key: int) -> None:
    if _WATCHES.pop(key, None) is not None:
        _release_ticker(engine)


class _Ticker:
    """How many watched jobs an engine has, and the thread ticking for them (None when idle)."""

    def __init__(self) -> None:
        self.users = 0
        self.thread: threading.Thread | None = None


_tickers: weakref.WeakKeyDictionary[Any, _Ticker] = weakref.WeakKeyDictionary()
_tickers_lock = threading.Lock()


def _acquire_ticker(engine: Any) -> None:
    """Count one more watched job; start the engine's ticker thread if it is idle.

    The thread only runs while watched jobs exist, so an idle Runtime costs no wake-ups.
    """
    with _tickers_lock:
        ticker = _tickers.setdefault(engine, _Ticker())
        ticker.users += 1
        if ticker.thread is None:
            ticker.thread = threading.Thread(
                target=_tick, args=(weakref.ref(engine), ticker), name="afmpeg-epoch", daemon=True
            )
            ticker.thread.start()


def _release_ticker(engine: Any) -> None:
    with _tickers_lock:
        ticker = _tickers.get(engine)
        if ticker is not None:
            ticker.users -= 1


def _tick(ref: weakref.ref[Any], ticker: _Ticker) -> None:
    while True:
        with _tickers_lock:
            engine = ref()
            if engine is None or ticker.users <= 0:
                ticker.thread = None  # the next watched job starts a new thread
                return
        engine.increment_epoch()
        del engine
        time.sleep(TICK_SECONDS)
