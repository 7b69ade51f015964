"""metadata, chapters and stream_metadata: written by process, read back by probe (mp4 and mkv)."""

from __future__ import annotations

import pytest

import afmpeg

from .conftest import make_clip_job, run_native

FFMETADATA = """;FFMETADATA1
title=Source
[CHAPTER]
TIMEBASE=1/1000
START=0
END=1500
title=One
[CHAPTER]
TIMEBASE=1/1000
START=1500
END=4000
title=Two
"""


@pytest.fixture
def chaptered(runtime, fs, native_ffmpeg, tmp_path) -> str:
    """A 4 s H.264/AAC mkv with two chapters (0-1.5 s "One", 1.5-4 s "Two")."""
    runtime.run(make_clip_job("plain.mp4", seconds=4, size="160x120", rate=25), fs=fs)
    (tmp_path / "plain.mp4").write_bytes(fs.cat("plain.mp4"))
    (tmp_path / "meta.txt").write_text(FFMETADATA)
    run_native(native_ffmpeg, "-y", "-i", str(tmp_path / "plain.mp4"), "-i", str(tmp_path / "meta.txt"),
               "-map_metadata", "1", "-map_chapters", "1", "-c", "copy", str(tmp_path / "ch.mkv"))
    fs.pipe("ch.mkv", (tmp_path / "ch.mkv").read_bytes())
    return "ch.mkv"


def probe(runtime, fs, path: str) -> dict:
    return runtime.call({"op": "probe", "version": 9, "inputs": [{"path": path}]}, fs=fs)["inputs"][0]


def job(src: str, out: dict, seek: dict | None = None, filter: str | None = None) -> dict:
    inp = {"path": src, **({"seek": seek} if seek else {})}
    j = {"op": "process", "version": 9, "inputs": [inp], "outputs": [out]}
    if filter:
        j["filter"] = filter
    return j


def chapters(info: dict) -> list[tuple[float, float, str]]:
    return [(round(c["start_sec"], 3), round(c["end_sec"], 3), c["tags"].get("title")) for c in info["chapters"]]


@pytest.mark.parametrize("ext", ["mp4", "mkv"])
def test_metadata_round_trip(runtime, fs, chaptered, ext) -> None:
    out = {"path": f"out.{ext}", "map": ["0:v", "0:a"], "metadata": {"title": "Hello", "artist": "Me"},
           "stream_metadata": {"0:a": {"language": "fra", "disposition": ["default", "dub"],
                                       "tags": {"title": "French"}},
                               "0:v": {"disposition": []}}}
    runtime.run(job(chaptered, out), fs=fs)
    info = probe(runtime, fs, f"out.{ext}")
    assert info["tags"]["title"] == "Hello"
    assert {k.lower(): v for k, v in info["tags"].items()}["artist"] == "Me"
    # Chapters are copied from the first input that has some by default (as ffmpeg does).
    assert chapters(info) == [(0, 1.5, "One"), (1.5, 4, "Two")]
    video, audio = [s for s in info["streams"] if s["type"] in ("video", "audio")]
    assert audio["language"] == "fra"
    assert set(audio["disposition"]) == {"default", "dub"}
    assert "French" in audio["tags"].values()
    assert "dub" not in video["disposition"]


@pytest.mark.parametrize("ext", ["mp4", "mkv"])
def test_graph_output_stream_metadata(runtime, fs, chaptered, ext) -> None:
    out = {"path": f"small.{ext}", "map": ["[v]", "0:a"], "video_codec": "libopenh264", "chapters": "none",
           "stream_metadata": {"[v]": {"language": "eng", "disposition": ["default"], "tags": {"title": "small"}}}}
    runtime.run(job(chaptered, out, filter="[0:v]scale=80:60[v]"), fs=fs)
    info = probe(runtime, fs, f"small.{ext}")
    video = info["streams"][0]
    assert video["type"] == "video" and video["width"] == 80
    assert video["language"] == "eng" and "small" in video["tags"].values() and "default" in video["disposition"]
    assert info["chapters"] == []


def test_chapters_follow_seek_and_window(runtime, fs, chaptered) -> None:
    out = {"path": "cut.mkv", "map": ["[v]"], "video_codec": "libopenh264", "chapters": 0, "duration": 2}
    runtime.run(job(chaptered, out, seek={"start": 1.0, "mode": "accurate"}, filter="[0:v]null[v]"), fs=fs)
    # Shifted by the seek (1 s earlier), cut to the 2 s window.
    assert chapters(probe(runtime, fs, "cut.mkv")) == [(0, 0.5, "One"), (0.5, 2, "Two")]


def test_chapters_from_an_input_index(runtime, fs, chaptered) -> None:
    runtime.run(make_clip_job("bare.mp4", seconds=1, size="160x120", rate=25), fs=fs)
    j = {"op": "process", "version": 9, "inputs": [{"path": "bare.mp4"}, {"path": chaptered}],
         "outputs": [{"path": "o.mkv", "map": ["0:v"], "chapters": 1}]}
    runtime.run(j, fs=fs)
    assert [c[2] for c in chapters(probe(runtime, fs, "o.mkv"))] == ["One", "Two"]
    j["outputs"][0]["chapters"] = 5
    with pytest.raises(afmpeg.JobSpecError, match="no input 5"):
        runtime.run(j, fs=fs)


def test_metadata_errors(runtime, fs, chaptered) -> None:
    bad = {"0:v": {"disposition": ["default", "bogus", "nope"]}}
    with pytest.raises(afmpeg.JobSpecError, match=r'disposition: unknown disposition names "bogus", "nope"'):
        runtime.run(job(chaptered, {"path": "x.mkv", "map": ["0:v"], "stream_metadata": bad}), fs=fs)
    with pytest.raises(afmpeg.JobSpecError, match='"0:a" is not a map entry'):
        runtime.run(job(chaptered, {"path": "x.mkv", "map": ["0:v"],
                                    "stream_metadata": {"0:a": {"language": "eng"}}}), fs=fs)
    with pytest.raises(afmpeg.JobSpecError, match=r"stream_metadata\.0:v: unknown key \"lang\""):
        runtime.run(job(chaptered, {"path": "x.mkv", "map": ["0:v"], "stream_metadata": {"0:v": {"lang": "x"}}}),
                    fs=fs)
    with pytest.raises(afmpeg.JobSpecError, match="metadata.title: tag values must be strings"):
        runtime.run(job(chaptered, {"path": "x.mkv", "map": ["0:v"], "metadata": {"title": 1}}), fs=fs)
    with pytest.raises(afmpeg.JobSpecError, match="chapters: must be"):
        runtime.run(job(chaptered, {"path": "x.mkv", "map": ["0:v"], "chapters": "all"}), fs=fs)
