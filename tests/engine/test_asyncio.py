"""asyncio: awaited jobs run in parallel, a cancelled task stops its job promptly, progress reaches the loop."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import afmpeg

from .conftest import make_wav


def _tone_job(i: int) -> dict:
    return {"op": "process", "version": 9,
            "filter": f"sine=frequency={300 + i}:sample_rate=8000:duration={0.1 + i / 100}[a]",
            "outputs": [{"path": f"tone_{i}.wav", "map": ["[a]"]}]}


def _endless_job(path: str) -> dict:
    return {"op": "process", "version": 9, "filter": "testsrc2=size=64x48:rate=25:duration=100000[v]",
            "outputs": [{"path": path, "map": ["[v]"], "video_codec": "mpeg4"}]}


def test_gather_runs_several_jobs(runtime: afmpeg.Runtime, fs) -> None:
    fs.pipe("in.wav", make_wav(seconds=0.3))

    async def main() -> list:
        return await asyncio.gather(
            *(runtime.run_async(_tone_job(i), fs=fs) for i in range(6)),
            runtime.probe_async("in.wav", fs=fs),
            runtime.call_async({"op": "version"}),
            runtime.frames_async({"op": "frames", "version": 9, "inputs": [{"path": "v.mkv"}],
                                  "select": {"timestamp": 0.5}, "path": "still.png"}, fs=fs),
            return_exceptions=True,
        )

    runtime.run({"op": "process", "version": 9, "filter": "testsrc2=size=64x48:rate=10:duration=1[v]",
                 "outputs": [{"path": "v.mkv", "map": ["[v]"], "video_codec": "mpeg4"}]}, fs=fs)
    *tones, probe, version, frames = asyncio.run(main())
    assert [t.outputs[0].path for t in tones] == [f"tone_{i}.wav" for i in range(6)]
    assert probe.inputs[0].duration == pytest.approx(0.3, abs=0.01)
    assert version["vocab_version"] >= 9
    assert [f.path for f in frames.frames] == ["still.png"]


def test_errors_surface_from_the_await(runtime: afmpeg.Runtime, fs) -> None:
    async def main() -> None:
        await runtime.run_async({"op": "process", "version": 9, "inputs": [{"path": "gone.wav"}],
                                 "outputs": [{"path": "x.wav"}]}, fs=fs)

    with pytest.raises(afmpeg.InputNotFound) as ei:
        asyncio.run(main())
    assert ei.value.filename == "gone.wav"


def test_task_cancel_stops_a_long_job_within_1s(runtime: afmpeg.Runtime, fs, monkeypatch) -> None:
    job_threads: list[threading.Thread] = []
    finished: dict[str, float] = {}
    started = threading.Event()
    sync_run = runtime.run

    def tracked_run(*args, **kwargs):  # runtime.run on the executor thread, timed to the thread's end
        job_threads.append(threading.current_thread())
        try:
            return sync_run(*args, **kwargs)
        finally:
            finished["at"] = time.monotonic()

    monkeypatch.setattr(runtime, "run", tracked_run)

    async def main() -> tuple[float, float]:
        task = asyncio.create_task(runtime.run_async(_endless_job("long.mkv"), fs=fs, progress=lambda p: started.set()))
        while not started.is_set():
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        assert not task.done()
        cancelled_at = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return cancelled_at, time.monotonic()

    cancelled_at, await_done = asyncio.run(main())
    # the acceptance criterion: the job's thread let go of the job within 1 s of task.cancel()
    assert finished["at"] - cancelled_at < 1.0
    assert await_done >= finished["at"]  # the CancelledError came after the job had stopped, not before
    assert len(job_threads) == 1 and job_threads[0] is not threading.main_thread()
    assert not fs.exists("long.mkv")
    monkeypatch.undo()
    # the Runtime works afterwards, sync and async
    assert runtime.run(_tone_job(1), fs=fs).outputs[0].path == "tone_1.wav"
    assert asyncio.run(runtime.run_async(_tone_job(2), fs=fs)).outputs[0].path == "tone_2.wav"


def test_run_async_cancel_via_wait_for(runtime: afmpeg.Runtime, fs) -> None:
    async def main() -> None:
        await asyncio.wait_for(runtime.run_async(_endless_job("w.mkv"), fs=fs), timeout=0.3)

    with pytest.raises(asyncio.TimeoutError):
        asyncio.run(main())
    assert not fs.exists("w.mkv")


def test_progress_reaches_the_event_loop_thread(runtime: afmpeg.Runtime, fs) -> None:
    seen: list[tuple[float, bool]] = []

    async def main() -> afmpeg.ProcessResult:
        loop_thread = threading.current_thread()
        return await runtime.run_async(
            {"op": "process", "version": 9, "filter": "testsrc2=size=64x48:rate=25:duration=3[v]",
             "outputs": [{"path": "p.mkv", "map": ["[v]"], "video_codec": "mpeg4"}]},
            fs=fs,
            progress=lambda p: seen.append((p.out_time, threading.current_thread() is loop_thread)),
        )

    async def run_and_drain() -> afmpeg.ProcessResult:
        res = await main()
        await asyncio.sleep(0)  # reports scheduled just before the job ended
        return res

    res = asyncio.run(run_and_drain())
    assert res.outputs[0].path == "p.mkv"
    assert len(seen) >= 2
    assert all(on_loop for _, on_loop in seen)
    times = [t for t, _ in seen]
    assert times == sorted(times) and times[-1] == pytest.approx(3.0, abs=0.1)


def test_callers_token_still_cancels_an_awaited_job(runtime: afmpeg.Runtime, fs) -> None:
    token = afmpeg.CancelToken()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(0.2, token.cancel)
        await runtime.run_async(_endless_job("t.mkv"), fs=fs, cancel=token)

    with pytest.raises(afmpeg.Cancelled):
        asyncio.run(main())
