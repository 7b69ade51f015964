"""Job specs: dataclasses that mirror the engine's wire format (vocabulary 9) one to one.

``to_dict()`` gives the wire dict (``None`` fields left out), ``from_dict()`` reads one back; keys this version
of afmpeg has no field for are kept in ``extra`` and written back unchanged, so any vocabulary-9 job round-trips.
``validate()`` catches obvious mistakes (for instance a non-string option value) before the engine runs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import JobSpecError

__all__ = ["VOCAB_VERSION", "Input", "Output", "ProcessJob", "ProbeJob", "FramesJob", "job_to_dict"]

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


def _wire_fields(obj: Any) -> dict[str, Any]:
    """The dataclass's fields in wire order, None omitted, containers copied, then ``extra``."""
    out: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if f.name == "extra" or value is None:
            continue
        if isinstance(value, Mapping):
            value = dict(value)
        elif isinstance(value, list | tuple):
            value = list(value)
        out[f.name] = value
    out.update(obj.extra)
    return out


def _check_list_of_str(value: Any, where: str, example: str) -> None:
    if value is None:
        return
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise _fail(where, "must be a list of strings", example)
    for i, item in enumerate(value):
        _check_str(item, f"{where}[{i}]", optional=False, nonempty=True)


def _check_mapping(value: Any, where: str) -> None:
    if value is not None and not isinstance(value, Mapping):
        raise _fail(where, f"must be an object, got {type(value).__name__}")


