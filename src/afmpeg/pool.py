"""Run many jobs across worker threads that share one :class:`~afmpeg.Runtime`.

A Runtime is thread-safe and calls into wasm release the GIL, so N threads run N jobs in parallel on N cores.
:class:`RuntimePool` adds the bookkeeping: futures that know their job, ordered :meth:`RuntimePool.map`, and a
:class:`~afmpeg.CancelToken` per job so that cancelling a future (or shutting the pool down) stops a job that is
already running, not only the queued ones.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .errors import JobSpecError
from .job import FramesJob, Input, ProbeJob, ProcessJob
from .limits import CancelToken, LinkedToken
from .results import ProbeResult

if TYPE_CHECKING:
    from .runtime import Runtime

__all__ = ["RuntimePool", "JobFuture", "map", "METHODS"]

#: The Runtime methods a pool job can run (``method=`` of :meth:`RuntimePool.submit`).
METHODS = ("run", "probe", "frames", "call", "version")


class JobFuture(Future[Any]):
    """The :class:`concurrent.futures.Future` of one pool job.

    ``job`` is the job as it was submitted and ``method`` the Runtime method running it. Unlike a plain Future,
    :meth:`cancel` also stops a job that is already running: it fires the job's :class:`~afmpeg.CancelToken`
    (``token``), and the future then ends with :class:`~afmpeg.Cancelled` within about 50 ms of guest execution.
    """

    def __init__(self, job: Any, method: str, token: CancelToken) -> None:
        super().__init__()
        self.job = job
        self.method = method
        self.token = token

    def cancel(self) -> bool:
        """Cancel the job: a queued one never starts (returns True); a running one is stopped through its token
        and ends with :class:`~afmpeg.Cancelled` (returns False, as ``Future.cancel`` does for running work)."""
        self.token.cancel()
        return super().cancel()


def infer_method(job: Any) -> str:
    """The Runtime method a job calls for: ``run`` (process), ``probe``, ``frames``, or ``call`` (other ops)."""
    if isinstance(job, ProcessJob):
        return "run"
    if isinstance(job, FramesJob):
        return "frames"
    if isinstance(job, ProbeJob | Input | str):
        return "probe"
    if isinstance(job, Mapping):
        op = job.get("op", "process")
        return {"process": "run", "frames": "frames", "probe": "probe"}.get(op, "call")
    if isinstance(job, list | tuple) and all(isinstance(item, str | Input) for item in job):
        return "probe"
    raise JobSpecError(f"cannot tell which kind of job a {type(job).__name__} is; pass method=")


def _runner(runtime: Runtime, method: str, job: Any) -> Callable[..., Any]:
    """The callable running ``job`` with ``method`` (it takes the Runtime keywords)."""
    if method == "version":
        return lambda **kw: runtime.version(**kw)  # the limits and the job's cancel token apply here too
    if method == "probe" and isinstance(job, Mapping):
        # probe() takes paths or a ProbeJob; a wire dict goes through call() and is parsed the same way
        return lambda **kw: ProbeResult.from_dict(runtime.call({"op": "probe", **job}, **kw))
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)} (got {method!r})")
    bound = getattr(runtime, method)
    return lambda **kw: bound(job, **kw)


class RuntimePool:
    """Runs jobs on ``workers`` threads sharing one Runtime.

    Args:
        runtime: the Runtime to share (default: a new ``Runtime(**runtime_options)``).
        workers: how many jobs run at once (default: the number of CPUs). Each running job holds its own wasm
            instance, so memory use grows with it (up to ``memory_limit`` per job).
        runtime_options: keywords for the Runtime made when ``runtime`` is not given (``module``, ``fs``, ``root``,
            ``storage_options``, limits…).

    Use it as a context manager: leaving the block normally waits for every job; leaving it through an exception
    (Ctrl-C included) cancels queued jobs and stops running ones. ::

        with afmpeg.RuntimePool(rt, workers=4) as pool:
            for result in pool.map(jobs, return_exceptions=True):
                ...
    """

    def __init__(self, runtime: Runtime | None = None, workers: int | None = None, **runtime_options: Any) -> None:
        if runtime is None:
            from .runtime import Runtime

            runtime = Runtime(**runtime_options)
        elif runtime_options:
            raise TypeError("pass either a runtime or Runtime options, not both")
        self.runtime = runtime
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1 (got {self.workers})")
        self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="afmpeg-pool")
        self._lock = threading.Lock()
        self._live: set[JobFuture] = set()
        self._closed = False

    def __repr__(self) -> str:
        return f"RuntimePool(workers={self.workers}, jobs={len(self._live)}, closed={self._closed})"

    def __enter__(self) -> RuntimePool:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.shutdown(wait=True, cancel_pending=exc_type is not None)

    def submit(
        self, job: Any, *, method: str | None = None, cancel: CancelToken | None = None, **kwargs: Any
    ) -> JobFuture:
        """Queue one job and return its :class:`JobFuture`.

        ``method`` names the Runtime method (``run``, ``probe``, ``frames``, ``call``, ``version``); by default it
        follows the job: a ProcessJob runs, a FramesJob writes frames, a ProbeJob / path / Input is probed, and a
        wire dict goes by its ``"op"`` (``process`` → run, ``frames``, ``probe``, anything else → call). The other
        keywords go to that method: ``fs``, ``root``, ``storage_options`` (for an ``fs`` URL), ``progress`` (run
        and call), ``memory_limit``, ``time_limit``, ``output_limit`` and ``devices`` (stream devices; ``version``
        takes only the limits). ``cancel`` is a token of yours that stops the job as well as the future's own.
        Progress callbacks run on the worker thread; the host side of a stream device needs a thread of its own.
        """
        method = method or infer_method(job)
        run = _runner(self.runtime, method, job)
        token = LinkedToken(cancel)
        future = JobFuture(job, method, token)
        with self._lock:
            if self._closed:
                raise RuntimeError("the pool is shut down")
            self._live.add(future)
            self._executor.submit(self._work, future, run, {**kwargs, "cancel": token})
        return future

    def _work(self, future: JobFuture, run: Callable[..., Any], kwargs: dict[str, Any]) -> None:
        try:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = run(**kwargs)
            except BaseException as exc:  # noqa: BLE001 - it belongs to the job's future
                future.set_exception(exc)
            else:
                future.set_result(result)
        finally:
            with self._lock:
                self._live.discard(future)

    def map(
        self,
        jobs: Iterable[Any],
        *,
        method: str | None = None,
        return_exceptions: bool = False,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Run ``jobs`` and yield their results in the order of ``jobs``.

        Jobs are submitted as the results are consumed, a few per worker ahead, so a long (or endless) iterable
        never piles up in memory. With ``return_exceptions=True`` a failed job yields its exception in its place
        and the others go on; otherwise the first failure is raised and the jobs still queued or running are
        cancelled. ``timeout`` bounds the wait for each result (``TimeoutError``); closing the iterator early also
        cancels what is left. The other keywords go to :meth:`submit`, the same for every job (so ``devices``, whose
        pipe devices open once, suits a single job only: give each job its own with :meth:`submit`).
        """
        source = iter(jobs)
        ahead = 2 * self.workers
        pending: deque[JobFuture] = deque()
        try:
            for job in source:
                pending.append(self.submit(job, method=method, **kwargs))
                if len(pending) >= ahead:
                    break
            while pending:
                future = pending.popleft()
                job = next(source, _END)
                if job is not _END:
                    pending.append(self.submit(job, method=method, **kwargs))
                try:
                    result = future.result(timeout)
                except Exception as exc:
                    # a wait that timed out is the caller's failure, not the job's
                    if not return_exceptions or not future.done():
                        raise
                    yield exc
                else:
                    yield result
        finally:
            for future in pending:
                future.cancel()

    def cancel_all(self) -> int:
        """Cancel every job not yet finished (queued ones never start, running ones stop); returns how many."""
        with self._lock:
            live = list(self._live)
        for future in live:
            future.cancel()
        return len(live)

    def shutdown(self, wait: bool = True, *, cancel_pending: bool = False) -> None:
        """Stop accepting jobs; with ``cancel_pending`` also cancel the jobs not yet finished (queued ones never
        start, running ones are stopped through their tokens and end with :class:`~afmpeg.Cancelled`); with
        ``wait`` return only once every worker thread is done."""
        with self._lock:
            self._closed = True
        if cancel_pending:
            self.cancel_all()
        self._executor.shutdown(wait=wait)


_END = object()


def map(  # noqa: A001 - afmpeg.map mirrors the builtin on purpose
    jobs: Iterable[Any],
    *,
    workers: int | None = None,
    runtime: Runtime | None = None,
    method: str | None = None,
    return_exceptions: bool = False,
    timeout: float | None = None,
    **kwargs: Any,
) -> Iterator[Any]:
    """Run ``jobs`` on a temporary :class:`RuntimePool` and yield their results in order.

    ``runtime`` defaults to a new :class:`~afmpeg.Runtime`; ``workers`` to the number of CPUs. The other keywords
    are those of :meth:`RuntimePool.map`. Leaving the loop early cancels the jobs still queued or running.
    """
    with RuntimePool(runtime, workers) as pool:
        yield from pool.map(jobs, method=method, return_exceptions=return_exceptions, timeout=timeout, **kwargs)
