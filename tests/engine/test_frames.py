"""The frames op: stills at given times, at intervals, at scene changes; PNG/JPEG files; errors."""

from __future__ import annotations

import math
import random
import struct
from pathlib import Path

import pytest

import afmpeg

from .conftest import run_native

W, H = 640, 360  # the `clip` fixture: 2 s, 30 fps


def frames_job(path: str, select: dict, out: str, **kw) -> dict:
    return {"op": "frames", "version": 9, "inputs": [{"path": path}], "select": select, "path": out, **kw}


def native_rgb_frames(ffmpeg: str, media: Path, w: int, h: int) -> dict[bytes, int]:
    """Every frame of `media` as RGB24, decoded and converted by native FFmpeg's C code paths -> frame number."""
    raw = run_native(ffmpeg, "-cpuflags", "0", "-i", str(media), "-f", "rawvideo", "-pix_fmt", "rgb24", "-")
    size = w * h * 3
    assert len(raw) % size == 0
    return {raw[i : i + size]: i // size for i in range(0, len(raw), size)}


def png_as_rgb(ffmpeg: str, data: bytes, tmp_path: Path) -> bytes:
    png = tmp_path / "ours.png"
    png.write_bytes(data)
    return run_native(ffmpeg, "-i", str(png), "-f", "rawvideo", "-pix_fmt", "rgb24", "-")


def png_header(data: bytes) -> tuple[int, int, int, int]:
    """(width, height, bit depth, colour type) from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    assert data[-12:] == b"\x00\x00\x00\x00IEND\xaeB`\x82", "PNG does not end with IEND"
    return width, height, depth, colour


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's start-of-frame segment."""
    assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9", "not a complete JPEG"
    i = 2
    while i < len(data):
        assert data[i] == 0xFF
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    raise AssertionError("no SOF segment")


def first_frame_at_or_after(t: float, fps: int, nb_frames: int) -> int:
    """The frame the engine documents for target t: the first with pts >= t, or the last frame if t is inside it."""
    return min(math.ceil(t * fps - 1e-9), nb_frames - 1)


# ------------------------------------------------------------------ timestamps


def test_timestamps_are_the_right_frames(runtime, fs, clip, native_ffmpeg, tmp_path) -> None:
    (tmp_path / "clip.mp4").write_bytes(fs.cat_file(clip))
    reference = native_rgb_frames(native_ffmpeg, tmp_path / "clip.mp4", W, H)
    assert len(reference) == 60
    targets = [1.5, 0, 0.51, 1.0, 1.99, 0.25, 1.0]  # unsorted, with a repeat; 1.99 lies inside the last frame
    res = runtime.frames(frames_job(clip, {"timestamps": targets}, "ts_%02d.png"), fs=fs)
    assert res.count == len(targets) == len(res)
    assert [f.index for f in res] == list(range(1, len(targets) + 1))  # numbered in the job's order
    assert [f.path for f in res] == [f"ts_{i:02d}.png" for i in range(1, len(targets) + 1)]
    for info, target in zip(res, targets, strict=True):
        got = reference.get(png_as_rgb(native_ffmpeg, fs.cat_file(info.path), tmp_path))
        assert got is not None, f"{info.path} matches no decoded frame"
        assert got == first_frame_at_or_after(target, 30, 60), (target, got)
        assert abs(got / 30 - target) <= 1 / 30 + 1e-9  # within one frame of the target
        assert info.timestamp == pytest.approx(got / 30, abs=1e-6)


@pytest.mark.parametrize("container", ["mp4", "mkv", "ts"])
def test_seeking_with_b_frames_and_many_gops(runtime, fs, native_ffmpeg, tmp_path, container) -> None:
    name = f"gops.{container}"
    runtime.run(
        {
            "op": "process",
            "version": 9,
            "filter": "testsrc2=size=160x120:rate=25:duration=12[v]",
            "outputs": [{"path": name, "map": ["[v]"], "video_codec": "mpeg4", "options": {"bf": "2", "g": "12"}}],
        },
        fs=fs,
    )
    (tmp_path / name).write_bytes(fs.cat_file(name))
    reference = native_rgb_frames(native_ffmpeg, tmp_path / name, 160, 120)
    assert len(reference) == 300
    targets = [11.99, 0.3, 7.77, 3.0, 3.01, 5.5, 0.0, 9.96, 10.0, 2.2, 12.5]  # 12.5 is past the end
    res = runtime.frames(frames_job(name, {"timestamps": targets}, "g_%d.png"), fs=fs)
    assert res.count == 10 and 11 not in [f.index for f in res]  # past the end: no frame, the rest are there
    assert not fs.exists("g_11.png")
    for info in res:
        target = targets[info.index - 1]
        got = reference.get(png_as_rgb(native_ffmpeg, fs.cat_file(info.path), tmp_path))
        assert got == first_frame_at_or_after(target, 25, 300), (target, got)


def test_single_timestamp_and_past_the_end(runtime, fs, clip) -> None:
    res = runtime.frames(frames_job(clip, {"timestamp": 1.0}, "one.png"), fs=fs)
    assert [(f.path, f.index, f.timestamp) for f in res] == [("one.png", 1, 1.0)]
    assert png_header(fs.cat_file("one.png"))[:2] == (W, H)
    late = runtime.frames(frames_job(clip, {"timestamp": 2.5}, "late.png"), fs=fs)
    assert late.count == 0 and late.frames == [] and not fs.exists("late.png")


# ------------------------------------------------------------------ formats and scale


def test_png_is_rgb_with_the_scaled_size(runtime, fs, clip) -> None:
    res = runtime.frames(frames_job(clip, {"timestamps": [0.2, 1.2]}, "small_%d.png", scale="320:-2"), fs=fs)
    assert res.paths == ["small_1.png", "small_2.png"]
    for path in res.paths:
        assert png_header(fs.cat_file(path)) == (320, 180, 8, 2)  # 8-bit RGB


def test_mjpeg_writes_jpegs(runtime, fs, clip) -> None:
    res = runtime.frames(frames_job(clip, {"timestamps": [0.5, 1.5]}, "j_%03d.jpg", codec="mjpeg"), fs=fs)
    assert res.paths == ["j_001.jpg", "j_002.jpg"]
    for path in res.paths:
        assert jpeg_size(fs.cat_file(path)) == (W, H)
    # the codec follows a .jpg extension when not given; scale applies too
    res = runtime.frames(frames_job(clip, {"timestamp": 0.5}, "auto.jpg", scale="160:90"), fs=fs)
    assert jpeg_size(fs.cat_file("auto.jpg")) == (160, 90)


def test_webp_names_the_missing_encoder(runtime, fs, clip) -> None:
    with pytest.raises(afmpeg.ProcessingError) as ei:
        runtime.frames(frames_job(clip, {"timestamp": 0}, "x.webp"), fs=fs)
    assert "libwebp" in ei.value.message and "full profile" in ei.value.message


# ------------------------------------------------------------------ interval, scene, thumbnail


@pytest.mark.parametrize(
    ("interval", "count", "times"),
    [
        (0.5, None, [0, 0.5, 1.0, 1.5]),
        (0.25, None, [0, 0.25 + 1 / 60, 0.5, 0.75 + 1 / 60, 1.0, 1.25 + 1 / 60, 1.5, 1.75 + 1 / 60]),
        (0.5, 3, [0, 0.5, 1.0]),
        (5, None, [0]),
        (0.001, None, [i / 30 for i in range(60)]),  # shorter than a frame: every frame, once
    ],
)
def test_interval(runtime, fs, clip, interval, count, times) -> None:
    extra = {} if count is None else {"count": count}
    res = runtime.frames(frames_job(clip, {"interval": interval}, "i_%04d.png", **extra), fs=fs)
    assert res.count == len(times)
    assert [f.index for f in res] == list(range(1, len(times) + 1))
    assert [f.timestamp for f in res] == pytest.approx(times, abs=1e-6)


@pytest.fixture
def cuts(runtime, fs) -> str:
    """A 4 s clip with hard cuts at 1.2 s (pattern -> red), 2.0 s (red -> pattern) and 3.0 s (pattern -> blue)."""
    src = "size=320x240:rate=25"
    runtime.run(
        {
            "op": "process",
            "version": 9,
            "filter": f"testsrc2={src}:duration=1.2[a];color=c=red:{src}:duration=0.8[b];"
            f"testsrc2={src}:duration=1[c];color=c=blue:{src}:duration=1[d];[a][b][c][d]concat=n=4:v=1:a=0[v]",
            "outputs": [{"path": "cuts.mp4", "map": ["[v]"], "video_codec": "libopenh264"}],
        },
        fs=fs,
    )
    return "cuts.mp4"


def test_scene_finds_the_cuts(runtime, fs, cuts) -> None:
    res = runtime.frames(frames_job(cuts, {"scene": 0.3}, "cut_%d.jpg", scale="160:-2"), fs=fs)
    assert [f.timestamp for f in res] == pytest.approx([1.2, 2.0, 3.0], abs=0.5 / 25)
    assert [jpeg_size(fs.cat_file(p)) for p in res.paths] == [(160, 120)] * 3
    # a threshold above every cut finds none (moving pattern alone is no scene change)
    none = runtime.frames(frames_job(cuts, {"scene": 0.99}, "none_%d.png"), fs=fs)
    assert none.count == 0
    first = runtime.frames(frames_job(cuts, {"scene": 0.3}, "first.png", count=1), fs=fs)
    assert [f.timestamp for f in first] == pytest.approx([1.2], abs=0.5 / 25)


def test_thumbnail_returns_one_frame(runtime, fs, clip, cuts) -> None:
    # 60 frames: less than one batch of the thumbnail filter (100), so one picture
    res = runtime.frames(frames_job(clip, {"scene": "thumbnail"}, "thumb_%d.png"), fs=fs)
    assert res.count == 1 and res[0].index == 1
    assert 0 <= res[0].timestamp < 2
    assert png_header(fs.cat_file(res[0].path))[:2] == (W, H)
    # 100 frames -> exactly one batch; a plain path needs count=1
    res = runtime.frames(frames_job(cuts, {"scene": "thumbnail"}, "thumb.png", count=1, scale="64:48"), fs=fs)
    assert res.paths == ["thumb.png"] and png_header(fs.cat_file("thumb.png"))[:2] == (64, 48)


# ------------------------------------------------------------------ the Python API


def test_frames_job_dataclass(runtime, fs, clip) -> None:
    job = afmpeg.FramesJob(inputs=clip, select={"timestamps": [0.5, 1.0]}, path="dc_%d.png", scale="64:-2")
    res = runtime.frames(job, fs=fs)
    assert isinstance(res, afmpeg.FramesResult)
    assert res.frames == [
        afmpeg.FrameInfo(path="dc_1.png", index=1, timestamp=0.5),
        afmpeg.FrameInfo(path="dc_2.png", index=2, timestamp=1.0),
    ]
    with pytest.raises(afmpeg.JobSpecError):  # checked in Python before the engine runs
        runtime.frames(afmpeg.FramesJob(inputs=clip, select={"timestamps": [0, 1]}, path="same.png"), fs=fs)
    with pytest.raises(afmpeg.JobSpecError, match="frames jobs"):
        runtime.frames({"op": "process"}, fs=fs)


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"count": 4097}, "count"),
        ({"count": 0}, "count"),
        ({"select": {"timestamps": [0.1] * 4097}}, "4096"),
        ({"select": {"timestamps": [0.1, -1]}}, "timestamps[1]"),
        ({"select": {"timestamp": 3.3e10}}, "select.timestamp"),
        ({"select": {"interval": 0}}, "interval"),
        ({"select": {"scene": 1.5}}, "scene"),
        ({"select": {"scene": "best"}}, "scene"),
        ({"select": {"timestamp": 1, "interval": 1}}, "exactly one"),
        ({"select": {}}, "exactly one"),
        ({"path": "f_%s.png"}, "%s"),
        ({"path": "f_%d_%03d.png"}, "one integer conversion"),
        ({"path": "f_%"}, "path"),
        ({"path": "f.png", "select": {"timestamps": [0, 1]}}, "no frame number"),
        ({"path": "f.png", "select": {"interval": 1}}, "no frame number"),
        ({"path": "tmp/f_%d.png"}, "outside the job's filesystem"),
        ({"path": "/dev/f_%d.png"}, "outside the job's filesystem"),
        ({"path": "clip.mp4"}, "overwrite the input"),
        ({"codec": "gif"}, "codec"),
        ({"scale": "320:240,select=0"}, "scale"),
        ({"scale": "bogus=1"}, "bogus"),
        ({"inputs": [{"path": "clip.mp4"}, {"path": "clip.mp4"}]}, "exactly one input"),
        ({"inputs": [{"path": "clip.mp4", "seek": {"start": 1}}]}, "seek"),
        ({"frobnicate": 1}, "frobnicate"),
    ],
)
def test_bad_jobs_are_exit_2(runtime, fs, clip, change, needle) -> None:
    job = {**frames_job(clip, {"timestamp": 0.5}, "f_%d.png"), **change}
    with pytest.raises(afmpeg.JobSpecError) as ei:
        runtime.frames(job, fs=fs)  # a dict goes to the engine unchecked
    assert ei.value.exit_code == 2
    assert needle in ei.value.message
    assert not fs.exists("f_1.png")


