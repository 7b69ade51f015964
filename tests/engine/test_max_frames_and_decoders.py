"""Output ``max_frames`` (ffmpeg's -frames:v / -frames:a) and input ``video_codec`` / ``audio_codec`` (a forced
decoder, ffmpeg's -c:v before -i): the vocabulary the FATE conformance runner needs, as general features."""

from __future__ import annotations

import pytest

import afmpeg

from .conftest import frame_rows


def test_max_frames_per_stream_type(runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS) -> None:
    runtime.run({"op": "process", "filter": "testsrc2=size=64x48:rate=10:duration=5[v];sine=duration=5[a]",
                 "outputs": [{"path": "o.crc", "format": "framecrc", "map": ["[v]", "[a]"],
                              "video_codec": "rawvideo", "audio_codec": "pcm_s16le",
                              "max_frames": {"video": 7, "audio": 3}}]}, fs=fs)
    rows = frame_rows(fs.cat("o.crc").decode())
    assert sum(r[0] == "0" for r in rows) == 7 and sum(r[0] == "1" for r in rows) == 3
    # one type limited, the other runs to the end of its input
    runtime.run({"op": "process", "filter": "testsrc2=size=64x48:rate=10:duration=2[v];sine=duration=2[a]",
                 "outputs": [{"path": "p.crc", "format": "framecrc", "map": ["[v]", "[a]"],
                              "video_codec": "rawvideo", "audio_codec": "pcm_s16le", "max_frames": {"video": 4}}]},
                fs=fs)
    rows = frame_rows(fs.cat("p.crc").decode())
    assert sum(r[0] == "0" for r in rows) == 4
    assert sum(int(r[4]) for r in rows if r[0] == "1") == 2 * 44100 * 2  # two seconds of s16 mono


def test_max_frames_with_an_endless_source_ends_the_job(runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS) -> None:
    runtime.run({"op": "process", "filter": "testsrc2=size=32x24:rate=25[v]",
                 "outputs": [{"path": "o.crc", "format": "framecrc", "map": ["[v]"], "video_codec": "rawvideo",
                              "max_frames": {"video": 5}}]}, fs=fs)
    assert len(frame_rows(fs.cat("o.crc").decode())) == 5


@pytest.mark.parametrize(("value", "words"), [
    ({"video": 0}, "at least 1"),
    ({"video": 2.5}, "whole number"),
    ({"subtitle": 1}, "subtitle"),
    (5, "an object"),
])
def test_max_frames_is_checked(runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS, value: object, words: str) -> None:
    job = {"op": "process", "filter": "testsrc2=d=1[v]",
           "outputs": [{"path": "o.mkv", "map": ["[v]"], "video_codec": "rawvideo", "max_frames": value}]}
    with pytest.raises(afmpeg.JobSpecError, match=words) as info:
        runtime.run(job, fs=fs)
    assert (info.value.field or "").startswith("outputs[0].max_frames")
    with pytest.raises(afmpeg.JobSpecError):
        afmpeg.Output.from_dict(job["outputs"][0]).validate()  # the host says so too


def _pgmyuv(width: int, height: int, shade: int) -> bytes:
    """One PGMYUV picture: a PGM of height*3/2 rows, luma then the two chroma planes side by side."""
    luma = bytes([shade]) * (width * height)
    chroma = bytes([128]) * (width * height // 2)
    return f"P5\n{width} {height * 3 // 2}\n255\n".encode() + luma + chroma


def test_forced_decoder_reads_a_pgm_sequence_as_yuv(full_runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS) -> None:
    for i in range(3):
        fs.pipe(f"seq/{i:02d}.pgm", _pgmyuv(64, 48, 40 * i + 16))

    def frames(**forced: str) -> list[list[str]]:
        full_runtime.run({"op": "process", "inputs": [{"path": "seq/%02d.pgm", "format": "image2", **forced}],
                          "filter": "[0:v]null[v]",
                          "outputs": [{"path": "o.crc", "format": "framecrc", "map": ["[v]"],
                                       "video_codec": "rawvideo"}]}, fs=fs)
        return frame_rows(fs.cat("o.crc").decode())

    as_yuv = frames(video_codec="pgmyuv")
    as_gray = frames()
    assert len(as_yuv) == len(as_gray) == 3
    assert {r[4] for r in as_yuv} == {str(64 * 48 * 3 // 2)}  # 64x48 yuv420p
    assert {r[4] for r in as_gray} == {str(64 * 72)}  # the same files as 64x72 gray


def test_forced_decoder_errors(runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS, clip: str) -> None:
    job = {"op": "process", "inputs": [{"path": clip, "video_codec": "nope"}],
           "outputs": [{"path": "o.mkv", "video_codec": "rawvideo", "audio_codec": "pcm_s16le"}]}
    with pytest.raises(afmpeg.UnsupportedFeature, match='unknown decoder "nope"'):
        runtime.run(job, fs=fs)
    job["inputs"][0]["video_codec"] = "aac"
    with pytest.raises(afmpeg.JobSpecError, match='"aac" is not a video decoder') as info:
        runtime.run(job, fs=fs)
    assert info.value.field == "inputs[0].video_codec"
    # the right one is accepted, and decodes as the default would
    job["inputs"][0]["video_codec"] = "h264"
    runtime.run(job, fs=fs)
    assert fs.exists("o.mkv")
