"""The engine classifies its failures ("kind" in its error JSON) and each kind becomes its own exception class."""

from __future__ import annotations

import errno
import os

import pytest

import afmpeg
from afmpeg.errors import ERROR_KINDS, error_for_exit

from .conftest import make_wav


def _process(inputs: list[dict], outputs: list[dict], **extra: object) -> dict:
    return {"op": "process", "version": 9, "inputs": inputs, "outputs": outputs, **extra}


def _assert_carries(exc: afmpeg.Error, job: dict, exit_code: int, kind: str) -> None:
    """Every engine error carries its job, its exit code, the engine's kind and FFmpeg's message."""
    assert isinstance(exc, afmpeg.Error)
    assert exc.job == job
    assert exc.exit_code == exit_code
    assert exc.kind == kind
    assert exc.details["kind"] == kind
    assert exc.ffmpeg_message


def test_missing_input_is_input_not_found(runtime, fs) -> None:
    job = _process([{"path": "nothere.mp4"}], [{"path": "x.mkv"}])
    with pytest.raises(afmpeg.InputNotFound) as ei:
        runtime.run(job, fs=fs)
    exc = ei.value
    assert isinstance(exc, FileNotFoundError)
    assert isinstance(exc, afmpeg.ProcessingError)  # code catching exit-code-1 failures still catches it
    assert exc.errno == errno.ENOENT
    assert exc.filename == "nothere.mp4"  # looked up from the engine's field "inputs[0]"
    assert exc.field == "inputs[0]"
    assert "nothere.mp4" in exc.message
    _assert_carries(exc, job, 1, "not_found")


def test_missing_second_input_names_that_input(runtime, fs) -> None:
    fs.pipe("tone.wav", make_wav(seconds=0.1))
    job = _process([{"path": "tone.wav"}, {"path": "gone.wav"}], [{"path": "x.wav", "map": ["1:a"]}])
    with pytest.raises(afmpeg.InputNotFound) as ei:
        runtime.run(job, fs=fs)
    assert ei.value.filename == "gone.wav"
    assert ei.value.field == "inputs[1]"


def test_missing_frames_input_is_input_not_found(runtime, fs) -> None:
    job = {"op": "frames", "version": 9, "inputs": [{"path": "nope.mp4"}], "select": {"timestamp": 0},
           "path": "f.png"}
    with pytest.raises(afmpeg.InputNotFound) as ei:
        runtime.frames(job, fs=fs)
    assert ei.value.filename == "nope.mp4"


def test_missing_output_directory_is_not_input_not_found(runtime, fs) -> None:
    # ENOENT on the output side means a missing directory: a plain ProcessingError, not a missing input
    job = _process([], [{"path": "nodir/x.wav", "map": ["[a]"]}], filter="sine=d=0.1[a]")
    job.pop("inputs")
    with pytest.raises(afmpeg.ProcessingError) as ei:
        runtime.run(job, fs=fs)
    assert type(ei.value) is afmpeg.ProcessingError
    assert not isinstance(ei.value, FileNotFoundError)
    assert ei.value.kind == "processing"


def test_random_bytes_are_invalid_data(runtime, fs) -> None:
    fs.pipe("noise.mp4", os.urandom(64 * 1024))
    job = _process([{"path": "noise.mp4"}], [{"path": "x.mkv"}])
    with pytest.raises(afmpeg.InvalidData) as ei:
        runtime.run(job, fs=fs)
    assert "noise.mp4" in ei.value.message
    _assert_carries(ei.value, job, 1, "invalid_data")
    assert "moov atom not found" in ei.value.ffmpeg_message  # libav's own line, from the engine's log


