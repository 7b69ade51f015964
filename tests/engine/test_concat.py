"""inputs[].concat: files joined by stream copy through the concat demuxer (safe mode, list in the private /tmp)."""

from __future__ import annotations

import pytest

import afmpeg

from .conftest import run_native
from .packets import md5s, packets


@pytest.fixture
def parts(runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS) -> list[str]:
    """Three 1-second H.264/AAC MPEG-TS files with different pictures."""
    fs.makedirs("/parts", exist_ok=True)
    names = []
    for i in range(3):
        names.append(f"parts/p{i}.ts")
        runtime.run({
            "op": "process", "version": 9,
            "filter": f"testsrc2=size=400x300:rate=30:duration=1,crop=320:240:{40 * i}:{30 * i}[v];"
                      f"sine=frequency={440 + 110 * i}:sample_rate=48000:duration=1[a]",
            "outputs": [{"path": names[-1], "map": ["[v]", "[a]"], "video_codec": "libopenh264",
                         "audio_codec": "aac", "options": {"g": "30"}}],
        }, fs=fs)
    return names


def concat_job(names: list[str], out: dict) -> dict:
    return {"op": "process", "version": 9, "inputs": [{"concat": names}], "outputs": [out]}


def test_concat_of_three_ts_files_is_their_packets_in_order(runtime, fs, parts, native_ffmpeg, tmp_path) -> None:
    res = runtime.run(concat_job(parts, {"path": "joined.ts", "map": ["0:v", "0:a"]}), fs=fs)
    assert [s.codec for s in res.outputs[0].streams] == ["h264", "aac"]
    info = runtime.probe("joined.ts", fs=fs).inputs[0]
    assert abs(info.duration - 3.0) < 0.1
    ours = packets(native_ffmpeg, fs.cat("joined.ts"), tmp_path, "joined.ts")
    video, audio = [], []
    for i, name in enumerate(parts):
        p = packets(native_ffmpeg, fs.cat(name), tmp_path, f"p{i}.ts")
        video += md5s(p, 0)
        audio += md5s(p, 1)
    assert len(video) == 90
    assert md5s(ours, 0) == video
    assert md5s(ours, 1) == audio
    # Times run on across the joins exactly as with native FFmpeg's concat demuxer.
    listing = tmp_path / "list.txt"
    listing.write_text("".join(f"file 'p{i}.ts'\n" for i in range(3)))
    run_native(native_ffmpeg, "-y", "-f", "concat", "-i", str(listing), "-c", "copy", str(tmp_path / "native.ts"))
    native = packets(native_ffmpeg, (tmp_path / "native.ts").read_bytes(), tmp_path, "native2.ts")
    assert md5s(native, 0) == video

    def rel(pkts, stream):
        ts = [p.pts for p in pkts if p.stream == stream]
        return [round(float(t - ts[0]), 3) for t in ts]

    assert rel(ours, 0) == rel(native, 0)
    assert rel(ours, 1) == rel(native, 1)


def test_concat_input_can_be_probed_and_decoded(runtime, fs, parts) -> None:
    probe = runtime.probe(afmpeg.ProbeJob(inputs=[{"concat": parts}]), fs=fs).inputs[0]
    assert probe.format == "concat"
    assert probe.extra["concat"] == parts
    runtime.run({"op": "process", "version": 9, "inputs": [{"concat": parts}], "filter": "[0:v]scale=160:120[v]",
                 "outputs": [{"path": "small.mkv", "map": ["[v]"], "video_codec": "mpeg4"}]}, fs=fs)
    out = runtime.probe("small.mkv", fs=fs).inputs[0]
    assert (out.video.width, out.video.height) == (160, 120)
    assert abs(out.duration - 3.0) < 0.1


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("a\nb.ts", "line break"),
        ("it's.ts", "quote"),
        ("../p0.ts", "safe mode"),
        ("/parts/p0.ts", "safe mode"),
        ("parts/.hidden.ts", "safe mode"),
        ("my clip.ts", "safe mode"),
        ("tmp/x.ts", "outside the job's filesystem"),
    ],
)
def test_names_the_list_cannot_hold_safely_are_refused(runtime, fs, parts, name, words) -> None:
    with pytest.raises(afmpeg.JobSpecError) as ei:
        runtime.run(concat_job([parts[0], name], {"path": "x.mkv", "map": ["0:v"]}), fs=fs)
    assert ei.value.details["field"] == "inputs[0].concat"
    assert words in ei.value.message


@pytest.mark.parametrize(
    ("inp", "words"),
    [
        ({"concat": []}, "must not be empty"),
        ({"concat": ["parts/p0.ts"], "path": "parts/p1.ts"}, "not both"),
        ({"concat": ["parts/p0.ts"], "format": "mpegts"}, "concat input"),
        ({"concat": "parts/p0.ts"}, "must be an array"),
    ],
)
def test_malformed_concat_inputs(runtime, fs, inp, words) -> None:
    with pytest.raises(afmpeg.JobSpecError) as ei:
        runtime.call({"op": "process", "version": 9, "inputs": [inp], "outputs": [{"path": "x.mkv"}]}, fs=fs)
    assert words in ei.value.message


def test_a_missing_member_is_a_processing_error(runtime, fs, parts) -> None:
    with pytest.raises(afmpeg.ProcessingError) as ei:
        runtime.run(concat_job([parts[0], "parts/nothere.ts"], {"path": "x.mkv", "map": ["0:v"]}), fs=fs)
    assert "nothere" in ei.value.message or "No such file" in ei.value.message
