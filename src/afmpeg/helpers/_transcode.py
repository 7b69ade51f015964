""":func:`transcode`: one file re-encoded or copied into another; :func:`clip` and :func:`extract_audio` run it too."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..errors import JobSpecError, ProcessingError
from ..job import Input, Output, ProcessJob
from ..results import ProcessResult
from ..runtime import Runtime
from ..sources import Files
from ._checks import (
    _bitrate,
    _fps_text,
    _layout,
    _limits,
    _positive_int,
    _quality_options,
    _scale_args,
    _seconds,
    _string_options,
)
from ._containers import _container
from ._types import ProgressCallback, Source, Target


@dataclass
class _Encode:
    """What transcode(), clip() and extract_audio() ask for, checked."""

    video_codec: str | None = None
    audio_codec: str | None = None
    scale: str | None = None
    fps: str | None = None
    video_bitrate: str | None = None
    audio_bitrate: str | None = None
    quality: int | None = None
    keyframe_interval: int | None = None
    sample_rate: int | None = None
    channels: int | None = None
    start: float | None = None
    duration: float | None = None
    video: bool = True
    audio: bool = True
    format: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    format_options: dict[str, str] | None = None
    metadata: dict[str, str] | None = None


def _run_encode(
    src: Source,
    dst: Target,
    want: _Encode,
    *,
    progress: ProgressCallback | None,
    runtime: Runtime | None,
    fs: Any,
    root: str | None,
    run_options: dict[str, Any],
) -> ProcessResult:
    _limits(run_options)
    files = Files(runtime, fs, root)
    src_loc = files.add_input(src)
    dst_loc = files.add_output(dst)
    v_default, a_default = _container(dst_loc.name, want.format)
    if want.video_codec == "copy" and (want.scale or want.fps or want.quality is not None):
        raise JobSpecError("video_codec='copy' keeps the video as it is: size, fps and quality need an encoder")
    if want.audio_codec == "copy" and (want.sample_rate or want.channels):
        raise JobSpecError("audio_codec='copy' keeps the audio as it is: sample_rate and channels need an encoder")
    files.prepare()
    info = files.probe(src_loc, run_options)
    if want.start is not None and info.duration is not None and want.start >= info.duration:
        raise JobSpecError(f"start={want.start} is at or past the end of {src_loc.display} ({info.duration:g} s)")

    video = want.video and v_default is not None and info.video is not None
    audio = want.audio and a_default is not None and info.audio is not None
    asked_video = want.scale or want.fps or want.quality is not None or want.video_bitrate or (
        want.video_codec not in (None, "copy"))
    if asked_video and want.video and info.video is None:
        raise ProcessingError(f"{src_loc.display} has no video stream, but video settings were given")
    if not want.video and info.audio is None:
        raise ProcessingError(f"{src_loc.display} has no audio stream")
    if not video and not audio:
        holds = "audio only" if v_default is None else "video only" if a_default is None else "video and audio"
        found = [s.type or "?" for s in info.streams] or ["no streams"]
        raise ProcessingError(f"nothing to write: {dst_loc.display} holds {holds}, {src_loc.display} has "
                              f"{', '.join(found)}")

    v_codec = (want.video_codec or v_default or None) if video else None
    a_codec = (want.audio_codec or a_default or None) if audio else None
    graph: list[str] = []
    mapping: list[str] = []
    if video:
        if v_codec == "copy":
            mapping.append("0:v:0")
        else:
            chain = ",".join(p for p in (f"scale={want.scale}" if want.scale else "",
                                         f"fps={want.fps}" if want.fps else "") if p) or "null"
            graph.append(f"[0:v]{chain}[v]")
            mapping.append("[v]")
    if audio:
        if a_codec == "copy":
            mapping.append("0:a:0")
        else:
            parts = []
            if want.sample_rate:
                parts.append(f"aresample={want.sample_rate}")
            if want.channels:
                parts.append(f"aformat=channel_layouts={_layout(want.channels)}")
            graph.append(f"[0:a]{','.join(parts) or 'anull'}[a]")
            mapping.append("[a]")

    options: dict[str, str] = {}
    if video and v_codec != "copy":
        options.update(_quality_options(want.quality, v_codec))
        if want.video_bitrate:
            options["b:v"] = want.video_bitrate
        if want.keyframe_interval:
            options["g:v"] = str(want.keyframe_interval)
    if audio and a_codec != "copy" and want.audio_bitrate:
        options["b:a"] = want.audio_bitrate
    options.update(want.options)

    copying = "copy" in (v_codec, a_codec)
    seek = None
    if want.start:
        seek = {"start": want.start, "mode": "fast" if copying else "accurate"}
    job = ProcessJob(
        inputs=[Input(path=src_loc.guest, seek=seek)],
        filter=";".join(graph) or None,
        outputs=[Output(
            path=dst_loc.guest,
            map=mapping,
            video_codec=v_codec if v_codec != "copy" else None,
            audio_codec=a_codec if a_codec != "copy" else None,
            options=options or None,
            format=want.format,
            format_options=want.format_options,
            duration=want.duration,
            metadata=want.metadata,
        )],
    )
    result = files.run(job, progress=progress, **run_options)
    return files.finish(result)


def transcode(
    src: Source,
    dst: Target,
    *,
    video_codec: str | None = None,
    audio_codec: str | None = None,
    size: tuple[int, int] | str | None = None,
    width: int | None = None,
    height: int | None = None,
    fps: float | str | Fraction | None = None,
    video_bitrate: int | str | None = None,
    audio_bitrate: int | str | None = None,
    quality: int | None = None,
    keyframe_interval: int | None = None,
    sample_rate: int | None = None,
    channels: int | None = None,
    start: float | None = None,
    duration: float | None = None,
    video: bool = True,
    audio: bool = True,
    format: str | None = None,
    options: dict[str, str] | None = None,
    format_options: dict[str, str] | None = None,
    metadata: dict[str, str] | None = None,
    progress: ProgressCallback | None = None,
    runtime: Runtime | None = None,
    fs: Any = None,
    root: str | None = None,
    **run_options: Any,
) -> ProcessResult:
    """Convert ``src`` into ``dst``, whose container comes from its extension (or ``format=``).

    Defaults per container (:data:`CONTAINERS`): ``.mp4``/``.mov``/``.mkv``/``.ts`` → H.264 (``libopenh264``) +
    AAC; ``.m4a``/``.aac`` → AAC, ``.flac`` → FLAC, ``.wav`` → 16-bit PCM (audio only); ``.gif`` → GIF (video
    only). The first video and audio streams are used; a container that holds one kind only drops the other.

    Args:
        video_codec, audio_codec: an encoder name, or ``"copy"`` to keep that stream's packets as they are.
        size: ``(width, height)`` or ``"WxH"``; ``-1`` for one side keeps the aspect ratio (rounded to an even
            number). Or ``width=``/``height=`` alone.
        fps: output frame rate (``25``, ``"30000/1001"``); frames are dropped or repeated.
        video_bitrate, audio_bitrate: bits per second (``2_000_000``, ``"2M"``, ``"128k"``).
        quality: a fixed quantiser instead of a bit rate, lower is better: 1–51 for ``libopenh264``, 1–31 for
            ``mpeg4``/``mjpeg`` (ffmpeg's ``-q:v``; for ``libopenh264`` its ``qmin`` = ``qmax``).
        keyframe_interval: at most this many frames between keyframes (the ``g`` option).
        sample_rate, channels: resample the audio / change its channel count.
        start, duration: seconds; an exact cut (copied streams start on the keyframe at or before ``start``).
        video, audio: ``False`` leaves that stream out.
        format, format_options: force the muxer and set its options (``{"movflags": "+faststart"}``).
        options: more encoder options (string values; ``"b:v"``-style suffixes pick the stream type).
        metadata: container tags (``{"title": "..."}``).
        progress: called with :class:`~afmpeg.Progress` reports while it runs.
        runtime, fs, root: where it runs and where the files are (see :mod:`afmpeg.helpers`).

    Returns the :class:`~afmpeg.ProcessResult`, its output named as ``dst`` was.

    Example::

        afmpeg.transcode("in.mov", "out.mp4", size=(1280, -1), fps=30, video_bitrate="2M", audio_bitrate="128k")
    """
    want = _Encode(
        video_codec=video_codec,
        audio_codec=audio_codec,
        scale=_scale_args(size, width, height, even=True),
        fps=_fps_text(fps),
        video_bitrate=_bitrate(video_bitrate, "video_bitrate"),
        audio_bitrate=_bitrate(audio_bitrate, "audio_bitrate"),
        quality=_positive_int(quality, "quality"),
        keyframe_interval=_positive_int(keyframe_interval, "keyframe_interval"),
        sample_rate=_positive_int(sample_rate, "sample_rate", low=1000, high=768000),
        channels=_positive_int(channels, "channels", high=64),
        start=None if start is None else _seconds(start, "start"),
        duration=None if duration is None else _seconds(duration, "duration", positive=True),
        video=video,
        audio=audio,
        format=format,
        options=_string_options(options, "options"),
        format_options=_string_options(format_options, "format_options") or None,
        metadata=_string_options(metadata, "metadata") or None,
    )
    for name, codec in (("video_codec", video_codec), ("audio_codec", audio_codec)):
        if codec is not None and (not isinstance(codec, str) or not codec):
            raise JobSpecError(f"{name} must be an encoder name or 'copy', got {codec!r}")
    return _run_encode(src, dst, want, progress=progress, runtime=runtime, fs=fs, root=root,
                       run_options=run_options)
