"""Stress: 264 mixed jobs on 8 threads sharing one Runtime through a RuntimePool.

Successful transcodes (30 of them reading one shared input at the same time), probes and frame grabs, each with its
own parameters; malformed specs, missing and corrupt inputs; jobs cancelled mid-run (from their own progress callback
and from another thread); and jobs stopped by a time, output or memory limit, each with its own limit value — all
shuffled together. Every result and every exception must land on its own job: the right type, the job's own path or
value in the message or the result, and the job's own limit on a limit error. Media are tiny so the test stays quick
on two cores.
"""

from __future__ import annotations

import os
import queue
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

import afmpeg

from .conftest import make_wav

WORKERS = 8
MIB = 1 << 20


@dataclass
class Case:
    """One job of the batch and how to judge its outcome."""

    name: str
    job: Any
    check: Callable[[Any], None]
    kwargs: dict[str, Any]
    future: afmpeg.JobFuture | None = None


def _video_job(i: int) -> tuple[dict, tuple[int, int, int]]:
    width, height, frames = 32 + 2 * (i % 20), 24 + 2 * (i // 20), 3 + i % 5
    job = {"op": "process", "version": 9,
           "filter": f"testsrc2=size={width}x{height}:rate=10:duration={frames / 10}[v]",
           "outputs": [{"path": f"t_{i}.mkv", "map": ["[v]"], "video_codec": "mpeg4"}]}
    return job, (width, height, frames)


def _audio_job(i: int) -> tuple[dict, float]:
    seconds = round(0.05 + 0.005 * i, 3)
    job = {"op": "process", "version": 9, "filter": f"sine=frequency={300 + i}:sample_rate=8000:duration={seconds}[a]",
           "outputs": [{"path": f"a_{i}.wav", "map": ["[a]"]}]}
    return job, seconds


def _endless_job(path: str) -> dict:
    return {"op": "process", "version": 9, "filter": "testsrc2=size=64x48:rate=25:duration=100000[v]",
            "outputs": [{"path": path, "map": ["[v]"], "video_codec": "mpeg4"}]}


def _out_path(exc: afmpeg.Error) -> str:
    assert exc.job is not None
    return str(exc.job["outputs"][0]["path"])


def test_many_mixed_jobs_on_eight_threads(runtime: afmpeg.Runtime) -> None:
    fs = afmpeg.MemoryFS()
    rng = random.Random(4)
    for k in range(40):
        fs.pipe(f"src_{k}.wav", make_wav(seconds=0.05 + 0.01 * k, rate=8000, channels=1, freq=300 + 10 * k))
    for k in range(15):
        fs.pipe(f"noise_{k}.mp4", rng.randbytes(4096 + k))
    runtime.run({"op": "process", "version": 9, "filter": "testsrc2=size=64x48:rate=10:duration=2[v]",
                 "outputs": [{"path": "v.mkv", "map": ["[v]"], "video_codec": "mpeg4"}]}, fs=fs)

    cases: list[Case] = []
    videos: dict[str, tuple[int, int, int]] = {}
    audios: dict[str, float] = {}
    cuts: dict[str, float] = {}

    def expect_result(path: str) -> Callable[[Any], None]:
        def check(res: Any) -> None:
            assert isinstance(res, afmpeg.ProcessResult), res
            assert [o.path for o in res.outputs] == [path]
        return check

    for i in range(60):
        job, params = _video_job(i)
        videos[f"t_{i}.mkv"] = params
        cases.append(Case(f"video {i}", job, expect_result(f"t_{i}.mkv"), {}))
    for i in range(40):
        job, seconds = _audio_job(i)
        audios[f"a_{i}.wav"] = seconds
        cases.append(Case(f"audio {i}", job, expect_result(f"a_{i}.wav"), {}))
    for i in range(30):
        # all of these read the same input at the same time: each must see all of it
        seconds = round(0.5 + 0.05 * i, 2)
        job = {"op": "process", "version": 9, "inputs": [{"path": "v.mkv"}],
               "outputs": [{"path": f"cut_{i}.mkv", "map": ["0:v"], "duration": seconds}]}
        cuts[f"cut_{i}.mkv"] = seconds
        cases.append(Case(f"shared input {i}", job, expect_result(f"cut_{i}.mkv"), {}))
    for k in range(40):
        def check_probe(res: Any, k: int = k) -> None:
            assert isinstance(res, afmpeg.ProbeResult), res
            (item,) = res.inputs
            assert item.path == f"src_{k}.wav" and item.ok
            assert item.duration == pytest.approx(0.05 + 0.01 * k, abs=1e-3)
            assert item.audio is not None and item.audio.sample_rate == 8000
        cases.append(Case(f"probe {k}", afmpeg.ProbeJob(inputs=[f"src_{k}.wav"]), check_probe, {}))
    for i in range(10):
        at = round(0.1 + 0.15 * i, 2)
        job = {"op": "frames", "version": 9, "inputs": [{"path": "v.mkv"}], "select": {"timestamp": at},
               "path": f"f_{i}.png"}

        def check_frames(res: Any, i: int = i, at: float = at) -> None:
            assert isinstance(res, afmpeg.FramesResult), res
            assert [f.path for f in res.frames] == [f"f_{i}.png"]
            assert res.frames[0].timestamp == pytest.approx(at, abs=0.1)
        cases.append(Case(f"frames {i}", job, check_frames, {}))
    for i in range(15):
        def check_spec(exc: Any, i: int = i) -> None:
            assert type(exc) is afmpeg.JobSpecError, exc
            assert f"bogus_{i}" in exc.message and exc.exit_code == 2
            assert exc.job is not None and f"bogus_{i}" in exc.job
        job = {"op": "process", "version": 9, f"bogus_{i}": 1, "outputs": [{"path": f"bad_{i}.wav"}]}
        cases.append(Case(f"bad spec {i}", job, check_spec, {}))
    for i in range(15):
        def check_missing(exc: Any, i: int = i) -> None:
            assert type(exc) is afmpeg.InputNotFound, exc
            assert exc.filename == f"missing_{i}.wav" and f"missing_{i}.wav" in exc.message
        job = {"op": "process", "version": 9, "inputs": [{"path": f"missing_{i}.wav"}],
               "outputs": [{"path": f"mo_{i}.wav"}]}
        cases.append(Case(f"missing {i}", job, check_missing, {}))
    for i in range(15):
        def check_invalid(exc: Any, i: int = i) -> None:
            assert type(exc) is afmpeg.InvalidData, exc
            assert f"noise_{i}.mp4" in exc.message and exc.field == "inputs[0]"
        job = {"op": "process", "version": 9, "inputs": [{"path": f"noise_{i}.mp4"}],
               "outputs": [{"path": f"no_{i}.mkv"}]}
        cases.append(Case(f"invalid {i}", job, check_invalid, {}))

    # cancelled mid-job: odd ones by their own token from their progress callback (the job's thread), even ones by
    # future.cancel() from a canceller thread once they report progress
    to_cancel: queue.Queue[int] = queue.Queue()
    for i in range(15):
        def check_cancelled(exc: Any, i: int = i) -> None:
            assert type(exc) is afmpeg.Cancelled, exc
            assert _out_path(exc) == f"c_{i}.mkv"
        kwargs: dict[str, Any] = {"time_limit": 60}  # a lost cancellation fails as JobTimeout instead of hanging
        if i % 2:
            token = afmpeg.CancelToken()
            kwargs["cancel"] = token
            kwargs["progress"] = lambda p, token=token: token.cancel()
        else:
            fired: list[bool] = []

            def report(p: afmpeg.Progress, i: int = len(cases), fired: list[bool] = fired) -> None:
                if not fired:
                    fired.append(True)
                    to_cancel.put(i)
            kwargs["progress"] = report
        cases.append(Case(f"cancelled {i}", _endless_job(f"c_{i}.mkv"), check_cancelled, kwargs))
    for i in range(8):
        limit = round(0.1 + 0.01 * i, 2)

        def check_timeout(exc: Any, i: int = i, limit: float = limit) -> None:
            assert type(exc) is afmpeg.JobTimeout, exc
            assert exc.limit == limit and _out_path(exc) == f"tl_{i}.mkv"
        cases.append(Case(f"time limit {i}", _endless_job(f"tl_{i}.mkv"), check_timeout, {"time_limit": limit}))
    for i in range(8):
        limit = 50_000 + 1000 * i
        job = {"op": "process", "version": 9, "filter": "testsrc2=size=160x120:rate=25:duration=10[v]",
               "outputs": [{"path": f"ol_{i}.mkv", "map": ["[v]"], "video_codec": "rawvideo"}]}

        def check_output(exc: Any, i: int = i, limit: int = limit) -> None:
            assert type(exc) is afmpeg.OutputLimitExceeded, exc
            assert exc.limit == limit and _out_path(exc) == f"ol_{i}.mkv"
        cases.append(Case(f"output limit {i}", job, check_output, {"output_limit": limit}))
    for i in range(8):
        limit = 24 * MIB + i * 64 * 1024
        job = {"op": "process", "version": 9, "filter": "testsrc2=size=3840x2160:rate=25:duration=0.04[v]",
               "outputs": [{"path": f"ml_{i}.mkv", "map": ["[v]"], "video_codec": "rawvideo"}]}

        def check_memory(exc: Any, i: int = i, limit: int = limit) -> None:
            assert type(exc) is afmpeg.MemoryLimitExceeded, exc
            assert exc.limit == limit and _out_path(exc) == f"ml_{i}.mkv"
        cases.append(Case(f"memory limit {i}", job, check_memory, {"memory_limit": limit}))

    assert len(cases) >= 200
    order = list(range(len(cases)))
    rng.shuffle(order)
    registered = [threading.Event() for _ in cases]

    def canceller() -> None:
        while (index := to_cancel.get()) >= 0:
            registered[index].wait(60)
            future = cases[index].future
            assert future is not None
            future.cancel()

    cancel_thread = threading.Thread(target=canceller)
    cancel_thread.start()
    try:
        with afmpeg.RuntimePool(runtime, workers=WORKERS) as pool:
            for index in order:
                case = cases[index]
                case.future = pool.submit(case.job, fs=fs, **case.kwargs)
                registered[index].set()
            outcomes = []
            for case in cases:
                assert case.future is not None
                error = case.future.exception(timeout=120)
                outcomes.append((case, error if error is not None else case.future.result()))
    finally:
        to_cancel.put(-1)
        cancel_thread.join(10)

    failures = []
    for case, outcome in outcomes:
        try:
            case.check(outcome)
        except AssertionError as exc:
            failures.append(f"{case.name}: {exc}")
    assert not failures, f"{len(failures)} jobs got the wrong outcome:\n" + "\n".join(failures[:20])
    errors = [o for _, o in outcomes if isinstance(o, BaseException)]
    assert len({id(e) for e in errors}) == len(errors)  # no exception object was handed to two jobs

    # the outputs are the jobs' own: probe them all (through the pool again) and compare with their parameters
    names = sorted(videos) + sorted(audios) + sorted(cuts)
    probed = dict(zip(names, afmpeg.map(names, workers=WORKERS, runtime=runtime, fs=fs), strict=True))
    for name, (width, height, frames) in videos.items():
        video = probed[name].inputs[0].video
        assert video is not None and (video.width, video.height) == (width, height), name
        assert probed[name].inputs[0].duration == pytest.approx(frames / 10, abs=0.01), name
    for name, seconds in audios.items():
        assert probed[name].inputs[0].duration == pytest.approx(seconds, abs=1e-3), name
    for name, seconds in cuts.items():
        assert probed[name].inputs[0].duration == pytest.approx(seconds, abs=0.11), name
    leftovers = [p for p in fs.ls("/", detail=False) if os.path.basename(p).startswith(("c_", "tl_", "ol_", "ml_"))]
    assert not leftovers, f"stopped jobs published files: {leftovers}"
    assert runtime.version().vocab_version >= 9
