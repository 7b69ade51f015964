"""NumPy / PIL frame I/O streamed through the sandbox's pipe devices (read_frames, write_frames, read_audio)."""

from __future__ import annotations

import gc
import hashlib
import os
import threading
import time
import tracemalloc

import numpy as np
import pytest
from PIL import Image

import afmpeg
from afmpeg.wasi.pipes import Pipe

from .conftest import make_wav, run_native

HANG = 10.0  # seconds: only catches a hang, never measures speed
W, H, FPS, SECONDS = 320, 240, 25, 2


@pytest.fixture(scope="module")
def small_clip(runtime: afmpeg.Runtime) -> bytes:
    """A 320x240 25 fps H.264 clip, 2 s (50 frames)."""
    fs = afmpeg.MemoryFS()
    runtime.run({"op": "process", "version": 9, "filter": f"testsrc2=size={W}x{H}:rate={FPS}:duration={SECONDS}[v]",
                 "outputs": [{"path": "clip.mp4", "map": ["[v]"], "video_codec": "libopenh264"}]}, fs=fs)
    return fs.cat_file("/clip.mp4")


@pytest.fixture(scope="module")
def long_clip(runtime: afmpeg.Runtime) -> bytes:
    """A 320x240 25 fps mpeg4 clip, 8 s (200 frames, 46 MB as rgb24) — much more than the pipe holds."""
    fs = afmpeg.MemoryFS()
    runtime.run({"op": "process", "version": 9, "filter": f"testsrc2=size={W}x{H}:rate={FPS}:duration=8[v]",
                 "outputs": [{"path": "long.mp4", "map": ["[v]"], "video_codec": "mpeg4"}]}, fs=fs)
    return fs.cat_file("/long.mp4")


@pytest.fixture
def clip_fs(fs: afmpeg.MemoryFS, small_clip: bytes, long_clip: bytes) -> afmpeg.MemoryFS:
    fs.pipe("clip.mp4", small_clip)
    fs.pipe("long.mp4", long_clip)
    return fs


@pytest.fixture
def pipes(monkeypatch) -> list[Pipe]:
    """Every Pipe made during the test, in order (to look at one an API call made internally)."""
    made: list[Pipe] = []
    original = Pipe.__init__

    def spy(self: Pipe, capacity: int) -> None:
        original(self, capacity)
        made.append(self)

    monkeypatch.setattr(Pipe, "__init__", spy)
    return made


def _frame_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "afmpeg-frames-job" and t.is_alive()]


def _wait_no_frame_threads() -> None:
    deadline = time.monotonic() + HANG
    while _frame_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _frame_threads(), "a frames job thread is still running"


def _native_frames(ffmpeg: str, tmp_path, data: bytes, vf: str, shape: tuple[int, ...]) -> np.ndarray:
    src = tmp_path / "src.mp4"
    src.write_bytes(data)
    # -cpuflags 0: native FFmpeg's C code paths, which the wasm build (no asm) runs too
    raw = run_native(ffmpeg, "-cpuflags", "0", "-threads", "1", "-i", str(src), "-vf", vf, "-f", "rawvideo", "-")
    return np.frombuffer(raw, np.uint8).reshape(-1, *shape)


# ---------------------------------------------------------------------------------------------------- read_frames


def test_read_frames_gives_what_native_ffmpeg_decodes(runtime, clip_fs, small_clip, native_ffmpeg, tmp_path) -> None:
    reader = afmpeg.read_frames("clip.mp4", runtime=runtime, fs=clip_fs)
    assert (reader.width, reader.height, reader.pix_fmt, reader.fps) == (W, H, "rgb24", FPS)
    frames = list(reader)
    assert len(frames) == FPS * SECONDS
    assert all(f.shape == (H, W, 3) and f.dtype == np.uint8 for f in frames)
    native = _native_frames(native_ffmpeg, tmp_path, small_clip, f"scale={W}:{H}:flags=bicubic,format=rgb24", (H, W, 3))
    assert native.shape[0] == len(frames)
    assert np.array_equal(np.stack(frames), native)  # bit-exact
    assert reader.result is not None and reader.result.outputs[0].streams[0].codec == "rawvideo"
    assert reader.frames == len(frames)


