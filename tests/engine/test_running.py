"""Runtime.start: a job in a background thread, its progress as an iterator, its result, cancellation."""

from __future__ import annotations

import threading

import pytest

import afmpeg

from .conftest import make_clip_job


def transcode(src: str, dst: str = "out.mp4") -> dict:
    return {"op": "process", "inputs": [{"path": src}],
            "outputs": [{"path": dst, "video_codec": "libopenh264", "audio_codec": "aac"}]}


@pytest.fixture
def five(runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS) -> str:
    runtime.run(make_clip_job("five.mp4", seconds=5, size="160x120", rate=25), fs=fs)
    return "five.mp4"


def endless(path: str = "long.mkv") -> dict:
    # ten minutes of video: far longer than any test waits
    return {"op": "process", "filter": "testsrc2=size=160x120:rate=25:duration=600[v]",
            "outputs": [{"path": path, "map": ["[v]"], "video_codec": "mpeg4"}]}


def test_iterator_follows_the_job_to_its_end(runtime, fs, five) -> None:
    handle = runtime.start(transcode(five), fs=fs)
    seen = list(handle.progress())
    assert handle.done()
    result = handle.result()
    assert isinstance(result, afmpeg.ProcessResult) and result.outputs[0].path == "out.mp4"
    assert fs.exists("out.mp4")
    # every report reached the iterator, in order, never going backwards, ending with the final one at the end
    assert len(seen) == handle.reports > 10 and handle.latest == seen[-1]
    for key in ("frame", "out_time", "total_size", "fraction"):
        values = [getattr(p, key) for p in seen]
        assert values == sorted(values), key
    assert [p.final for p in seen] == [False] * (len(seen) - 1) + [True]
    last = seen[-1]
    assert last.fraction == 1.0 and last.frame == 125 and abs(last.out_time - 5) <= 0.05
    assert last.duration is not None and abs(last.duration - 5) <= 0.1
    assert last.total_size == len(fs.cat("out.mp4"))
    assert list(handle.progress()) == []  # consumed; a second iteration ends at once


def test_iterating_the_handle_and_an_extra_callback(runtime, fs, five) -> None:
    extra: list[afmpeg.Progress] = []
    with runtime.start(afmpeg.ProcessJob.from_dict(transcode(five)), fs=fs, progress=extra.append) as handle:
        seen = list(handle)
    assert seen == extra and seen[-1].final
    assert handle.result().outputs[0].path == "out.mp4"


def test_cancel_stops_the_job_and_publishes_nothing(runtime, fs) -> None:
    handle = runtime.start(endless(), fs=fs)
    first = next(iter(handle.progress(timeout=60)))  # it is running
    assert not first.final and not handle.done()
    handle.cancel()
    rest = list(handle.progress(timeout=60))  # the iteration ends once the job has stopped
    assert handle.wait(60) and handle.cancelled
    with pytest.raises(afmpeg.Cancelled):
        handle.result()
    assert isinstance(handle.exception(), afmpeg.Cancelled)
    assert all(not p.final for p in rest) and (rest[-1].out_time if rest else first.out_time) < 600
    assert not fs.exists("long.mkv")


def test_leaving_a_with_block_by_an_exception_cancels_the_job(runtime, fs) -> None:
    with pytest.raises(KeyError):
        with runtime.start(endless(), fs=fs) as handle:
            next(iter(handle.progress(timeout=60)))
            raise KeyError("boom")
    assert handle.done() and handle.cancelled and not fs.exists("long.mkv")


def test_a_failing_job_ends_the_iteration_and_raises_from_result(runtime, fs) -> None:
    handle = runtime.start(transcode("missing.mp4"), fs=fs)
    assert list(handle.progress(timeout=60)) == []
    with pytest.raises(afmpeg.ProcessingError, match="missing.mp4"):
        handle.result()
    assert not handle.cancelled


def test_a_cancel_token_passed_in_is_used(runtime, fs) -> None:
    token = afmpeg.CancelToken()
    token.cancel()
    handle = runtime.start(endless(), fs=fs, cancel=token)
    with pytest.raises(afmpeg.Cancelled):
        handle.result(timeout=60)


def test_cancelling_a_handle_leaves_the_callers_token_alone(runtime, fs) -> None:
    shared = afmpeg.CancelToken()
    first = runtime.start(endless(), fs=fs, cancel=shared)
    second = runtime.start(endless(), fs=fs, cancel=shared)
    first.cancel()
    with pytest.raises(afmpeg.Cancelled):
        first.result(timeout=60)
    assert not shared.cancelled and not second.done()
    shared.cancel()  # the caller's token still stops every job it was given to
    with pytest.raises(afmpeg.Cancelled):
        second.result(timeout=60)


def test_a_broken_extra_callback_does_not_starve_the_iterator(runtime, fs, five) -> None:
    def broken(p: afmpeg.Progress) -> None:
        raise RuntimeError("callback bug")

    handle = runtime.start(transcode(five), fs=fs, progress=broken)
    seen = list(handle.progress())
    assert seen and seen[-1].final  # the job and the iterator went on to the end
    with pytest.raises(RuntimeError, match="callback bug"):  # like Runtime.run: raised once the job is over
        handle.result()
    assert fs.exists("out.mp4")


def test_a_malformed_job_object_fails_before_a_thread_starts(runtime) -> None:
    before = threading.active_count()
    bad = afmpeg.ProcessJob(outputs=[afmpeg.Output("x.mp4", options={"b": 1})])  # type: ignore[dict-item]
    with pytest.raises(afmpeg.JobSpecError):
        runtime.start(bad)
    assert threading.active_count() == before


def test_result_timeout_leaves_the_job_running(runtime, fs) -> None:
    handle = runtime.start(endless(), fs=fs)
    next(iter(handle.progress(timeout=60)))
    with pytest.raises(TimeoutError):
        handle.result(timeout=0)
    assert not handle.done()
    handle.cancel(wait=True, timeout=60)
    assert handle.cancelled
