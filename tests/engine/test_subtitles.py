"""subtitle_codec: subtitle streams converted (srt, webvtt, ass, mov_text), cues shifted by seek and cut by windows."""

from __future__ import annotations

import re

import pytest

import afmpeg

from .conftest import make_clip_job

SRT = """1
00:00:01,000 --> 00:00:02,500
Hello

2
00:00:03,000 --> 00:00:04,000
World <i>two</i>

3
00:00:05,500 --> 00:00:07,000
Third
"""


@pytest.fixture
def srt(fs) -> str:
    fs.pipe("in.srt", SRT.encode())
    return "in.srt"


def cues(text: str) -> list[tuple[float, float]]:
    """(start, end) seconds of every cue of an srt or vtt file."""
    out = []
    for m in re.finditer(r"(?:(\d+):)?(\d+):(\d+)[.,](\d+) --> (?:(\d+):)?(\d+):(\d+)[.,](\d+)", text):
        g = [int(x or 0) for x in m.groups()]
        out.append((g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000, g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000))
    return out


def test_srt_to_webvtt_sidecar(runtime, fs, srt) -> None:
    res = runtime.run({"op": "process", "version": 9, "inputs": [{"path": srt}],
                       "outputs": [{"path": "out.vtt", "subtitle_codec": "webvtt"}]}, fs=fs)
    assert [(s.type, s.codec) for s in res.outputs[0].streams] == [("subtitle", "webvtt")]
    text = fs.cat("out.vtt").decode()
    assert text.startswith("WEBVTT")
    assert cues(text) == [(1.0, 2.5), (3.0, 4.0), (5.5, 7.0)]
    assert "Hello" in text and "World <i>two</i>" in text and "Third" in text
    # Without subtitle_codec, a sidecar converts to the format's own codec all the same.
    runtime.run({"op": "process", "version": 9, "inputs": [{"path": srt}], "outputs": [{"path": "auto.vtt"}]}, fs=fs)
    assert fs.cat("auto.vtt") == fs.cat("out.vtt")


def test_srt_to_ass_and_window(runtime, fs, srt) -> None:
    runtime.run({"op": "process", "version": 9, "inputs": [{"path": srt}],
                 "outputs": [{"path": "out.ass", "subtitle_codec": "ass", "duration": 3.5}]}, fs=fs)
    text = fs.cat("out.ass").decode()
    dialogue = [ln for ln in text.splitlines() if ln.startswith("Dialogue:")]
    # The window ends at 3.5 s: the second cue is cut there, the third is gone.
    assert [d.split(",")[1:3] for d in dialogue] == [["0:00:01.00", "0:00:02.50"], ["0:00:03.00", "0:00:03.50"]]
    assert "{\\i1}two{\\i0}" in dialogue[1]


def test_srt_into_mov_text_with_a_seek(runtime, fs, srt) -> None:
    runtime.run(make_clip_job("clip.mp4", seconds=8, size="160x120", rate=25), fs=fs)
    seek = {"start": 2, "mode": "accurate"}
    job = {"op": "process", "version": 9, "inputs": [{"path": "clip.mp4", "seek": seek}, {"path": srt, "seek": seek}],
           "filter": "[0:v]null[v]",
           "outputs": [{"path": "o.mp4", "map": ["[v]", "1:s"], "video_codec": "libopenh264",
                        "subtitle_codec": "mov_text", "duration": 4,
                        "stream_metadata": {"1:s": {"language": "eng"}}}]}
    res = runtime.run(job, fs=fs)
    assert [(s.type, s.codec) for s in res.outputs[0].streams] == [("video", "h264"), ("subtitle", "mov_text")]
    sub = runtime.call({"op": "probe", "version": 9, "inputs": [{"path": "o.mp4"}]}, fs=fs)["inputs"][0]["streams"][1]
    assert sub["codec"] == "mov_text" and sub["language"] == "eng"
    # Read the cues back out (mov_text -> srt): shifted 2 s earlier, the first one clipped at 0,
    # the last cut at the 4 s window.
    runtime.run({"op": "process", "version": 9, "inputs": [{"path": "o.mp4"}],
                 "outputs": [{"path": "back.srt", "map": ["0:s"], "subtitle_codec": "srt"}]}, fs=fs)
    text = fs.cat("back.srt").decode()
    assert cues(text) == [(0.0, 0.5), (1.0, 2.0), (3.5, 4.0)]
    assert ["Hello", "World <i>two</i>", "Third"] == [t for t in text.splitlines() if t and not t[0].isdigit()]


def test_srt_into_mkv_and_copy(runtime, fs, srt) -> None:
    runtime.run(make_clip_job("clip.mp4", seconds=2, size="160x120", rate=25), fs=fs)
    job = {"op": "process", "version": 9, "inputs": [{"path": "clip.mp4"}, {"path": srt}],
           "outputs": [{"path": "o.mkv", "map": ["0:v", "1:s"], "subtitle_codec": "srt"}]}
    res = runtime.run(job, fs=fs)
    assert [(s.codec, s.extra.get("copied")) for s in res.outputs[0].streams] == [("h264", True), ("subrip", None)]
    # "copy" keeps the packets; an mkv can hold subrip as it is.
    job["outputs"] = [{"path": "c.mkv", "map": ["0:s"], "subtitle_codec": "copy"}]
    job["inputs"] = [{"path": "o.mkv"}]
    res = runtime.run(job, fs=fs)
    assert res.outputs[0].streams[0].codec == "subrip"
    runtime.run({"op": "process", "version": 9, "inputs": [{"path": "c.mkv"}],
                 "outputs": [{"path": "c.vtt", "subtitle_codec": "webvtt"}]}, fs=fs)
    assert cues(fs.cat("c.vtt").decode()) == [(1.0, 2.5), (3.0, 4.0), (5.5, 7.0)]


def test_subtitle_codec_errors(runtime, fs, srt) -> None:
    base = {"op": "process", "version": 9, "inputs": [{"path": srt}]}
    with pytest.raises(afmpeg.ProcessingError, match="unknown encoder \"nope\""):
        runtime.run({**base, "outputs": [{"path": "o.vtt", "subtitle_codec": "nope"}]}, fs=fs)
    with pytest.raises(afmpeg.JobSpecError, match="not a subtitle encoder"):
        runtime.run({**base, "outputs": [{"path": "o.vtt", "subtitle_codec": "aac"}]}, fs=fs)
    with pytest.raises(afmpeg.ProcessingError, match="cannot store"):
        runtime.run({**base, "outputs": [{"path": "o.vtt", "subtitle_codec": "ass"}]}, fs=fs)
