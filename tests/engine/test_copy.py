"""Stream copy: unbracketed map entries and codec "copy" move packets without decoding them."""

from __future__ import annotations

import pytest

import afmpeg

from .conftest import run_native
from .packets import md5s, native_clip, packets


@pytest.fixture(scope="module")
def source(native_ffmpeg: str, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return native_clip(native_ffmpeg, tmp_path_factory.mktemp("copy"), 4)


@pytest.fixture
def src(fs: afmpeg.MemoryFS, source: bytes) -> str:
    fs.pipe("src.mp4", source)
    return "src.mp4"


def job(*outputs: dict, inputs: list | None = None, filter: str | None = None) -> dict:
    j = {"op": "process", "version": 9, "inputs": inputs or [{"path": "src.mp4"}], "outputs": list(outputs)}
    if filter:
        j["filter"] = filter
    return j


def test_remux_mp4_to_mkv_keeps_every_packet_byte_identical(runtime, fs, src, native_ffmpeg, tmp_path) -> None:
    res = runtime.run(job({"path": "out.mkv", "map": ["0:v", "0:a"]}), fs=fs)
    assert [(s.type, s.codec, s.extra.get("copied")) for s in res.outputs[0].streams] == [
        ("video", "h264", True), ("audio", "aac", True)]
    ours = packets(native_ffmpeg, fs.cat("out.mkv"), tmp_path, "out.mkv")
    theirs = packets(native_ffmpeg, fs.cat(src), tmp_path, "src.mp4")
    assert len(md5s(theirs, 0)) == 120
    assert md5s(ours, 0) == md5s(theirs, 0)
    assert md5s(ours, 1) == md5s(theirs, 1)
    # presentation times survive too (mkv keeps milliseconds)
    assert [round(float(p.pts), 3) for p in ours if p.stream == 0] == [
        round(float(p.pts), 3) for p in theirs if p.stream == 0]


def test_remux_mp4_to_ts_inserts_annexb_like_ffmpeg(runtime, fs, src, native_ffmpeg, tmp_path) -> None:
    runtime.run(job({"path": "out.ts", "map": ["0:v", "0:a"]}), fs=fs)
    (tmp_path / "in.mp4").write_bytes(fs.cat(src))
    run_native(native_ffmpeg, "-y", "-i", str(tmp_path / "in.mp4"), "-map", "0", "-c", "copy",
               str(tmp_path / "native.ts"))
    ours = packets(native_ffmpeg, fs.cat("out.ts"), tmp_path, "out.ts")
    native = packets(native_ffmpeg, (tmp_path / "native.ts").read_bytes(), tmp_path, "native2.ts")
    source = packets(native_ffmpeg, fs.cat(src), tmp_path, "src.mp4")
    assert len(md5s(ours, 0)) == 120
    assert md5s(ours, 0) == md5s(native, 0)  # same bytes as ffmpeg -c copy: the muxer's bsf ran
    assert md5s(ours, 0) != md5s(source, 0)  # ... and it did change them (length prefixes -> start codes)
    assert md5s(ours, 1) == md5s(native, 1)
    assert runtime.probe("out.ts", fs=fs).inputs[0].format == "mpegts"


def test_codec_copy_without_map(runtime, fs, src, native_ffmpeg, tmp_path) -> None:
    runtime.run(job({"path": "out.mkv", "video_codec": "copy", "audio_codec": "copy"}), fs=fs)
    ours = packets(native_ffmpeg, fs.cat("out.mkv"), tmp_path, "out.mkv")
    theirs = packets(native_ffmpeg, fs.cat(src), tmp_path, "src.mp4")
    assert md5s(ours, 0) == md5s(theirs, 0)
    assert md5s(ours, 1) == md5s(theirs, 1)


def test_copy_one_stream_and_encode_another(runtime, fs, src, native_ffmpeg, tmp_path) -> None:
    res = runtime.run(job({"path": "mixed.mp4", "map": ["0:v", "[a]"], "audio_codec": "aac"},
                          filter="[0:a]loudnorm,aresample=48000[a]"), fs=fs)
    assert [(s.codec, s.extra.get("copied", False)) for s in res.outputs[0].streams] == [
        ("h264", True), ("aac", False)]
    ours = packets(native_ffmpeg, fs.cat("mixed.mp4"), tmp_path, "mixed.mp4")
    theirs = packets(native_ffmpeg, fs.cat(src), tmp_path, "src.mp4")
    assert md5s(ours, 0) == md5s(theirs, 0)
    assert md5s(ours, 1) != md5s(theirs, 1)  # re-encoded
    info = runtime.probe("mixed.mp4", fs=fs).inputs[0]
    assert abs(info.video.duration - 4.0) < 0.05
    assert abs(info.audio.duration - 4.0) < 0.05


def test_explicit_bitstream_filter_matches_ffmpeg(runtime, fs, src, native_ffmpeg, tmp_path) -> None:
    runtime.run(job({"path": "annexb.mkv", "map": ["0:v"], "bitstream_filters": {"0:v": "h264_mp4toannexb"}}),
                fs=fs)
    (tmp_path / "in.mp4").write_bytes(fs.cat(src))
    run_native(native_ffmpeg, "-y", "-i", str(tmp_path / "in.mp4"), "-map", "0:v", "-c", "copy",
               "-bsf:v", "h264_mp4toannexb", str(tmp_path / "native.mkv"))
    ours = packets(native_ffmpeg, fs.cat("annexb.mkv"), tmp_path, "ours.mkv")
    native = packets(native_ffmpeg, (tmp_path / "native.mkv").read_bytes(), tmp_path, "native2.mkv")
    source = packets(native_ffmpeg, fs.cat(src), tmp_path, "src.mp4")
    assert md5s(ours, 0) == md5s(native, 0)
    assert md5s(ours, 0) != md5s(source, 0)


def test_bitstream_filters_none_turns_off_the_automatic_ones(runtime, fs, src) -> None:
    with pytest.raises(afmpeg.ProcessingError) as ei:
        runtime.run(job({"path": "x.ts", "map": ["0:v"], "bitstream_filters": "none"}), fs=fs)
    assert "h264_mp4toannexb" in ei.value.message  # the mpegts muxer needed it and was not given it


def test_copy_by_stream_index_and_subtitles(runtime, fs, src) -> None:
    fs.pipe("subs.srt", b"1\n00:00:00,500 --> 00:00:01,500\nhello\n\n2\n00:00:02,000 --> 00:00:03,000\nworld\n\n")
    res = runtime.run(job({"path": "with_subs.mkv", "map": ["0:0", "1:s"]},
                          inputs=[{"path": "src.mp4"}, {"path": "subs.srt"}]), fs=fs)
    assert [s.type for s in res.outputs[0].streams] == ["video", "subtitle"]
    info = runtime.probe("with_subs.mkv", fs=fs).inputs[0]
    assert [(s.type, s.codec) for s in info.streams] == [("video", "h264"), ("subtitle", "subrip")]
    # subtitle_codec "copy" takes the subtitles along in a job without a map
    runtime.run(job({"path": "again.mkv", "video_codec": "copy", "subtitle_codec": "copy"},
                    inputs=[{"path": "with_subs.mkv"}]), fs=fs)
    again = runtime.probe("again.mkv", fs=fs).inputs[0]
    assert [(s.type, s.codec) for s in again.streams] == [("video", "h264"), ("subtitle", "subrip")]


# -- errors


def test_more_than_32_copies_is_a_named_error(runtime, fs, src) -> None:
    outputs = [{"path": f"o{i}.mkv", "map": ["0:v", "0:a", "0:0", "0:1", "0:v:0"]} for i in range(7)]
    with pytest.raises(afmpeg.JobSpecError) as ei:
        runtime.run(job(*outputs), fs=fs)
    assert "at most 32 streams may be copied" in ei.value.message


def test_copy_codec_on_a_filter_output_is_refused(runtime, fs, src) -> None:
    with pytest.raises(afmpeg.JobSpecError) as ei:
        runtime.run(job({"path": "x.mkv", "map": ["[v]"], "video_codec": "copy"}, filter="[0:v]null[v]"), fs=fs)
    assert "copy" in ei.value.message and "[v]" in ei.value.message


def test_encoder_for_a_copied_type_is_refused(runtime, fs, src) -> None:
    with pytest.raises(afmpeg.JobSpecError) as ei:
        runtime.run(job({"path": "x.mkv", "map": ["0:v"], "video_codec": "mpeg4"}), fs=fs)
    assert ei.value.details["field"] == "outputs[0].video_codec"


@pytest.mark.parametrize(
    ("bsf", "words"),
    [
        ({"0:a": "null"}, "not a copied map entry"),
        ({"0:v": "none"}, "cannot be set per stream"),
        ("some", 'must be "none"'),
    ],
)
def test_bad_bitstream_filters_are_spec_errors(runtime, fs, src, bsf, words) -> None:
    with pytest.raises(afmpeg.JobSpecError) as ei:
        runtime.run(job({"path": "x.mkv", "map": ["0:v"], "bitstream_filters": bsf}), fs=fs)
    assert words in ei.value.message


def test_unknown_bitstream_filter_is_a_processing_error(runtime, fs, src) -> None:
    with pytest.raises(afmpeg.ProcessingError) as ei:
        runtime.run(job({"path": "x.mkv", "map": ["0:v"], "bitstream_filters": {"0:v": "frobnicate"}}), fs=fs)
    assert "frobnicate" in ei.value.message


@pytest.mark.parametrize("entry", ["0:x", "0:v:", "v", "0:-1", "0:v:1:2"])
def test_malformed_map_entries_are_spec_errors(runtime, fs, src, entry) -> None:
    with pytest.raises(afmpeg.JobSpecError) as ei:
        runtime.run(job({"path": "x.mkv", "map": [entry]}), fs=fs)
    assert entry in ei.value.message


def test_copy_of_a_missing_stream_names_it(runtime, fs, src) -> None:
    with pytest.raises(afmpeg.ProcessingError) as ei:
        runtime.run(job({"path": "x.mkv", "map": ["0:v:1"]}), fs=fs)
    assert "0:v:1" in ei.value.message
    with pytest.raises(afmpeg.JobSpecError) as ei:
        runtime.run(job({"path": "x.mkv", "map": ["1:v"]}), fs=fs)
    assert "input 1" in ei.value.message
