"""The everyday helpers and the fluent builder, against the real engine: every output is probed and checked."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

import afmpeg

from .conftest import make_wav

W, H, FPS = 320, 240, 30  # the source clip: 2 s, a keyframe every second, 44.1 kHz mono audio


@pytest.fixture(scope="module")
def source(runtime: afmpeg.Runtime) -> bytes:
    fs = afmpeg.MemoryFS()
    runtime.run({
        "op": "process", "version": 9,
        "filter": f"testsrc2=size={W}x{H}:rate={FPS}:duration=2[v];sine=frequency=440:sample_rate=44100:duration=2[a]",
        "outputs": [{"path": "src.mp4", "map": ["[v]", "[a]"], "video_codec": "libopenh264", "audio_codec": "aac",
                     "options": {"g:v": str(FPS)}}],
    }, fs=fs)
    return fs.cat_file("/src.mp4")


@pytest.fixture
def src(fs: afmpeg.MemoryFS, source: bytes) -> str:
    fs.pipe_file("/src.mp4", source)
    return "src.mp4"


def still(runtime: afmpeg.Runtime, colour: str, size: str = "200x100") -> bytes:
    """A one-colour PNG made by the engine."""
    fs = afmpeg.MemoryFS()
    runtime.run({"op": "process", "version": 9, "filter": f"color=c={colour}:size={size}:duration=0.04[v]",
                 "outputs": [{"path": "c.png", "map": ["[v]"], "video_codec": "png", "format": "image2"}]}, fs=fs)
    return fs.cat_file("/c.png")


def image(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference per channel value (0 = identical)."""
    return sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3


def info(runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS, path: str) -> afmpeg.ProbedInput:
    return afmpeg.probe(path, runtime=runtime, fs=fs)


# -- the default runtime and probe


def test_default_runtime_is_made_once_and_shared() -> None:
    first = afmpeg.default_runtime()
    assert isinstance(first, afmpeg.Runtime)
    assert afmpeg.default_runtime() is first


def test_probe_of_bytes_needs_no_filesystem(source: bytes) -> None:
    got = afmpeg.probe(source)  # the default runtime, the bytes on a private in-memory filesystem
    assert got.path == "<bytes>"
    assert got.duration == pytest.approx(2.0, abs=0.03)
    assert (got.video.codec, got.video.width, got.video.height) == ("h264", W, H)
    assert (got.audio.codec, got.audio.sample_rate, got.audio.channels) == ("aac", 44100, 1)


def test_probe_reads_every_location_form(runtime, fs, src, source, tmp_path) -> None:
    local = tmp_path / "local.mp4"
    local.write_bytes(source)
    forms = [
        dict(src=src, fs=fs, runtime=runtime),                   # a path on fs=
        dict(src=(fs, "/src.mp4"), runtime=runtime),             # a (filesystem, path) pair
        dict(src=str(local)),                                    # no fs, no runtime: a local path
        dict(src=local.as_uri(), runtime=runtime),               # a file:// URL
        dict(src="local.mp4", fs=str(tmp_path), runtime=runtime),  # fs= a local directory
        dict(src=src, runtime=afmpeg.Runtime(runtime.module_path, fs=fs)),  # the runtime's own filesystem
    ]
    for form in forms:
        got = afmpeg.probe(form.pop("src"), **form)
        assert (got.video.width, got.video.height) == (W, H), form
    with pytest.raises(afmpeg.ProcessingError):  # with runtime= but no fs=, paths are on the runtime's filesystem
        afmpeg.probe(str(local), runtime=runtime)


def test_probe_failures_raise_processing_errors(runtime, fs) -> None:
    with pytest.raises(afmpeg.ProcessingError) as ei:
        afmpeg.probe("missing.mp4", runtime=runtime, fs=fs)
    assert "missing.mp4" in str(ei.value)
    with pytest.raises(afmpeg.ProcessingError) as ei:
        afmpeg.probe(b"this is not media" * 100, runtime=runtime)
    assert "Invalid data" in str(ei.value)



