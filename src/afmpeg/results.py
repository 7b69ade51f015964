"""Typed results parsed from the engine's JSON answers.

Parsing is tolerant: fields the engine leaves out are ``None``, and keys this version of afmpeg does not know
land in ``extra`` so that additive engine changes never break parsing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

__all__ = [
    "VersionInfo",
    "StreamInfo",
    "Chapter",
    "ProbedInput",
    "ProbeResult",
    "OutputStream",
    "OutputInfo",
    "AnalysisEntry",
    "ProcessResult",
    "FrameInfo",
    "FramesResult",
]


def _float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _rate(value: Any) -> float | None:
    """A rate as a float; accepts numbers and ``"num/den"`` strings."""
    if isinstance(value, str) and "/" in value:
        num, _, den = value.partition("/")
        try:
            return float(num) / float(den) if float(den) else None
        except ValueError:
            return None
    return _float(value)


def _int(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return None


def _split(cls: type, data: dict[str, Any], renames: dict[str, str] | None = None) -> tuple[dict[str, Any], dict]:
    """Split ``data`` into known dataclass fields (after ``renames``: wire key -> field) and extras."""
    renames = renames or {}
    names = {f.name for f in fields(cls)} - {"extra"}
    known: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in data.items():
        name = renames.get(key, key)
        if name in names and key not in ("extra",):
            known[name] = value
        else:
            extra[key] = value
    return known, extra


@dataclass
class VersionInfo:
    """What ``{"op": "version"}`` answers."""

    vocab_version: int
    ffmpeg_version: str
    engine_version: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VersionInfo:
        known, extra = _split(cls, data)
        return cls(
            vocab_version=_int(known.get("vocab_version")) or 0,
            ffmpeg_version=str(known.get("ffmpeg_version", "")),
            engine_version=known.get("engine_version"),
            extra=extra,
        )


@dataclass
class StreamInfo:
    """One stream of a probed input. Times are in seconds."""

    index: int
    type: str | None = None
    codec: str | None = None
    profile: str | None = None
    width: int | None = None
    height: int | None = None
    pix_fmt: str | None = None
    frame_rate: float | None = None  # frames per second
    sample_rate: int | None = None
    channels: int | None = None
    channel_layout: str | None = None
    sample_fmt: str | None = None
    bit_rate: int | None = None
    duration: float | None = None
    nb_frames: int | None = None
    time_base: str | None = None
    language: str | None = None
    disposition: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StreamInfo:
        known, extra = _split(cls, data, {"duration_sec": "duration"})
        for key in ("width", "height", "sample_rate", "channels", "bit_rate", "nb_frames", "index"):
            if key in known:
                known[key] = _int(known[key])
        if "duration" in known:
            known["duration"] = _float(known["duration"])
        if "frame_rate" in known:
            known["frame_rate"] = _rate(known["frame_rate"])
        disposition = known.get("disposition") or []
        if isinstance(disposition, dict):  # tolerate ffprobe-style {"default": 1, ...}
            disposition = [k for k, v in disposition.items() if v]
        known["disposition"] = list(disposition)
        known["tags"] = dict(known.get("tags") or {})
        known.setdefault("index", 0)
        if known["index"] is None:
            known["index"] = 0
        return cls(**known, extra=extra)

    @property
    def is_video(self) -> bool:
        return self.type == "video"

    @property
    def is_audio(self) -> bool:
        return self.type == "audio"


@dataclass
class Chapter:
    start: float | None = None
    end: float | None = None
    tags: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chapter:
        known, extra = _split(cls, data, {"start_sec": "start", "end_sec": "end"})
        return cls(
            start=_float(known.get("start")),
            end=_float(known.get("end")),
            tags=dict(known.get("tags") or {}),
            extra=extra,
        )


@dataclass
class ProbedInput:
    """One probed input. When probing it failed, ``error`` holds the message and the rest is empty."""

    path: str
    format: str | None = None
    format_long: str | None = None
    duration: float | None = None
    start: float | None = None
    bit_rate: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    chapters: list[Chapter] = field(default_factory=list)
    streams: list[StreamInfo] = field(default_factory=list)
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProbedInput:
        known, extra = _split(cls, data, {"duration_sec": "duration", "start_sec": "start"})
        return cls(
            path=str(known.get("path", "")),
            format=known.get("format"),
            format_long=known.get("format_long"),
            duration=_float(known.get("duration")),
            start=_float(known.get("start")),
            bit_rate=_int(known.get("bit_rate")),
            tags=dict(known.get("tags") or {}),
            chapters=[Chapter.from_dict(ch) for ch in known.get("chapters") or []],
            streams=[StreamInfo.from_dict(st) for st in known.get("streams") or []],
            error=known.get("error"),
            extra=extra,
        )

    @property
    def ok(self) -> bool:
        return self.error is None

    def _first(self, kind: str) -> StreamInfo | None:
        return next((s for s in self.streams if s.type == kind), None)

    @property
    def video(self) -> StreamInfo | None:
        """The first video stream, if any."""
        return self._first("video")

    @property
    def audio(self) -> StreamInfo | None:
        """The first audio stream, if any."""
        return self._first("audio")

    @property
    def subtitle(self) -> StreamInfo | None:
        """The first subtitle stream, if any."""
        return self._first("subtitle")


@dataclass
class ProbeResult:
    inputs: list[ProbedInput] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProbeResult:
        known, extra = _split(cls, data)
        return cls(inputs=[ProbedInput.from_dict(i) for i in known.get("inputs") or []], extra=extra)

    def __getitem__(self, index: int) -> ProbedInput:
        return self.inputs[index]

    def __len__(self) -> int:
        return len(self.inputs)


@dataclass
class OutputStream:
    type: str | None = None
    codec: str | None = None
    disposition: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutputStream:
        known, extra = _split(cls, data)
        disposition = known.get("disposition") or []
        if isinstance(disposition, str):
            disposition = [disposition]
        return cls(type=known.get("type"), codec=known.get("codec"), disposition=list(disposition), extra=extra)


@dataclass
class OutputInfo:
    path: str
    streams: list[OutputStream] = field(default_factory=list)
    segmented: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutputInfo:
        known, extra = _split(cls, data)
        return cls(
            path=str(known.get("path", "")),
            streams=[OutputStream.from_dict(s) for s in known.get("streams") or []],
            segmented=bool(known.get("segmented", False)),
            extra=extra,
        )


@dataclass
class AnalysisEntry:
    """One ``lavfi.*`` measurement a filter attached to a frame at time ``t`` (seconds)."""

    t: float | None
    key: str
    value: str
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnalysisEntry:
        known, extra = _split(cls, data)
        value = known.get("value")
        return cls(
            t=_float(known.get("t")),
            key=str(known.get("key", "")),
            value="" if value is None else str(value),
            extra=extra,
        )


@dataclass
class ProcessResult:
    outputs: list[OutputInfo] = field(default_factory=list)
    analysis: list[AnalysisEntry] = field(default_factory=list)
    #: the engine stopped collecting analysis entries at its cap (100000); later ones are missing
    analysis_truncated: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProcessResult:
        known, extra = _split(cls, data)
        return cls(
            outputs=[OutputInfo.from_dict(o) for o in known.get("outputs") or []],
            analysis=[AnalysisEntry.from_dict(a) for a in known.get("analysis") or []],
            analysis_truncated=bool(known.get("analysis_truncated", False)),
            extra=extra,
        )


@dataclass
class FrameInfo:
    """One still written by a frames job: its file, its number in the path template, and its time (seconds)."""

    path: str
    index: int
    timestamp: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FrameInfo:
        known, extra = _split(cls, data)
        return cls(
            path=str(known.get("path", "")),
            index=_int(known.get("index")) or 0,
            timestamp=_float(known.get("timestamp")),
            extra=extra,
        )


@dataclass
class FramesResult:
    """What ``{"op": "frames"}`` answers: the files written, in index order."""

    frames: list[FrameInfo] = field(default_factory=list)
    count: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FramesResult:
        known, extra = _split(cls, data)
        frames = [FrameInfo.from_dict(f) for f in known.get("frames") or []]
        count = _int(known.get("count"))
        return cls(frames=frames, count=len(frames) if count is None else count, extra=extra)

    def __getitem__(self, index: int) -> FrameInfo:
        return self.frames[index]

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def paths(self) -> list[str]:
        """The written files' paths."""
        return [f.path for f in self.frames]
