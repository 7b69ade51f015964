"""Blocking calls into a remote filesystem that a job's stop condition can interrupt.

A host function blocked in a network request (an fsspec ranged fetch, an ``info``) does not return to the guest,
so the epoch deadline that ends a cancelled or timed-out job never fires while it waits. :class:`StoppableCalls`
runs such calls in a helper thread and waits for them in :data:`POLL_SECONDS` slices, checking the job's
``should_stop``: once it is true the host function gives up with ``EIO`` (the runtime reports why the job stopped),
and the request finishes — or fails — in the helper thread, unobserved. Nothing the guest owns is handed to that
thread (results come back as new ``bytes``), so an abandoned call can never touch a finished job's memory.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from . import constants as c
from .errors import WasiError

T = TypeVar("T")

#: how often a waiting host call checks the stop condition
POLL_SECONDS = 0.05


class JobStopping(WasiError):
    """The job is being stopped while a host call waited on the filesystem (the guest sees ``EIO``)."""

    def __init__(self) -> None:
        super().__init__(c.EIO, "the job is being stopped")


class _Call:
    __slots__ = ("fn", "args", "done", "result", "error")

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.fn = fn
        self.args = args
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.fn(*self.args)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            self.error = exc
        finally:
            self.done.set()


def _work(jobs: queue.SimpleQueue[_Call | None]) -> None:
    while True:
        job = jobs.get()
        if job is None:
            return
        job.run()
        del job  # an abandoned call's result is garbage now


class StoppableCalls:
    """Runs one mount's blocking filesystem calls so that ``should_stop`` can interrupt the wait.

    Without a stop condition (``should_stop`` is ``None``: no time limit, no cancel token) calls run directly in
    the calling thread. Otherwise they run, one at a time, in a daemon helper thread started on first use and
    ended by :meth:`close`.
    """

    def __init__(self) -> None:
        #: the job's stop condition (set by the host once the runtime knows it)
        self.should_stop: Callable[[], bool] | None = None
        self._jobs: queue.SimpleQueue[_Call | None] | None = None
        #: a call was given up while still running: the helper thread is (or was) busy with it
        self.abandoned = False
        self._closed = False

    def __call__(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)``, or :class:`JobStopping` as soon as the job must stop."""
        should_stop = self.should_stop
        if should_stop is None or self._closed:
            return fn(*args)
        if should_stop():
            raise JobStopping
        if self._jobs is None:
            self._jobs = queue.SimpleQueue()
            threading.Thread(target=_work, args=(self._jobs,), name="afmpeg-remote-io", daemon=True).start()
        call = _Call(fn, args)
        self._jobs.put(call)
        try:
            while not call.done.wait(POLL_SECONDS):
                if should_stop():
                    raise JobStopping
        except BaseException:  # JobStopping, or e.g. KeyboardInterrupt while waiting
            if not call.done.is_set():
                self.abandoned = True
            raise
        if call.error is not None:
            error, call.error = call.error, None
            raise error
        return call.result  # type: ignore[no-any-return]

    def after(self, fn: Callable[[], Any]) -> None:
        """Run ``fn`` once every call given so far has finished: now, or later in the helper thread (e.g. closing a
        file object an abandoned call is still reading). ``fn``'s errors are ignored."""
        if self.abandoned:
            if self._jobs is not None and not self._closed:
                self._jobs.put(_Call(fn, ()))
            return  # (after close: left to the garbage collector, which closes file objects too)
        try:
            fn()
        except Exception:  # noqa: BLE001 - best effort
            pass

    def close(self) -> None:
        """End the helper thread (after the calls queued so far; at once if it is idle)."""
        if self._jobs is not None and not self._closed:
            self._jobs.put(None)
        self._closed = True