def test_errors_name_the_files_as_the_caller_gave_them(runtime, fs, src, tmp_path) -> None:
    missing = str(tmp_path / "nope.mp4")
    with pytest.raises(FileNotFoundError) as ei:
        afmpeg.probe(missing)  # the job runs in tmp_path, where the engine sees "nope.mp4"
    err = ei.value
    assert isinstance(err, afmpeg.InputNotFound) and err.filename == missing
    assert err.message == f"{missing}: No such file or directory" and str(err).startswith(missing)
    assert err.ffmpeg_message == "nope.mp4: No such file or directory"  # FFmpeg's words stay as they were
    assert err.details["error"] == "nope.mp4: No such file or directory" and err.kind == "not_found"
    deep = str(tmp_path / "no" / "such" / "dir" / "nope.mp4")  # the directory is missing too
    with pytest.raises(afmpeg.InputNotFound) as ei:
        afmpeg.probe(deep)
    assert ei.value.filename == deep and str(ei.value).startswith(deep)
    other = afmpeg.MemoryFS()  # on another filesystem than the job's: found missing while copying it in
    with pytest.raises(afmpeg.InputNotFound) as ei:
        afmpeg.transcode((other, "/gone.mp4"), "out.mp4", runtime=runtime, fs=fs)
    assert ei.value.filename == "/gone.mp4" and "/gone.mp4" in str(ei.value)
    with pytest.raises(afmpeg.InputNotFound) as ei:
        afmpeg.concat([src, missing], "both.mp4", runtime=runtime, fs=fs)
    assert ei.value.filename == missing
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00not a video" * 100)
    with pytest.raises(afmpeg.InvalidData) as ei:
        afmpeg.thumbnail(junk)
    assert ei.value.message.startswith(f"{junk}: Invalid data found")
    assert "moov atom not found" in ei.value.ffmpeg_message  # libav's log, untouched
    with pytest.raises(afmpeg.InvalidData) as ei:
        afmpeg.probe(b"this is not media" * 100, runtime=runtime)
    assert ei.value.message.startswith("<bytes>: Invalid data found")
    assert not fs.exists("/out.mp4") and not fs.exists("/both.mp4")


def test_probe_gives_the_error_kind_of_each_input(runtime, fs) -> None:
    fs.pipe("noise.bin", os.urandom(4096))
    fs.pipe("tone.wav", make_wav(seconds=0.1))
    res = runtime.probe(["missing.wav", "noise.bin", "tone.wav"], fs=fs)
    assert [item.error_kind for item in res.inputs] == ["not_found", "invalid_data", None]
    assert res.inputs[0].extra["error_kind"] == "not_found"  # where it was before it became a field
    assert afmpeg.ProbedInput.from_dict({"path": "x"}).error_kind is None


# -- transcode


def test_transcode_scales_resamples_and_sets_the_frame_rate(runtime, fs, src) -> None:
    res = afmpeg.transcode(src, "small.mkv", size=(160, -1), fps=15, sample_rate=48000, channels=2,
                           runtime=runtime, fs=fs)
    assert res.outputs[0].path == "small.mkv"
    assert [(s.type, s.codec) for s in res.outputs[0].streams] == [("video", "h264"), ("audio", "aac")]
    got = info(runtime, fs, "small.mkv")
    assert got.format == "matroska,webm"
    assert (got.video.width, got.video.height, got.video.frame_rate) == (160, 120, 15)
    assert (got.audio.sample_rate, got.audio.channels) == (48000, 2)
    assert got.duration == pytest.approx(2.0, abs=1 / 15)


@pytest.mark.parametrize(
    ("dst", "kinds"),
    [
        ("out.mp4", [("video", "h264"), ("audio", "aac")]),
        ("out.m4a", [("audio", "aac")]),
        ("out.wav", [("audio", "pcm_s16le")]),
        ("out.flac", [("audio", "flac")]),
        ("out.gif", [("video", "gif")]),
    ],
)
def test_transcode_picks_codecs_from_the_extension(runtime, fs, src, dst, kinds) -> None:
    size = {"width": 64} if kinds[0][0] == "video" else {}
    afmpeg.transcode(src, dst, runtime=runtime, fs=fs, **size)
    got = info(runtime, fs, dst)
    assert [(s.type, s.codec) for s in got.streams] == kinds
    if kinds[0][0] == "video":
        assert got.video.width == 64


