"""The full profile: Opus, MP3, Vorbis, VP8/VP9, WebP, AV1 decoding, drawtext and subtitle burn-in, more filters.

Every test runs the real afmpeg-engine-lgpl-full.wasm (or the GPL twin) built by `make engine`; native FFmpeg
9.0.2 (imageio-ffmpeg) makes the AV1 input and checks that what we write decodes the same elsewhere.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import numpy as np
import pytest

import afmpeg

from .conftest import make_wav, run_native
from .test_bitexact import _frame_hashes

FONT = importlib.resources.files("font_roboto") / "files" / "Roboto-Regular.ttf"


def _probe(rt: afmpeg.Runtime, fs: afmpeg.MemoryFS, path: str) -> afmpeg.ProbedInput:
    got = rt.probe(path, fs=fs)[0]
    assert got.ok, got.error
    return got


def _rgb(rt: afmpeg.Runtime, fs: afmpeg.MemoryFS, path: str, width: int, height: int) -> np.ndarray:
    """Every frame of ``path`` decoded by the engine, as an (n, height, width, 3) uint8 array."""
    rt.run({"op": "process", "inputs": [{"path": path}], "filter": "[0:v]format=rgb24[v]",
            "outputs": [{"path": path + ".rgb", "format": "rawvideo", "video_codec": "rawvideo", "map": ["[v]"]}]},
           fs=fs)
    return np.frombuffer(fs.cat(path + ".rgb"), np.uint8).reshape(-1, height, width, 3)


def _native_framemd5(native_ffmpeg: str, path: Path, *decoder: str) -> list[tuple[str, str]]:
    out = run_native(native_ffmpeg, "-threads", "1", *decoder, "-i", str(path), "-map", "0:v", "-c:v", "rawvideo",
                     "-f", "framemd5", "-")
    return _frame_hashes(out.decode())


def _our_framemd5(rt: afmpeg.Runtime, fs: afmpeg.MemoryFS, path: str) -> list[tuple[str, str]]:
    rt.run({"op": "process", "inputs": [{"path": path}], "filter": "[0:v]null[v]",
            "outputs": [{"path": path + ".framemd5", "format": "framemd5", "map": ["[v]"],
                         "video_codec": "rawvideo"}]}, fs=fs)
    return _frame_hashes(fs.cat(path + ".framemd5").decode())


# ------------------------------------------------------------------------------------------------ audio


def test_wav_to_opus_in_webm_resamples_44100_to_48000(full_runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS) -> None:
    fs.pipe("tone.wav", make_wav(seconds=1.0, rate=44100))
    result = full_runtime.run({"op": "process", "inputs": [{"path": "tone.wav"}],
                               "outputs": [{"path": "tone.webm", "audio_codec": "libopus",
                                            "options": {"b:a": "64k"}}]}, fs=fs)
    assert result.outputs[0].streams[0].codec == "opus"
    got = _probe(full_runtime, fs, "tone.webm")
    assert got.format == "matroska,webm" and got.audio is not None
    assert (got.audio.codec, got.audio.sample_rate, got.audio.channels) == ("opus", 48000, 2)
    assert got.duration == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize(("path", "codec", "options", "fmt"), [
    ("tone.mp3", "libmp3lame", {"b:a": "128k"}, "mp3"),
    ("tone.ogg", "libvorbis", {"qscale:a": "4"}, "ogg"),
])
def test_wav_to_mp3_and_vorbis(full_runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS, path: str, codec: str,
                               options: dict[str, str], fmt: str) -> None:
    fs.pipe("tone.wav", make_wav(seconds=1.0, rate=44100))
    full_runtime.run({"op": "process", "inputs": [{"path": "tone.wav"}],
                      "outputs": [{"path": path, "audio_codec": codec, "options": options}]}, fs=fs)
    got = _probe(full_runtime, fs, path)
    assert got.format == fmt and got.audio is not None
    assert (got.audio.codec, got.audio.sample_rate) == (codec.removeprefix("lib").replace("mp3lame", "mp3"), 44100)
    # decoded back by the engine: a second of the 440 Hz tone, not silence
    full_runtime.run({"op": "process", "inputs": [{"path": path}],
                      "outputs": [{"path": "back.raw", "format": "s16le", "audio_codec": "pcm_s16le"}]}, fs=fs)
    samples = np.frombuffer(fs.cat("back.raw"), "<i2").reshape(-1, 2)[:, 0].astype(float)
    assert len(samples) == pytest.approx(44100, abs=2000)
    spectrum = np.abs(np.fft.rfft(samples[:32768]))
    assert np.argmax(spectrum) * 44100 / 32768 == pytest.approx(440, abs=3)


def test_loudnorm_and_atempo(full_runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS) -> None:
    fs.pipe("tone.wav", make_wav(seconds=2.0, rate=48000))
    full_runtime.run({"op": "process", "inputs": [{"path": "tone.wav"}],
                      "filter": "[0:a]atempo=2.0,loudnorm=I=-16:TP=-1.5[a]",
                      "outputs": [{"path": "fast.wav", "map": ["[a]"], "audio_codec": "pcm_s16le"}]}, fs=fs)
    got = _probe(full_runtime, fs, "fast.wav")
    assert got.duration == pytest.approx(1.0, abs=0.05)  # twice as fast
    samples = np.frombuffer(fs.cat("fast.wav")[44:], "<i2").astype(float)
    assert np.abs(samples).max() > 12000 * 1.2  # -16 LUFS is louder than the -11 dBFS-peak input tone


# ------------------------------------------------------------------------------------------------ video


def test_vp9_and_opus_webm_encode_and_decode_back(full_runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS,
                                                  native_ffmpeg: str, tmp_path: Path) -> None:
    full_runtime.run({"op": "process",
                      "filter": "testsrc2=size=160x120:rate=25:duration=1[v];sine=frequency=440:duration=1[a]",
                      "outputs": [{"path": "clip.webm", "map": ["[v]", "[a]"], "video_codec": "libvpx-vp9",
                                   "audio_codec": "libopus",
                                   "options": {"b:v": "400k", "deadline": "realtime", "cpu-used": "8"}}]}, fs=fs)
    got = _probe(full_runtime, fs, "clip.webm")
    assert got.video is not None and got.audio is not None
    assert (got.video.codec, got.video.width, got.video.height) == ("vp9", 160, 120)
    assert got.audio.codec == "opus"
    # our decode equals native FFmpeg's, frame for frame, and resembles the source
    (tmp_path / "clip.webm").write_bytes(fs.cat("clip.webm"))
    ours = _our_framemd5(full_runtime, fs, "clip.webm")
    assert len(ours) == 25
    assert ours == _native_framemd5(native_ffmpeg, tmp_path / "clip.webm")


def test_vp8_encode_is_read_by_native_ffmpeg(full_runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS,
                                              native_ffmpeg: str, tmp_path: Path) -> None:
    full_runtime.run({"op": "process", "filter": "testsrc2=size=160x120:rate=25:duration=1[v]",
                      "outputs": [{"path": "clip.webm", "map": ["[v]"], "video_codec": "libvpx",
                                   "options": {"b:v": "300k", "deadline": "realtime"}}]}, fs=fs)
    (tmp_path / "clip.webm").write_bytes(fs.cat("clip.webm"))
    native = _native_framemd5(native_ffmpeg, tmp_path / "clip.webm")
    assert len(native) == 25 and _our_framemd5(full_runtime, fs, "clip.webm") == native


def test_vp9_encode_resembles_its_source(full_runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS) -> None:
    full_runtime.run({"op": "process", "filter": "testsrc2=size=160x120:rate=10:duration=1,split[a][b]",
                      "outputs": [{"path": "src.mkv", "map": ["[a]"], "video_codec": "rawvideo"},
                                  {"path": "vp9.webm", "map": ["[b]"], "video_codec": "libvpx-vp9",
                                   "options": {"crf": "20", "b:v": "0", "deadline": "realtime",
                                               "cpu-used": "8"}}]}, fs=fs)
    source = _rgb(full_runtime, fs, "src.mkv", 160, 120).astype(float)
    decoded = _rgb(full_runtime, fs, "vp9.webm", 160, 120).astype(float)
    assert decoded.shape == source.shape == (10, 120, 160, 3)
    mse = np.mean((decoded - source) ** 2)
    assert 10 * np.log10(255**2 / mse) > 28  # PSNR in dB


def test_png_to_lossless_webp_keeps_every_pixel(full_runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS) -> None:
    full_runtime.run({"op": "process", "filter": "testsrc2=size=96x64:rate=1:duration=1,format=rgb24[v]",
                      "outputs": [{"path": "still.png", "map": ["[v]"], "video_codec": "png"}]}, fs=fs)
    full_runtime.run({"op": "process", "inputs": [{"path": "still.png"}],
                      "outputs": [{"path": "still.webp", "video_codec": "libwebp",
                                   "options": {"lossless": "1"}}]}, fs=fs)
    assert fs.cat("still.webp")[:4] == b"RIFF" and fs.cat("still.webp")[8:12] == b"WEBP"
    got = _probe(full_runtime, fs, "still.webp")
    assert got.video is not None and (got.video.codec, got.video.width) == ("webp", 96)
    assert np.array_equal(_rgb(full_runtime, fs, "still.webp", 96, 64), _rgb(full_runtime, fs, "still.png", 96, 64))
    assert fs.cat("still.webp")[12:16] == b"VP8L"  # the lossless bitstream
    # and lossy (a VP8 key frame): close to the source
    full_runtime.run({"op": "process", "inputs": [{"path": "still.png"}],
                      "outputs": [{"path": "lossy.webp", "video_codec": "libwebp", "options": {"quality": "90"}}]},
                     fs=fs)
    assert fs.cat("lossy.webp")[12:16] == b"VP8 "
    diff = _rgb(full_runtime, fs, "lossy.webp", 96, 64).astype(float) - _rgb(full_runtime, fs, "still.png", 96, 64)
    assert 10 * np.log10(255**2 / np.mean(diff**2)) > 22  # PSNR in dB (sharp test pattern, 4:2:0 chroma)


def test_av1_decodes_like_native_ffmpeg(full_runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS, native_ffmpeg: str,
                                        tmp_path: Path) -> None:
    src = tmp_path / "av1.mp4"
    run_native(native_ffmpeg, "-f", "lavfi", "-i", "testsrc2=size=176x144:rate=25:duration=1", "-c:v", "libaom-av1",
               "-cpu-used", "8", "-b:v", "200k", "-pix_fmt", "yuv420p", "-threads", "1", str(src))
    native = _native_framemd5(native_ffmpeg, src, "-c:v", "libdav1d")
    fs.pipe("av1.mp4", src.read_bytes())
    got = _probe(full_runtime, fs, "av1.mp4")
    assert got.video is not None and got.video.codec == "av1"
    assert len(native) == 25
    assert _our_framemd5(full_runtime, fs, "av1.mp4") == native


def test_gif_with_palettegen_and_paletteuse(full_runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS) -> None:
    full_runtime.run({"op": "process",
                      "filter": "testsrc2=size=120x90:rate=10:duration=1,split[a][b];[a]palettegen[p];"
                                "[b][p]paletteuse[v]",
                      "outputs": [{"path": "anim.gif", "map": ["[v]"]}]}, fs=fs)
    assert fs.cat("anim.gif")[:6] == b"GIF89a"
    got = _probe(full_runtime, fs, "anim.gif")
    assert got.video is not None and (got.video.codec, got.video.width, got.video.height) == ("gif", 120, 90)
    assert len(_rgb(full_runtime, fs, "anim.gif", 120, 90)) == 10


# ------------------------------------------------------------------------------------------------ text


def _black_with(full_runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS, overlay: str) -> np.ndarray:
    full_runtime.run({"op": "process", "filter": f"color=black:size=320x240:rate=1:duration=1{overlay}[v]",
                      "outputs": [{"path": "frame.png", "map": ["[v]"], "video_codec": "png"}]}, fs=fs)
    return _rgb(full_runtime, fs, "frame.png", 320, 240)[0]


def test_drawtext_with_a_font_on_the_in_memory_filesystem(full_runtime: afmpeg.Runtime,
                                                          fs: afmpeg.MemoryFS) -> None:
    fs.pipe("fonts/Roboto-Regular.ttf", FONT.read_bytes())
    assert _black_with(full_runtime, fs, "").max() == 0
    frame = _black_with(full_runtime, fs, ",drawtext=fontfile=fonts/Roboto-Regular.ttf:text=Hello:fontsize=64:"
                        "fontcolor=white:x=10:y=10")
    lit = frame[..., 0] > 128
    rows, cols = np.nonzero(lit)
    assert lit.sum() > 500  # glyphs were drawn
    assert rows.min() >= 10 and cols.min() >= 10  # where they were asked for
    with pytest.raises(afmpeg.Error, match=r'Could not load font "fonts/missing.ttf"'):
        _black_with(full_runtime, fs, ",drawtext=fontfile=fonts/missing.ttf:text=x")


def test_srt_burned_in_with_the_subtitles_filter(full_runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS) -> None:
    fs.pipe("fonts/Roboto-Regular.ttf", FONT.read_bytes())
    fs.pipe("subs.srt", b"1\n00:00:00,000 --> 00:00:05,000\nHELLO WORLD\n\n")
    style = "force_style='FontName=Roboto,FontSize=40'"
    frame = _black_with(full_runtime, fs, f",subtitles=subs.srt:fontsdir=fonts:{style}")
    rows, _ = np.nonzero(frame[..., 0] > 128)
    assert len(rows) > 300
    assert rows.min() > 240 // 2  # subtitles sit at the bottom


# ------------------------------------------------------------------------------------------------ licensing


def test_gpl_only_filter_is_in_the_gpl_full_module_only(full_runtime: afmpeg.Runtime, gpl_full_module_path: Path,
                                                         fs: afmpeg.MemoryFS) -> None:
    job = {"op": "process", "filter": "testsrc2=size=64x48:rate=5:duration=1,boxblur=luma_radius=2:luma_power=1[v]",
           "outputs": [{"path": "blur.mkv", "map": ["[v]"], "video_codec": "rawvideo"}]}
    with pytest.raises(afmpeg.UnsupportedFeature, match=r'no filter "boxblur".*GPL engine variant') as info:
        full_runtime.run(job, fs=fs)
    assert info.value.field == "filter"
    gpl = afmpeg.Runtime(gpl_full_module_path)
    gpl.run(job, fs=fs)
    assert _probe(gpl, fs, "blur.mkv").video is not None
    assert {"boxblur", "cropdetect", "eq"} <= set(gpl.capabilities().names("filters"))
    assert not {"boxblur", "cropdetect", "eq"} & set(full_runtime.capabilities().names("filters"))
