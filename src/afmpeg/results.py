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
    "CodecInfo",
    "FormatInfo",
    "FilterInfo",
    "BitstreamFilterInfo",
    "ParserInfo",
    "Capabilities",
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
        """Build a VersionInfo from the engine's JSON object."""
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
        """Build a StreamInfo from the engine's JSON object."""
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
        """True for a video stream."""
        return self.type == "video"

    @property
    def is_audio(self) -> bool:
        """True for an audio stream."""
        return self.type == "audio"


@dataclass
class Chapter:
    start: float | None = None
    end: float | None = None
    tags: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chapter:
        """Build a Chapter from the engine's JSON object."""
        known, extra = _split(cls, data, {"start_sec": "start", "end_sec": "end"})
        return cls(
            start=_float(known.get("start")),
            end=_float(known.get("end")),
            tags=dict(known.get("tags") or {}),
            extra=extra,
        )


@dataclass
class ProbedInput:
    """One probed input. When probing it failed, ``error`` holds the message, ``error_kind`` its cause and the rest
    is empty."""

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
    #: Why probing failed, as the engine classified it: ``"not_found"``, ``"invalid_data"``, ``"unsupported"``,
    #: ``"no_memory"`` or ``"processing"`` (the ``kind`` of the error a job reading this input would raise, see
    #: :data:`~afmpeg.errors.ERROR_KINDS`); ``None`` when it did not fail. Also in ``extra["error_kind"]``, where
    #: earlier versions put it.
    error_kind: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProbedInput:
        """Build a ProbedInput from the engine's JSON object."""
        known, extra = _split(cls, data, {"duration_sec": "duration", "start_sec": "start"})
        error_kind = known.get("error_kind")
        if error_kind is not None:
            extra["error_kind"] = error_kind  # where it was before it became a field
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
            error_kind=error_kind if isinstance(error_kind, str) else None,
            extra=extra,
        )

    @property
    def ok(self) -> bool:
        """True when the engine could open and read this input."""
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
        """Build a ProbeResult from the engine's JSON object."""
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
        """Build a OutputStream from the engine's JSON object."""
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
        """Build a OutputInfo from the engine's JSON object."""
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
        """Build a AnalysisEntry from the engine's JSON object."""
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
        """Build a ProcessResult from the engine's JSON object."""
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
        """Build a FrameInfo from the engine's JSON object."""
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
        """Build a FramesResult from the engine's JSON object."""
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


# ---------------------------------------------------------------------------- capabilities


def _names(text: str | None) -> list[str]:
    """A libav comma-separated name/extension list (``"matroska,webm"``) as a list."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _str_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


@dataclass
class CodecInfo:
    """One encoder or decoder linked into the engine.

    Attributes:
        name: the name a job uses (``"libopenh264"``, ``"mp3float"``, ``"mov_text"``).
        long_name: libav's description.
        type: ``"video"``, ``"audio"`` or ``"subtitle"``.
        codec: the codec it encodes or decodes (``"h264"`` for ``libopenh264``).
        encoder: ``True`` for an encoder, ``False`` for a decoder.
        experimental: libav marks it experimental.
    """

    name: str
    long_name: str | None = None
    type: str | None = None
    codec: str | None = None
    encoder: bool = False
    experimental: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, encoder: bool) -> CodecInfo:
        """Parse one entry of the engine's ``encoders``/``decoders`` list."""
        known, extra = _split(cls, data)
        return cls(
            name=str(known.get("name", "")),
            long_name=known.get("long_name"),
            type=known.get("type"),
            codec=known.get("codec"),
            encoder=encoder,
            experimental=bool(known.get("experimental", False)),
            extra=extra,
        )

    @property
    def decoder(self) -> bool:
        """``True`` for a decoder."""
        return not self.encoder


@dataclass
class FormatInfo:
    """One muxer (output format) or demuxer (input format) linked into the engine.

    ``name`` is libav's registry name, which for some demuxers lists several names (``"matroska,webm"``,
    ``"mov,mp4,m4a,3gp,3g2,mj2"``); :attr:`names` splits it. Muxers also name their default codecs.
    """

    name: str
    long_name: str | None = None
    extensions: list[str] = field(default_factory=list)
    mime_type: str | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    subtitle_codec: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FormatInfo:
        """Parse one entry of the engine's ``muxers``/``demuxers`` list."""
        known, extra = _split(cls, data)
        return cls(
            name=str(known.get("name", "")),
            long_name=known.get("long_name"),
            extensions=_names(known.get("extensions")),
            mime_type=known.get("mime_type"),
            video_codec=known.get("video_codec"),
            audio_codec=known.get("audio_codec"),
            subtitle_codec=known.get("subtitle_codec"),
            extra=extra,
        )

    @property
    def names(self) -> list[str]:
        """Every name this format answers to (``["matroska", "webm"]``)."""
        return _names(self.name)