def test_transcode_quality_is_a_fixed_quantiser(runtime, fs, src) -> None:
    afmpeg.transcode(src, "fine.mp4", quality=12, audio=False, runtime=runtime, fs=fs)
    afmpeg.transcode(src, "coarse.mp4", quality=45, audio=False, runtime=runtime, fs=fs)
    assert fs.size("/fine.mp4") > 3 * fs.size("/coarse.mp4")
    assert [s.type for s in info(runtime, fs, "fine.mp4").streams] == ["video"]  # audio=False left it out
    with pytest.raises(afmpeg.JobSpecError, match="quality"):
        afmpeg.transcode(src, "x.gif", quality=3, runtime=runtime, fs=fs)


def test_mpeg4_quality_is_ffmpegs_q_v(runtime, fs, src) -> None:
    # for the qscale encoders quality= is exactly a job with "qscale:v" (ffmpeg's -q:v)
    afmpeg.transcode(src, "helper.mkv", video_codec="mpeg4", quality=7, audio=False, runtime=runtime, fs=fs)
    runtime.run({"op": "process", "version": afmpeg.VOCAB_VERSION, "inputs": [{"path": "src.mp4"}],
                 "filter": "[0:v]null[v]",
                 "outputs": [{"path": "direct.mkv", "map": ["[v]"], "video_codec": "mpeg4",
                              "options": {"qscale:v": "7"}}]}, fs=fs)
    fine = afmpeg.transcode(src, "fine.mkv", video_codec="mpeg4", quality=2, audio=False, runtime=runtime, fs=fs)
    assert fine.outputs[0].streams[0].codec == "mpeg4"
    assert fs.size("/helper.mkv") == fs.size("/direct.mkv")
    assert fs.size("/fine.mkv") > 2 * fs.size("/helper.mkv")


def test_transcode_copy_keeps_the_packets(runtime, fs, src) -> None:
    res = afmpeg.transcode(src, "remux.mkv", video_codec="copy", audio_codec="copy", runtime=runtime, fs=fs)
    assert [s.extra.get("copied") for s in res.outputs[0].streams] == [True, True]
    assert info(runtime, fs, "remux.mkv").video.nb_frames in (None, 60)


def test_transcode_reports_progress(runtime, fs, src) -> None:
    seen: list[afmpeg.Progress] = []
    afmpeg.transcode(src, "p.mp4", width=64, progress=seen.append, runtime=runtime, fs=fs)
    assert seen and seen[-1].out_time == pytest.approx(2.0, abs=0.1)


def test_an_input_without_the_needed_stream_is_named(runtime, fs) -> None:
    fs.pipe_file("/tone.wav", make_wav(0.5))
    with pytest.raises(afmpeg.ProcessingError, match="no video stream"):
        afmpeg.transcode("tone.wav", "x.mp4", size=(64, 48), runtime=runtime, fs=fs)
    with pytest.raises(afmpeg.ProcessingError, match="nothing to write"):
        afmpeg.transcode("tone.wav", "x.gif", runtime=runtime, fs=fs)
    assert not fs.exists("/x.gif")


# -- clip


def test_accurate_clip_is_exact(runtime, fs, src) -> None:
    afmpeg.clip(src, "cut.mp4", start=0.5, duration=1.0, runtime=runtime, fs=fs)
    got = info(runtime, fs, "cut.mp4")
    assert got.video.nb_frames == 30  # 1 s at 30 fps, to the frame
    assert got.video.duration == pytest.approx(1.0, abs=1 / FPS)
    assert got.audio.duration == pytest.approx(1.0, abs=1024 / 44100)
    # its first picture is the source's frame at 0.5 s, not the keyframe before it
    first = image(afmpeg.thumbnail("cut.mp4", at=0, runtime=runtime, fs=fs))
    at_start = image(afmpeg.thumbnail(src, at=0.5, runtime=runtime, fs=fs))
    keyframe = image(afmpeg.thumbnail(src, at=0.0, runtime=runtime, fs=fs))
    assert difference(first, at_start) < difference(first, keyframe) / 4


def test_fast_clip_copies_from_the_keyframe_before_start(runtime, fs, src) -> None:
    res = afmpeg.clip(src, "fast.mp4", start=1.5, duration=0.4, accurate=False, runtime=runtime, fs=fs)
    assert [s.extra.get("copied") for s in res.outputs[0].streams] == [True, True]
    got = info(runtime, fs, "fast.mp4")
    assert got.video.nb_frames == 12
    # the copy starts on the keyframe at 1.0 s: its first picture decodes to exactly that frame
    first = afmpeg.thumbnail("fast.mp4", at=0, runtime=runtime, fs=fs)
    assert first == afmpeg.thumbnail(src, at=1.0, runtime=runtime, fs=fs)
    assert first != afmpeg.thumbnail(src, at=1.5, runtime=runtime, fs=fs)


