"""Outputs are published only when the job succeeds: a failing job leaves the filesystem as it found it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

import afmpeg
from afmpeg.wasi import mounts

from .conftest import make_wav


def _failing_job() -> dict:
    # the engine opens and starts writing a.wav (its header), then rejects b.wav's format options
    return {
        "op": "process",
        "version": 9,
        "inputs": [{"path": "tone.wav"}],
        "outputs": [{"path": "a.wav"}, {"path": "b.wav", "format_options": {"bogus_key": "1"}}],
    }


def test_the_failing_job_does_write_before_it_fails(runtime, fs, monkeypatch) -> None:
    # guards the other tests: they would prove nothing if the engine failed before writing anything
    seen: list[str] = []
    original = mounts.FsspecMount.discard

    def discard(self: mounts.FsspecMount) -> None:
        seen.extend(self.spools)
        original(self)

    monkeypatch.setattr(mounts.FsspecMount, "discard", discard)
    fs.pipe("/tone.wav", make_wav(seconds=0.5))
    with pytest.raises(afmpeg.AfmpegError):
        runtime.run(_failing_job(), fs=fs)
    assert seen, "the engine wrote nothing before failing"


def test_failed_job_leaves_no_output_in_memory(runtime, fs) -> None:
    fs.pipe("/tone.wav", make_wav(seconds=0.5))
    with pytest.raises(afmpeg.JobSpecError, match="bogus_key"):
        runtime.run(_failing_job(), fs=fs)
    assert not fs.exists("/a.wav") and not fs.exists("/b.wav")


def test_failed_job_keeps_existing_files_on_local_disk(runtime, tmp_path: Path) -> None:
    (tmp_path / "tone.wav").write_bytes(make_wav(seconds=0.5))
    (tmp_path / "a.wav").write_bytes(b"precious")
    with pytest.raises(afmpeg.JobSpecError):
        runtime.run(_failing_job(), fs=str(tmp_path))
    assert (tmp_path / "a.wav").read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav", "tone.wav"]  # no partial or temporary files


def test_unknown_encoder_on_second_output_publishes_nothing(runtime, tmp_path: Path) -> None:
    (tmp_path / "tone.wav").write_bytes(make_wav(seconds=0.5))
    (tmp_path / "b.mkv").write_bytes(b"old")
    job = {
        "op": "process",
        "version": 9,
        "inputs": [{"path": "tone.wav"}],
        "outputs": [{"path": "a.wav"}, {"path": "b.mkv", "audio_codec": "libfrobnicate"}],
    }
    with pytest.raises(afmpeg.ProcessingError):
        runtime.run(job, fs=str(tmp_path))
    assert (tmp_path / "b.mkv").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.mkv", "tone.wav"]


def test_successful_job_publishes_over_an_existing_file(runtime, tmp_path: Path) -> None:
    (tmp_path / "tone.wav").write_bytes(make_wav(seconds=0.5))
    (tmp_path / "a.wav").write_bytes(b"old")
    job = {"op": "process", "version": 9, "inputs": [{"path": "tone.wav"}], "outputs": [{"path": "a.wav"}]}
    runtime.run(job, fs=str(tmp_path))
    assert (tmp_path / "a.wav").read_bytes()[:4] == b"RIFF"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav", "tone.wav"]


def test_output_limit_on_a_real_job(runtime, fs) -> None:
    fs.pipe("/tone.wav", make_wav(seconds=2.0))
    job = {"op": "process", "version": 9, "inputs": [{"path": "tone.wav"}], "outputs": [{"path": "a.wav"}]}
    with pytest.raises(afmpeg.OutputLimitExceeded):
        runtime.run(job, fs=fs, output_limit=50_000)
    assert not fs.exists("/a.wav")
    runtime.run(job, fs=fs)  # the runtime stays usable
    assert fs.exists("/a.wav")


def test_time_limit_and_cancel_on_a_real_job(runtime, fs) -> None:
    job = {
        "op": "process",
        "version": 9,
        "filter": "testsrc2=size=640x480:rate=25:duration=600[v]",
        "outputs": [{"path": "long.mp4", "map": ["[v]"], "video_codec": "libopenh264"}],
    }
    with pytest.raises(afmpeg.JobTimeout):
        runtime.run(job, fs=fs, time_limit=0.5)
    token = afmpeg.CancelToken()
    token.cancel()
    with pytest.raises(afmpeg.Cancelled):
        runtime.run(job, fs=fs, cancel=token)
    assert not fs.exists("/long.mp4")
    token = afmpeg.CancelToken()
    timer = threading.Timer(0.5, token.cancel)
    timer.start()
    t0 = time.monotonic()
    with pytest.raises(afmpeg.Cancelled):
        runtime.run(job, fs=fs, cancel=token)
    assert time.monotonic() - t0 < 10
    timer.join()
    assert not fs.exists("/long.mp4")