def test_template_literal_percent_and_padding(runtime, fs, clip) -> None:
    res = runtime.frames(frames_job(clip, {"timestamps": [0, 1]}, "p_%05d_100%%.png"), fs=fs)
    assert res.paths == ["p_00001_100%.png", "p_00002_100%.png"]
    assert all(fs.exists(p) for p in res.paths)


def test_random_bytes_are_a_processing_error(runtime, fs) -> None:
    fs.pipe("noise.mp4", random.Random(3).randbytes(200_000))
    with pytest.raises(afmpeg.ProcessingError) as ei:
        runtime.frames(frames_job("noise.mp4", {"interval": 0.5}, "n_%d.png"), fs=fs)
    assert ei.value.exit_code == 1 and "noise.mp4" in ei.value.message


def test_corrupt_middle_fails_or_finishes_cleanly(runtime, fs, clip) -> None:
    data = fs.cat_file(clip)
    fs.pipe("bad.mp4", data[:4000] + random.Random(5).randbytes(len(data) - 8000) + data[-4000:])
    for select in ({"interval": 0.25}, {"scene": 0.2}, {"timestamps": [1.9, 0.1, 1.0]}):
        try:
            res = runtime.frames(frames_job("bad.mp4", select, "b_%d.png"), fs=fs)
        except afmpeg.ProcessingError as exc:
            assert exc.exit_code == 1
        else:
            assert all(png_header(fs.cat_file(p)) for p in res.paths)


def test_no_video_stream(runtime, fs) -> None:
    tone = {"op": "process", "version": 9, "filter": "sine=duration=0.5[a]", "outputs": [{"path": "a.wav"}]}
    runtime.run(tone, fs=fs)
    with pytest.raises(afmpeg.ProcessingError, match="no video stream"):
        runtime.frames(frames_job("a.wav", {"timestamp": 0}, "x.png"), fs=fs)


def test_missing_directory_is_named(runtime, fs, clip) -> None:
    with pytest.raises(afmpeg.ProcessingError) as ei:
        runtime.frames(frames_job(clip, {"timestamp": 0}, "nodir/x.png"), fs=fs)
    assert "nodir/x.png" in ei.value.message and "directory" in ei.value.message
    fs.makedirs("outdir", exist_ok=True)
    assert runtime.frames(frames_job(clip, {"timestamp": 0}, "outdir/x.png"), fs=fs).paths == ["outdir/x.png"]
    assert fs.exists("outdir/x.png")
