"""Job dataclasses: wire round trips and validation."""

from __future__ import annotations

import pytest

import afmpeg
from afmpeg.job import job_to_dict

EXAMPLE = {
    "op": "process",
    "version": 9,
    "inputs": [
        {"path": "in.mp4", "format": "mp4", "options": {"probesize": "5000000"}},
        {"path": "in.wav", "seek": {"start": 1.5, "mode": "accurate"}},
    ],
    "filter": "[0:v]scale=640:-2[v];[1:a]anull[a]",
    "outputs": [
        {
            "path": "out.mp4",
            "map": ["[v]", "[a]"],
            "video_codec": "libopenh264",
            "audio_codec": "aac",
            "options": {"b:v": "1M"},
            "format": "mp4",
            "format_options": {"movflags": "+faststart"},
            "duration": 3,
        },
        {"path": "copy.mkv", "map": ["0:v"], "video_codec": "copy"},
    ],
    "progress": True,
}


def test_process_job_round_trip() -> None:
    job = afmpeg.ProcessJob.from_dict(EXAMPLE)
    assert job.to_dict() == EXAMPLE
    assert job.inputs[0] == afmpeg.Input("in.mp4", format="mp4", options={"probesize": "5000000"})
    assert job.inputs[1].seek == {"start": 1.5, "mode": "accurate"}
    assert job.outputs[0].duration == 3
    assert job.outputs[1].video_codec == "copy"
    assert job.extra == {"progress": True}
    assert afmpeg.ProcessJob.from_dict(job.to_dict()) == job


def test_none_fields_are_omitted() -> None:
    job = afmpeg.ProcessJob(inputs=["a.mp4"], outputs=[afmpeg.Output("b.mp4")])
    assert job.to_dict() == {
        "op": "process",
        "version": 9,
        "inputs": [{"path": "a.mp4"}],
        "outputs": [{"path": "b.mp4"}],
    }


def test_strings_and_dicts_are_coerced() -> None:
    job = afmpeg.ProcessJob(inputs="a.mp4", outputs=[{"path": "b.mp4", "map": ["0:v"]}])  # type: ignore[arg-type]
    assert job.inputs == [afmpeg.Input("a.mp4")]
    assert job.outputs == [afmpeg.Output("b.mp4", map=["0:v"])]


def test_probe_job_round_trip() -> None:
    wire = {"op": "probe", "version": 9, "inputs": [{"path": "a.mkv"}, {"path": "b.raw", "format": "rawvideo"}]}
    job = afmpeg.ProbeJob.from_dict(wire)
    assert job.to_dict() == wire
    assert afmpeg.ProbeJob(["a.mkv"]).to_dict() == {"op": "probe", "version": 9, "inputs": [{"path": "a.mkv"}]}


def test_concat_input_without_path() -> None:
    wire = {"op": "process", "version": 9, "inputs": [{"concat": ["a.ts", "b.ts"]}], "outputs": [{"path": "o.ts"}]}
    job = afmpeg.ProcessJob.from_dict(wire)
    job.validate()
    assert job.to_dict() == wire


@pytest.mark.parametrize(
    ("job", "pattern"),
    [
        (afmpeg.ProcessJob(inputs=["a"], outputs=[afmpeg.Output("o", options={"crf": 23})]), r'write "23"'),  # type: ignore[dict-item]
        (afmpeg.ProcessJob(inputs=["a"], outputs=[afmpeg.Output("o", format_options={"x": True})]), 'write "1"'),  # type: ignore[dict-item]
        (afmpeg.ProcessJob(inputs=[afmpeg.Input("a", options={"r": 2.5})], outputs=["o"]), r"inputs\[0\]\.options"),  # type: ignore[dict-item]
        (afmpeg.ProcessJob(inputs=["a"], outputs=[]), "at least one output"),
        (afmpeg.ProcessJob(inputs=["a"], outputs=[afmpeg.Output("o", map="[v]")]), "list of strings"),  # type: ignore[arg-type]
        (afmpeg.ProcessJob(inputs=[""], outputs=["o"]), "must not be empty"),
        (afmpeg.ProcessJob(inputs=["a"], outputs=[afmpeg.Output("o", video_codec=264)]), "video_codec"),  # type: ignore[arg-type]
        (afmpeg.ProcessJob(outputs=["o"]), "needs a filter"),
        (afmpeg.ProcessJob(inputs=["a"] * 33, outputs=["o"]), "at most 32"),
        (afmpeg.ProcessJob(inputs=["a"], outputs=["o"] * 9), "at most 8"),
        (afmpeg.ProcessJob(inputs=["a"], outputs=["o"], version="9"), "version"),  # type: ignore[arg-type]
        (afmpeg.ProbeJob([]), "at least one input"),
    ],
)
def test_validation(job: afmpeg.ProcessJob | afmpeg.ProbeJob, pattern: str) -> None:
    with pytest.raises(afmpeg.JobSpecError, match=pattern):
        job.validate()