@dataclass
class FilterInfo:
    """One filter linked into the engine.

    ``inputs``/``outputs`` are the static pad counts; a side marked dynamic (``amix``, ``split``, ``concat``)
    gets its pads from the filter's options, so its count there is only the minimum.
    """

    name: str
    description: str | None = None
    inputs: int = 0
    outputs: int = 0
    dynamic_inputs: bool = False
    dynamic_outputs: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FilterInfo:
        """Parse one entry of the engine's ``filters`` list."""
        known, extra = _split(cls, data)
        return cls(
            name=str(known.get("name", "")),
            description=known.get("description"),
            inputs=_int(known.get("inputs")) or 0,
            outputs=_int(known.get("outputs")) or 0,
            dynamic_inputs=bool(known.get("dynamic_inputs", False)),
            dynamic_outputs=bool(known.get("dynamic_outputs", False)),
            extra=extra,
        )

    @property
    def is_source(self) -> bool:
        """A source filter (no inputs, e.g. ``testsrc2``, ``sine``)."""
        return self.inputs == 0 and not self.dynamic_inputs

    @property
    def is_sink(self) -> bool:
        """A sink filter (no outputs, e.g. ``nullsink``)."""
        return self.outputs == 0 and not self.dynamic_outputs


@dataclass
class BitstreamFilterInfo:
    """One bitstream filter; ``codecs`` lists the codecs it accepts (empty: any codec)."""

    name: str
    codecs: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BitstreamFilterInfo:
        """Parse one entry of the engine's ``bitstream_filters`` list."""
        known, extra = _split(cls, data)
        return cls(name=str(known.get("name", "")), codecs=_str_list(known.get("codecs")), extra=extra)


@dataclass
class ParserInfo:
    """One codec parser (it splits a raw stream into packets). libav gives parsers no public name: a parser is
    known by the codecs it handles (the ``mpegaudio`` parser: ``["mp1", "mp2", "mp3", "mp3adu"]``)."""

    codecs: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ParserInfo:
        """Parse one entry of the engine's ``parsers`` list."""
        known, extra = _split(cls, data)
        return cls(codecs=_str_list(known.get("codecs")), extra=extra)


#: the component kinds of :class:`Capabilities`, as used by :meth:`Capabilities.names` and the CLI
CAPABILITY_KINDS = (
    "encoders",
    "decoders",
    "muxers",
    "demuxers",
    "filters",
    "bitstream_filters",
    "protocols",
    "parsers",
)


