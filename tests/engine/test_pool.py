"""RuntimePool and afmpeg.map: futures that know their job, ordered results, cancellation of running jobs."""

from __future__ import annotations

import threading
import time
from concurrent.futures import CancelledError

import pytest

import afmpeg

from .conftest import make_wav


def _tone_job(i: int, seconds: float = 0.05) -> dict:
    return {"op": "process", "version": 9, "filter": f"sine=frequency={200 + i}:sample_rate=8000:duration={seconds}[a]",
            "outputs": [{"path": f"tone_{i}.wav", "map": ["[a]"]}]}


def _endless_job(path: str) -> dict:
    return {"op": "process", "version": 9, "filter": "testsrc2=size=64x48:rate=25:duration=100000[v]",
            "outputs": [{"path": path, "map": ["[v]"], "video_codec": "mpeg4"}]}


def test_map_yields_results_in_job_order(runtime, fs) -> None:
    jobs = [_tone_job(i, seconds=0.01 * (12 - i)) for i in range(12)]  # later jobs finish sooner
    with afmpeg.RuntimePool(runtime, workers=4) as pool:
        results = list(pool.map(jobs, fs=fs))
    assert [r.outputs[0].path for r in results] == [f"tone_{i}.wav" for i in range(12)]
    durations = [runtime.probe(f"tone_{i}.wav", fs=fs).inputs[0].duration for i in range(12)]
    assert durations == pytest.approx([0.01 * (12 - i) for i in range(12)], abs=0.002)


def test_map_return_exceptions_keeps_the_others(runtime, fs) -> None:
    jobs = [_tone_job(0), {"op": "process", "version": 9, "inputs": [{"path": "gone.wav"}],
                           "outputs": [{"path": "x.wav"}]}, _tone_job(2)]
    with afmpeg.RuntimePool(runtime, workers=2) as pool:
        out = list(pool.map(jobs, fs=fs, return_exceptions=True))
    assert isinstance(out[0], afmpeg.ProcessResult) and out[0].outputs[0].path == "tone_0.wav"
    assert isinstance(out[1], afmpeg.InputNotFound) and out[1].filename == "gone.wav"
    assert isinstance(out[2], afmpeg.ProcessResult) and out[2].outputs[0].path == "tone_2.wav"


def test_map_raises_the_first_failure_and_cancels_the_rest(runtime, fs) -> None:
    jobs = [{"op": "process", "version": 9, "outputz": []}] + [_endless_job(f"e{i}.mkv") for i in range(3)]
    with afmpeg.RuntimePool(runtime, workers=2) as pool:
        started = time.monotonic()
        with pytest.raises(afmpeg.JobSpecError, match="outputz"):
            list(pool.map(jobs, fs=fs))
    # leaving the block waited for the workers: the endless jobs were stopped, not run to completion
    assert time.monotonic() - started < 30
    assert not any(fs.exists(f"e{i}.mkv") for i in range(3))


def test_submit_infers_the_method_from_the_job(runtime, fs) -> None:
    fs.pipe("a.wav", make_wav(seconds=0.25))
    with afmpeg.RuntimePool(runtime, workers=2) as pool:
        probe = pool.submit(afmpeg.ProbeJob(inputs=["a.wav"]), fs=fs)
        probe_path = pool.submit("a.wav", fs=fs)
        probe_dict = pool.submit({"op": "probe", "version": 9, "inputs": [{"path": "a.wav"}]}, fs=fs)
        process = pool.submit(_tone_job(7), fs=fs)
        version = pool.submit({"op": "version"})
        typed_version = pool.submit(None, method="version")
    assert probe.method == "probe" and probe.result().inputs[0].duration == pytest.approx(0.25, abs=0.01)
    assert probe_path.result().inputs[0].path == "a.wav"
    assert isinstance(probe_dict.result(), afmpeg.ProbeResult)
    assert process.method == "run" and process.result().outputs[0].path == "tone_7.wav"
    assert version.method == "call" and version.result()["vocab_version"] >= 9
    assert isinstance(typed_version.result(), afmpeg.VersionInfo)
    assert process.job == _tone_job(7)


def test_future_cancel_stops_a_running_job(runtime, fs) -> None:
    running = threading.Event()
    with afmpeg.RuntimePool(runtime, workers=1) as pool:
        future = pool.submit(_endless_job("run.mkv"), fs=fs, progress=lambda p: running.set())
        queued = pool.submit(_tone_job(1), fs=fs)
        assert running.wait(30)
        assert future.cancel() is False  # it was running: stopped through its token instead
        assert queued.cancel() is True  # still queued: never starts
        with pytest.raises(afmpeg.Cancelled) as ei:
            future.result(10)
        assert ei.value.job is not None and ei.value.job["outputs"][0]["path"] == "run.mkv"
        with pytest.raises(CancelledError):
            queued.result()
    assert not fs.exists("run.mkv") and not fs.exists("tone_1.wav")