def test_truncated_file_is_invalid_data(runtime, fs, clip) -> None:
    data = fs.cat(clip)
    fs.pipe("cut.mp4", data[: len(data) // 3])
    job = _process([{"path": "cut.mp4"}], [{"path": "x.mkv", "video_codec": "mpeg4", "audio_codec": "aac"}])
    with pytest.raises(afmpeg.InvalidData) as ei:
        runtime.run(job, fs=fs)
    assert "cut.mp4" in ei.value.message
    assert not fs.exists("x.mkv")


def test_empty_file_is_invalid_data(runtime, fs) -> None:
    fs.pipe("empty.wav", b"")
    with pytest.raises(afmpeg.InvalidData):
        runtime.run(_process([{"path": "empty.wav"}], [{"path": "x.flac"}]), fs=fs)


def test_unknown_encoder_is_unsupported_feature(runtime, fs) -> None:
    job = _process([], [{"path": "x.mp4", "map": ["[v]"], "video_codec": "libx264"}],
                   filter="testsrc2=size=64x48:duration=0.1[v]")
    job.pop("inputs")
    with pytest.raises(afmpeg.UnsupportedFeature) as ei:
        runtime.run(job, fs=fs)
    assert "libx264" in ei.value.message
    assert ei.value.field == "outputs[0].video_codec"
    assert isinstance(ei.value, afmpeg.ProcessingError)
    _assert_carries(ei.value, job, 1, "unsupported")


def test_unknown_filter_is_unsupported_feature(runtime, fs) -> None:
    job = {"op": "process", "version": 9, "filter": "testsrc2=size=64x48:duration=0.1,frobnicate[v]",
           "outputs": [{"path": "x.mkv", "map": ["[v]"]}]}
    with pytest.raises(afmpeg.UnsupportedFeature) as ei:
        runtime.run(job, fs=fs)
    assert "frobnicate" in ei.value.message
    assert ei.value.field == "filter"


def test_unknown_input_format_is_unsupported_feature(runtime, fs) -> None:
    fs.pipe("tone.wav", make_wav(seconds=0.1))
    with pytest.raises(afmpeg.UnsupportedFeature) as ei:
        runtime.run(_process([{"path": "tone.wav", "format": "no_such_demuxer"}], [{"path": "x.wav"}]), fs=fs)
    assert "no_such_demuxer" in ei.value.message


def test_unknown_output_format_is_unsupported_feature(runtime, fs) -> None:
    job = {"op": "process", "version": 9, "filter": "sine=d=0.1[a]",
           "outputs": [{"path": "x.bin", "map": ["[a]"], "format": "no_such_muxer"}]}
    with pytest.raises(afmpeg.UnsupportedFeature) as ei:
        runtime.run(job, fs=fs)
    assert "no_such_muxer" in ei.value.message


def test_unknown_bitstream_filter_is_unsupported_feature(runtime, fs) -> None:
    fs.pipe("tone.wav", make_wav(seconds=0.1))
    job = _process([{"path": "tone.wav"}],
                   [{"path": "x.wav", "map": ["0:a"], "bitstream_filters": {"0:a": "no_such_bsf"}}])
    with pytest.raises(afmpeg.UnsupportedFeature) as ei:
        runtime.run(job, fs=fs)
    assert "no_such_bsf" in ei.value.message


def test_malformed_spec_is_job_spec_error(runtime, fs) -> None:
    job = {"op": "process", "version": 9, "outputs": "nope"}
    with pytest.raises(afmpeg.JobSpecError) as ei:
        runtime.run(job, fs=fs)
    assert isinstance(ei.value, ValueError)
    assert not isinstance(ei.value, afmpeg.ProcessingError)
    assert ei.value.field == "outputs"
    assert "outputs" in ei.value.message
    assert ei.value.job == job and ei.value.exit_code == 2 and ei.value.kind == "spec"
    assert ei.value.ffmpeg_message == ei.value.message  # nothing logged by libav: the engine's words stand in


def test_newer_vocabulary_has_kind_version(runtime, fs) -> None:
    with pytest.raises(afmpeg.UnsupportedVocabulary) as ei:
        runtime.call({"op": "probe", "version": 999, "inputs": [{"path": "x"}]}, fs=fs)
    assert ei.value.kind == "version" and ei.value.exit_code == 3


def test_probe_per_input_errors_carry_a_kind(runtime, fs) -> None:
    fs.pipe("noise.bin", os.urandom(4096))
    fs.pipe("tone.wav", make_wav(seconds=0.1))
    res = runtime.probe(["missing.wav", "noise.bin", "tone.wav"], fs=fs)
    kinds = [item.extra.get("error_kind") for item in res.inputs]
    assert kinds == ["not_found", "invalid_data", None]
    assert res.inputs[2].ok


def test_every_exception_class_is_an_afmpeg_error() -> None:
    classes = [
        afmpeg.JobSpecError, afmpeg.UnsupportedVocabulary, afmpeg.ProcessingError, afmpeg.UnsupportedFeature,
        afmpeg.InputNotFound, afmpeg.InvalidData, afmpeg.LimitExceeded, afmpeg.MemoryLimitExceeded,
        afmpeg.JobTimeout, afmpeg.OutputLimitExceeded, afmpeg.Cancelled, afmpeg.EngineCrash, afmpeg.ModuleNotFound,
    ]
    for cls in classes:
        assert issubclass(cls, afmpeg.Error), cls
    assert afmpeg.AfmpegError is afmpeg.Error


@pytest.mark.parametrize(("exit_code", "kind", "cls"), [
    (1, "not_found", afmpeg.InputNotFound),
    (1, "invalid_data", afmpeg.InvalidData),
    (1, "unsupported", afmpeg.UnsupportedFeature),
    (1, "processing", afmpeg.ProcessingError),
    (1, "from_a_newer_engine", afmpeg.ProcessingError),
    (1, None, afmpeg.ProcessingError),
    (1, "spec", afmpeg.ProcessingError),  # a kind never moves an error out of its exit code's family
    (2, "unsupported", afmpeg.JobSpecError),
    (3, None, afmpeg.UnsupportedVocabulary),
])
def test_error_for_exit_maps_kinds(exit_code: int, kind: str | None, cls: type) -> None:
    details = {"error": "x", "kind": kind} if kind else {"error": "x"}
    exc = error_for_exit(exit_code, "x", details=details)
    assert type(exc) is cls
    assert set(ERROR_KINDS) == {
        "spec", "version", "unsupported", "not_found", "invalid_data", "no_memory", "processing"
    }

