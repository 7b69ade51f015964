"""Where ffmpeg's own behaviour decides what a file holds, the engine does the same (found by the FATE suite):
decoder options from the job, audio timestamps counted in samples, a fixed-frame-size encoder's last frame cut at
the output's end, the field order written into headers, and the muxer hints ffmpeg gives (duration, max delay)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import afmpeg

from .conftest import frame_rows, run_native


def _h264(runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS) -> None:
    """2 s at 10 fps, a keyframe every 5 frames: 20 frames, 4 keyframes."""
    runtime.run({"op": "process", "filter": "testsrc2=size=64x48:rate=10:duration=2[v]",
                 "outputs": [{"path": "gop.mkv", "map": ["[v]"], "video_codec": "libopenh264",
                              "options": {"g": "5"}}]}, fs=fs)


def _decode(runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS, decoder_options: dict[str, str] | None) -> list[list[str]]:
    inp: dict[str, object] = {"path": "gop.mkv"}
    if decoder_options is not None:
        inp["decoder_options"] = decoder_options
    runtime.run({"op": "process", "inputs": [inp], "filter": "[0:v]null[v]",
                 "outputs": [{"path": "d.crc", "format": "framecrc", "map": ["[v]"], "video_codec": "rawvideo"}]},
                fs=fs)
    return frame_rows(fs.cat("d.crc").decode())


def test_decoder_options_reach_the_decoder(runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS) -> None:
    _h264(runtime, fs)
    assert len(_decode(runtime, fs, None)) == 20
    assert len(_decode(runtime, fs, {"skip_frame": "nokey"})) == 4
    assert len(_decode(runtime, fs, {"skip_frame:v": "nokey"})) == 4


@pytest.mark.parametrize("options", [{"no_such_option": "1"}, {"skip_frame:a": "nokey"}])
def test_a_decoder_option_no_decoder_takes_is_refused(runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS,
                                                      options: dict[str, str]) -> None:
    _h264(runtime, fs)
    with pytest.raises(afmpeg.JobSpecError, match="no decoder of this input uses it") as info:
        _decode(runtime, fs, options)
    assert info.value.field == "inputs[0].decoder_options"


def test_decoder_options_are_checked_on_the_host() -> None:
    with pytest.raises(afmpeg.JobSpecError, match="decoder_options"):
        afmpeg.Input("a.mkv", decoder_options={"idct": 3}).validate()  # type: ignore[dict-item]
    job = afmpeg.job().input("a.mkv", decoder_options={"idct": "simple"}).filter("[0:v]null[v]") \
        .output("b.mkv", map=["[v]"]).build()
    assert job.to_dict()["inputs"][0]["decoder_options"] == {"idct": "simple"}


def test_audio_in_a_millisecond_container_keeps_contiguous_sample_timestamps(runtime: afmpeg.Runtime,
                                                                            fs: afmpeg.MemoryFS) -> None:
    # AAC frames (1024 samples at 44.1 kHz) in Matroska's 1 ms time base: the stored times are rounded
    runtime.run({"op": "process", "filter": "sine=frequency=440:sample_rate=44100:duration=2[a]",
                 "outputs": [{"path": "a.mkv", "map": ["[a]"], "audio_codec": "aac"}]}, fs=fs)
    runtime.run({"op": "process", "inputs": [{"path": "a.mkv"}], "filter": "[0:a]anull[a]",
                 "outputs": [{"path": "a.crc", "format": "framecrc", "map": ["[a]"], "audio_codec": "pcm_s16le"}]},
                fs=fs)
    rows = frame_rows(fs.cat("a.crc").decode())
    assert len(rows) > 50
    for prev, row in zip(rows, rows[1:], strict=False):  # pts (1/44100) follows on from pts + duration
        assert int(row[1]) == int(prev[1]) + int(prev[3]), (prev, row)


def test_a_fixed_frame_size_encoder_ends_exactly_at_the_output_duration(runtime: afmpeg.Runtime,
                                                                        fs: afmpeg.MemoryFS) -> None:
    runtime.run({"op": "process", "filter": "sine=frequency=440:sample_rate=44100:duration=3[a]",
                 "outputs": [{"path": "a.crc", "format": "framecrc", "map": ["[a]"], "audio_codec": "aac",
                              "duration": 1.0}]}, fs=fs)
    last = frame_rows(fs.cat("a.crc").decode())[-1]
    # AAC codes 1024-sample frames: the last holds 44100 - 43 * 1024 = 68 samples (libavcodec pads it) and its
    # packet ends where the second does
    assert (int(last[1]), int(last[3])) == (43 * 1024, 68)


@pytest.mark.parametrize("fmt", ["mkv", "mov"])
def test_the_field_order_of_encoded_video_is_written(runtime: afmpeg.Runtime, native_ffmpeg: str, tmp_path: Path,
                                                     fmt: str) -> None:
    # Matroska writes it in the header, mov at the end: the header waits for the first frame
    runtime.run({"op": "process", "filter": "testsrc2=size=64x48:rate=10:duration=1[v]",
                 "outputs": [{"path": f"p.{fmt}", "map": ["[v]"], "video_codec": "libopenh264"}]}, fs=str(tmp_path))
    res = subprocess.run([native_ffmpeg, "-hide_banner", "-i", str(tmp_path / f"p.{fmt}")], capture_output=True,
                         check=False)
    video = [ln for ln in res.stderr.decode(errors="replace").splitlines() if "Video:" in ln]
    assert video and "progressive" in video[0], video


@pytest.mark.parametrize(("fmt", "codec", "full"), [("mpegts", "mpeg4", False), ("avi", "rawvideo", True)])
def test_muxed_files_match_native_ffmpeg(runtime: afmpeg.Runtime, full_runtime: afmpeg.Runtime, native_ffmpeg: str,
                                         tmp_path: Path, fmt: str, codec: str, full: bool) -> None:
    """ffmpeg gives muxers its -muxdelay (0.7 s: mpegts offsets timestamps by it) and the source's duration (avi
    sizes its index by it): with the same frames the files are byte for byte the same."""
    rt = full_runtime if full else runtime
    rt.run({"op": "process", "filter": "testsrc2=size=64x48:rate=25:duration=2,format=yuv420p[v]",
            "outputs": [{"path": "src.yuv", "format": "rawvideo", "map": ["[v]"], "video_codec": "rawvideo"}]},
           fs=str(tmp_path))
    ours, theirs = tmp_path / f"ours.{fmt}", tmp_path / f"theirs.{fmt}"
    rt.run({"op": "process",
            "inputs": [{"path": "src.yuv", "format": "rawvideo",
                        "options": {"video_size": "64x48", "pixel_format": "yuv420p", "framerate": "25"}}],
            "filter": "[0:v]null[v]",
            "outputs": [{"path": ours.name, "format": fmt, "map": ["[v]"], "video_codec": codec,
                         "options": {"flags": "+bitexact"}, "format_options": {"fflags": "+bitexact"}}]},
           fs=str(tmp_path))
    run_native(native_ffmpeg, "-cpuflags", "0", "-f", "rawvideo", "-video_size", "64x48", "-pixel_format", "yuv420p",
               "-framerate", "25", "-i", str(tmp_path / "src.yuv"), "-c:v", codec, "-threads", "1", "-flags",
               "+bitexact", "-fflags", "+bitexact", "-f", fmt, "-y", str(theirs))
    assert ours.read_bytes() == theirs.read_bytes()


def test_a_demuxer_failing_past_its_end_marker_ends_the_input(full_runtime: afmpeg.Runtime,
                                                              fs: afmpeg.MemoryFS) -> None:
    """lavf calls the smjpeg demuxer again after its DONE chunk, and it fails on the bytes past the end of the file
    ("unknown chunk 0"): everything was read, so the input ends there (ffmpeg takes it as the end too)."""
    full_runtime.run({"op": "process", "filter": "testsrc2=size=64x48:rate=10:duration=1[v];sine=duration=1[a]",
                      "outputs": [{"path": "a.smjpeg", "format": "smjpeg", "map": ["[v]", "[a]"]}]}, fs=fs)
    full_runtime.run({"op": "process", "inputs": [{"path": "a.smjpeg"}],
                      "outputs": [{"path": "a.crc", "format": "framecrc", "map": ["0:v", "0:a"],
                                   "video_codec": "copy", "audio_codec": "copy"}]}, fs=fs)
    rows = frame_rows(fs.cat("a.crc").decode())
    assert sum(r[0] == "0" for r in rows) == 10 and sum(r[0] == "1" for r in rows) > 0
