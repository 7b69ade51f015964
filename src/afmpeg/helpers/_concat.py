""":func:`concat`: files joined one after the other, re-encoded to one size and rate or copied packet by packet."""

from __future__ import annotations

import os
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from ..errors import JobSpecError, ProcessingError
from ..job import MAX_INPUTS, Input, Output, ProcessJob
from ..results import ProbedInput, ProcessResult
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
    _string_options,
)
from ._containers import _container
from ._probe import _length, _num
from ._types import ProgressCallback, Source, Target


def _video_signature(info: ProbedInput) -> tuple[Any, ...]:
    v, a = info.video, info.audio
    return (
        None if v is None else (v.codec, v.profile, v.width, v.height, v.pix_fmt, v.frame_rate),
        None if a is None else (a.codec, a.sample_rate, a.channels),
    )


def concat(
    srcs: Sequence[Source],
    dst: Target,
    *,
    copy: bool = False,
    size: tuple[int, int] | str | None = None,
    fps: float | str | Fraction | None = None,
    sample_rate: int | None = None,
    channels: int | None = None,
    video_codec: str | None = None,
    audio_codec: str | None = None,
    video_bitrate: int | str | None = None,
    audio_bitrate: int | str | None = None,
    quality: int | None = None,
    options: dict[str, str] | None = None,
    progress: ProgressCallback | None = None,
    runtime: Runtime | None = None,
    fs: Any = None,
    root: str | None = None,
    **run_options: Any,
) -> ProcessResult:
    """Join files one after the other into ``dst``.

    By default everything is re-encoded, so the files may differ: each picture is scaled to fit ``size`` (default:
    the first file's) and padded with black, set to ``fps`` (default: the first file's rate); audio is resampled to
    ``sample_rate``/``channels`` (default: the first file's); a file without audio gets silence, one without video
    black. At most 32 files.

    ``copy=True`` joins the packets without decoding (FFmpeg's concat demuxer): fast and lossless, but every file
    must have the same streams with the same codecs and parameters (checked first). It suits MPEG-TS segments;
    MP4 files whose audio runs past their video may fail with "non monotonically increasing dts".

    Example::

        afmpeg.concat(["intro.mp4", "talk.mov", "outro.png.mp4"], "full.mp4", size=(1280, 720))
        afmpeg.concat(["seg0.ts", "seg1.ts", "seg2.ts"], "all.ts", copy=True)
    """
    _limits(run_options)
    if isinstance(srcs, str | bytes | bytearray | os.PathLike) or not isinstance(srcs, Sequence):
        raise JobSpecError("srcs must be a list of files")
    if not srcs:
        raise JobSpecError("concat needs at least one file")
    if not copy and len(srcs) > MAX_INPUTS:
        raise JobSpecError(f"at most {MAX_INPUTS} files can be re-encoded in one job, got {len(srcs)}")
    scale = _scale_args(size, None, None, even=True)
    rate = _fps_text(fps)
    if copy and any(v is not None for v in (size, fps, sample_rate, channels, video_codec, audio_codec,
                                             video_bitrate, audio_bitrate, quality, options)):
        raise JobSpecError("copy=True joins the packets as they are: encoding settings cannot apply")
    sr = _positive_int(sample_rate, "sample_rate", low=1000, high=768000)
    ch = _positive_int(channels, "channels", high=64)
    files = Files(runtime, fs, root)
    locs = [files.add_input(s) for s in srcs]
    dst_loc = files.add_output(dst)
    v_default, a_default = _container(dst_loc.name, None)
    files.prepare(concat_safe=copy)
    infos = [files.probe(loc, run_options) for loc in locs]

    if copy:
        first = _video_signature(infos[0])
        for loc, info in zip(locs, infos, strict=True):
            if _video_signature(info) != first:
                raise JobSpecError(f"copy=True needs files with the same streams: {loc.display} differs from "
                                   f"{locs[0].display} ({_video_signature(info)} vs {first}); use copy=False")
        mapping = [m for m, s in (("0:v", infos[0].video), ("0:a", infos[0].audio)) if s is not None]
        job = ProcessJob(inputs=[Input(concat=[loc.guest for loc in locs])],
                         outputs=[Output(path=dst_loc.guest, map=mapping)])
        return files.finish(files.run(job, progress=progress, **run_options))

    has_video = v_default is not None and any(i.video is not None for i in infos)
    has_audio = a_default is not None and any(i.audio is not None for i in infos)
    if not has_video and not has_audio:
        raise ProcessingError(f"nothing to write: the files have no stream {dst_loc.display} can hold")
    first_v = next((i.video for i in infos if i.video is not None), None)
    first_a = next((i.audio for i in infos if i.audio is not None), None)
    if has_video and first_v is not None:
        if scale is None:
            w, h = first_v.width or 640, first_v.height or 360
            scale = f"{w + w % 2}:{h + h % 2}"
        if rate is None:
            rate = _fps_text(first_v.frame_rate or 25)
    width_s, height_s = (scale or "640:360").split(":")
    if "-" in width_s + height_s:
        raise JobSpecError("concat needs a full size=(width, height): the pictures are fitted into it")
    rate_sr = sr or (first_a.sample_rate if first_a is not None else None) or 48000
    layout = _layout(ch or (first_a.channels if first_a is not None else None) or 2)

    graph: list[str] = []
    pads: list[str] = []
    for i, info in enumerate(infos):
        length = _length(info)
        if has_video:
            if info.video is not None:
                graph.append(f"[{i}:v]scale={width_s}:{height_s}:force_original_aspect_ratio=decrease,"
                             f"pad={width_s}:{height_s}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps={rate}[v{i}]")
            else:
                graph.append(f"color=c=black:s={width_s}x{height_s}:r={rate}:d={_num(length, locs[i])}[v{i}]")
            pads.append(f"[v{i}]")
        if has_audio:
            if info.audio is not None:
                graph.append(f"[{i}:a]aresample={rate_sr},aformat=channel_layouts={layout}[a{i}]")
            else:
                graph.append(f"anullsrc=r={rate_sr}:cl={layout},atrim=duration={_num(length, locs[i])}[a{i}]")
            pads.append(f"[a{i}]")
    graph.append(f"{''.join(pads)}concat=n={len(infos)}:v={int(has_video)}:a={int(has_audio)}"
                 f"{'[v]' if has_video else ''}{'[a]' if has_audio else ''}")
    v_codec = (video_codec or v_default or None) if has_video else None
    a_codec = (audio_codec or a_default or None) if has_audio else None
    opts: dict[str, str] = {}
    if has_video:
        opts.update(_quality_options(_positive_int(quality, "quality"), v_codec))
        if video_bitrate is not None:
            opts["b:v"] = _bitrate(video_bitrate, "video_bitrate") or ""
    if has_audio and audio_bitrate is not None:
        opts["b:a"] = _bitrate(audio_bitrate, "audio_bitrate") or ""
    opts.update(_string_options(options, "options"))
    job = ProcessJob(
        inputs=[Input(path=loc.guest) for loc in locs],
        filter=";".join(graph),
        outputs=[Output(path=dst_loc.guest, map=[p for p, ok in (("[v]", has_video), ("[a]", has_audio)) if ok],
                        video_codec=v_codec, audio_codec=a_codec, options=opts or None)],
    )
    return files.finish(files.run(job, progress=progress, **run_options))