@dataclass
class Capabilities:
    """What ``{"op": "capabilities"}`` answers: every component linked into the engine module, read from libav's
    registries at run time (so it is exactly what this module can do), plus the library versions.

    Typical checks::

        caps = runtime.capabilities()
        if caps.has_encoder("libopenh264"): ...
        [f.name for f in caps.filters if f.is_source]
    """

    vocab_version: int = 0
    engine_version: str | None = None
    ffmpeg_version: str = ""
    license: str | None = None
    #: library name -> "major.minor.micro" (``{"libavcodec": "63.1.102", ...}``)
    libraries: dict[str, str] = field(default_factory=dict)
    encoders: list[CodecInfo] = field(default_factory=list)
    decoders: list[CodecInfo] = field(default_factory=list)
    muxers: list[FormatInfo] = field(default_factory=list)
    demuxers: list[FormatInfo] = field(default_factory=list)
    filters: list[FilterInfo] = field(default_factory=list)
    bitstream_filters: list[BitstreamFilterInfo] = field(default_factory=list)
    input_protocols: list[str] = field(default_factory=list)
    output_protocols: list[str] = field(default_factory=list)
    parsers: list[ParserInfo] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Capabilities:
        """Parse the engine's answer (unknown keys land in ``extra``)."""
        known, extra = _split(cls, data)
        protocols = data.get("protocols") if isinstance(data.get("protocols"), dict) else {}
        extra.pop("protocols", None)
        return cls(
            vocab_version=_int(known.get("vocab_version")) or 0,
            engine_version=known.get("engine_version"),
            ffmpeg_version=str(known.get("ffmpeg_version", "")),
            license=known.get("license"),
            libraries={str(k): str(v) for k, v in (known.get("libraries") or {}).items()},
            encoders=[CodecInfo.from_dict(c, encoder=True) for c in known.get("encoders") or []],
            decoders=[CodecInfo.from_dict(c, encoder=False) for c in known.get("decoders") or []],
            muxers=[FormatInfo.from_dict(f) for f in known.get("muxers") or []],
            demuxers=[FormatInfo.from_dict(f) for f in known.get("demuxers") or []],
            filters=[FilterInfo.from_dict(f) for f in known.get("filters") or []],
            bitstream_filters=[BitstreamFilterInfo.from_dict(b) for b in known.get("bitstream_filters") or []],
            input_protocols=_str_list(protocols.get("input")),
            output_protocols=_str_list(protocols.get("output")),
            parsers=[ParserInfo.from_dict(p) for p in known.get("parsers") or []],
            extra=extra,
        )

    # -- lookups

    def encoder(self, name: str) -> CodecInfo | None:
        """The encoder called ``name``, or ``None``."""
        return next((c for c in self.encoders if c.name == name), None)

    def decoder(self, name: str) -> CodecInfo | None:
        """The decoder called ``name``, or ``None``."""
        return next((c for c in self.decoders if c.name == name), None)

    def filter(self, name: str) -> FilterInfo | None:
        """The filter called ``name``, or ``None``."""
        return next((f for f in self.filters if f.name == name), None)

    def muxer(self, name: str) -> FormatInfo | None:
        """The muxer called ``name``, or ``None``."""
        return next((f for f in self.muxers if name in f.names), None)

    def demuxer(self, name: str) -> FormatInfo | None:
        """The demuxer answering to ``name`` (``"webm"`` finds ``"matroska,webm"``), or ``None``."""
        return next((f for f in self.demuxers if name in f.names), None)

    def encoders_for(self, codec: str) -> list[CodecInfo]:
        """The encoders producing ``codec`` (``encoders_for("h264")`` → ``[libopenh264]``)."""
        return [c for c in self.encoders if c.codec == codec]

    def decoders_for(self, codec: str) -> list[CodecInfo]:
        """The decoders reading ``codec`` (``decoders_for("mp3")`` → ``[mp3float, mp3]``)."""
        return [c for c in self.decoders if c.codec == codec]

    def has_encoder(self, name: str) -> bool:
        """Whether an encoder called ``name`` is linked (the name a job's ``video_codec``/``audio_codec`` uses)."""
        return self.encoder(name) is not None

    def has_decoder(self, name: str) -> bool:
        """Whether a decoder called ``name`` is linked."""
        return self.decoder(name) is not None

    def has_filter(self, name: str) -> bool:
        """Whether the filter ``name`` is linked."""
        return self.filter(name) is not None

    def has_muxer(self, name: str) -> bool:
        """Whether a muxer answers to ``name`` (an output ``format``)."""
        return self.muxer(name) is not None

    def has_demuxer(self, name: str) -> bool:
        """Whether a demuxer answers to ``name`` (an input ``format``)."""
        return self.demuxer(name) is not None

    def has_bitstream_filter(self, name: str) -> bool:
        """Whether the bitstream filter ``name`` is linked."""
        return any(b.name == name for b in self.bitstream_filters)

    def has_protocol(self, name: str, *, output: bool = False) -> bool:
        """Whether the protocol ``name`` is linked for input (or, with ``output=True``, for output)."""
        return name in (self.output_protocols if output else self.input_protocols)

    def has_parser(self, codec: str) -> bool:
        """Whether a parser handles ``codec``."""
        return any(codec in p.codecs for p in self.parsers)

    def names(self, kind: str) -> list[str]:
        """The names of one kind of component (one of :data:`CAPABILITY_KINDS`), in registry order.

        ``"protocols"`` gives the input protocols; ``"parsers"`` the codecs each parser handles, comma-joined.
        """
        if kind == "protocols":
            return list(self.input_protocols)
        if kind == "parsers":
            return [",".join(p.codecs) for p in self.parsers]
        if kind not in CAPABILITY_KINDS:
            raise ValueError(f"unknown kind {kind!r}; one of {', '.join(CAPABILITY_KINDS)}")
        return [item.name for item in getattr(self, kind)]
