"""``devices=`` (stream devices) and the limit keywords reach the guest through every way a job can be started:
``run``, ``start``, the ``*_async`` twins, ``RuntimePool.submit`` / ``map`` and ``afmpeg.map``."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import afmpeg
from afmpeg.wasi.pipes import Pipe, device_path

from .conftest import make_wav

HANG = 30.0  # seconds: only catches a hang, never measures speed
MIB = 1 << 20
OUT = device_path("out")
IN = device_path("in")


def _raw_job(path: str, seconds: float | int = 0.5) -> dict:
    """Raw video frames (64x48, 10 fps) from a lavfi source to ``path``."""
    return {"op": "process", "version": 9, "filter": f"testsrc2=size=64x48:rate=10:duration={seconds}[v]",
            "outputs": [{"path": path, "format": "rawvideo", "video_codec": "rawvideo", "map": ["[v]"]}]}


def _endless_pipe_job() -> dict:
    return _raw_job(OUT, seconds=100000)


def _launch(way: str, runtime: afmpeg.Runtime, job: Any, **kw: Any) -> Any:
    """Run ``job`` (a process job) through ``way`` and return its ProcessResult (or raise its error)."""
    if way == "run":
        return runtime.run(job, **kw)
    if way == "start":
        with runtime.start(job, **kw) as handle:
            return handle.result(timeout=HANG)
    if way == "run_async":
        return asyncio.run(asyncio.wait_for(runtime.run_async(job, **kw), HANG))
    if way == "call_async":
        return afmpeg.ProcessResult.from_dict(asyncio.run(asyncio.wait_for(runtime.call_async(job, **kw), HANG)))
    if way == "pool_submit":
        with afmpeg.RuntimePool(runtime, workers=1) as pool:
            return pool.submit(job, **kw).result(HANG)
    if way == "pool_map":
        with afmpeg.RuntimePool(runtime, workers=1) as pool:
            (result,) = list(pool.map([job], timeout=HANG, **kw))
            return result
    if way == "afmpeg_map":
        (result,) = list(afmpeg.map([job], runtime=runtime, workers=1, timeout=HANG, **kw))
        return result
    raise AssertionError(way)


PROCESS_WAYS = ["run", "start", "run_async", "call_async", "pool_submit", "pool_map", "afmpeg_map"]


def _drain(pipe: Pipe) -> tuple[threading.Thread, bytearray]:
    """A host thread reading ``pipe`` to its end."""
    got = bytearray()

    def read() -> None:
        while chunk := pipe.read_some(1 << 16, timeout=HANG):
            got.extend(chunk)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread, got


def _feed(pipe: Pipe, data: bytes) -> threading.Thread:
    """A host thread writing ``data`` to ``pipe`` then closing it (a reader that stops early is fine)."""

    def write() -> None:
        try:
            pipe.write_all(data, timeout=HANG)
        except BrokenPipeError:  # the guest read what it needed (a probe) and closed its end
            pass
        finally:
            pipe.close_write()

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def _wait_until(cond: Callable[[], bool]) -> None:
    deadline = time.monotonic() + HANG
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


# ---------------------------------------------------------------------------------------------------- devices


@pytest.fixture(scope="module")
def expected_raw(runtime: afmpeg.Runtime) -> bytes:
    """The bytes :func:`_raw_job` writes, as a file."""
    fs = afmpeg.MemoryFS()
    runtime.run(_raw_job("ref.raw"), fs=fs)
    data = fs.cat_file("/ref.raw")
    assert len(data) == 5 * 64 * 48 * 3 // 2  # five yuv420p frames
    return data


@pytest.mark.parametrize("way", PROCESS_WAYS)
def test_a_guest_written_pipe_reaches_the_host(runtime, fs, expected_raw, way) -> None:
    pipe = Pipe(4096)  # far smaller than the output: the guest waits for the host reader many times
    thread, got = _drain(pipe)
    try:
        result = _launch(way, runtime, _raw_job(OUT), fs=fs, devices={"out": pipe.guest_writer()})
    finally:
        pipe.close_write()
        thread.join(HANG)
    assert isinstance(result, afmpeg.ProcessResult) and result.outputs[0].path == OUT
    assert bytes(got) == expected_raw
    assert pipe.max_fill <= 4096
    assert fs.ls("/", detail=False) == []  # nothing went to the filesystem


@pytest.fixture(scope="module")
def small_mkv(runtime: afmpeg.Runtime) -> bytes:
    fs = afmpeg.MemoryFS()
    runtime.run({"op": "process", "version": 9, "filter": "testsrc2=size=64x48:rate=10:duration=1[v]",
                 "outputs": [{"path": "v.mkv", "map": ["[v]"], "video_codec": "mpeg4"}]}, fs=fs)
    return fs.cat_file("/v.mkv")


def _in_pool(runtime: afmpeg.Runtime, job: Any, **kw: Any) -> Any:
    with afmpeg.RuntimePool(runtime, workers=1) as pool:
        return pool.submit(job, **kw).result(HANG)


_FRAMES = {"op": "frames", "version": 9, "inputs": [{"path": IN}], "select": {"timestamp": 0.5}, "path": "still.png"}
_COPY = {"op": "process", "version": 9, "inputs": [{"path": IN}],
         "outputs": [{"path": "copy.wav", "audio_codec": "pcm_s16le"}]}

#: way -> (what the pipe carries, how the job is started)
INPUT_WAYS: dict[str, tuple[str, Callable[..., Any]]] = {
    "probe": ("wav", lambda rt, **kw: rt.probe(IN, **kw)),
    "probe_async": ("wav", lambda rt, **kw: asyncio.run(rt.probe_async(IN, **kw))),
    "pool_probe": ("wav", lambda rt, **kw: _in_pool(rt, afmpeg.ProbeJob(inputs=[IN]), **kw)),
    "pool_probe_dict": ("wav", lambda rt, **kw: _in_pool(rt, {"op": "probe", "version": 9,
                                                              "inputs": [{"path": IN}]}, **kw)),
    "frames": ("mkv", lambda rt, **kw: rt.frames(_FRAMES, **kw)),
    "frames_async": ("mkv", lambda rt, **kw: asyncio.run(rt.frames_async(_FRAMES, **kw))),
    "pool_frames": ("mkv", lambda rt, **kw: _in_pool(rt, _FRAMES, **kw)),
    "start": ("copy", lambda rt, **kw: rt.start(_COPY, **kw).result(HANG)),
    "run_async": ("copy", lambda rt, **kw: asyncio.run(rt.run_async(_COPY, **kw))),
    "pool_run": ("copy", lambda rt, **kw: _in_pool(rt, _COPY, **kw)),
}


@pytest.mark.parametrize("way", list(INPUT_WAYS))
def test_a_guest_read_pipe_reaches_the_guest(runtime, fs, small_mkv, way) -> None:
    kind, launch = INPUT_WAYS[way]
    wav = make_wav(seconds=0.25)
    pipe = Pipe(4096)
    thread = _feed(pipe, small_mkv if kind == "mkv" else wav)
    try:
        result = launch(runtime, fs=fs, devices={"in": pipe.guest_reader()})
    finally:
        pipe.close_read()
        thread.join(HANG)
    if kind == "wav":
        assert isinstance(result, afmpeg.ProbeResult)
        probed = result.inputs[0]
        assert probed.error is None and probed.format == "wav" and probed.streams[0].channels == 2
    elif kind == "mkv":
        assert isinstance(result, afmpeg.FramesResult) and [f.path for f in result.frames] == ["still.png"]
        assert fs.cat_file("/still.png").startswith(b"\x89PNG")
    else:
        assert isinstance(result, afmpeg.ProcessResult) and result.outputs[0].path == "copy.wav"
        assert fs.cat_file("/copy.wav").endswith(wav[44:])  # the samples, byte for byte


def test_start_judges_device_names_and_filesystem_arguments_before_a_thread_starts(runtime) -> None:
    before = threading.active_count()
    with pytest.raises(ValueError, match="stream device names"):
        runtime.start(_raw_job(OUT), devices={"no/slash": Pipe(16).guest_writer()})
    with pytest.raises(TypeError, match="device factory"):
        runtime.start(_raw_job(OUT), devices={"out": Pipe(16)})  # the pipe, not one of its ends
    with pytest.raises(ValueError, match="storage_options"):
        runtime.start(_raw_job("x.raw"), storage_options={"anon": True})  # without an fs URL
    assert threading.active_count() == before


# ---------------------------------------------------------------------------------------------------- stopping


STOP_WAYS = ["run", "start", "run_async", "pool_submit"]


@pytest.mark.parametrize("way", STOP_WAYS)
def test_cancel_reaches_a_job_blocked_on_a_pipe(runtime, fs, way) -> None:
    """Nobody reads the pipe: the guest waits on it until each way's own cancel stops the job."""
    pipe = Pipe(4096)
    job = _endless_pipe_job()
    devices = {"out": pipe.guest_writer()}
    safety = {"time_limit": 2 * HANG}  # a broken cancel path fails the test instead of hanging it
    blocked = lambda: pipe.buffered == pipe.capacity  # noqa: E731
    stopped_at: list[float] = []
    if way == "run":
        token = afmpeg.CancelToken()

        def cancel_when_blocked() -> None:
            _wait_until(blocked)
            stopped_at.append(time.monotonic())
            token.cancel()

        threading.Thread(target=cancel_when_blocked, daemon=True).start()
        with pytest.raises(afmpeg.Cancelled):
            runtime.run(job, fs=fs, devices=devices, cancel=token, **safety)
    elif way == "start":
        handle = runtime.start(job, fs=fs, devices=devices, **safety)
        _wait_until(blocked)
        stopped_at.append(time.monotonic())
        handle.cancel()
        with pytest.raises(afmpeg.Cancelled):
            handle.result(timeout=HANG)
    elif way == "run_async":

        async def main() -> None:
            task = asyncio.ensure_future(runtime.run_async(job, fs=fs, devices=devices, **safety))
            while not blocked():
                await asyncio.sleep(0.01)
            stopped_at.append(time.monotonic())
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task  # returns once the job's thread has let go of it

        asyncio.run(asyncio.wait_for(main(), HANG))
    else:
        with afmpeg.RuntimePool(runtime, workers=1) as pool:
            future = pool.submit(job, fs=fs, devices=devices, **safety)
            _wait_until(blocked)
            stopped_at.append(time.monotonic())
            future.cancel()
            with pytest.raises(afmpeg.Cancelled):
                future.result(HANG)
    assert time.monotonic() - stopped_at[0] < 5
    assert fs.ls("/", detail=False) == []