def test_read_frames_scales_like_native_ffmpeg(runtime, clip_fs, small_clip, native_ffmpeg, tmp_path) -> None:
    frames = np.stack(list(afmpeg.read_frames("clip.mp4", runtime=runtime, fs=clip_fs, size=(160, -1), pix_fmt="gray",
                                              scale_flags="bilinear")))
    assert frames.shape == (50, 120, 160)
    native = _native_frames(native_ffmpeg, tmp_path, small_clip, "scale=160:120:flags=bilinear,format=gray", (120, 160))
    assert np.array_equal(frames, native)


@pytest.mark.parametrize(
    ("pix_fmt", "shape", "dtype"),
    [("rgba", (H, W, 4), np.uint8), ("bgr24", (H, W, 3), np.uint8), ("gray16le", (H, W), np.uint16),
     ("yuv444p", (3, H, W), np.uint8), ("yuv420p", (H * 3 // 2, W), np.uint8)],
)
def test_pixel_formats_match_the_engines_own_rawvideo_output(runtime, clip_fs, pix_fmt, shape, dtype) -> None:
    frames = list(afmpeg.read_frames("clip.mp4", runtime=runtime, fs=clip_fs, pix_fmt=pix_fmt, duration=0.4))
    assert len(frames) == 10
    assert all(f.shape == shape and f.dtype == dtype for f in frames)
    # the same conversion written to a file by a plain job
    runtime.run({"op": "process", "version": 9, "inputs": [{"path": "clip.mp4"}],
                 "filter": f"[0:v]scale={W}:{H}:flags=bicubic,format={pix_fmt}[v]",
                 "outputs": [{"path": "ref.raw", "format": "rawvideo", "map": ["[v]"], "video_codec": "rawvideo",
                              "duration": 0.4}]}, fs=clip_fs)
    ref = np.frombuffer(clip_fs.cat_file("/ref.raw"), dtype=frames[0].dtype).reshape(-1, *shape)
    assert np.array_equal(np.stack(frames), ref)


def test_window_and_fps(runtime, clip_fs) -> None:
    everything = list(afmpeg.read_frames("clip.mp4", runtime=runtime, fs=clip_fs))
    part = list(afmpeg.read_frames("clip.mp4", runtime=runtime, fs=clip_fs, start=0.4, duration=0.8))
    assert len(part) == 20
    assert np.array_equal(part[0], everything[10]) and np.array_equal(part[-1], everything[29])
    slow = afmpeg.read_frames("clip.mp4", runtime=runtime, fs=clip_fs, fps=5)
    assert slow.fps == 5.0
    picked = list(slow)
    assert len(picked) == 10
    # the fps filter rounds each input time to the nearest output tick and keeps the last frame per tick
    assert all(np.array_equal(p, everything[5 * k + 2]) for k, p in enumerate(picked))


def test_as_pil_yields_images_equal_to_the_arrays(runtime, clip_fs) -> None:
    arrays = list(afmpeg.read_frames("clip.mp4", runtime=runtime, fs=clip_fs, duration=0.2))
    images = list(afmpeg.read_frames("clip.mp4", runtime=runtime, fs=clip_fs, duration=0.2, as_pil=True))
    assert len(images) == len(arrays) == 5
    assert all(isinstance(im, Image.Image) and im.mode == "RGB" and im.size == (W, H) for im in images)
    assert all(np.array_equal(np.asarray(im), a) for im, a in zip(images, arrays, strict=True))
    gray = next(iter(afmpeg.read_frames("clip.mp4", runtime=runtime, fs=clip_fs, as_pil=True, pix_fmt="gray")))
    assert gray.mode == "L"
    with pytest.raises(ValueError, match="as_pil"):
        afmpeg.read_frames("clip.mp4", runtime=runtime, fs=clip_fs, as_pil=True, pix_fmt="yuv420p")


def test_two_readers_interleaved(runtime, clip_fs) -> None:
    """Two jobs at once, each waiting on its own full pipe in turn: no deadlock, frames stay in order."""
    a = afmpeg.read_frames("clip.mp4", runtime=runtime, fs=clip_fs, pix_fmt="gray")
    b = afmpeg.read_frames("long.mp4", runtime=runtime, fs=clip_fs, pix_fmt="gray", duration=2)
    pairs = list(zip(a, b, strict=True))
    assert len(pairs) == 50
    solo = list(afmpeg.read_frames("clip.mp4", runtime=runtime, fs=clip_fs, pix_fmt="gray"))
    assert all(np.array_equal(x, y) for (x, _), y in zip(pairs, solo, strict=True))


def test_bytes_source(runtime, small_clip) -> None:
    frames = list(afmpeg.read_frames(small_clip, runtime=runtime, size=(32, 24), duration=0.2))
    assert len(frames) == 5 and frames[0].shape == (24, 32, 3)


def test_back_pressure_keeps_memory_bounded(runtime, clip_fs) -> None:
    reader = afmpeg.read_frames("long.mp4", runtime=runtime, fs=clip_fs)
    frame_bytes = W * H * 3
    assert reader.pipe.capacity == 2 * frame_bytes
    count = 0
    tracemalloc.start()
    try:
        for frame in reader:
            count += 1
            if count % 20 == 0:
                time.sleep(0.05)  # a slow consumer now and then: the engine must wait, not buffer
            assert frame.shape == (H, W, 3)
            del frame
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 200
    total = count * frame_bytes  # 46 MB went through
    assert reader.pipe.bytes_read == total
    assert reader.pipe.max_fill <= reader.pipe.capacity  # never more than 2 frames were buffered...
    assert reader.pipe.max_fill == reader.pipe.capacity  # ...and the pipe did fill up: the engine had to wait
    assert peak < 12 * frame_bytes, f"Python-side peak {peak} bytes for {total} bytes streamed"


@pytest.mark.parametrize("how", ["break", "close", "gc", "with"])
def test_stopping_early_stops_the_job(runtime, clip_fs, pipes, how) -> None:
    if how == "break":  # the loop held the only reference: leaving it drops the reader
        for i, _ in enumerate(afmpeg.read_frames("long.mp4", runtime=runtime, fs=clip_fs)):
            if i == 2:
                break
    else:
        reader = afmpeg.read_frames("long.mp4", runtime=runtime, fs=clip_fs)
        if how == "with":
            with reader:
                next(reader)
        else:
            for i, _ in enumerate(reader):
                if i == 2:
                    break
            if how == "close":
                reader.close()
            else:
                del reader
                gc.collect()
    (pipe,) = pipes
    _wait_no_frame_threads()
    assert pipe.aborted
    assert pipe.bytes_written < 20 * W * H * 3  # stopped long before the end
    assert runtime.probe("clip.mp4", fs=clip_fs).inputs[0].video is not None  # the Runtime is fine


def test_dropping_an_unstarted_reader_runs_nothing(runtime, clip_fs) -> None:
    reader = afmpeg.read_frames("long.mp4", runtime=runtime, fs=clip_fs)
    pipe = reader.pipe
    del reader
    gc.collect()
    assert pipe.bytes_written == 0 and not _frame_threads()


def test_a_failing_job_raises_from_the_loop(runtime, clip_fs) -> None:
    reader = afmpeg.read_frames("clip.mp4", runtime=runtime, fs=clip_fs, vf="nosuchfilter")
    with pytest.raises(afmpeg.UnsupportedFeature, match="nosuchfilter"):
        next(reader)
    with pytest.raises(StopIteration):
        next(reader)
    reader = afmpeg.read_frames("clip.mp4", runtime=runtime, fs=clip_fs, vf="crop=9999:9999")
    with pytest.raises(afmpeg.ProcessingError, match="crop"):
        next(reader)
    with pytest.raises(StopIteration):
        next(reader)
    _wait_no_frame_threads()


def test_bad_input_fails_before_iterating(runtime, fs) -> None:
    fs.pipe("junk.mp4", b"\x00not a video at all" * 100)
    with pytest.raises(afmpeg.InvalidData, match="junk.mp4"):
        afmpeg.read_frames("junk.mp4", runtime=runtime, fs=fs)
    with pytest.raises(FileNotFoundError) as ei:
        afmpeg.read_frames("missing.mp4", runtime=runtime, fs=fs)
    assert isinstance(ei.value, afmpeg.InputNotFound) and ei.value.filename == "missing.mp4"
    fs.pipe("tone.wav", make_wav(0.2))
    with pytest.raises(afmpeg.ProcessingError, match="no video"):
        afmpeg.read_frames("tone.wav", runtime=runtime, fs=fs)


@pytest.mark.parametrize("how", ["time_limit", "cancel"])
def test_limits_work_while_the_engine_waits_on_a_full_pipe(runtime, clip_fs, how) -> None:
    token = afmpeg.CancelToken()
    kw: dict = {"cancel": token} if how == "cancel" else {"time_limit": 0.5}
    expected = afmpeg.Cancelled if how == "cancel" else afmpeg.JobTimeout
    reader = afmpeg.read_frames("long.mp4", runtime=runtime, fs=clip_fs, **kw)
    next(reader)
    deadline = time.monotonic() + HANG
    while reader.pipe.buffered < reader.pipe.capacity and time.monotonic() < deadline:
        time.sleep(0.01)  # the consumer holds back: the engine blocks on the full pipe
    assert reader.pipe.buffered == reader.pipe.capacity
    if how == "cancel":
        token.cancel()
    # still not consuming: the engine's blocked write must notice the stop by itself and the job end
    _wait_no_frame_threads()
    got = 1
    with pytest.raises(expected):
        for _ in reader:
            got += 1
    assert got == 3  # the two frames that were in the pipe, then the error


# ---------------------------------------------------------------------------------------------------- write_frames


def _gradients(n: int, w: int = 64, h: int = 48):
    """Frames with a horizontal gradient and the frame number in the red channel."""
    for i in range(n):
        a = np.zeros((h, w, 3), np.uint8)
        a[..., 0] = (i * 8) % 256
        a[..., 1] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
        a[..., 2] = np.linspace(0, 255, h, dtype=np.uint8)[:, None]
        yield a


def test_write_frames_h264_mp4(runtime, fs) -> None:
    res = afmpeg.write_frames("video.mp4", _gradients(30), fps=15, runtime=runtime, fs=fs)
    assert res.outputs[0].path == "video.mp4" and res.outputs[0].streams[0].codec == "h264"
    v = runtime.probe("video.mp4", fs=fs).inputs[0].video
    assert (v.codec, v.width, v.height, v.frame_rate, v.nb_frames, v.pix_fmt) == ("h264", 64, 48, 15.0, 30, "yuv420p")
    back = list(afmpeg.read_frames("video.mp4", runtime=runtime, fs=fs))
    assert len(back) == 30
    for original, decoded in zip(_gradients(30), back, strict=True):  # lossy: compare channel means
        assert np.abs(original.mean(axis=(0, 1)) - decoded.mean(axis=(0, 1)).astype(float)).max() < 4


def test_write_frames_lossless_round_trip(runtime, fs) -> None:
    frames = list(_gradients(12))
    afmpeg.write_frames("lossless.mov", iter(frames), fps="24000/1001", codec="png", pix_fmt="rgb24",
                        runtime=runtime, fs=fs)
    v = runtime.probe("lossless.mov", fs=fs).inputs[0].video
    assert (v.codec, v.nb_frames) == ("png", 12) and abs(v.frame_rate - 24000 / 1001) < 1e-3
    back = list(afmpeg.read_frames("lossless.mov", runtime=runtime, fs=fs))
    assert all(np.array_equal(a, b) for a, b in zip(frames, back, strict=True))
    # and frame by frame, as the engine's framemd5 muxer sees them
    afmpeg.write_frames("frames.md5", iter(frames), fps=24, codec="rawvideo", pix_fmt=None, format="framemd5",
                        runtime=runtime, fs=fs)
    rows = [ln.split(",") for ln in fs.cat_file("/frames.md5").decode().splitlines() if ln and ln[0] != "#"]
    assert [r[5].strip() for r in rows] == [hashlib.md5(f.tobytes()).hexdigest() for f in frames]


def test_write_frames_from_pil_images_and_gray_arrays(runtime, fs) -> None:
    images = [Image.fromarray(a) for a in _gradients(6)]
    afmpeg.write_frames("pil.mov", images, fps=6, codec="png", pix_fmt="rgb24", runtime=runtime, fs=fs)
    back = list(afmpeg.read_frames("pil.mov", runtime=runtime, fs=fs, as_pil=True))
    assert [im.tobytes() for im in back] == [im.tobytes() for im in images]
    grays = [np.full((48, 64), 10 * i, np.uint8) for i in range(5)]
    afmpeg.write_frames("gray.mov", grays, fps=5, codec="png", pix_fmt="gray", runtime=runtime, fs=fs)
    back_gray = list(afmpeg.read_frames("gray.mov", runtime=runtime, fs=fs, pix_fmt="gray"))
    assert all(np.array_equal(a, b) for a, b in zip(grays, back_gray, strict=True))


def test_write_frames_streams_with_back_pressure(runtime, fs, pipes) -> None:
    """A long generator goes through a pipe of two frames; the producer waits for the engine."""
    produced = 0
    seen_fill: list[int] = []

    def frames():
        nonlocal produced
        for a in _gradients(300, 320, 240):
            produced += 1
            if pipes:
                seen_fill.append(pipes[0].buffered)
            yield a

    tracemalloc.start()
    try:
        afmpeg.write_frames("big.mp4", frames(), fps=30, codec="mpeg4", runtime=runtime, fs=fs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert produced == 300
    (pipe,) = pipes
    frame_bytes = 320 * 240 * 3
    assert pipe.capacity == 2 * frame_bytes
    assert pipe.bytes_written == 300 * frame_bytes  # 69 MB went through
    assert pipe.max_fill <= pipe.capacity and max(seen_fill) <= pipe.capacity
    assert pipe.max_fill == pipe.capacity  # the producer was ahead and had to wait
    # the output file (~1 MB) lives in memory too; the frames never piled up
    assert peak < 12 * frame_bytes + len(fs.cat_file("/big.mp4")), peak
    assert runtime.probe("big.mp4", fs=fs).inputs[0].video.nb_frames == 300


def test_a_producer_that_raises_cancels_the_job(runtime, fs) -> None:
    fs.pipe("keep.mp4", b"old content")

    class Boom(Exception):
        pass

    def frames():
        yield from _gradients(5)
        raise Boom("producer failed")

    with pytest.raises(Boom, match="producer failed"):
        afmpeg.write_frames("keep.mp4", frames(), fps=10, runtime=runtime, fs=fs)
    with pytest.raises(Boom):
        afmpeg.write_frames("new.mp4", frames(), fps=10, runtime=runtime, fs=fs)
    _wait_no_frame_threads()
    assert fs.cat_file("/keep.mp4") == b"old content"  # untouched
    assert not fs.exists("/new.mp4")  # nothing published
    afmpeg.write_frames("after.mp4", _gradients(3), fps=10, runtime=runtime, fs=fs)  # the Runtime still works
    assert runtime.probe("after.mp4", fs=fs).inputs[0].video.nb_frames == 3


def test_a_frame_of_the_wrong_size_fails_and_publishes_nothing(runtime, fs) -> None:
    frames = [np.zeros((48, 64, 3), np.uint8), np.zeros((48, 64, 3), np.uint8), np.zeros((40, 64, 3), np.uint8)]
    with pytest.raises(ValueError, match="frame 2 is 64x40"):
        afmpeg.write_frames("bad.mp4", frames, fps=10, runtime=runtime, fs=fs)
    with pytest.raises(TypeError, match="uint8"):
        afmpeg.write_frames("bad.mp4", [np.zeros((48, 64, 3))], fps=10, runtime=runtime, fs=fs)
    with pytest.raises(ValueError, match="at least one frame"):
        afmpeg.write_frames("bad.mp4", [], fps=10, runtime=runtime, fs=fs)
    _wait_no_frame_threads()
    assert not fs.exists("/bad.mp4")


def test_a_failing_job_raises_from_write_frames(runtime, fs) -> None:
    with pytest.raises(afmpeg.ProcessingError, match="nosuchencoder"):
        afmpeg.write_frames("x.mp4", _gradients(100), fps=10, codec="nosuchencoder", runtime=runtime, fs=fs)
    _wait_no_frame_threads()
    assert not fs.exists("/x.mp4")


def test_time_limit_while_the_engine_waits_for_a_slow_producer(runtime, fs) -> None:
    ended_while_waiting = []

    def slow():
        for i, a in enumerate(_gradients(50)):
            if i == 3:
                # hold back: the engine waits on an empty pipe and must notice the time limit by itself
                _wait_no_frame_threads()
                ended_while_waiting.append(True)
            yield a

    with pytest.raises(afmpeg.JobTimeout):
        afmpeg.write_frames("slow.mp4", slow(), fps=10, runtime=runtime, fs=fs, time_limit=0.3)
    assert ended_while_waiting == [True]
    assert not fs.exists("/slow.mp4")


def test_write_frames_with_audio(runtime, fs) -> None:
    fs.pipe("tone.wav", make_wav(3.0))
    afmpeg.write_frames("av.mp4", _gradients(20), fps=10, audio="tone.wav", duration=2.0, runtime=runtime, fs=fs)
    probe = runtime.probe("av.mp4", fs=fs).inputs[0]
    assert probe.video.nb_frames == 20 and probe.audio.codec == "aac"
    assert abs(probe.duration - 2.0) < 0.1


# ---------------------------------------------------------------------------------------------------- read_audio


def test_read_audio_gives_the_exact_samples(runtime, fs) -> None:
    wav = make_wav(0.5, rate=44100, channels=2)
    fs.pipe("tone.wav", wav)
    chunks = list(afmpeg.read_audio("tone.wav", runtime=runtime, fs=fs, sample_fmt="s16", chunk_samples=1000))
    assert all(c.shape == (1000, 2) and c.dtype == np.int16 for c in chunks[:-1])
    samples = np.concatenate(chunks)
    expected = np.frombuffer(wav[44:], "<i2").reshape(-1, 2)  # make_wav writes a 44-byte header
    assert np.array_equal(samples, expected)
    floats = np.concatenate(list(afmpeg.read_audio("tone.wav", runtime=runtime, fs=fs)))
    assert floats.dtype == np.float32 and np.array_equal(floats, expected / np.float32(32768))
    mono = np.concatenate(list(afmpeg.read_audio("tone.wav", runtime=runtime, fs=fs, channels=1, sample_rate=8000)))
    assert mono.shape == (4000, 1)


# ---------------------------------------------------------------------------------------------------- the devices


def test_stream_devices_are_the_only_dev_paths_a_job_may_name(runtime, fs) -> None:
    graph = "testsrc2=size=64x48:rate=10:duration=0.2[v]"
    for path in ("/dev/zero", "/dev/afmpeg-pipe-", "/dev/afmpeg-pipe-a/b", "dev/afmpeg-pipe-x",
                 "/dev/afmpeg-pipe-" + "x" * 65, "/dev/afmpeg-progress"):
        with pytest.raises(afmpeg.JobSpecError, match="outside"):
            runtime.run({"op": "process", "version": 9, "filter": graph,
                         "outputs": [{"path": path, "format": "rawvideo", "map": ["[v]"]}]}, fs=fs)
    # nor may a muxer open one by itself (a segment name in its options), even one the caller set up
    with pytest.raises(afmpeg.JobSpecError, match="outside"):
        runtime.run({"op": "process", "version": 9, "filter": graph,
                     "outputs": [{"path": "list.m3u8", "format": "hls", "map": ["[v]"], "video_codec": "libopenh264",
                                  "format_options": {"hls_segment_filename": "/dev/afmpeg-pipe-seg%d"}}]},
                    fs=fs, devices={"seg0": Pipe(1 << 16).guest_writer()})
    assert not fs.exists("/list.m3u8")
    # a well-formed name the caller did not set up does not exist
    with pytest.raises(afmpeg.ProcessingError):
        runtime.run({"op": "process", "version": 9, "filter": graph,
                     "outputs": [{"path": "/dev/afmpeg-pipe-nope", "format": "rawvideo", "map": ["[v]"]}]}, fs=fs)


def test_the_engine_treats_a_pipe_as_a_stream(runtime, fs) -> None:
    """mp4 needs to seek back: to a pipe it is refused up front, fragmented mp4 streams fine."""
    graph = "testsrc2=size=64x48:rate=10:duration=0.5[v]"
    for fmt_opts, ok in (({}, False), ({"movflags": "+frag_keyframe+empty_moov"}, True)):
        pipe = Pipe(1 << 16)
        got = bytearray()
        handles = []

        def device(stop, pipe=pipe, handles=handles):
            handle = pipe.guest_writer()(stop)
            handles.append(handle)
            return handle

        def drain(pipe=pipe, got=got) -> None:
            while chunk := pipe.read_some(1 << 16):
                got.extend(chunk)

        t = threading.Thread(target=drain, daemon=True)
        t.start()
        out = {"path": "/dev/afmpeg-pipe-o", "format": "mp4", "map": ["[v]"], "video_codec": "mpeg4",
               "format_options": fmt_opts}
        try:
            if ok:
                runtime.run({"op": "process", "version": 9, "filter": graph, "outputs": [out]}, fs=fs,
                            devices={"o": device})
            else:
                with pytest.raises(afmpeg.ProcessingError, match="non seekable"):
                    runtime.run({"op": "process", "version": 9, "filter": graph, "outputs": [out]}, fs=fs,
                                devices={"o": device})
        finally:
            pipe.close_write()
            t.join(HANG)
        assert handles and handles[0].seek_attempts == 0
        if ok:
            fs.pipe("frag.mp4", bytes(got))
            assert runtime.probe("frag.mp4", fs=fs).inputs[0].video.codec == "mpeg4"


# ---------------------------------------------------------------------------------------------- where the files are
# read_frames / read_audio / write_frames take files exactly as the helpers do (afmpeg.sources)


def test_local_paths_without_fs_are_local_files(tmp_path, monkeypatch, small_clip) -> None:
    (tmp_path / "clip.mp4").write_bytes(small_clip)
    (tmp_path / "tone.wav").write_bytes(make_wav(0.5, rate=8000, channels=1))
    monkeypatch.chdir(tmp_path)
    reader = afmpeg.read_frames("clip.mp4", pix_fmt="gray")  # relative to the working directory
    relative = np.stack(list(reader))
    assert relative.shape == (50, H, W) and reader.source.path == "clip.mp4"
    absolute = np.stack(list(afmpeg.read_frames(tmp_path / "clip.mp4", pix_fmt="gray")))  # a pathlib.Path
    assert np.array_equal(relative, absolute)
    samples = np.concatenate(list(afmpeg.read_audio("tone.wav", sample_fmt="s16")))
    assert samples.shape == (4000, 1)
    assert np.array_equal(np.concatenate(list(afmpeg.read_audio(tmp_path / "tone.wav", sample_fmt="s16"))), samples)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "tone.wav"]  # nothing else was written


def test_write_frames_to_local_files(tmp_path, monkeypatch) -> None:
    (tmp_path / "tone.wav").write_bytes(make_wav(3.0))
    monkeypatch.chdir(tmp_path)
    res = afmpeg.write_frames("out.mp4", _gradients(12), fps=12)
    assert res.outputs[0].path == "out.mp4"
    assert afmpeg.probe("out.mp4").video.nb_frames == 12
    (tmp_path / "sub").mkdir()
    dst = tmp_path / "sub" / "av.mp4"  # a Path; the audio sits in the directory above: one job root holds both
    res = afmpeg.write_frames(dst, _gradients(10), fps=10, audio=tmp_path / "tone.wav", duration=1.0)
    assert res.outputs[0].path == str(dst)
    info = afmpeg.probe(dst)
    assert (info.video.nb_frames, info.audio.codec) == (10, "aac")
    # audio given as bytes: the job runs on a private copy and the output is published after it succeeded
    res = afmpeg.write_frames("sub/from-bytes.mp4", _gradients(10), fps=10, audio=make_wav(1.0), duration=1.0)
    assert res.outputs[0].path == "sub/from-bytes.mp4"
    assert afmpeg.probe(tmp_path / "sub" / "from-bytes.mp4").audio.codec == "aac"
    # a failing job publishes nothing, staged or not
    for audio in (None, make_wav(1.0)):
        with pytest.raises(afmpeg.UnsupportedFeature):
            afmpeg.write_frames("bad.mp4", _gradients(3), fps=10, codec="nosuchencoder", audio=audio)
    _wait_no_frame_threads()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4", "sub", "tone.wav"]
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["av.mp4", "from-bytes.mp4"]


def test_read_frames_from_a_pair_bytes_and_the_runtimes_fs(runtime, small_clip) -> None:
    other = afmpeg.MemoryFS()
    other.pipe_file("/media/clip.mp4", small_clip)
    want = np.stack(list(afmpeg.read_frames((other, "/media/clip.mp4"), pix_fmt="gray", runtime=runtime)))
    assert want.shape == (50, H, W)
    forms = [
        dict(src=small_clip),                                    # bytes, the default runtime
        dict(src=small_clip, runtime=runtime),                   # bytes, a runtime of one's own
        dict(src=(other, "media/clip.mp4")),                     # a (filesystem, path) pair, the default runtime
        dict(src="media/clip.mp4", fs=other, runtime=runtime),   # a path on fs=
        dict(src="clip.mp4", fs=other, root="media"),            # a path inside root= on fs=
        dict(src="media/clip.mp4", runtime=afmpeg.Runtime(runtime.module_path, fs=other)),  # the runtime's fs
    ]
    for form in forms:
        reader = afmpeg.read_frames(form.pop("src"), pix_fmt="gray", **form)
        assert reader.job["version"] == afmpeg.VOCAB_VERSION
        assert np.array_equal(np.stack(list(reader)), want), form
    assert other.find("/") == ["/media/clip.mp4"]  # nothing written next to the source
    with pytest.raises(afmpeg.JobSpecError, match="root="):  # as for the helpers: root= is a directory on fs=
        afmpeg.read_frames("clip.mp4", root="media")


def test_memory_urls(small_clip) -> None:
    import fsspec

    mem = fsspec.filesystem("memory")  # fsspec's process-wide in-memory filesystem
    base = f"memory://afmpeg-test-{os.getpid()}-{time.monotonic_ns()}"
    mem.pipe_file(f"{base}/clip.mp4", small_clip)
    try:
        frames = list(afmpeg.read_frames(f"{base}/clip.mp4", size=(32, 24), duration=0.4))
        assert len(frames) == 10 and frames[0].shape == (24, 32, 3)
        res = afmpeg.write_frames(f"{base}/out/again.mp4", iter(frames), fps=25, codec="mpeg4")
        assert res.outputs[0].path == f"{base}/out/again.mp4"
        assert afmpeg.probe(f"{base}/out/again.mp4").video.nb_frames == 10
        assert mem.exists(f"{base}/out/again.mp4")
    finally:
        mem.rm(base, recursive=True)


def test_frame_io_errors_name_the_files_as_given(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    missing = str(tmp_path / "nope.mp4")
    for call in (lambda: afmpeg.read_frames(missing), lambda: afmpeg.read_audio(missing)):
        with pytest.raises(afmpeg.InputNotFound) as ei:
            call()
        assert ei.value.filename == missing and str(ei.value).startswith(f"{missing}: No such file")
        assert ei.value.ffmpeg_message == "nope.mp4: No such file or directory"  # the engine's own words
    (tmp_path / "junk.mp4").write_bytes(b"\x00not a video at all" * 100)
    with pytest.raises(afmpeg.InvalidData) as ei:
        afmpeg.read_frames(tmp_path / "junk.mp4")
    assert ei.value.message.startswith(f"{tmp_path / 'junk.mp4'}: Invalid data")
    with pytest.raises(afmpeg.InputNotFound) as ei:
        afmpeg.write_frames("out.mp4", _gradients(3), fps=10, audio=str(tmp_path / "none.wav"))
    assert ei.value.filename == str(tmp_path / "none.wav")
    _wait_no_frame_threads()
    assert not (tmp_path / "out.mp4").exists()


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_buffer_frames_is_checked_alike(runtime, fs, bad) -> None:
    with pytest.raises(ValueError, match="buffer_frames must be a positive integer"):
        afmpeg.read_frames("clip.mp4", buffer_frames=bad, runtime=runtime, fs=fs)
    with pytest.raises(ValueError, match="buffer_frames must be a positive integer"):
        afmpeg.write_frames("x.mp4", _gradients(1), fps=10, buffer_frames=bad, runtime=runtime, fs=fs)
