"""Acceptance tests for limits and cancellation against the real engine: each stops only its own job, with a typed
error, publishes nothing, and leaves the Runtime ready for the next job."""

from __future__ import annotations

import struct
import threading
import time
from pathlib import Path

import pytest

import afmpeg

MIB = 1 << 20


def _endless_job(path: str) -> dict:
    """A transcode that would run for many minutes: only a limit or a cancellation ends it."""
    return {
        "op": "process",
        "version": 9,
        "filter": "testsrc2=size=64x48:rate=25:duration=100000[v]",
        "outputs": [{"path": path, "map": ["[v]"], "video_codec": "mpeg4"}],
    }


def _assert_runtime_works(runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS, tag: str) -> None:
    """The Runtime that just stopped a job runs a good one."""
    res = runtime.run(
        {"op": "process", "version": 9, "filter": "testsrc2=size=48x32:rate=10:duration=0.5[v]",
         "outputs": [{"path": f"good_{tag}.mkv", "map": ["[v]"], "video_codec": "mpeg4"}]},
        fs=fs,
    )
    assert res.outputs[0].path == f"good_{tag}.mkv"
    stream = runtime.probe(f"good_{tag}.mkv", fs=fs).inputs[0].video
    assert stream is not None and (stream.width, stream.height) == (48, 32)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture(scope="module")
def uhd_fs(runtime: afmpeg.Runtime) -> afmpeg.MemoryFS:
    """A memory filesystem holding a short 3840x2160 H.264 clip made by the engine itself."""
    fs = afmpeg.MemoryFS()
    runtime.run(
        {"op": "process", "version": 9, "filter": "testsrc2=size=3840x2160:rate=25:duration=0.2[v]",
         "outputs": [{"path": "uhd.mp4", "map": ["[v]"], "video_codec": "libopenh264"}]},
        fs=fs,
    )
    video = runtime.probe("uhd.mp4", fs=fs).inputs[0].video
    assert video is not None and (video.width, video.height) == (3840, 2160)
    return fs


def _uhd_still_job(path: str) -> dict:
    # decoding a 4K frame and encoding it as a 4K PNG needs ~120 MiB of guest memory
    return {"op": "frames", "version": 9, "inputs": [{"path": "uhd.mp4"}], "select": {"timestamp": 0.1},
            "path": path}


def test_64mib_cap_turns_a_4k_decode_into_memory_limit_exceeded(module_path: Path, uhd_fs) -> None:
    runtime = afmpeg.Runtime(module_path, fs=uhd_fs, memory_limit=64 * MIB)
    job = _uhd_still_job("capped.png")
    with pytest.raises(afmpeg.MemoryLimitExceeded) as ei:
        runtime.frames(job)
    exc = ei.value
    assert isinstance(exc, afmpeg.LimitExceeded) and isinstance(exc, MemoryError)
    assert exc.limit == 64 * MIB
    assert exc.job == job
    assert not uhd_fs.exists("capped.png")
    # the next job on the same Runtime succeeds: a small one under the same cap ...
    _assert_runtime_works(runtime, uhd_fs, "after_memory")
    # ... and the very same 4K job once the call lifts the cap, so it was the cap that stopped it
    res = runtime.frames(_uhd_still_job("uncapped.png"), memory_limit=None)
    assert [f.path for f in res.frames] == ["uncapped.png"]
    assert _png_size(uhd_fs.cat_file("uncapped.png")) == (3840, 2160)


def test_4k_decode_over_a_per_call_cap_on_a_shared_runtime(runtime: afmpeg.Runtime, uhd_fs) -> None:
    with pytest.raises(afmpeg.MemoryLimitExceeded):
        runtime.frames(_uhd_still_job("percall.png"), fs=uhd_fs, memory_limit=64 * MIB)
    assert not uhd_fs.exists("percall.png")
    res = runtime.frames(_uhd_still_job("percall.png"), fs=uhd_fs)  # the Runtime's default cap (1 GiB)
    assert res.count == 1


def test_one_allocation_past_the_cap_is_memory_limit_exceeded(runtime: afmpeg.Runtime, fs) -> None:
    """A single 132 MB frame under a 128 MiB cap: the guest's memory never comes near the cap (the refused
    allocation is the first big one), so only the engine's "no_memory" error kind tells the limit was hit."""
    job = {"op": "process", "version": 9,
           "filter": "testsrc2=size=64x48:rate=25:duration=0.04,scale=7680:4320,format=rgba[v]",
           "outputs": [{"path": "o.null", "format": "null", "map": ["[v]"]}]}
    with pytest.raises(afmpeg.MemoryLimitExceeded) as ei:
        runtime.run(job, fs=fs, memory_limit=128 * MIB)
    assert ei.value.kind == "no_memory"
    assert ei.value.limit == 128 * MIB
    assert runtime.run(job, fs=fs, memory_limit=256 * MIB).outputs[0].path == "o.null"


