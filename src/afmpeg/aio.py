"""asyncio support: run jobs in a thread executor without blocking the event loop.

The coroutines here back :meth:`Runtime.run_async <afmpeg.Runtime.run_async>` and its siblings. Each job runs on
an executor thread (wasm releases the GIL, so the loop stays responsive and several jobs run in parallel).
Cancelling the awaiting task fires the job's :class:`~afmpeg.CancelToken`: the guest stops within about 50 ms of
execution, nothing it wrote is published, and the task's ``CancelledError`` is raised once the job's thread has
let go of the job (so a cancelled await never leaves a job running behind your back).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from .limits import CancelToken, LinkedToken
from .progress import Progress

if TYPE_CHECKING:
    from .results import FramesResult, ProbeResult, ProcessResult
    from .runtime import Runtime

__all__ = ["run_in_thread", "run_async", "probe_async", "frames_async", "call_async"]


async def run_in_thread(
    func: Callable[..., Any],
    *args: Any,
    cancel: CancelToken | None = None,
    executor: Executor | None = None,
    progress: Callable[[Progress], Any] | None = None,
    **kwargs: Any,
) -> Any:
    """Await ``func(*args, cancel=<token>, **kwargs)`` (a Runtime method) run on ``executor``.

    ``executor`` defaults to the loop's default executor. ``cancel`` is an optional token of yours; the job gets a
    token that follows it and also fires when the awaiting task is cancelled. ``progress`` (if given) is passed on
    as the method's ``progress`` callback but called on the event loop's thread, so it may touch asyncio objects.
    """
    loop = asyncio.get_running_loop()
    token = LinkedToken(cancel)
    if progress is not None:
        callback = progress

        def on_progress(report: Progress) -> None:
            # never block the job: hand the report to the loop and return
            loop.call_soon_threadsafe(callback, report)

        kwargs["progress"] = on_progress
    job = loop.run_in_executor(executor, functools.partial(func, *args, cancel=token, **kwargs))
    try:
        return await asyncio.shield(job)
    except asyncio.CancelledError:
        token.cancel()
        # wait for the thread to drop the job; a second cancel() stops the wait, not the cancellation
        await asyncio.wait([job])
        if not job.cancelled():
            job.exception()  # the job's Cancelled error is expected: mark it retrieved
        raise


async def run_async(runtime: Runtime, job: Any, **kwargs: Any) -> ProcessResult:
    """:meth:`Runtime.run <afmpeg.Runtime.run>` awaited (keywords: those of ``run``, plus ``executor``)."""
    result: ProcessResult = await run_in_thread(runtime.run, job, **kwargs)
    return result


async def probe_async(runtime: Runtime, path: Any, **kwargs: Any) -> ProbeResult:
    """:meth:`Runtime.probe <afmpeg.Runtime.probe>` awaited (keywords: those of ``probe``, plus ``executor``)."""
    result: ProbeResult = await run_in_thread(runtime.probe, path, **kwargs)
    return result


async def frames_async(runtime: Runtime, job: Any, **kwargs: Any) -> FramesResult:
    """:meth:`Runtime.frames <afmpeg.Runtime.frames>` awaited (keywords: those of ``frames``, plus ``executor``)."""
    result: FramesResult = await run_in_thread(runtime.frames, job, **kwargs)
    return result


async def call_async(runtime: Runtime, job: Any, **kwargs: Any) -> dict[str, Any]:
    """:meth:`Runtime.call <afmpeg.Runtime.call>` awaited (keywords: those of ``call``, plus ``executor``)."""
    result: dict[str, Any] = await run_in_thread(runtime.call, job, **kwargs)
    return result
