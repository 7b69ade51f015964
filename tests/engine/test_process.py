"""process jobs on the real engine: encode, transcode, remux, multiple outputs."""

from __future__ import annotations

import afmpeg

from .conftest import make_clip_job, make_wav


def test_version(runtime: afmpeg.Runtime) -> None:
    v = runtime.version()
    assert v.ffmpeg_version.startswith("9.0.2")
    assert v.vocab_version >= 9


def test_clip_from_sources_has_both_streams_and_every_frame(runtime, fs) -> None:
    runtime.run(make_clip_job("clip.mp4", seconds=2), fs=fs)
    info = runtime.probe("clip.mp4", fs=fs).inputs[0]
    assert info.error is None
    assert "mp4" in info.format
    assert abs(info.duration - 2.0) < 0.1
    v, a = info.video, info.audio
    assert (v.codec, v.width, v.height, v.pix_fmt) == ("h264", 640, 360, "yuv420p")
    assert abs(v.frame_rate - 30) < 0.01
    assert v.nb_frames == 60  # the last frame is not lost (packet duration trap)
    assert (a.codec, a.sample_rate) == ("aac", 48000)


def test_transcode_h264_aac_to_scaled_h264(runtime, fs, clip) -> None:
    res = runtime.run(
        {
            "op": "process",
            "version": 9,
            "inputs": [{"path": clip}],
            "filter": "[0:v]scale=320:180[v];[0:a]anull[a]",
            "outputs": [{"path": "small.mp4", "map": ["[v]", "[a]"], "video_codec": "libopenh264",
                         "audio_codec": "aac"}],
        },
        fs=fs,
    )
    assert [s.codec for s in res.outputs[0].streams] == ["h264", "aac"]
    info = runtime.probe("small.mp4", fs=fs).inputs[0]
    assert (info.video.width, info.video.height) == (320, 180)
    assert info.video.nb_frames == 60
    assert abs(info.duration - 2.0) < 0.1


def test_default_passthrough_graph_without_filter(runtime, fs, clip) -> None:
    runtime.run({"op": "process", "version": 9, "inputs": [{"path": clip}],
                 "outputs": [{"path": "again.mkv", "video_codec": "mpeg4", "audio_codec": "flac"}]}, fs=fs)
    info = runtime.probe("again.mkv", fs=fs).inputs[0]
    assert info.format == "matroska,webm"
    assert sorted(s.codec for s in info.streams) == ["flac", "mpeg4"]


def test_wav_to_aac(runtime, fs) -> None:
    fs.pipe("tone.wav", make_wav(seconds=1.5, rate=44100))
    probe = runtime.probe("tone.wav", fs=fs).inputs[0]
    assert (probe.audio.codec, probe.audio.sample_rate, probe.audio.channels) == ("pcm_s16le", 44100, 2)
    runtime.run({"op": "process", "version": 9, "inputs": [{"path": "tone.wav"}],
                 "outputs": [{"path": "tone.m4a", "audio_codec": "aac", "options": {"b": "128k"}}]}, fs=fs)
    out = runtime.probe("tone.m4a", fs=fs).inputs[0]
    assert out.audio.codec == "aac"
    assert out.audio.sample_rate == 44100
    assert abs(out.duration - 1.5) < 0.1
    assert [s.type for s in out.streams] == ["audio"]


def test_mp4_to_mkv(runtime, fs, clip) -> None:
    runtime.run({"op": "process", "version": 9, "inputs": [{"path": clip}],
                 "outputs": [{"path": "clip.mkv", "video_codec": "libopenh264", "audio_codec": "aac"}]}, fs=fs)
    data = fs.cat("clip.mkv")
    assert data[:4] == b"\x1a\x45\xdf\xa3"  # EBML magic
    info = runtime.probe("clip.mkv", fs=fs).inputs[0]
    assert info.format == "matroska,webm"
    assert abs(info.duration - 2.0) < 0.1


def test_asplit_feeds_two_outputs(runtime, fs) -> None:
    fs.pipe("tone.wav", make_wav(seconds=1.0, rate=48000))
    res = runtime.run(
        {
            "op": "process",
            "version": 9,
            "inputs": [{"path": "tone.wav"}],
            "filter": "[0:a]asplit=2[a1][a2]",
            "outputs": [
                {"path": "a.flac", "map": ["[a1]"], "audio_codec": "flac"},
                {"path": "b.wav", "map": ["[a2]"], "audio_codec": "pcm_s16le"},
            ],
        },
        fs=fs,
    )
    assert [o.path for o in res.outputs] == ["a.flac", "b.wav"]
    assert runtime.probe("a.flac", fs=fs).inputs[0].audio.codec == "flac"
    # The second output is the same PCM as the input (a lossless branch of the split).
    assert fs.size("b.wav") > 48000 * 4
    b = runtime.probe("b.wav", fs=fs).inputs[0]
    assert abs(b.duration - 1.0) < 0.01


def test_outputs_can_live_in_subdirectories(runtime, fs) -> None:
    fs.makedirs("/out/deep", exist_ok=True)
    fs.pipe("tone.wav", make_wav(seconds=0.5))
    runtime.run({"op": "process", "version": 9, "inputs": [{"path": "tone.wav"}],
                 "outputs": [{"path": "out/deep/t.flac", "audio_codec": "flac"}]}, fs=fs)
    assert fs.exists("/out/deep/t.flac")