def test_callers_token_cancels_a_pool_job(runtime, fs) -> None:
    token = afmpeg.CancelToken()
    token.cancel()
    with afmpeg.RuntimePool(runtime, workers=1) as pool:
        future = pool.submit(_endless_job("never.mkv"), fs=fs, cancel=token)
        with pytest.raises(afmpeg.Cancelled):
            future.result(10)


def test_shutdown_cancel_pending_stops_running_and_queued_jobs(runtime, fs) -> None:
    running = threading.Barrier(3)
    pool = afmpeg.RuntimePool(runtime, workers=2)
    once: set[int] = set()

    def started(i: int):
        def cb(p: afmpeg.Progress) -> None:
            if i not in once:
                once.add(i)
                running.wait(30)
        return cb

    futures = [pool.submit(_endless_job(f"s{i}.mkv"), fs=fs, progress=started(i)) for i in range(2)]
    queued = [pool.submit(_tone_job(i), fs=fs) for i in range(3)]
    running.wait(30)  # both endless jobs are in wasm
    pool.shutdown(wait=True, cancel_pending=True)
    for f in futures:
        assert isinstance(f.exception(0), afmpeg.Cancelled)
    assert all(f.cancelled() for f in queued)
    with pytest.raises(RuntimeError, match="shut down"):
        pool.submit(_tone_job(0), fs=fs)


def test_leaving_the_block_through_an_exception_cancels(runtime, fs) -> None:
    running = threading.Event()
    with pytest.raises(KeyError):
        with afmpeg.RuntimePool(runtime, workers=1) as pool:
            future = pool.submit(_endless_job("x.mkv"), fs=fs, progress=lambda p: running.set())
            assert running.wait(30)
            raise KeyError("boom")
    assert isinstance(future.exception(0), afmpeg.Cancelled)


def test_module_level_map(runtime, fs) -> None:
    jobs = [_tone_job(i) for i in range(5)]
    results = list(afmpeg.map(jobs, workers=2, runtime=runtime, fs=fs))
    assert [r.outputs[0].path for r in results] == [f"tone_{i}.wav" for i in range(5)]


def test_closing_map_early_cancels_what_is_left(runtime, fs) -> None:
    jobs = [_tone_job(0)] + [_endless_job(f"m{i}.mkv") for i in range(3)]
    with afmpeg.RuntimePool(runtime, workers=2) as pool:
        it = pool.map(jobs, fs=fs)
        first = next(it)
        it.close()  # the endless jobs queued or running behind it are cancelled
    assert first.outputs[0].path == "tone_0.wav"
    assert not any(fs.exists(f"m{i}.mkv") for i in range(3))


def test_bad_arguments(runtime) -> None:
    with pytest.raises(ValueError):
        afmpeg.RuntimePool(runtime, workers=0)
    with afmpeg.RuntimePool(runtime, workers=1) as pool:
        with pytest.raises(afmpeg.JobSpecError):
            pool.submit(42)
        with pytest.raises(ValueError, match="method"):
            pool.submit({"op": "version"}, method="transmogrify")


def test_memoryfs_readers_do_not_share_a_position() -> None:
    fs = afmpeg.MemoryFS()
    fs.pipe("/f.bin", bytes(range(100)))
    with fs.open("/f.bin", "rb") as a, fs.open("/f.bin", "rb") as b:
        assert a.read(10) == bytes(range(10))
        assert b.read(10) == bytes(range(10))  # not bytes 10..19: b has its own position
        assert a.read(5) == bytes(range(10, 15))
    fs.pipe("/f.bin", b"new")  # a rewrite is seen by the next reader
    assert fs.open("/f.bin", "rb").read() == b"new"


def test_parallel_jobs_reading_one_input_each_read_all_of_it(runtime, fs) -> None:
    runtime.run({"op": "process", "version": 9, "filter": "testsrc2=size=64x48:rate=10:duration=3[v]",
                 "outputs": [{"path": "shared.mkv", "map": ["[v]"], "video_codec": "mpeg4"}]}, fs=fs)
    jobs = [{"op": "process", "version": 9, "inputs": [{"path": "shared.mkv"}], "filter": "[0:v]scale=32:24[v]",
             "outputs": [{"path": f"copy_{i}.mkv", "map": ["[v]"], "video_codec": "mpeg4"}]} for i in range(8)]
    with afmpeg.RuntimePool(runtime, workers=4) as pool:
        list(pool.map(jobs, fs=fs))
    durations = [runtime.probe(f"copy_{i}.mkv", fs=fs).inputs[0].duration for i in range(8)]
    assert durations == pytest.approx([3.0] * 8, abs=0.01)
