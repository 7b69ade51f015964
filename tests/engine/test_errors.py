"""Bad jobs and bad media give typed errors, never a crash or a hang."""

from __future__ import annotations

import os

import pytest

import afmpeg

from .conftest import make_wav


def test_malformed_spec_is_exit_2(runtime, fs) -> None:
    with pytest.raises(afmpeg.JobSpecError) as ei:
        runtime.run({"op": "process", "version": 9, "outputs": "nope"}, fs=fs)
    assert ei.value.exit_code == 2
    assert "outputs" in ei.value.message


def test_unknown_top_level_key_is_named(runtime, fs) -> None:
    with pytest.raises(afmpeg.JobSpecError) as ei:
        runtime.call({"op": "process", "version": 9, "outputz": []}, fs=fs)
    assert "outputz" in ei.value.message


def test_unknown_op_is_exit_2(runtime, fs) -> None:
    with pytest.raises(afmpeg.JobSpecError):
        runtime.call({"op": "transmogrify", "version": 9}, fs=fs)


def test_newer_vocabulary_is_exit_3(runtime, fs) -> None:
    with pytest.raises(afmpeg.UnsupportedVocabulary) as ei:
        runtime.call({"op": "probe", "version": 999, "inputs": [{"path": "x"}]}, fs=fs)
    assert ei.value.exit_code == 3


def test_unknown_encoder_names_the_encoder(runtime, fs) -> None:
    fs.pipe("tone.wav", make_wav(seconds=0.2))
    with pytest.raises(afmpeg.ProcessingError) as ei:
        runtime.run({"op": "process", "version": 9, "inputs": [{"path": "tone.wav"}],
                     "outputs": [{"path": "x.mkv", "audio_codec": "libfrobnicate"}]}, fs=fs)
    assert ei.value.exit_code == 1
    assert "libfrobnicate" in ei.value.message
    assert not fs.exists("x.mkv")


def test_unconsumed_encoder_option_is_named(runtime, fs) -> None:
    fs.pipe("tone.wav", make_wav(seconds=0.2))
    with pytest.raises(afmpeg.AfmpegError) as ei:
        runtime.run({"op": "process", "version": 9, "inputs": [{"path": "tone.wav"}],
                     "outputs": [{"path": "x.flac", "audio_codec": "flac", "options": {"no_such_opt": "1"}}]},
                    fs=fs)
    assert "no_such_opt" in ei.value.message


def test_missing_input_is_a_processing_error(runtime, fs) -> None:
    with pytest.raises(afmpeg.ProcessingError) as ei:
        runtime.run({"op": "process", "version": 9, "inputs": [{"path": "nothere.mp4"}],
                     "outputs": [{"path": "x.mkv"}]}, fs=fs)
    assert "nothere.mp4" in ei.value.message


def test_truncated_input_fails_cleanly(runtime, fs, clip) -> None:
    data = fs.cat(clip)
    fs.pipe("cut.mp4", data[: len(data) // 3])
    with pytest.raises(afmpeg.ProcessingError) as ei:
        runtime.run({"op": "process", "version": 9, "inputs": [{"path": "cut.mp4"}],
                     "outputs": [{"path": "x.mkv", "video_codec": "mpeg4", "audio_codec": "aac"}]}, fs=fs)
    assert ei.value.message
    # the runtime stays usable after a failed job
    assert runtime.version().vocab_version >= 9


def test_random_bytes_fail_cleanly(runtime, fs) -> None:
    fs.pipe("noise.mp4", os.urandom(256 * 1024))
    with pytest.raises(afmpeg.ProcessingError) as ei:
        runtime.run({"op": "process", "version": 9, "inputs": [{"path": "noise.mp4"}],
                     "outputs": [{"path": "x.mkv"}]}, fs=fs)
    assert "Invalid data" in ei.value.message or "noise.mp4" in ei.value.message
    probe = runtime.probe("noise.mp4", fs=fs).inputs[0]
    assert probe.error


@pytest.mark.parametrize(("graph", "words"), [
    ("testsrc2=d=1,nosuchfilter[o]", 'nosuchfilter'),
    # libav parses options given by position before it looks the filter up, and then says "No option name"
    ("testsrc2=d=1,nosuchfilter=bff[o]", 'no filter "nosuchfilter" in this build'),
    ("testsrc2=d=1[a];[a]null,other@x=1:2[o]", 'no filter "other" in this build'),
    ("testsrc2=d=1,hqdn3d=4[o]", "only the GPL engine variant has it"),
])
def test_a_filter_this_build_lacks_is_unsupported_however_its_options_are_written(runtime, fs, graph, words) -> None:
    job = {"op": "process", "filter": graph,
           "outputs": [{"path": "o.nut", "format": "null", "map": ["[o]"], "video_codec": "rawvideo"}]}
    with pytest.raises(afmpeg.UnsupportedFeature, match=words) as info:
        runtime.run(job, fs=fs)
    assert info.value.field == "filter"