def test_clip_past_the_end_is_refused_before_encoding(runtime, fs, src) -> None:
    with pytest.raises(afmpeg.JobSpecError, match="past the end"):
        afmpeg.clip(src, "late.mp4", start=5, duration=1, runtime=runtime, fs=fs)
    assert not fs.exists("/late.mp4")


# -- thumbnail


def test_thumbnail_at_a_time_is_that_frame_scaled(runtime, fs, src) -> None:
    png = afmpeg.thumbnail(src, at=1.0, width=100, runtime=runtime, fs=fs)
    thumb = image(png)
    assert (thumb.format, thumb.mode, thumb.size) == ("PNG", "RGB", (100, 75))
    # the frames op's still of the same moment, same size
    runtime.frames({"op": "frames", "inputs": [{"path": src}], "select": {"timestamp": 1.0}, "path": "ref.png",
                    "scale": "100:-1"}, fs=fs)
    ref = image(fs.cat_file("/ref.png"))
    other = image(afmpeg.thumbnail(src, at=0.5, width=100, runtime=runtime, fs=fs))
    assert difference(thumb, ref) < 1.0
    assert difference(thumb, other) > 5 * max(difference(thumb, ref), 0.2)


def test_thumbnail_auto_jpeg_and_dst(runtime, fs, src) -> None:
    auto = image(afmpeg.thumbnail(src, runtime=runtime, fs=fs))
    assert (auto.format, auto.size) == ("PNG", (W, H))
    data = afmpeg.thumbnail(src, "poster.jpg", at=0.3, size=(160, 120), runtime=runtime, fs=fs)
    assert fs.cat_file("/poster.jpg") == data
    jpeg = image(data)
    assert (jpeg.format, jpeg.size) == ("JPEG", (160, 120))
    # the same JPEG, byte for byte, as the frames op writes (full-range colours at -q:v 2)
    runtime.frames({"op": "frames", "inputs": [{"path": src}], "select": {"timestamp": 0.3}, "path": "ref.jpg"},
                   fs=fs)
    assert afmpeg.thumbnail(src, at=0.3, format="jpeg", runtime=runtime, fs=fs) == fs.cat_file("/ref.jpg")


def test_thumbnail_errors(runtime, fs, src) -> None:
    with pytest.raises(afmpeg.JobSpecError, match="past the end"):
        afmpeg.thumbnail(src, at=2.5, runtime=runtime, fs=fs)
    fs.pipe_file("/tone.wav", make_wav(0.5))
    with pytest.raises(afmpeg.ProcessingError, match="no video"):
        afmpeg.thumbnail("tone.wav", runtime=runtime, fs=fs)


# -- extract_audio


def test_extract_audio_follows_the_extension(runtime, fs, src) -> None:
    afmpeg.extract_audio(src, "speech.flac", sample_rate=16000, channels=2, runtime=runtime, fs=fs)
    got = info(runtime, fs, "speech.flac")
    assert [(s.type, s.codec, s.sample_rate, s.channels) for s in got.streams] == [("audio", "flac", 16000, 2)]
    assert got.duration == pytest.approx(2.0, abs=0.03)
    res = afmpeg.extract_audio(src, "same.m4a", codec="copy", runtime=runtime, fs=fs)
    assert [(s.codec, s.extra.get("copied")) for s in res.outputs[0].streams] == [("aac", True)]


def test_extract_audio_to_mp3_names_the_missing_encoder(runtime, fs, src) -> None:
    with pytest.raises(afmpeg.ProcessingError) as ei:
        afmpeg.extract_audio(src, "song.mp3", runtime=runtime, fs=fs)
    assert "mp3" in str(ei.value)
    assert not fs.exists("/song.mp3")
    afmpeg.transcode(src, "mute.mp4", audio=False, width=64, runtime=runtime, fs=fs)
    with pytest.raises(afmpeg.ProcessingError, match="no audio"):
        afmpeg.extract_audio("mute.mp4", "x.m4a", runtime=runtime, fs=fs)


