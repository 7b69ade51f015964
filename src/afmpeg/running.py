"""Jobs running in the background: ``handle = runtime.start(job)``, then iterate its progress, wait, or cancel it.

::

    handle = runtime.start(job)
    for p in handle.progress():          # ends when the job ends
        print(f"{p.out_time:.1f} s")
    result = handle.result()             # the ProcessResult, or the job's exception

The job runs in its own thread (a Runtime is thread-safe and wasm releases the GIL, so the caller's thread stays
free). Progress reports are handed over through a small buffer: the engine thread never waits for the consumer,
so a slow or absent consumer never slows the job (when the buffer is full the oldest reports are dropped).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from .errors import Cancelled
from .limits import CancelToken, LinkedToken
from .progress import Progress

__all__ = ["RunningJob", "PROGRESS_BUFFER"]

T = TypeVar("T")

#: the most progress reports kept for :meth:`RunningJob.progress` while nobody consumes them
PROGRESS_BUFFER = 4096


class RunningJob(Generic[T]):
    """A job running in a background thread (made by :meth:`afmpeg.Runtime.start`).

    ``target`` is called in the thread as ``target(progress_callback, cancel_token)`` and its return value is the
    job's result. Most code gets a RunningJob from ``Runtime.start`` rather than building one.

    Args:
        target: the work (it must pass the callback and the token on to the Runtime call it makes).
        progress: an extra callback to call with every report (e.g. :func:`afmpeg.progress_bar`), on the job's
            thread. As with ``Runtime.run``, an exception it raises does not disturb the job (the callback is not
            called again) and is raised by :meth:`result` once the job has finished.
        cancel: a token of the caller's that also stops the job; :meth:`cancel` stops only this job (its own token).
        name: the thread's name.

    Use it as a context manager to make sure the job is finished (or cancelled, if the block raised) on exit.
    """

    def __init__(
        self,
        target: Callable[[Callable[[Progress], None], CancelToken], T],
        *,
        progress: Callable[[Progress], None] | None = None,
        cancel: CancelToken | None = None,
        name: str = "afmpeg-job",
    ) -> None:
        self._target = target
        self._extra_callback = progress
        #: this job's own token (linked to ``cancel``): cancelling the handle stops only this job
        self.token: CancelToken = LinkedToken(cancel)
        self._cond = threading.Condition()
        self._events: deque[Progress] = deque(maxlen=PROGRESS_BUFFER)
        self._finished = False
        self._result: Any = None
        self._error: BaseException | None = None
        self._callback_error: BaseException | None = None
        #: the most recent progress report, or ``None`` before the first
        self.latest: Progress | None = None
        #: how many reports the job produced
        self.reports = 0
        # daemon: a job left running must not keep the interpreter alive at exit
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()

    # ----------------------------------------------------------------- job thread

    def _on_progress(self, p: Progress) -> None:
        # runs on the job's thread inside a host call: constant work, never blocks on the consumer
        with self._cond:
            self._events.append(p)
            self.latest = p
            self.reports += 1
            self._cond.notify_all()
        if self._extra_callback is not None and self._callback_error is None:
            try:
                self._extra_callback(p)
            except BaseException as exc:  # noqa: BLE001 - kept apart so the iterator keeps getting reports
                self._callback_error = exc

    def _main(self) -> None:
        try:
            result = self._target(self._on_progress, self.token)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller by result()
            with self._cond:
                self._error = exc
                self._finished = True
                self._cond.notify_all()
            return
        with self._cond:
            self._result = result
            self._error = self._callback_error  # like Runtime.run: a callback's error is raised after the job
            self._finished = True
            self._cond.notify_all()

    # ----------------------------------------------------------------- caller side

    def progress(self, timeout: float | None = None) -> Iterator[Progress]:
        """Yield the job's progress reports as they arrive; the iteration ends when the job ends.

        Reports are consumed: iterate from one place. Reports made before the iteration started are yielded
        first (up to :data:`PROGRESS_BUFFER` of them). The iteration does not raise the job's error — call
        :meth:`result` afterwards for that. ``timeout``: the longest wait for one report, in seconds; past it
        :class:`TimeoutError` is raised (the job keeps running).
        """
        while True:
            with self._cond:
                while not self._events and not self._finished:
                    if not self._cond.wait(timeout):
                        raise TimeoutError(f"no progress report within {timeout} s")
                if not self._events:
                    return
                event = self._events.popleft()
            yield event

    def __iter__(self) -> Iterator[Progress]:
        """Same as :meth:`progress`."""
        return self.progress()

    def done(self) -> bool:
        """Whether the job has finished (succeeded, failed or been cancelled)."""
        with self._cond:
            return self._finished

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the job to finish; returns :meth:`done` (``False`` if ``timeout`` seconds passed first)."""
        with self._cond:
            self._cond.wait_for(lambda: self._finished, timeout)
            return self._finished

    def result(self, timeout: float | None = None) -> T:
        """Wait for the job and return its result, or raise the exception that ended it.

        Raises :class:`TimeoutError` if ``timeout`` seconds pass first (the job keeps running), and
        :class:`~afmpeg.Cancelled` for a cancelled job.
        """
        if not self.wait(timeout):
            raise TimeoutError(f"the job did not finish within {timeout} s")
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[no-any-return]

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """Wait for the job and return the exception that ended it (``None`` if it succeeded)."""
        if not self.wait(timeout):
            raise TimeoutError(f"the job did not finish within {timeout} s")
        return self._error

    def cancel(self, wait: bool = False, timeout: float | None = None) -> None:
        """Ask the job to stop (it ends with :class:`~afmpeg.Cancelled`, publishing nothing).

        Returns at once unless ``wait`` is true, in which case it waits up to ``timeout`` seconds for the job to
        end. Cancelling a finished job does nothing.
        """
        self.token.cancel()
        if wait:
            self.wait(timeout)

    @property
    def cancelled(self) -> bool:
        """Whether the job ended because it was cancelled."""
        with self._cond:
            return self._finished and isinstance(self._error, Cancelled)

    def __enter__(self) -> RunningJob[T]:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:  # the block failed (Ctrl-C included): stop the job rather than orphan it
            self.cancel()
        self.wait()

    def __repr__(self) -> str:
        state = "running" if not self.done() else ("failed" if self._error is not None else "done")
        return f"<RunningJob {state}, {self.reports} progress reports>"
