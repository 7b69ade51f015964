"""Job specs: dataclasses that mirror the engine's wire format (vocabulary 9) one to one.

``to_dict()`` gives the wire dict (``None`` fields left out), ``from_dict()`` reads one back; keys this version
of afmpeg has no field for are kept in ``extra`` and written back unchanged, so any vocabulary-9 job round-trips.
``validate()`` catches obvious mistakes (for instance a non-string option value) before the engine runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import JobSpecError

__all__ = ["VOCAB_VERSION", "Input", "Output", "ProcessJob", "ProbeJob", "job_to_dict"]

#: The job-spec vocabulary this package writes by default.
VOCAB_VERSION = 9

MAX_INPUTS = 32
MAX_OUTPUTS = 8


def _fail(where: str, problem: str, hint: str = "") -> JobSpecError:
    text = f"{where}: {problem}"
    if hint:
        text += f" ({hint})"
    return JobSpecError(text)


def _check_str(value: Any, where: str, *, optional: bool = True, nonempty: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str):
        raise _fail(where, f"must be a string, got {type(value).__name__} {value!r}")
    if nonempty and not value:
        raise _fail(where, "must not be empty")


def _check_options(value: Any, where: str) -> None:
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise _fail(where, f"must be a dict of strings, got {type(value).__name__}")
    for key, item in value.items():
        if not isinstance(key, str):
            raise _fail(where, f"key {key!r} must be a string")
        if not isinstance(item, str):
            if isinstance(item, bool):
                suggestion = '"1"' if item else '"0"'
            elif isinstance(item, int | float):
                suggestion = f'"{item}"'
            else:
                suggestion = "a string"
            raise _fail(
                f"{where}[{key!r}]",
                f"option values must be strings, got {type(item).__name__} {item!r}",
                f"write {suggestion}, exactly as you would on the ffmpeg command line",
            )


def _omit_none(pairs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in pairs.items() if v is not None}


def _split_known(cls: type, data: Mapping[str, Any], where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    if not isinstance(data, Mapping):
        raise _fail(where, f"must be an object, got {type(data).__name__}")
    names = {f.name for f in fields(cls)} - {"extra"}
    known = {k: v for k, v in data.items() if k in names}
    extra = {k: v for k, v in data.items() if k not in names}
    return known, extra


@dataclass
class Input:
    """One input: a file path on the job's filesystem, optionally with a forced demuxer and demuxer options."""

    path: str
    format: str | None = None
    options: dict[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = _omit_none({"path": self.path, "format": self.format})
        if self.options is not None:
            out["options"] = dict(self.options)
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | str) -> Input:
        if isinstance(data, str):
            return cls(data)
        known, extra = _split_known(cls, data, "input")
        if "path" not in known:
            if "concat" in extra:
                known["path"] = None
            else:
                raise _fail("input", "needs a 'path'")
        return cls(**known, extra=extra)

    def validate(self, where: str = "input") -> None:
        if self.path is None and "concat" in self.extra:
            pass
        else:
            _check_str(self.path, f"{where}.path", optional=False, nonempty=True)
        _check_str(self.format, f"{where}.format")
        _check_options(self.options, f"{where}.options")

    def _to_wire(self) -> dict[str, Any]:
        out = self.to_dict()
        if out.get("path") is None:
            out.pop("path", None)
        return out


@dataclass
class Output:
    """One output file: which streams go in (``map``), codecs, encoder options and the muxer."""

    path: str
    map: list[str] | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    options: dict[str, str] | None = None
    format: str | None = None
    format_options: dict[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out = _omit_none(
            {
                "path": self.path,
                "map": list(self.map) if self.map is not None else None,
                "video_codec": self.video_codec,
                "audio_codec": self.audio_codec,
                "options": dict(self.options) if self.options is not None else None,
                "format": self.format,
                "format_options": dict(self.format_options) if self.format_options is not None else None,
            }
        )
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | str) -> Output:
        if isinstance(data, str):
            return cls(data)
        known, extra = _split_known(cls, data, "output")
        if "path" not in known:
            raise _fail("output", "needs a 'path'")
        return cls(**known, extra=extra)

    def validate(self, where: str = "output") -> None:
        _check_str(self.path, f"{where}.path", optional=False, nonempty=True)
        if self.map is not None:
            if isinstance(self.map, str) or not isinstance(self.map, Sequence):
                raise _fail(f"{where}.map", "must be a list of strings", 'e.g. ["[v]", "[a]"] or ["0:v", "0:a"]')
            for i, item in enumerate(self.map):
                _check_str(item, f"{where}.map[{i}]", optional=False, nonempty=True)
        _check_str(self.video_codec, f"{where}.video_codec")
        _check_str(self.audio_codec, f"{where}.audio_codec")
        _check_str(self.format, f"{where}.format")
        _check_options(self.options, f"{where}.options")
        _check_options(self.format_options, f"{where}.format_options")


