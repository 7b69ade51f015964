"""Per-job bounds and strict option dictionaries: each class of mistake is a named exit-2 error."""

from __future__ import annotations

import pytest

import afmpeg

from .conftest import make_wav

SRC = "sine=duration=1[a]"
SRT = b"1\n00:00:00,000 --> 00:00:00,500\nhello\n"


def _job(**kw: object) -> dict:
    return {"op": "process", "version": 9, **kw}


def _spec_error(runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS, job: dict) -> str:
    with pytest.raises(afmpeg.JobSpecError) as ei:
        runtime.call(job, fs=fs)
    assert ei.value.exit_code == 2
    return ei.value.message


@pytest.fixture
def wav_fs(fs: afmpeg.MemoryFS) -> afmpeg.MemoryFS:
    fs.pipe("x.wav", make_wav(seconds=0.2))
    return fs


@pytest.mark.parametrize(
    ("job", "needle"),
    [
        (_job(inputs=[{"path": "x.wav"}] * 33, outputs=[{"path": "o.wav"}]), "inputs: at most 32"),
        (_job(filter=SRC, outputs=[{"path": f"o{i}.wav"} for i in range(9)]), "outputs: at most 8"),
        (
            _job(filter=";".join(f"sine=duration=1[a{i}]" for i in range(17)),
                 outputs=[{"path": "o.mkv", "map": [f"[a{i}]" for i in range(17)]}]),
            "at most 16 graph outputs",
        ),
        (
            _job(inputs=[{"path": "x.wav"}], filter=";".join(f"[0:a]anull[a{i}]" for i in range(33)),
                 outputs=[{"path": "o.mkv", "audio_codec": "flac"}]),
            "graph inputs",
        ),
    ],
    ids=["inputs", "outputs", "graph-outputs", "graph-inputs"],
)
def test_job_bounds_are_named(runtime, wav_fs, job: dict, needle: str) -> None:
    assert needle in _spec_error(runtime, wav_fs, job)


def test_subtitle_stream_bound(runtime, fs) -> None:
    fs.pipe("s.srt", SRT)
    job = _job(inputs=[{"path": "s.srt"}] * 17,
               outputs=[{"path": "o.mkv", "map": [f"{i}:s" for i in range(17)], "subtitle_codec": "srt"}])
    assert "16" in _spec_error(runtime, fs, job)


def test_non_string_option_value_gets_a_quoting_hint(runtime, fs) -> None:
    job = _job(filter=SRC, outputs=[{"path": "o.flac", "map": ["[a]"], "audio_codec": "flac",
                                     "options": {"compression_level": 5}}])
    msg = _spec_error(runtime, fs, job)
    assert "outputs[0].options.compression_level" in msg and '"5"' in msg


@pytest.mark.parametrize("value", [-1, 1e300, 3.3e10])
def test_seconds_fields_are_bounded(runtime, fs, value: float) -> None:
    job = _job(filter=SRC, outputs=[{"path": "o.flac", "map": ["[a]"], "duration": value}])
    assert "outputs[0].duration" in _spec_error(runtime, fs, job)


def test_unconsumed_muxer_option_is_named(runtime, fs) -> None:
    job = _job(filter=SRC, outputs=[{"path": "o.flac", "map": ["[a]"], "format_options": {"bogus_mux": "1"}}])
    assert "bogus_mux" in _spec_error(runtime, fs, job)


def test_unconsumed_demuxer_option_is_named(runtime, wav_fs) -> None:
    job = _job(inputs=[{"path": "x.wav", "options": {"bogus_demux": "1"}}], outputs=[{"path": "o.flac"}])
    assert "bogus_demux" in _spec_error(runtime, wav_fs, job)


def test_unknown_top_level_key_and_newer_version(runtime, fs) -> None:
    assert "extra_key" in _spec_error(runtime, fs, _job(filter=SRC, outputs=[{"path": "o.flac"}], extra_key=1))
    with pytest.raises(afmpeg.UnsupportedVocabulary):
        runtime.call(_job(version=10, filter=SRC, outputs=[{"path": "o.flac"}]), fs=fs)