def test_valid_job_passes() -> None:
    afmpeg.ProcessJob.from_dict(EXAMPLE).validate()


def test_job_to_dict_validates_dataclasses_and_passes_dicts_through() -> None:
    bad = {"op": "process", "inputs": [{"path": "a", "options": {"x": 1}}], "outputs": [{"path": "o"}]}
    with pytest.raises(afmpeg.JobSpecError):
        job_to_dict(afmpeg.ProcessJob.from_dict(bad))
    assert job_to_dict(afmpeg.ProcessJob.from_dict(bad), validate=False) == {**bad, "version": 9}
    assert job_to_dict(bad) == bad  # the engine judges wire dicts (exit code 2 with its own message)
    assert job_to_dict({"op": "version"}) == {"op": "version"}
    with pytest.raises(afmpeg.JobSpecError):
        job_to_dict(["not", "a", "job"])  # type: ignore[arg-type]


def test_wrong_op() -> None:
    with pytest.raises(afmpeg.JobSpecError, match="expected 'probe'"):
        afmpeg.ProbeJob.from_dict({"op": "process"})


def test_job_spec_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        afmpeg.ProcessJob(inputs=["a"], outputs=[]).validate()


def test_every_vocabulary_field_round_trips() -> None:
    wire = {
        "op": "process",
        "version": 9,
        "inputs": [{"concat": ["a.ts", "b.ts"]}, {"path": "s.srt", "seek": {"start": 2, "mode": "fast"}}],
        "outputs": [
            {
                "path": "o.mkv",
                "map": ["0:v", "1:s"],
                "video_codec": "copy",
                "subtitle_codec": "srt",
                "bitstream_filters": {"0:v": "h264_mp4toannexb"},
                "end": 10,
                "copy_ts": True,
                "metadata": {"title": "T"},
                "chapters": "none",
                "stream_metadata": {"1:s": {"language": "eng", "disposition": ["default"]}},
            }
        ],
    }
    job = afmpeg.ProcessJob.from_dict(wire)
    job.validate()
    assert job.inputs[0].concat == ["a.ts", "b.ts"] and job.inputs[0].path is None
    assert job.outputs[0].stream_metadata == {"1:s": {"language": "eng", "disposition": ["default"]}}
    assert all(not o.extra for o in job.outputs) and all(not i.extra for i in job.inputs)
    assert job.to_dict() == wire


@pytest.mark.parametrize(
    ("output", "needle"),
    [
        ({"path": "o.mp4", "duration": 1, "end": 2}, "mutually exclusive"),
        ({"path": "o.mp4", "duration": -1}, "duration"),
        ({"path": "o.mp4", "copy_ts": "yes"}, "copy_ts"),
        ({"path": "o.mp4", "chapters": "all"}, "chapters"),
        ({"path": "o.mp4", "metadata": {"year": 2026}}, "metadata"),
    ],
)
def test_output_vocabulary_is_validated(output: dict, needle: str) -> None:
    with pytest.raises(afmpeg.JobSpecError, match=needle):
        afmpeg.ProcessJob(inputs=["a.mp4"], outputs=[output]).validate()


def test_input_needs_path_or_concat_not_both() -> None:
    with pytest.raises(afmpeg.JobSpecError, match="exactly one"):
        afmpeg.Input("a.mp4", concat=["b.ts"]).validate()
    with pytest.raises(afmpeg.JobSpecError, match="seek.mode"):
        afmpeg.Input("a.mp4", seek={"start": 1, "mode": "slow"}).validate()