# -- concat


def test_concat_reencodes_files_that_differ(runtime, fs, src) -> None:
    afmpeg.transcode(src, "wide.mkv", size=(160, 90), fps=25, sample_rate=48000, channels=2, duration=1,
                     runtime=runtime, fs=fs)
    afmpeg.transcode(src, "silent.mp4", width=200, audio=False, duration=0.5, runtime=runtime, fs=fs)
    afmpeg.concat([src, "wide.mkv", "silent.mp4"], "joined.mp4", runtime=runtime, fs=fs)
    got = info(runtime, fs, "joined.mp4")
    assert (got.video.width, got.video.height, got.video.frame_rate) == (W, H, FPS)  # the first file's
    assert got.video.duration == pytest.approx(3.5, abs=2 / FPS)
    assert got.audio.duration == pytest.approx(3.5, abs=0.05)  # silence under the file without sound
    assert (got.audio.sample_rate, got.audio.channels) == (44100, 1)
    # the 16:9 picture is letterboxed into 4:3: black bars above and below, picture in the middle
    frame = image(afmpeg.thumbnail("joined.mp4", at=2.5, runtime=runtime, fs=fs)).convert("RGB")
    assert max(frame.getpixel((W // 2, 5))) < 20
    assert max(frame.getpixel((W // 2, H - 5))) < 20
    assert max(ImageStat.Stat(frame.crop((0, H // 2 - 20, W, H // 2 + 20))).mean) > 40


def test_concat_copy_joins_matching_segments(runtime, fs, src) -> None:
    for i, start in enumerate((0, 1)):
        afmpeg.clip(src, f"seg{i}.ts", start=start, duration=1, runtime=runtime, fs=fs)
    res = afmpeg.concat(["seg0.ts", "seg1.ts"], "all.ts", copy=True, runtime=runtime, fs=fs)
    assert all(s.extra.get("copied") for s in res.outputs[0].streams)
    got = info(runtime, fs, "all.ts")
    assert got.duration == pytest.approx(2.0, abs=0.1)
    assert got.video.width == W
    afmpeg.transcode("seg1.ts", "seg_small.ts", width=160, runtime=runtime, fs=fs)
    with pytest.raises(afmpeg.JobSpecError, match="same streams"):
        afmpeg.concat(["seg0.ts", "seg_small.ts"], "bad.ts", copy=True, runtime=runtime, fs=fs)


# -- slideshow


def test_slideshow_crossfades_and_fits_the_music(runtime, fs, src) -> None:
    fs.pipe_file("/red.png", still(runtime, "red"))
    fs.pipe_file("/blue.png", still(runtime, "blue", "100x100"))
    fs.pipe_file("/song.wav", make_wav(1.0, rate=22050, channels=1))  # shorter than the show: padded
    items = [("red.png", 1.5), afmpeg.Slide(src, duration=1.0, start=0.5), ("blue.png", 1.5)]
    res = afmpeg.slideshow(items, "show.mp4", audio="song.wav", size=(160, 120), fps=10, crossfade=0.5,
                           runtime=runtime, fs=fs)
    assert [(s.type, s.codec) for s in res.outputs[0].streams] == [("video", "h264"), ("audio", "aac")]
    got = info(runtime, fs, "show.mp4")
    total = 1.5 + 1.0 + 1.5 - 2 * 0.5
    assert (got.video.width, got.video.height) == (160, 120)
    assert got.video.nb_frames == 30  # 3 s at 10 fps
    assert got.video.duration == pytest.approx(total, abs=0.1)
    assert got.audio.duration == pytest.approx(total, abs=0.03)
    assert (got.audio.sample_rate, got.audio.channels) == (48000, 2)

    def colour(t: float) -> tuple[int, ...]:
        return image(afmpeg.thumbnail("show.mp4", at=t, runtime=runtime, fs=fs)).convert("RGB").getpixel((80, 60))

    red, blue = colour(0.5), colour(2.7)
    assert red[0] > 200 and red[2] < 60
    assert blue[2] > 200 and blue[0] < 60
    # the red still is letterboxed (200x100 into 160x120): black above it
    assert max(image(afmpeg.thumbnail("show.mp4", at=0.5, runtime=runtime, fs=fs)).convert("RGB")
               .getpixel((80, 5))) < 20


def test_slideshow_of_stills_blends_during_the_crossfade(runtime, fs) -> None:
    fs.pipe_file("/red.png", still(runtime, "red"))
    fs.pipe_file("/blue.png", still(runtime, "blue"))
    afmpeg.slideshow([("red.png", 1), ("blue.png", 1)], "fade.mp4", size=(64, 48), fps=20, crossfade=0.5,
                     runtime=runtime, fs=fs)
    got = info(runtime, fs, "fade.mp4")
    assert got.video.duration == pytest.approx(1.5, abs=0.06)
    assert got.audio is None
    mid = image(afmpeg.thumbnail("fade.mp4", at=0.75, runtime=runtime, fs=fs)).convert("RGB").getpixel((32, 24))
    assert 60 < mid[0] < 200 and 60 < mid[2] < 200  # half red, half blue


def test_slideshow_items_must_outlast_the_crossfade(runtime, fs) -> None:
    fs.pipe_file("/red.png", still(runtime, "red"))
    with pytest.raises(afmpeg.JobSpecError, match="crossfade"):
        afmpeg.slideshow([("red.png", 1), ("red.png", 0.8), ("red.png", 1)], "x.mp4", crossfade=0.5,
                         runtime=runtime, fs=fs)
    assert not fs.exists("/x.mp4")


# -- where the files are


def test_bytes_in_local_file_out(runtime, source, tmp_path) -> None:
    out = tmp_path / "from-bytes.m4a"
    res = afmpeg.transcode(source, out, runtime=runtime)  # a pathlib.Path is a local file, whatever the runtime
    assert res.outputs[0].path == str(out)
    assert afmpeg.probe(out, runtime=runtime).audio.codec == "aac"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["from-bytes.m4a"]  # nothing else was written


def test_local_files_in_unrelated_directories_are_staged(runtime, source, tmp_path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "elsewhere" / "deep").mkdir(parents=True)
    (tmp_path / "in" / "clip.mp4").write_bytes(source)
    out = tmp_path / "elsewhere" / "deep" / "small.mp4"
    cwd = os.getcwd()
    os.chdir(tmp_path / "in")
    try:
        afmpeg.transcode("clip.mp4", out, width=80)  # no fs, no runtime: relative to the working directory
        afmpeg.transcode(Path("clip.mp4"), Path("sub.mp4"), width=96, runtime=runtime)  # Path: always local
    finally:
        os.chdir(cwd)
    assert afmpeg.probe(out, runtime=runtime).video.width == 80
    assert afmpeg.probe(tmp_path / "in" / "sub.mp4", runtime=runtime).video.width == 96


def test_an_input_on_another_filesystem_is_copied_in(runtime, fs, source) -> None:
    other = afmpeg.MemoryFS()
    other.pipe_file("/elsewhere.mp4", source)
    res = afmpeg.clip((other, "/elsewhere.mp4"), "here.mp4", 0, 1, runtime=runtime, fs=fs)
    assert res.outputs[0].path == "here.mp4"
    assert info(runtime, fs, "here.mp4").video.nb_frames == 30
    assert other.ls("/", detail=False) == ["/elsewhere.mp4"]


# -- the builder


def test_builder_job_runs(runtime, fs, src) -> None:
    res = (
        afmpeg.job()
        .input(src, start=0.5)
        .video_filter("scale=160:-2")
        .output("built.mp4", video_codec="libopenh264", audio_codec="aac", video_bitrate="300k",
                metadata={"title": "built"})
        .output("built.flac", audio_filter="aresample=22050")
        .run(runtime, fs=fs)
    )
    assert [o.path for o in res.outputs] == ["built.mp4", "built.flac"]
    video = info(runtime, fs, "built.mp4")
    assert (video.video.width, video.video.height) == (160, 120)
    assert video.duration == pytest.approx(1.5, abs=0.05)
    assert video.tags.get("title") == "built"
    audio = info(runtime, fs, "built.flac")
    assert [(s.codec, s.sample_rate) for s in audio.streams] == [("flac", 22050)]


def test_paths_in_results_are_what_the_caller_gave(runtime, fs, src) -> None:
    res = afmpeg.transcode(src, (fs, "/nested.mkv"), width=64, runtime=runtime, fs=fs)
    assert res.outputs[0].path == "/nested.mkv"
    assert fs.exists("/nested.mkv")