@dataclass
class Input:
    """One input: a file ``path`` (or a ``concat`` list joined by stream copy), optionally a forced demuxer
    ``format`` with demuxer ``options``, a ``seek`` (``{"start": seconds, "mode": "fast"|"accurate"}``),
    forced decoders ``video_codec`` / ``audio_codec`` (like ffmpeg's ``-c:v`` before ``-i``), and
    ``decoder_options`` for its decoders (like codec options before ``-i``: ``{"idct": "simple"}``; a
    ``":v"``/``":a"`` suffix targets one type; a key no decoder takes is an error)."""

    path: str | None = None
    format: str | None = None
    options: dict[str, str] | None = None
    concat: list[str] | None = None
    seek: dict[str, Any] | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    decoder_options: dict[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The wire-format dict (fields left at their defaults are omitted)."""
        return _wire_fields(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | str) -> Input:
        """Build from a wire-format dict (unknown keys are kept and sent as they are)."""
        if isinstance(data, str):
            return cls(data)
        known, extra = _split_known(cls, data, "input")
        if "path" not in known and "concat" not in known:
            raise _fail("input", "needs a 'path' or a 'concat' list")
        return cls(**known, extra=extra)

    def validate(self, where: str = "input") -> None:
        """Check the fields the host can judge; raise :class:`~afmpeg.JobSpecError` naming the field at fault."""
        if (self.path is None) == (self.concat is None):
            raise _fail(where, "needs exactly one of 'path' and 'concat'")
        _check_str(self.path, f"{where}.path", nonempty=True)
        _check_list_of_str(self.concat, f"{where}.concat", 'e.g. ["a.ts", "b.ts"]')
        _check_str(self.format, f"{where}.format")
        _check_str(self.video_codec, f"{where}.video_codec", nonempty=True)
        _check_str(self.audio_codec, f"{where}.audio_codec", nonempty=True)
        _check_options(self.options, f"{where}.options")
        _check_options(self.decoder_options, f"{where}.decoder_options")
        _check_mapping(self.seek, f"{where}.seek")
        if self.seek is not None:
            _check_seconds(self.seek.get("start"), f"{where}.seek.start")
            if self.seek.get("mode", "accurate") not in ("fast", "accurate"):
                raise _fail(f"{where}.seek.mode", "must be 'fast' or 'accurate'")

    def _to_wire(self) -> dict[str, Any]:
        return self.to_dict()


@dataclass
class Output:
    """One output file: which streams go in (``map``: ``"[label]"`` graph pads are encoded, ``"0:v"`` input
    streams are copied), codecs (an encoder name or ``"copy"``), encoder ``options``, the muxer, a time window
    (``duration`` or ``end``), ``max_frames`` per stream type (``{"video": 5}``, like ffmpeg's ``-frames:v``), and
    metadata (container ``metadata``, ``chapters``, per-stream ``stream_metadata``)."""

    path: str
    map: list[str] | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    subtitle_codec: str | None = None
    options: dict[str, str] | None = None
    format: str | None = None
    format_options: dict[str, str] | None = None
    bitstream_filters: dict[str, str] | str | None = None
    duration: float | None = None
    end: float | None = None
    copy_ts: bool | None = None
    metadata: dict[str, str] | None = None
    chapters: str | int | None = None
    stream_metadata: dict[str, dict[str, Any]] | None = None
    max_frames: dict[str, int] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The wire-format dict (fields left at their defaults are omitted)."""
        return _wire_fields(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | str) -> Output:
        """Build from a wire-format dict (unknown keys are kept and sent as they are)."""
        if isinstance(data, str):
            return cls(data)
        known, extra = _split_known(cls, data, "output")
        if "path" not in known:
            raise _fail("output", "needs a 'path'")
        return cls(**known, extra=extra)

    def validate(self, where: str = "output") -> None:
        """Check the fields the host can judge; raise :class:`~afmpeg.JobSpecError` naming the field at fault."""
        _check_str(self.path, f"{where}.path", optional=False, nonempty=True)
        _check_list_of_str(self.map, f"{where}.map", 'e.g. ["[v]", "[a]"] or ["0:v", "0:a"]')
        for name in ("video_codec", "audio_codec", "subtitle_codec", "format"):
            _check_str(getattr(self, name), f"{where}.{name}")
        _check_options(self.options, f"{where}.options")
        _check_options(self.format_options, f"{where}.format_options")
        _check_options(self.metadata, f"{where}.metadata")
        _check_mapping(self.max_frames, f"{where}.max_frames")
        for kind, n in (self.max_frames or {}).items():
            if kind not in ("video", "audio"):
                raise _fail(f"{where}.max_frames", f"unknown key {kind!r}: 'video' or 'audio'")
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise _fail(f"{where}.max_frames.{kind}", "must be a whole number of frames, at least 1")
        if self.bitstream_filters is not None and self.bitstream_filters != "none":
            _check_options(self.bitstream_filters, f"{where}.bitstream_filters")
        if self.duration is not None and self.end is not None:
            raise _fail(where, "'duration' and 'end' are mutually exclusive")
        for name in ("duration", "end"):
            if getattr(self, name) is not None:
                _check_seconds(getattr(self, name), f"{where}.{name}")
        if self.copy_ts is not None and not isinstance(self.copy_ts, bool):
            raise _fail(f"{where}.copy_ts", "must be true or false")
        if self.chapters is not None and self.chapters not in ("copy", "none") and (
            isinstance(self.chapters, bool) or not isinstance(self.chapters, int) or self.chapters < 0
        ):
            raise _fail(f"{where}.chapters", "must be 'copy', 'none' or an input index")
        _check_mapping(self.stream_metadata, f"{where}.stream_metadata")


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
        """Build from a wire-format dict (unknown keys are kept and sent as they are)."""
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
        """The wire-format dict (fields left at their defaults are omitted)."""
        out: dict[str, Any] = {"op": self.op, "version": self.version, "inputs": [i._to_wire() for i in self.inputs]}
        if self.filter is not None:
            out["filter"] = self.filter
        out["outputs"] = [o.to_dict() for o in self.outputs]
        out.update(self.extra)
        return out

    def validate(self) -> None:
        """Check the fields the host can judge; raise :class:`~afmpeg.JobSpecError` naming the field at fault."""
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
        """The wire-format dict (fields left at their defaults are omitted)."""
        out: dict[str, Any] = {"op": self.op, "version": self.version, "inputs": [i._to_wire() for i in self.inputs]}
        out.update(self.extra)
        return out

    def validate(self) -> None:
        """Check the fields the host can judge; raise :class:`~afmpeg.JobSpecError` naming the field at fault."""
        self._validate_common()
        if not self.inputs:
            raise _fail("inputs", "a probe job needs at least one input")
        for i, item in enumerate(self.inputs):
            item.validate(f"inputs[{i}]")


#: Frames jobs: most frames (and "timestamps" entries) per job, the default count, the seconds bound.
MAX_FRAMES = 4096
DEFAULT_FRAMES_COUNT = 1000
MAX_SECONDS = 3.2e10
FRAMES_CODECS = ("png", "mjpeg", "webp")
_SELECTORS = ("timestamp", "timestamps", "interval", "scene")
_CONVERSION = re.compile(r"%(%|(\d*)d)")


def _check_seconds(value: Any, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_SECONDS:
        raise _fail(where, f"must be a number of seconds from 0 to {MAX_SECONDS:g}, got {value!r}")


def _path_conversions(path: str) -> int:
    """How many integer conversions a frames path template has (checking it is well formed)."""
    found, i = 0, path.find("%")
    while i >= 0:
        m = _CONVERSION.match(path, i)
        if not m:
            hint = "the only conversion is one integer such as %d or %03d; %% is a percent sign"
            raise _fail("path", f"{path[i : i + 2]!r} is not allowed", hint)
        if m.group(1) != "%":
            found += 1
            if m.group(2) and int(m.group(2)) > 32:
                raise _fail("path", "the frame number may be padded to at most 32 digits")
        i = path.find("%", m.end())
    if found > 1:
        raise _fail("path", "at most one integer conversion (%d) is allowed")
    return found


@dataclass
class FramesJob(_Job):
    """``{"op": "frames"}``: write stills of one input's video, one PNG (or JPEG) file per frame.

    ``select`` holds exactly one of ``timestamp`` (seconds), ``timestamps`` (a list of seconds), ``interval``
    (one frame every N seconds) or ``scene`` (a 0..1 scene-change threshold, or ``"thumbnail"``). ``path`` is a
    template with at most one integer conversion (``"out/f_%03d.png"``; ``%%`` is a percent sign) and may lack one
    only when a single frame can result. ``codec`` is ``"png"``, ``"mjpeg"`` or ``"webp"`` (default from the
    extension), ``scale`` the scale filter's arguments (``"320:-2"``), ``count`` the most frames written.
    """

    inputs: list[Input] = field(default_factory=list)
    select: dict[str, Any] = field(default_factory=dict)
    path: str = ""
    codec: str | None = None
    scale: str | None = None
    count: int | None = None
    version: int = VOCAB_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    op = "frames"

    def __post_init__(self) -> None:
        self.inputs = _coerce_inputs(self.inputs, "inputs")

    def to_dict(self) -> dict[str, Any]:
        """The wire-format dict (fields left at their defaults are omitted)."""
        select = dict(self.select) if isinstance(self.select, Mapping) else self.select
        out: dict[str, Any] = {"op": self.op, "version": self.version, "inputs": [i._to_wire() for i in self.inputs]}
        out.update({"select": select, "path": self.path})
        out.update(_omit_none({"codec": self.codec, "scale": self.scale, "count": self.count}))
        out.update(self.extra)
        return out

    def validate(self) -> None:
        """Check the fields the host can judge; raise :class:`~afmpeg.JobSpecError` naming the field at fault."""
        self._validate_common()
        if len(self.inputs) != 1:
            raise _fail("inputs", f"a frames job takes exactly one input, got {len(self.inputs)}")
        self.inputs[0].validate("inputs[0]")
        if self.inputs[0].path is None or self.inputs[0].seek is not None:
            raise _fail("inputs[0]", "a frames job reads one file by path, without seek", "select picks the times")
        most = self._validate_select()
        _check_str(self.path, "path", optional=False, nonempty=True)
        conversions = _path_conversions(self.path)
        if self.codec is not None and self.codec not in FRAMES_CODECS:
            raise _fail("codec", f"must be one of {', '.join(FRAMES_CODECS)}, got {self.codec!r}")
        _check_str(self.scale, "scale", nonempty=True)
        if self.count is not None:
            if isinstance(self.count, bool) or not isinstance(self.count, int) or not 1 <= self.count <= MAX_FRAMES:
                raise _fail("count", f"must be an integer from 1 to {MAX_FRAMES}, got {self.count!r}")
            most = min(most, self.count) if "timestamps" in self.select else self.count
        if not conversions and most > 1:
            raise _fail(
                "path",
                f"{self.path!r} has no frame number but up to {most} frames may be written",
                'add one, e.g. "f_%03d.png", or set count=1',
            )

    def _validate_select(self) -> int:
        """Check ``select``; returns how many frames it may give before ``count`` applies."""
        sel = self.select
        if not isinstance(sel, Mapping) or len(sel) != 1 or next(iter(sel)) not in _SELECTORS:
            raise _fail("select", f"must hold exactly one of {', '.join(_SELECTORS)}, got {sel!r}")
        key, value = next(iter(sel.items()))
        if key == "timestamp":
            _check_seconds(value, "select.timestamp")
            return 1
        if key == "timestamps":
            if isinstance(value, str) or not isinstance(value, Sequence) or not 1 <= len(value) <= MAX_FRAMES:
                raise _fail("select.timestamps", f"must be a list of 1 to {MAX_FRAMES} times in seconds")
            for i, t in enumerate(value):
                _check_seconds(t, f"select.timestamps[{i}]")
            return len(value)
        if key == "interval":
            _check_seconds(value, "select.interval")
            if not value > 0:
                raise _fail("select.interval", "must be greater than 0")
        elif value != "thumbnail" and (
            isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1
        ):
            raise _fail("select.scene", f'must be a threshold from 0 to 1 or "thumbnail", got {value!r}')
        return DEFAULT_FRAMES_COUNT


def job_to_dict(job: ProcessJob | ProbeJob | FramesJob | Mapping[str, Any], *, validate: bool = True) -> dict[str, Any]:
    """The wire dict for ``job``.

    Job dataclasses are validated first (when ``validate`` is true). Wire dicts are passed through unchanged:
    the engine is the authority on the wire format (it answers a malformed spec with exit code 2 and a message,
    and a newer engine may accept what this package does not know). Use ``ProcessJob.from_dict(d).validate()``
    to check a dict on the Python side.
    """
    if isinstance(job, ProcessJob | ProbeJob | FramesJob):
        if validate:
            job.validate()
        return job.to_dict()
    if not isinstance(job, Mapping):
        raise JobSpecError(f"a job must be a ProcessJob, ProbeJob, FramesJob or dict, got {type(job).__name__}")
    return dict(job)
