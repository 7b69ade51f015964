"""progress: NDJSON records on /dev/afmpeg-progress, delivered as Progress events to a callback."""

from __future__ import annotations

import json

import pytest

import afmpeg

from .conftest import make_clip_job


def transcode(src: str, **output) -> dict:
    out = {"path": "out.mp4", "video_codec": "libopenh264", "audio_codec": "aac", **output}
    return {"op": "process", "version": 9, "inputs": [{"path": src}], "outputs": [out]}


def test_progress_records_reach_the_jobs_duration(runtime, fs) -> None:
    runtime.run(make_clip_job("five.mp4", seconds=5, size="160x120", rate=25), fs=fs)
    recs: list[afmpeg.Progress] = []
    runtime.run(transcode("five.mp4"), fs=fs, progress=recs.append)
    # ~100 ms of media per record: dozens for 5 s, not one per frame (125) and not just the last.
    assert 20 <= len(recs) <= 80
    frames = [r.frame for r in recs]
    times = [r.out_time for r in recs]
    fractions = [r.fraction for r in recs]
    assert frames == sorted(frames) and times == sorted(times) and fractions == sorted(fractions)
    assert all(0 <= f <= 1 for f in fractions)
    assert [r.final for r in recs] == [False] * (len(recs) - 1) + [True]
    last = recs[-1]
    assert last.out_time >= 5 - 1 / 25 and last.out_time <= 5 + 0.05
    assert last.frame == 125
    assert last.fraction == 1.0
    assert last.total_size == len(fs.cat("out.mp4"))
    # Sizes grow with the output.
    assert [r.total_size for r in recs] == sorted(r.total_size for r in recs) and recs[0].total_size > 0


def test_progress_duration_comes_from_the_window(runtime, fs) -> None:
    runtime.run(make_clip_job("five.mp4", seconds=5, size="160x120", rate=25), fs=fs)
    recs: list[afmpeg.Progress] = []
    runtime.run(transcode("five.mp4", duration=2), fs=fs, progress=recs.append)
    # The fraction is of the 2 s window, not of the 5 s input: half-way at about 1 s.
    mid = [r for r in recs if 0.9 <= r.out_time <= 1.1]
    assert mid and all(0.4 <= r.fraction <= 0.6 for r in mid)
    assert recs[-1].final and recs[-1].fraction == 1.0 and abs(recs[-1].out_time - 2) <= 0.05


def test_progress_of_copies_and_unknown_durations(runtime, fs) -> None:
    # Only source filters: the duration is unknown, so the fraction is -1 until the end.
    recs: list[afmpeg.Progress] = []
    runtime.run(make_clip_job("two.mp4", seconds=2, size="160x120", rate=25), fs=fs, progress=recs.append)
    assert len(recs) > 5 and all(r.fraction == -1.0 for r in recs[:-1])
    assert recs[-1].final and recs[-1].frame == 50
    # A stream copy reports too (frames are the copied video packets).
    recs.clear()
    job = {"op": "process", "version": 9, "inputs": [{"path": "two.mp4"}],
           "outputs": [{"path": "copy.mkv", "map": ["0:v", "0:a"]}]}
    runtime.run(job, fs=fs, progress=recs.append)
    assert recs[-1].final and recs[-1].frame == 50 and recs[-1].fraction == 1.0


def test_no_progress_without_the_key(runtime, fs) -> None:
    runtime.run(make_clip_job("one.mp4", seconds=1, size="160x120", rate=25), fs=fs)
    job = json.dumps(transcode("one.mp4"))
    res = runtime.run_command(["afmpeg", job], fs=fs)
    assert res.exit_code == 0 and res.progress == b""
    res = runtime.run_command(["afmpeg", json.dumps({**json.loads(job), "progress": True})], fs=fs)
    lines = [json.loads(ln) for ln in res.progress.decode().splitlines()]
    assert res.exit_code == 0 and lines[-1]["final"] is True
    assert set(lines[0]) == {"frame", "out_time_us", "total_size", "duration_us"}
    assert all(ln["duration_us"] == lines[0]["duration_us"] for ln in lines) and lines[0]["duration_us"] > 0


def test_progress_must_be_a_bool(runtime, fs) -> None:
    job = transcode("x.mp4")
    job["progress"] = 1
    with pytest.raises(afmpeg.JobSpecError, match="progress"):
        runtime.call(job, fs=fs)