def _coerce_inputs(items: Any, where: str) -> list[Input]:
    if items is None:
        return []
    if isinstance(items, str | Input | Mapping | os.PathLike):
        items = [items]
    out = []
    for item in items:
        if isinstance(item, os.PathLike):
            item = Path(item).as_posix()
        if isinstance(item, Input):
            out.append(item)
        elif isinstance(item, str | Mapping):
            out.append(Input.from_dict(item))
        else:
            raise _fail(where, f"entries must be paths, dicts or Input, got {type(item).__name__}")
    return out


def _coerce_outputs(items: Any, where: str) -> list[Output]:
    if items is None:
        return []
    if isinstance(items, str | Output | Mapping):
        items = [items]
    out = []
    for item in items:
        if isinstance(item, Output):
            out.append(item)
        elif isinstance(item, str | Mapping):
            out.append(Output.from_dict(item))
        else:
            raise _fail(where, f"entries must be paths, dicts or Output, got {type(item).__name__}")
    return out


class _Job:
    """What every job op shares: the ``op`` tag, parsing from the wire and the version check."""

    op = ""
    version: int
    inputs: list[Input]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Any:
        data = dict(data)
        op = data.pop("op", cls.op)
        if op != cls.op:
            raise _fail("op", f"expected {cls.op!r}, got {op!r}")
        known, extra = _split_known(cls, data, "job")
        return cls(**known, extra=extra)

    def _validate_common(self) -> None:
        if not isinstance(self.version, int) or isinstance(self.version, bool) or self.version < 1:
            raise _fail("version", f"must be a positive integer, got {self.version!r}")
        if len(self.inputs) > MAX_INPUTS:
            raise _fail("inputs", f"at most {MAX_INPUTS} inputs per job, got {len(self.inputs)}")


@dataclass
class ProcessJob(_Job):
    """``{"op": "process"}``: read inputs, run an optional filtergraph, write outputs.

    ``inputs``/``outputs`` also accept plain path strings and wire dicts; they are converted on creation.
    """

    inputs: list[Input] = field(default_factory=list)
    outputs: list[Output] = field(default_factory=list)
    filter: str | None = None
    version: int = VOCAB_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    op = "process"

    def __post_init__(self) -> None:
        self.inputs = _coerce_inputs(self.inputs, "inputs")
        self.outputs = _coerce_outputs(self.outputs, "outputs")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": self.op, "version": self.version, "inputs": [i._to_wire() for i in self.inputs]}
        if self.filter is not None:
            out["filter"] = self.filter
        out["outputs"] = [o.to_dict() for o in self.outputs]
        out.update(self.extra)
        return out

    def validate(self) -> None:
        self._validate_common()
        if not self.outputs:
            raise _fail("outputs", "a process job needs at least one output")
        if len(self.outputs) > MAX_OUTPUTS:
            raise _fail("outputs", f"at most {MAX_OUTPUTS} outputs per job, got {len(self.outputs)}")
        if not self.inputs and self.filter is None:
            raise _fail("inputs", "a job without inputs needs a filter with source filters (e.g. testsrc2)")
        _check_str(self.filter, "filter", nonempty=True)
        for i, item in enumerate(self.inputs):
            item.validate(f"inputs[{i}]")
        for i, item in enumerate(self.outputs):
            item.validate(f"outputs[{i}]")


@dataclass
class ProbeJob(_Job):
    """``{"op": "probe"}``: describe one or more inputs."""

    inputs: list[Input] = field(default_factory=list)
    version: int = VOCAB_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    op = "probe"

    def __post_init__(self) -> None:
        self.inputs = _coerce_inputs(self.inputs, "inputs")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"op": self.op, "version": self.version, "inputs": [i._to_wire() for i in self.inputs]}
        out.update(self.extra)
        return out

    def validate(self) -> None:
        self._validate_common()
        if not self.inputs:
            raise _fail("inputs", "a probe job needs at least one input")
        for i, item in enumerate(self.inputs):
            item.validate(f"inputs[{i}]")


def job_to_dict(job: ProcessJob | ProbeJob | Mapping[str, Any], *, validate: bool = True) -> dict[str, Any]:
    """The wire dict for ``job``.

    Job dataclasses are validated first (when ``validate`` is true). Wire dicts are passed through unchanged:
    the engine is the authority on the wire format (it answers a malformed spec with exit code 2 and a message,
    and a newer engine may accept what this package does not know). Use ``ProcessJob.from_dict(d).validate()``
    to check a dict on the Python side.
    """
    if isinstance(job, ProcessJob | ProbeJob):
        if validate:
            job.validate()
        return job.to_dict()
    if not isinstance(job, Mapping):
        raise JobSpecError(f"a job must be a ProcessJob, ProbeJob or dict, got {type(job).__name__}")
    return dict(job)