def _limit_case(name: str) -> tuple[dict, dict, type[afmpeg.AfmpegError]]:
    """(job, keywords, expected error) for one limit keyword."""
    if name == "time_limit":  # blocked on a pipe nobody reads: the pipe's wait honours the limit too
        return _endless_pipe_job(), {"time_limit": 0.3, "devices": {"out": Pipe(4096).guest_writer()}}, \
            afmpeg.JobTimeout
    if name == "output_limit":
        return _raw_job("big.raw", seconds=10), {"output_limit": 64 * 1024}, afmpeg.OutputLimitExceeded
    if name == "memory_limit":  # one 132 MB frame under a 128 MiB cap
        job = {"op": "process", "version": 9,
               "filter": "testsrc2=size=64x48:rate=25:duration=0.04,scale=7680:4320,format=rgba[v]",
               "outputs": [{"path": "o.null", "format": "null", "map": ["[v]"]}]}
        return job, {"memory_limit": 128 * MIB}, afmpeg.MemoryLimitExceeded
    token = afmpeg.CancelToken()
    token.cancel()
    return _endless_pipe_job(), {"cancel": token, "devices": {"out": Pipe(4096).guest_writer()}}, afmpeg.Cancelled


@pytest.mark.parametrize("limit", ["time_limit", "output_limit", "memory_limit", "cancel"])
@pytest.mark.parametrize("way", STOP_WAYS)
def test_every_way_takes_the_limit_keywords(runtime, fs, way, limit) -> None:
    job, kw, error = _limit_case(limit)
    with pytest.raises(error):
        _launch(way, runtime, job, fs=fs, **kw)
    assert fs.ls("/", detail=False) == []


def test_version_and_capabilities_take_the_limits_and_a_token(runtime) -> None:
    token = afmpeg.CancelToken()
    token.cancel()
    with pytest.raises(afmpeg.Cancelled):
        runtime.version(cancel=token)
    with pytest.raises(afmpeg.Cancelled):
        runtime.capabilities(cancel=token)
    assert runtime.version(time_limit=HANG, memory_limit=256 * MIB).vocab_version >= 9
    with afmpeg.RuntimePool(runtime, workers=1) as pool:  # the pool's own token reaches a version job
        with pytest.raises(afmpeg.Cancelled):
            pool.submit(None, method="version", cancel=token).result(HANG)
        assert pool.submit(None, method="version", time_limit=HANG).result(HANG).vocab_version >= 9
