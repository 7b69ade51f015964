"""Time: input seeking (fast / accurate), output windows (duration / end), copy_ts, and jobs that must end."""

from __future__ import annotations

import io
from fractions import Fraction

import pytest

import afmpeg

from .conftest import frame_rows, make_wav, run_native
from .packets import md5s, native_clip, of_stream, packets


@pytest.fixture(scope="module")
def source(native_ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """20 s, 30 fps, a keyframe every 2 s exactly, B-frames."""
    return native_clip(native_ffmpeg, tmp_path_factory.mktemp("time"), 20, gop=60)


@pytest.fixture
def src(fs: afmpeg.MemoryFS, source: bytes) -> str:
    fs.pipe("src.mp4", source)
    return "src.mp4"


def process(inputs: list, *outputs: dict, filter: str | None = None) -> dict:
    j = {"op": "process", "version": 9, "inputs": inputs, "outputs": list(outputs)}
    if filter:
        j["filter"] = filter
    return j


# -- seeking


def test_fast_seek_copy_starts_on_the_keyframe_and_keeps_av_aligned(runtime, fs, src, native_ffmpeg,
                                                                     tmp_path) -> None:
    runtime.run(process([{"path": src, "seek": {"start": 12.5, "mode": "fast"}}],
                        {"path": "cut.mkv", "map": ["0:v", "0:a"], "duration": 5}), fs=fs)
    ours = packets(native_ffmpeg, fs.cat("cut.mkv"), tmp_path, "cut.mkv", "-copyts")
    theirs = of_stream(packets(native_ffmpeg, fs.cat(src), tmp_path, "src.mp4"), 0)
    ov = of_stream(ours, 0)
    # The copy begins with the keyframe at 12.0 s (the one at or before 12.5), zero-based ...
    start = next(i for i, p in enumerate(theirs) if p.pts == 12)
    assert min(p.pts for p in ov) == 0
    # ... and is the source's packets, unchanged, in decode order from there.
    assert md5s(ours, 0) == [p.md5 for p in theirs[start:start + len(ov)]]
    # Every frame shown in [12, 17) is there; the cut is in decode order, so at most the reference
    # frames a B-frame before 17 needed (2 here) come after it.
    window = {p.md5 for p in theirs if 12 <= p.pts < 17}
    assert window <= set(md5s(ours, 0))
    assert len(ov) - len(window) <= 2
    # Audio is cut at the same point: it starts within one AAC frame of the video.
    oa = of_stream(ours, 1)
    assert abs(min(p.pts for p in oa)) < Fraction(1024, 48000)
    assert abs(max(p.pts for p in oa) - 5) < Fraction(2048, 48000)


def test_accurate_seek_gives_an_exact_five_second_clip(runtime, fs, src, native_ffmpeg, tmp_path) -> None:
    res = runtime.run(process([{"path": src, "seek": {"start": 12.5, "mode": "accurate"}}],
                              {"path": "clip.md5", "format": "framemd5", "map": ["[v]", "[a]"],
                               "video_codec": "rawvideo", "audio_codec": "pcm_s16le", "duration": 5},
                              filter="[0:v]null[v];[0:a]anull[a]"), fs=fs)
    assert [s.codec for s in res.outputs[0].streams] == ["rawvideo", "pcm_s16le"]
    text = fs.cat("clip.md5").decode()
    video = frame_rows(text, 0)
    assert len(video) == 150  # 5 s at 30 fps, exactly
    assert int(video[0][2]) == 0
    # Sample-exact audio: 5 s of 48 kHz mono s16.
    assert sum(int(r[4]) for r in frame_rows(text, 1)) == 5 * 48000 * 2
    # The very frames native FFmpeg's accurate seek gives (decoding is bit-exact).
    (tmp_path / "src.mp4").write_bytes(fs.cat(src))
    native = run_native(native_ffmpeg, "-ss", "12.5", "-i", str(tmp_path / "src.mp4"), "-t", "5", "-map", "0:v",
                        "-c:v", "rawvideo", "-f", "framemd5", "-").decode()
    assert [r[5] for r in video] == [r[5] for r in frame_rows(native, 0)]


def test_accurate_seek_feeding_a_copy_is_refused(runtime, fs, src) -> None:
    with pytest.raises(afmpeg.JobSpecError) as ei:
        runtime.run(process([{"path": src, "seek": {"start": 3, "mode": "accurate"}}],
                            {"path": "x.mkv", "map": ["0:v"]}), fs=fs)
    assert ei.value.details["field"] == "inputs[0].seek"
    assert "keyframe" in ei.value.message and "fast" in ei.value.message


# -- windows


def test_copy_ts_keeps_input_timestamps_and_end_is_on_that_clock(runtime, fs, src, native_ffmpeg, tmp_path) -> None:
    runtime.run(process([{"path": src, "seek": {"start": 4, "mode": "fast"}}],
                        {"path": "ts.mkv", "map": ["0:v"], "copy_ts": True, "end": 6}), fs=fs)
    info = runtime.probe("ts.mkv", fs=fs).inputs[0]
    assert abs(info.start - 4.0) < 0.001
    ours = packets(native_ffmpeg, fs.cat("ts.mkv"), tmp_path, "ts.mkv", "-copyts")
    pts = sorted(p.pts for p in ours)
    shown = [t for t in pts if t < 6]  # every frame of [4, 6), on the input's clock (mkv rounds to 1 ms)
    assert len(shown) == 60 and shown[0] == 4
    assert all(abs(b - a - Fraction(1, 30)) < Fraction(1, 1000) for a, b in zip(shown, shown[1:], strict=False))
    assert len(pts) - len(shown) <= 2  # references decoded before 6 s (decode-order cut)


def test_end_without_copy_ts_is_an_output_time(runtime, fs, src) -> None:
    runtime.run(process([{"path": src, "seek": {"start": 4, "mode": "fast"}}],
                        {"path": "a.mkv", "map": ["[v]"], "video_codec": "mpeg4", "end": 1.5},
                        filter="[0:v]null[v]"), fs=fs)
    info = runtime.probe("a.mkv", fs=fs).inputs[0]
    assert abs(info.duration - 1.5) < 0.001
    assert info.start == 0


def test_endless_sources_end_with_the_window(runtime, fs) -> None:
    runtime.run(process([], {"path": "v.crc", "format": "framecrc", "map": ["[v]", "[a]"],
                             "video_codec": "rawvideo", "audio_codec": "pcm_s16le", "duration": 1.5},
                        filter="testsrc2=size=64x48:rate=25[v];sine=sample_rate=48000[a]"), fs=fs)
    text = fs.cat("v.crc").decode()
    assert len(frame_rows(text, 0)) == 38  # frames at 0, 0.04, ..., 1.48
    assert sum(int(r[4]) for r in frame_rows(text, 1)) == 72000 * 2  # 1.5 s of samples, cut to the sample


def test_looped_still_needs_a_window_and_honours_it(runtime, fs) -> None:
    runtime.run(process([], {"path": "still.png", "map": ["[v]"], "video_codec": "png", "format": "image2",
                             "format_options": {"update": "1"}}, filter="color=red:size=32x32:duration=0.04[v]"), fs=fs)
    looped = "[0:v]loop=loop=-1:size=1,fps=25[v]"
    with pytest.raises(afmpeg.JobSpecError) as ei:
        runtime.run(process([{"path": "still.png"}], {"path": "x.mkv", "map": ["[v]"], "video_codec": "mpeg4"},
                            filter=looped), fs=fs)
    assert ei.value.details["field"] == "outputs[0]"
    assert "[v] never ends" in ei.value.message and "loop" in ei.value.message
    runtime.run(process([{"path": "still.png"}], {"path": "loop.crc", "format": "framecrc", "map": ["[v]"],
                                                   "video_codec": "rawvideo", "duration": 2}, filter=looped), fs=fs)
    assert len(frame_rows(fs.cat("loop.crc").decode(), 0)) == 50


def test_endless_source_without_a_window_names_the_output(runtime, fs) -> None:
    with pytest.raises(afmpeg.JobSpecError) as ei:
        runtime.run(process([], {"path": "a.mkv", "map": ["[a]"], "audio_codec": "flac", "duration": 1},
                            {"path": "b.mkv", "map": ["[b]"], "video_codec": "mpeg4"},
                            filter="sine[a];testsrc2=size=64x48[b]"), fs=fs)
    assert ei.value.details["field"] == "outputs[1]"
    assert "testsrc2" in ei.value.message


@pytest.mark.parametrize(
    ("graph", "endless"),
    [
        ("testsrc2=size=64x48,trim=end=1[m]", False),
        ("testsrc2=size=64x48:duration=1[a];testsrc2=size=64x48[b];[a][b]overlay=shortest=1[m]", False),
        # overlay reads its second input to the end even after the main one ended (as in ffmpeg)
        ("testsrc2=size=64x48:duration=1[a];testsrc2=size=64x48[b];[a][b]overlay[m]", True),
        ("sine=duration=1,apad=whole_dur=2[m]", False),
        ("sine=duration=1,apad[m]", True),
        ("sine=duration=1[a];anullsrc[b];[a][b]amix=duration=shortest[m]", False),
        ("sine=duration=1[a];anullsrc[b];[a][b]amix[m]", True),
        ("testsrc2=size=64x48:duration=1,tpad=stop=-1[m]", True),
    ],
)
def test_which_graphs_never_end(runtime, fs, graph, endless) -> None:
    video = graph.startswith("testsrc2")
    out = {"path": "o.mkv" if video else "o.flac", "map": ["[m]"]}
    if video:
        out["video_codec"] = "mpeg4"
    job = process([], out, filter=graph)
    if endless:
        with pytest.raises(afmpeg.JobSpecError) as ei:
            runtime.run(job, fs=fs)
        assert "[m] never ends" in ei.value.message
    else:
        runtime.run(job, fs=fs)
        assert runtime.probe(out["path"], fs=fs).inputs[0].duration in (pytest.approx(1, abs=0.05),
                                                                         pytest.approx(2, abs=0.05))


def test_an_output_that_finished_early_is_not_buffered_for(module_path) -> None:
    # 60 s of 320x240 frames are ~200 MB; the early output must not keep them.
    small = afmpeg.Runtime(module_path, memory_limit=64 * 1024 * 1024)
    fs = afmpeg.MemoryFS()
    small.run(process([], {"path": "a.mkv", "map": ["[a]"], "video_codec": "rawvideo", "duration": 0.5},
                      {"path": "b.crc", "format": "framecrc", "map": ["[b]"], "video_codec": "rawvideo"},
                      filter="testsrc2=size=320x240:rate=30:duration=60,split[a][b]"), fs=fs)
    assert len(frame_rows(fs.cat("b.crc").decode(), 0)) == 1800
    assert runtime_frames(small, fs, "a.mkv") == 15


def runtime_frames(rt: afmpeg.Runtime, fs: afmpeg.MemoryFS, path: str) -> int:
    rt.run(process([{"path": path}], {"path": path + ".crc", "format": "framecrc", "map": ["0:v"]}), fs=fs)
    return len(frame_rows(fs.cat(path + ".crc").decode(), 0))


# -- robust ends


class FailingReads(afmpeg.MemoryFS):
    """Reads of "bad.wav" fail with EIO after its first 64 KiB."""

    def _open(self, path, mode="rb", **kwargs):
        f = super()._open(path, mode, **kwargs)
        if "r" not in mode or not path.endswith("bad.wav"):
            return f

        class Failing(io.RawIOBase):
            def readable(self) -> bool:
                return True

            def seekable(self) -> bool:
                return True

            def seek(self, *args):
                return f.seek(*args)

            def tell(self) -> int:
                return f.tell()

            def readinto(self, buf) -> int:
                if f.tell() >= 65536:
                    raise OSError(5, "disk error")
                data = f.read(min(len(buf), 65536 - f.tell()))
                buf[: len(data)] = data
                return len(data)

        return io.BufferedReader(Failing())


@pytest.mark.parametrize("map_", [None, ["0:a"]])
def test_a_read_error_fails_the_job(runtime, map_) -> None:
    fs = FailingReads()
    fs.pipe("bad.wav", make_wav(seconds=3))
    out = {"path": "o.mkv", "audio_codec": "flac"} if map_ is None else {"path": "o.mkv", "map": map_}
    with pytest.raises(afmpeg.ProcessingError) as ei:
        runtime.run(process([{"path": "bad.wav"}], out), fs=fs)
    assert "bad.wav" in ei.value.message and "I/O error" in ei.value.message


# -- spec errors


@pytest.mark.parametrize(
    ("where", "value", "words"),
    [
        ("duration", -1, "from 0 to"),
        ("duration", 4e10, "from 0 to"),
        ("end", "10", "must be a number"),
        ("seek", {"start": 1e11}, "from 0 to"),
        ("seek", {"start": 1, "mode": "exact"}, '"fast" or "accurate"'),
        ("seek", {"mode": "fast"}, "start: required"),
        ("seek", {"start": 1, "sloppy": True}, "sloppy"),
        ("copy_ts", "yes", "true or false"),
    ],
)
def test_bad_time_fields_are_named(runtime, fs, src, where, value, words) -> None:
    inp, out = {"path": src}, {"path": "x.mkv", "map": ["0:v"]}
    (inp if where == "seek" else out)[where] = value
    with pytest.raises(afmpeg.JobSpecError) as ei:
        runtime.run(process([inp], out), fs=fs)
    assert words in ei.value.message
    assert where in ei.value.details["field"]


def test_duration_and_end_are_exclusive(runtime, fs, src) -> None:
    with pytest.raises(afmpeg.JobSpecError) as ei:
        runtime.run(process([{"path": src}], {"path": "x.mkv", "map": ["0:v"], "duration": 1, "end": 2}), fs=fs)
    assert "mutually exclusive" in ei.value.message
