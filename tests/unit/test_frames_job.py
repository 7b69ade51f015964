"""FramesJob: wire round trips and validation; FramesResult parsing."""

from __future__ import annotations

import pytest

import afmpeg
from afmpeg.job import job_to_dict

EXAMPLE = {
    "op": "frames",
    "version": 9,
    "inputs": [{"path": "in.mp4", "format": "mp4", "options": {"probesize": "5000000"}}],
    "select": {"timestamps": [1.5, 0, 3]},
    "path": "out/f_%03d.png",
    "codec": "png",
    "scale": "320:-2",
    "count": 2,
}


def test_frames_job_round_trip() -> None:
    job = afmpeg.FramesJob.from_dict(EXAMPLE)
    assert job.to_dict() == EXAMPLE
    assert job.inputs == [afmpeg.Input("in.mp4", format="mp4", options={"probesize": "5000000"})]
    assert job.select == {"timestamps": [1.5, 0, 3]}
    assert (job.path, job.codec, job.scale, job.count) == ("out/f_%03d.png", "png", "320:-2", 2)
    assert afmpeg.FramesJob.from_dict(job.to_dict()) == job
    job.validate()


def test_none_fields_are_omitted_and_inputs_coerced() -> None:
    job = afmpeg.FramesJob(inputs="a.mp4", select={"interval": 2}, path="f_%d.jpg")  # type: ignore[arg-type]
    assert job.inputs == [afmpeg.Input("a.mp4")]
    assert job.to_dict() == {
        "op": "frames",
        "version": 9,
        "inputs": [{"path": "a.mp4"}],
        "select": {"interval": 2},
        "path": "f_%d.jpg",
    }


def test_unknown_keys_round_trip() -> None:
    wire = {**EXAMPLE, "future": {"x": 1}, "inputs": [{"path": "a.mp4", "hint": True}]}
    job = afmpeg.FramesJob.from_dict(wire)
    assert job.extra == {"future": {"x": 1}}
    assert job.inputs[0].extra == {"hint": True}
    assert job.to_dict() == wire


@pytest.mark.parametrize(
    "select",
    [{"timestamp": 0}, {"timestamp": 3.2e10}, {"interval": 0.04}, {"scene": 0.4}, {"scene": 0}, {"scene": "thumbnail"}],
)
def test_valid_selectors(select: dict) -> None:
    afmpeg.FramesJob(inputs=["a.mp4"], select=select, path="f_%d.png").validate()


@pytest.mark.parametrize(
    ("changes", "pattern"),
    [
        ({"inputs": []}, "exactly one input"),
        ({"inputs": ["a.mp4", "b.mp4"]}, "exactly one input"),
        ({"inputs": [{"path": "a.mp4", "seek": {"start": 1}}]}, "without seek"),
        ({"inputs": [{"concat": ["a.ts", "b.ts"]}]}, "by path"),
        ({"select": {}}, "exactly one of"),
        ({"select": {"timestamp": 1, "interval": 1}}, "exactly one of"),
        ({"select": {"frame": 3}}, "exactly one of"),
        ({"select": {"timestamp": -1}}, r"select\.timestamp"),
        ({"select": {"timestamp": float("nan")}}, r"select\.timestamp"),
        ({"select": {"timestamp": 3.3e10}}, r"select\.timestamp"),
        ({"select": {"timestamp": True}}, r"select\.timestamp"),
        ({"select": {"timestamps": []}}, r"select\.timestamps"),
        ({"select": {"timestamps": "1,2"}}, r"select\.timestamps"),
        ({"select": {"timestamps": [0.5] * 4097}}, "4096"),
        ({"select": {"timestamps": [0, "1"]}}, r"select\.timestamps\[1\]"),
        ({"select": {"interval": 0}}, "greater than 0"),
        ({"select": {"scene": 1.5}}, r"select\.scene"),
        ({"select": {"scene": "best"}}, r"select\.scene"),
        ({"path": ""}, "must not be empty"),
        ({"path": "f_%s.png"}, "not allowed"),
        ({"path": "f_%d_%d.png"}, "at most one"),
        ({"path": "f_%040d.png"}, "32 digits"),
        ({"path": "f.png"}, "no frame number"),
        ({"path": "f.png", "select": {"timestamps": [1, 2]}}, "no frame number"),
        ({"codec": "gif"}, "codec"),
        ({"scale": 320}, "scale"),
        ({"count": 0}, "count"),
        ({"count": 4097}, "count"),
        ({"count": 2.0}, "count"),
        ({"version": 0}, "version"),
    ],
)
def test_validation(changes: dict, pattern: str) -> None:
    fields = {"inputs": ["a.mp4"], "select": {"interval": 1}, "path": "f_%d.png", **changes}
    with pytest.raises(afmpeg.JobSpecError, match=pattern):
        afmpeg.FramesJob(**fields).validate()


def test_single_frame_paths_need_no_number() -> None:
    afmpeg.FramesJob(inputs=["a"], select={"timestamp": 1}, path="f.png").validate()
    afmpeg.FramesJob(inputs=["a"], select={"timestamps": [1]}, path="f.png").validate()
    afmpeg.FramesJob(inputs=["a"], select={"timestamps": [1, 2]}, path="f.png", count=1).validate()
    afmpeg.FramesJob(inputs=["a"], select={"scene": "thumbnail"}, path="f.png", count=1).validate()
    afmpeg.FramesJob(inputs=["a"], select={"timestamp": 1}, path="100%%_%5d.png").validate()


def test_job_to_dict_knows_frames_jobs() -> None:
    job = afmpeg.FramesJob(inputs=["a"], select={"timestamp": 1}, path="f.png")
    assert job_to_dict(job)["op"] == "frames"
    with pytest.raises(afmpeg.JobSpecError):
        job_to_dict(afmpeg.FramesJob(inputs=["a"], select={"timestamp": -1}, path="f.png"))
    with pytest.raises(afmpeg.JobSpecError, match="expected 'frames'"):
        afmpeg.FramesJob.from_dict({"op": "probe"})


def test_frames_result_parsing() -> None:
    result = afmpeg.FramesResult.from_dict(
        {
            "frames": [
                {"path": "f_001.png", "index": 1, "timestamp": 0.5},
                {"path": "f_003.png", "index": "3", "timestamp": None, "pts": 7},
            ],
            "count": 2,
            "note": "x",
        }
    )
    assert result.count == len(result) == 2
    assert result[0] == afmpeg.FrameInfo(path="f_001.png", index=1, timestamp=0.5)
    assert result[1].index == 3 and result[1].timestamp is None and result[1].extra == {"pts": 7}
    assert result.paths == ["f_001.png", "f_003.png"]
    assert result.extra == {"note": "x"}
    assert afmpeg.FramesResult.from_dict({"frames": [{"path": "a.png", "index": 1}]}).count == 1
    assert afmpeg.FramesResult.from_dict({}).frames == []