def test_out_of_memory_without_a_limit_is_a_processing_error() -> None:
    exc = afmpeg.errors.error_for_exit(1, "filtering [v]: Out of memory", details={"kind": "no_memory"})
    assert type(exc) is afmpeg.ProcessingError
    exc = afmpeg.errors.error_for_exit(1, "filtering [v]: Out of memory", details={"kind": "no_memory"},
                                       memory_limit=MIB)
    assert type(exc) is afmpeg.MemoryLimitExceeded and exc.limit == MIB


def test_cancel_from_another_thread_stops_the_job_within_1s(runtime: afmpeg.Runtime, fs) -> None:
    token = afmpeg.CancelToken()
    running = threading.Event()
    outcome: dict[str, object] = {}

    def job_thread() -> None:
        try:
            runtime.run(_endless_job("cancelled.mkv"), fs=fs, cancel=token, progress=lambda p: running.set())
        except BaseException as exc:  # noqa: BLE001 - recorded and asserted below
            outcome["error"] = exc
        outcome["finished"] = time.monotonic()

    thread = threading.Thread(target=job_thread)
    thread.start()
    assert running.wait(30), "the job never reported progress"
    time.sleep(0.2)  # well into the job
    assert thread.is_alive()
    cancelled_at = time.monotonic()
    token.cancel()
    thread.join(10)
    assert not thread.is_alive()
    # the acceptance criterion: the job's thread is done within 1 s of cancel()
    assert float(outcome["finished"]) - cancelled_at < 1.0  # type: ignore[arg-type]
    assert isinstance(outcome.get("error"), afmpeg.Cancelled)
    assert not fs.exists("cancelled.mkv")
    _assert_runtime_works(runtime, fs, "after_cancel")


def test_time_limit_is_job_timeout(runtime: afmpeg.Runtime, fs) -> None:
    job = _endless_job("timed.mkv")
    with pytest.raises(afmpeg.JobTimeout) as ei:
        runtime.run(job, fs=fs, time_limit=0.3)
    assert isinstance(ei.value, TimeoutError)
    assert ei.value.limit == 0.3
    assert ei.value.job == job
    assert not fs.exists("timed.mkv")
    _assert_runtime_works(runtime, fs, "after_timeout")


def test_output_limit_is_output_limit_exceeded(runtime: afmpeg.Runtime, fs) -> None:
    job = {"op": "process", "version": 9, "filter": "testsrc2=size=320x240:rate=25:duration=10[v]",
           "outputs": [{"path": "big.mkv", "map": ["[v]"], "video_codec": "rawvideo"}]}  # ~29 MB if unchecked
    with pytest.raises(afmpeg.OutputLimitExceeded) as ei:
        runtime.run(job, fs=fs, output_limit=1 * MIB)
    assert ei.value.limit == 1 * MIB
    assert ei.value.job == job
    assert not fs.exists("big.mkv")
    _assert_runtime_works(runtime, fs, "after_output_limit")


def test_limits_are_per_job_while_others_run(runtime: afmpeg.Runtime, fs) -> None:
    """A job stopped by its limit does not disturb a neighbour running at the same time."""
    results: dict[str, object] = {}

    def good() -> None:
        results["good"] = runtime.run(
            {"op": "process", "version": 9, "filter": "testsrc2=size=64x48:rate=25:duration=60[v]",
             "outputs": [{"path": "neighbour.mkv", "map": ["[v]"], "video_codec": "mpeg4"}]},
            fs=fs,
        )

    thread = threading.Thread(target=good)
    thread.start()
    with pytest.raises(afmpeg.JobTimeout):
        runtime.run(_endless_job("stopped.mkv"), fs=fs, time_limit=0.2)
    thread.join(60)
    assert isinstance(results.get("good"), afmpeg.ProcessResult)
    duration = runtime.probe("neighbour.mkv", fs=fs).inputs[0].duration
    assert duration == pytest.approx(60, abs=0.1)
    assert not fs.exists("stopped.mkv")


@pytest.mark.parametrize(
    ("data", "error"),
    [(b"this is not media at all" * 64, afmpeg.InvalidData), (None, afmpeg.InputNotFound)],
)
def test_a_failure_with_a_named_cause_is_not_called_out_of_memory(module_path, data, error) -> None:
    # Under a cap just above the module's starting memory every failure is "near the cap"; a failure the engine
    # put down to bad data or a missing file must keep that cause rather than become MemoryLimitExceeded.
    fs = afmpeg.MemoryFS()
    if data is not None:
        fs.pipe("in.mp4", data)
    tight = afmpeg.Runtime(module_path, memory_limit=16 << 20)
    job = {"op": "process", "version": 9, "inputs": [{"path": "in.mp4"}],
           "outputs": [{"path": "o.wav", "map": ["0:a"]}]}
    with pytest.raises(error) as ei:
        tight.call(job, fs=fs)
    assert not isinstance(ei.value, afmpeg.MemoryLimitExceeded)
