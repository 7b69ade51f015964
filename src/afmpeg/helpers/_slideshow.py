""":func:`slideshow` and its :class:`Slide` items: images and clips crossfaded into one reel, with music."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..errors import JobSpecError, ProcessingError
from ..job import MAX_INPUTS, Input, Output, ProcessJob
from ..results import ProbedInput, ProcessResult
from ..runtime import Runtime
from ..sources import Files
from ._checks import _bitrate, _fps_text, _limits, _positive_int, _quality_options, _scale_args, _seconds
from ._probe import _length, _num
from ._types import ProgressCallback, Source, Target

_TRANSITION = re.compile(r"[a-z][a-z0-9]*")


@dataclass
class Slide:
    """One item of a :func:`slideshow`: a still image or a video clip.

    ``duration``: seconds on screen (an image's default is the slideshow's ``image_duration``; a clip's, the rest
    of the clip after ``start``). ``start``: where a clip begins (seconds). A clip's own sound is not used.

    Example: ``afmpeg.Slide("holiday.mp4", duration=4, start=10)``
    """

    src: Source
    duration: float | None = None
    start: float = 0.0


_IMAGE_FORMATS = ("image2",)


def _is_still(info: ProbedInput) -> bool:
    fmt = info.format or ""
    return fmt in _IMAGE_FORMATS or fmt.endswith("_pipe")


def _as_slide(item: Any, index: int) -> Slide:
    if isinstance(item, Slide):
        slide = item
    elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], int | float) and not isinstance(
        item[1], bool
    ):
        slide = Slide(item[0], float(item[1]))
    else:
        slide = Slide(item)
    if slide.duration is not None:
        _seconds(slide.duration, f"items[{index}].duration", positive=True)
    _seconds(slide.start, f"items[{index}].start")
    return slide


def slideshow(
    items: Sequence[Any],
    dst: Target,
    *,
    audio: Source | None = None,
    size: tuple[int, int] | str = (1280, 720),
    fps: float | str | Fraction = 30,
    crossfade: float = 0.5,
    transition: str = "fade",
    image_duration: float = 3.0,
    audio_fade: float = 1.0,
    background: str = "black",
    video_codec: str = "libopenh264",
    audio_codec: str = "aac",
    video_bitrate: int | str | None = None,
    audio_bitrate: int | str | None = None,
    quality: int | None = None,
    progress: ProgressCallback | None = None,
    runtime: Runtime | None = None,
    fs: Any = None,
    root: str | None = None,
    **run_options: Any,
) -> ProcessResult:
    """A reel of images and clips with crossfades, plus an optional music track → H.264/AAC.

    ``items`` are files (images or clips), ``(file, seconds)`` pairs or :class:`Slide` objects. Each is fitted into
    ``size`` (letterboxed with ``background``), set to ``fps``, and joined to the next with an ``xfade`` of
    ``crossfade`` seconds (``transition``: any xfade transition — ``fade``, ``wipeleft``, ``slideup``,
    ``circleopen``, …; ``crossfade=0`` cuts). The video lasts ``sum(durations) - crossfade * (len(items) - 1)``.

    ``audio`` (a file with sound) is cut or padded with silence to exactly the video's length and faded out over
    the last ``audio_fade`` seconds. The clips' own sound is not used.

    Example::

        afmpeg.slideshow(
            [("title.png", 2.5), "beach.jpg", afmpeg.Slide("surf.mp4", duration=4, start=12)],
            "holiday.mp4", audio="song.flac", size=(1280, 720), fps=30, crossfade=0.75,
        )
    """
    _limits(run_options)
    if isinstance(items, str | bytes | bytearray | os.PathLike) or not isinstance(items, Sequence):
        raise JobSpecError("items must be a list of images and clips")
    if not items:
        raise JobSpecError("a slideshow needs at least one item")
    slides = [_as_slide(item, i) for i, item in enumerate(items)]
    if len(slides) + (audio is not None) > MAX_INPUTS:
        raise JobSpecError(f"at most {MAX_INPUTS} files per slideshow (audio included), got "
                           f"{len(slides) + (audio is not None)}")
    scale = _scale_args(size, None, None, even=True)
    if scale is None or "-" in scale:
        raise JobSpecError(f"size must be a full (width, height), got {size!r}")
    w, h = scale.split(":")
    rate = _fps_text(fps)
    crossfade = _seconds(crossfade, "crossfade")
    image_duration = _seconds(image_duration, "image_duration", positive=True)
    audio_fade = _seconds(audio_fade, "audio_fade")
    if not isinstance(transition, str) or not _TRANSITION.fullmatch(transition):
        raise JobSpecError(f"transition must be an xfade transition name such as 'fade', got {transition!r}")
    if not isinstance(background, str) or not re.fullmatch(r"[#A-Za-z0-9@.]+", background):
        raise JobSpecError(f"background must be a colour such as 'black' or '#202020', got {background!r}")
    opts: dict[str, str] = dict(_quality_options(_positive_int(quality, "quality"), video_codec))
    if video_bitrate is not None:
        opts["b:v"] = _bitrate(video_bitrate, "video_bitrate") or ""
    if audio is not None and audio_bitrate is not None:
        opts["b:a"] = _bitrate(audio_bitrate, "audio_bitrate") or ""

    files = Files(runtime, fs, root)
    locs = [files.add_input(s.src) for s in slides]
    audio_loc = files.add_input(audio) if audio is not None else None
    dst_loc = files.add_output(dst)
    files.prepare()
    infos = [files.probe(loc, run_options) for loc in locs]

    durations: list[float] = []
    for i, (slide, info, loc) in enumerate(zip(slides, infos, locs, strict=True)):
        if info.video is None:
            raise ProcessingError(f"items[{i}] ({loc.display}) has no picture")
        if _is_still(info):
            durations.append(slide.duration if slide.duration is not None else image_duration)
            continue
        length = _length(info)
        if length is None:
            raise ProcessingError(f"cannot tell how long items[{i}] ({loc.display}) is: give it a duration")
        rest = length - slide.start
        if rest <= 0:
            raise JobSpecError(f"items[{i}].start={slide.start} is past the end of {loc.display} ({length:g} s)")
        if slide.duration is not None and slide.duration > rest + 1e-3:
            raise JobSpecError(f"items[{i}] asks for {slide.duration:g} s, but {loc.display} has {rest:g} s "
                               f"from {slide.start:g} s")
        durations.append(slide.duration if slide.duration is not None else rest)
    if len(slides) > 1 and crossfade > 0:
        for i, d in enumerate(durations):
            inner = 0 < i < len(durations) - 1
            need = 2 * crossfade if inner else crossfade
            if d < need or (not inner and d == crossfade):
                raise JobSpecError(f"items[{i}] lasts {d:g} s: with crossfade={crossfade:g} every item must last "
                                   f"longer than the crossfade, and inner items at least twice as long")
    total = sum(durations) - crossfade * (len(slides) - 1)

    fit = (f"scale={w}:{h}:force_original_aspect_ratio=decrease,pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color={background},"
           "setsar=1,format=yuv420p")
    graph: list[str] = []
    inputs: list[Input] = []
    for i, (slide, info, loc) in enumerate(zip(slides, infos, locs, strict=True)):
        d = _num(durations[i], loc)
        if _is_still(info):
            inputs.append(Input(path=loc.guest))
            graph.append(f"[{i}:v]{fit},loop=loop=-1:size=1,fps={rate},trim=duration={d},setpts=PTS-STARTPTS[s{i}]")
        else:
            seek = {"start": slide.start, "mode": "accurate"} if slide.start > 0 else None
            inputs.append(Input(path=loc.guest, seek=seek))
            graph.append(f"[{i}:v]trim=duration={d},setpts=PTS-STARTPTS,fps={rate},{fit}[s{i}]")
    last = "[s0]"
    if len(slides) > 1 and crossfade > 0:
        offset = 0.0
        for i in range(1, len(slides)):
            offset += durations[i - 1] - crossfade
            label = "[v]" if i == len(slides) - 1 else f"[x{i}]"
            graph.append(f"{last}[s{i}]xfade=transition={transition}:duration={crossfade:g}:"
                         f"offset={offset:.6f}{label}")
            last = label
    elif len(slides) > 1:
        graph.append(f"{''.join(f'[s{i}]' for i in range(len(slides)))}concat=n={len(slides)}:v=1:a=0[v]")
    else:
        graph[-1] = graph[-1][: -len("[s0]")] + "[v]"
    mapping = ["[v]"]
    if audio_loc is not None:
        info = files.probe(audio_loc, run_options)
        if info.audio is None:
            raise ProcessingError(f"audio ({audio_loc.display}) has no sound")
        inputs.append(Input(path=audio_loc.guest))
        t = f"{total:.6f}"
        chain = [f"atrim=duration={t}", "asetpts=PTS-STARTPTS", f"apad=whole_dur={t}"]
        fade = min(audio_fade, total)
        if fade > 0:
            chain.append(f"afade=t=out:st={total - fade:.6f}:d={fade:.6f}")
        chain.append("aresample=48000,aformat=channel_layouts=stereo")
        graph.append(f"[{len(inputs) - 1}:a]{','.join(chain)}[a]")
        mapping.append("[a]")
    job = ProcessJob(
        inputs=inputs,
        filter=";".join(graph),
        outputs=[Output(path=dst_loc.guest, map=mapping, video_codec=video_codec,
                        audio_codec=audio_codec if audio_loc is not None else None, options=opts or None,
                        duration=round(total, 6))],
    )
    return files.finish(files.run(job, progress=progress, **run_options))
