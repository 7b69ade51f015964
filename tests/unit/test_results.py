"""Result parsing: tolerant of missing and unknown fields."""

from __future__ import annotations

import afmpeg


def test_minimal_probe() -> None:
    result = afmpeg.ProbeResult.from_dict({"inputs": [{"path": "a.wav", "streams": [{"index": 0, "type": "audio"}]}]})
    inp = result.inputs[0]
    assert inp.path == "a.wav" and inp.format is None and inp.duration is None
    assert inp.audio == afmpeg.StreamInfo(index=0, type="audio")
    assert inp.video is None


def test_unknown_keys_go_to_extra() -> None:
    result = afmpeg.ProbeResult.from_dict(
        {"inputs": [{"path": "a", "hdr": {"x": 1}, "streams": [{"index": 2, "type": "video", "rotation": 90}]}], "v": 2}
    )
    assert result.extra == {"v": 2}
    assert result.inputs[0].extra == {"hdr": {"x": 1}}
    assert result.inputs[0].streams[0].extra == {"rotation": 90}


def test_numeric_coercion_and_wire_names() -> None:
    st = afmpeg.StreamInfo.from_dict(
        {"index": "1", "type": "video", "width": "1920", "bit_rate": "800000", "duration_sec": "2.5", "nb_frames": "75"}
    )
    assert (st.index, st.width, st.bit_rate, st.duration, st.nb_frames) == (1, 1920, 800000, 2.5, 75)
    chapter = afmpeg.Chapter.from_dict({"start_sec": 1, "end_sec": 2})
    assert (chapter.start, chapter.end) == (1.0, 2.0)


def test_disposition_forms() -> None:
    assert afmpeg.StreamInfo.from_dict({"index": 0, "disposition": {"default": 1, "forced": 0}}).disposition == [
        "default"
    ]


def test_failed_input() -> None:
    inp = afmpeg.ProbeResult.from_dict({"inputs": [{"path": "x", "error": "Invalid data found"}]}).inputs[0]
    assert not inp.ok and inp.error == "Invalid data found"


def test_process_result() -> None:
    result = afmpeg.ProcessResult.from_dict(
        {
            "outputs": [
                {"path": "seg.m3u8", "segmented": True, "streams": [{"type": "video", "codec": "h264"}]},
                {"path": "a.m4a", "streams": [{"type": "audio", "codec": "aac", "disposition": ["default"]}]},
            ],
            "analysis": [{"t": 0.5, "key": "lavfi.black_start", "value": 0.5}],
        }
    )
    assert result.outputs[0].segmented and not result.outputs[1].segmented
    assert result.outputs[1].streams[0].disposition == ["default"]
    assert result.analysis == [afmpeg.AnalysisEntry(0.5, "lavfi.black_start", "0.5")]
    assert afmpeg.ProcessResult.from_dict({"outputs": []}).analysis == []


def test_version_info() -> None:
    info = afmpeg.VersionInfo.from_dict({"vocab_version": 9, "ffmpeg_version": "9.0.2"})
    assert info.vocab_version == 9 and info.engine_version is None
