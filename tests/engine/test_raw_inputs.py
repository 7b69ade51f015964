"""Forced demuxers with their options (raw video, raw PCM) and picking the K-th stream of a type."""

from __future__ import annotations

import hashlib
import struct

import pytest

import afmpeg

from .conftest import frame_rows

W, H, FRAMES = 64, 48, 12


def raw_frames() -> list[bytes]:
    """yuv420p frames whose luma is a ramp that moves with the frame number."""
    frames = []
    for n in range(FRAMES):
        y = bytes((x + 7 * n + row) & 0xFF for row in range(H) for x in range(W))
        uv = bytes([(16 * n) & 0xFF]) * (W * H // 4)
        frames.append(y + uv + uv[::-1])
    return frames


RAWVIDEO = {"format": "rawvideo",
            "options": {"video_size": f"{W}x{H}", "pixel_format": "yuv420p", "framerate": "12"}}


def test_rawvideo_input_frames_arrive_unchanged(runtime, fs) -> None:
    frames = raw_frames()
    fs.pipe("in.yuv", b"".join(frames))
    probe = runtime.probe(afmpeg.ProbeJob(inputs=[{"path": "in.yuv", **RAWVIDEO}]), fs=fs).inputs[0]
    v = probe.video
    assert (v.codec, v.width, v.height, v.pix_fmt, v.frame_rate) == ("rawvideo", W, H, "yuv420p", 12.0)
    runtime.run({"op": "process", "version": 9, "inputs": [{"path": "in.yuv", **RAWVIDEO}],
                 "filter": "[0:v]null[v]",
                 "outputs": [{"path": "out.md5", "format": "framemd5", "map": ["[v]"], "video_codec": "rawvideo"}]},
                fs=fs)
    rows = frame_rows(fs.cat("out.md5").decode(), 0)
    assert [r[5] for r in rows] == [hashlib.md5(f).hexdigest() for f in frames]
    assert [int(r[2]) for r in rows] == list(range(FRAMES))  # 1/12 s apart


def test_rawvideo_options_are_strict(runtime, fs) -> None:
    fs.pipe("in.yuv", b"".join(raw_frames()))
    bad = {"format": "rawvideo", "options": {**RAWVIDEO["options"], "frame_rate": "12"}}
    with pytest.raises(afmpeg.JobSpecError) as ei:
        runtime.run({"op": "process", "version": 9, "inputs": [{"path": "in.yuv", **bad}],
                     "outputs": [{"path": "x.mkv", "video_codec": "mpeg4"}]}, fs=fs)
    assert ei.value.details["field"] == "inputs[0].options"
    assert "frame_rate" in ei.value.message
    with pytest.raises(afmpeg.JobSpecError) as ei:
        runtime.call({"op": "probe", "version": 9,
                      "inputs": [{"path": "in.yuv", "format": "rawvideo", "options": {"video_size": 64}}]}, fs=fs)
    assert "must be strings" in ei.value.message


def test_unknown_demuxer_is_named(runtime, fs) -> None:
    fs.pipe("in.yuv", b"".join(raw_frames()))
    with pytest.raises(afmpeg.ProcessingError) as ei:
        runtime.run({"op": "process", "version": 9, "inputs": [{"path": "in.yuv", "format": "rawvid"}],
                     "outputs": [{"path": "x.mkv"}]}, fs=fs)
    assert "rawvid" in ei.value.message


def test_s16le_input_samples_arrive_unchanged(runtime, fs) -> None:
    samples = [int(8000 * ((i % 100) / 50 - 1)) for i in range(2 * 24000)]  # 0.5 s of stereo 48 kHz sawtooth
    pcm = struct.pack(f"<{len(samples)}h", *samples)
    fs.pipe("in.pcm", pcm)
    inp = {"path": "in.pcm", "format": "s16le", "options": {"sample_rate": "48000", "ch_layout": "stereo"}}
    probe = runtime.probe(afmpeg.ProbeJob(inputs=[inp]), fs=fs).inputs[0]
    a = probe.audio
    assert (a.codec, a.sample_rate, a.channels, a.channel_layout) == ("pcm_s16le", 48000, 2, "stereo")
    res = runtime.run({"op": "process", "version": 9, "inputs": [inp],
                       "outputs": [{"path": "out.wav", "audio_codec": "pcm_s16le"}]}, fs=fs)
    assert res.outputs[0].streams[0].codec == "pcm_s16le"
    wav = fs.cat("out.wav")
    assert wav.endswith(pcm)
    out = runtime.probe("out.wav", fs=fs).inputs[0]
    assert out.duration == pytest.approx(0.5, abs=1e-6)
    # A mono reading of the same bytes is twice as long: the options are honoured, not guessed.
    mono = {**inp, "options": {"sample_rate": "48000", "ch_layout": "mono"}}
    assert runtime.probe(afmpeg.ProbeJob(inputs=[mono]), fs=fs).inputs[0].audio.channels == 1


def test_pick_the_kth_video_stream(runtime, fs) -> None:
    runtime.run({"op": "process", "version": 9,
                 "filter": "testsrc2=size=64x48:duration=0.5[a];testsrc2=size=96x64:duration=0.5[b]",
                 "outputs": [{"path": "two.mkv", "map": ["[a]", "[b]"], "video_codec": "mpeg4"}]}, fs=fs)
    runtime.run({"op": "process", "version": 9, "inputs": [{"path": "two.mkv"}], "filter": "[0:v:1]null[v]",
                 "outputs": [{"path": "second.mkv", "map": ["[v]"], "video_codec": "mpeg4"}]}, fs=fs)
    v = runtime.probe("second.mkv", fs=fs).inputs[0].video
    assert (v.width, v.height) == (96, 64)
    # the copy form picks the same way
    runtime.run({"op": "process", "version": 9, "inputs": [{"path": "two.mkv"}],
                 "outputs": [{"path": "second_copy.mkv", "map": ["0:v:1"]}]}, fs=fs)
    assert runtime.probe("second_copy.mkv", fs=fs).inputs[0].video.width == 96
    with pytest.raises(afmpeg.ProcessingError) as ei:
        runtime.run({"op": "process", "version": 9, "inputs": [{"path": "two.mkv"}], "filter": "[0:v:2]null[v]",
                     "outputs": [{"path": "x.mkv", "map": ["[v]"], "video_codec": "mpeg4"}]}, fs=fs)
    assert "no video stream #2" in ei.value.message
