"""Muxer control: outputs[].format + format_options (HLS, segment, MPEG-TS, fragmented MP4), files kept in the root."""

from __future__ import annotations

import re

import pytest

import afmpeg

from .conftest import make_clip_job


@pytest.fixture
def clip4(runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS) -> str:
    """4 s of H.264/AAC with a keyframe every second."""
    job = make_clip_job("clip4.mp4", seconds=4, size="320x240")
    job["outputs"][0]["options"] = {"g": "30"}
    runtime.run(job, fs=fs)
    return "clip4.mp4"


def test_hls_writes_a_playlist_naming_its_segments(runtime, fs, clip4) -> None:
    fs.makedirs("/hls", exist_ok=True)
    res = runtime.run({"op": "process", "version": 9, "inputs": [{"path": clip4}],
                       "outputs": [{"path": "hls/index.m3u8", "format": "hls", "map": ["0:v", "0:a"],
                                    "format_options": {"hls_time": "1", "hls_list_size": "0",
                                                       "hls_segment_filename": "hls/seg_%03d.ts"}}]}, fs=fs)
    assert res.outputs[0].segmented is True
    playlist = fs.cat("hls/index.m3u8").decode()
    assert playlist.startswith("#EXTM3U") and "#EXT-X-ENDLIST" in playlist
    named = re.findall(r"^(seg_\d{3}\.ts)$", playlist, re.M)
    assert len(named) >= 3
    assert sorted(p.rsplit("/", 1)[-1] for p in fs.ls("/hls", detail=False) if p.endswith(".ts")) == named
    durations = [float(d) for d in re.findall(r"#EXTINF:([\d.]+),", playlist)]
    assert sum(durations) == pytest.approx(4.0, abs=0.1)
    for name in named:
        seg = runtime.probe(f"hls/{name}", fs=fs).inputs[0]
        assert seg.format == "mpegts"
        assert [s.codec for s in seg.streams] == ["h264", "aac"]


def test_hls_of_encoded_streams(runtime, fs, clip4) -> None:
    res = runtime.run({"op": "process", "version": 9, "inputs": [{"path": clip4}],
                       "filter": "[0:v]scale=160:120[v];[0:a]anull[a]",
                       "outputs": [{"path": "enc.m3u8", "format": "hls", "map": ["[v]", "[a]"],
                                    "video_codec": "libopenh264", "audio_codec": "aac", "options": {"g": "30"},
                                    "format_options": {"hls_time": "1"}}]}, fs=fs)
    assert res.outputs[0].segmented
    segments = re.findall(r"^(enc\d+\.ts)$", fs.cat("enc.m3u8").decode(), re.M)  # default names: <playlist>N.ts
    assert len(segments) >= 3
    assert runtime.probe(segments[0], fs=fs).inputs[0].video.width == 160


def test_segment_muxer(runtime, fs, clip4) -> None:
    res = runtime.run({"op": "process", "version": 9, "inputs": [{"path": clip4}],
                       "outputs": [{"path": "part_%02d.mkv", "format": "segment", "map": ["0:v", "0:a"],
                                    "format_options": {"segment_time": "1", "segment_format": "matroska",
                                                       "reset_timestamps": "1"}}]}, fs=fs)
    assert res.outputs[0].segmented is True
    parts = sorted(p for p in fs.ls("/", detail=False) if re.search(r"/part_\d\d\.mkv$", p))
    assert len(parts) >= 3
    total = sum(runtime.probe(p, fs=fs).inputs[0].duration for p in parts)
    assert total == pytest.approx(4.0, abs=0.15)


def test_forced_mpegts_whatever_the_extension(runtime, fs, clip4) -> None:
    res = runtime.run({"op": "process", "version": 9, "inputs": [{"path": clip4}],
                       "outputs": [{"path": "stream.bin", "format": "mpegts", "map": ["0:v", "0:a"],
                                    "format_options": {"mpegts_service_id": "7"}}]}, fs=fs)
    assert not res.outputs[0].segmented
    data = fs.cat("stream.bin")
    assert data[0] == 0x47 and data[188] == 0x47  # TS sync bytes
    info = runtime.probe("stream.bin", fs=fs).inputs[0]
    assert info.format == "mpegts"
    assert abs(info.duration - 4.0) < 0.1


def test_fragmented_mp4(runtime, fs, clip4) -> None:
    runtime.run({"op": "process", "version": 9, "inputs": [{"path": clip4}],
                 "outputs": [{"path": "frag.mp4", "map": ["0:v", "0:a"],
                              "format_options": {"movflags": "+frag_keyframe+empty_moov"}}]}, fs=fs)
    data = fs.cat("frag.mp4")
    assert data.count(b"moof") >= 4  # a fragment per keyframe
    assert b"mvex" in data  # the empty moov announces fragments
    moov = data.index(b"moov")
    assert moov < data.index(b"moof") and b"stco" in data[moov: data.index(b"moof")]
    info = runtime.probe("frag.mp4", fs=fs).inputs[0]
    assert abs(info.duration - 4.0) < 0.1
    plain = runtime.probe(clip4, fs=fs).inputs[0]
    assert [s.codec for s in info.streams] == [s.codec for s in plain.streams]


def test_unknown_muxer_option_is_named(runtime, fs, clip4) -> None:
    with pytest.raises(afmpeg.JobSpecError) as ei:
        runtime.run({"op": "process", "version": 9, "inputs": [{"path": clip4}],
                     "outputs": [{"path": "x.m3u8", "format": "hls", "map": ["0:v"],
                                  "format_options": {"hls_tyme": "1"}}]}, fs=fs)
    assert "hls_tyme" in ei.value.message


@pytest.mark.parametrize("segments", ["/tmp/seg_%03d.ts", "tmp/seg_%03d.ts", "/dev/seg_%03d.ts",
                                      "x/../../tmp/s%d.ts"])
def test_muxer_files_stay_in_the_job_root(runtime, fs, clip4, segments) -> None:
    with pytest.raises(afmpeg.JobSpecError) as ei:
        runtime.run({"op": "process", "version": 9, "inputs": [{"path": clip4}],
                     "outputs": [{"path": "x.m3u8", "format": "hls", "map": ["0:v"],
                                  "format_options": {"hls_time": "1", "hls_segment_filename": segments}}]}, fs=fs)
    assert "outside the job's filesystem" in ei.value.message


@pytest.mark.parametrize("path", ["/dev/null", "tmp/out.mkv", "./tmp/out.mkv"])
def test_output_paths_stay_in_the_job_root(runtime, fs, clip4, path) -> None:
    with pytest.raises(afmpeg.JobSpecError) as ei:
        runtime.run({"op": "process", "version": 9, "inputs": [{"path": clip4}],
                     "outputs": [{"path": path, "map": ["0:v"]}]}, fs=fs)
    assert ei.value.details["field"] == "outputs[0].path"
