""":func:`thumbnail`: one still of a video as PNG or JPEG bytes."""

from __future__ import annotations

import os
import posixpath
from typing import Any

from ..errors import JobSpecError, ProcessingError
from ..job import Input, Output, ProcessJob
from ..runtime import Runtime
from ..sources import Files, locate
from ._checks import _limits, _scale_args, _seconds
from ._types import Source, Target

# room for any one still (the engine refuses pictures over 64 Mpx); the buffer only grows as the engine writes
_THUMBNAIL_PIPE_BYTES = 1 << 30


def thumbnail(
    src: Source,
    dst: Target | None = None,
    *,
    at: float | str = "auto",
    size: tuple[int, int] | str | None = None,
    width: int | None = None,
    height: int | None = None,
    format: str | None = None,
    runtime: Runtime | None = None,
    fs: Any = None,
    root: str | None = None,
    **run_options: Any,
) -> bytes:
    """One still of ``src``'s video as PNG or JPEG bytes (also written to ``dst`` when given).

    ``at`` is a time in seconds (the first frame shown at or after it, as ``ffmpeg -ss T -frames:v 1``) or
    ``"auto"``: FFmpeg's ``thumbnail`` filter, the most representative frame of the first 100. ``size`` (or
    ``width``/``height``; ``-1`` keeps the aspect ratio) scales it. ``format`` is ``"png"`` or ``"jpeg"``;
    by default it follows ``dst``'s extension, else PNG. JPEGs use a fixed high quality (``-q:v 2``).

    Example::

        png = afmpeg.thumbnail("clip.mp4", at=1.5, width=320)
        afmpeg.thumbnail("clip.mp4", "poster.jpg")          # the representative frame, as a JPEG file
    """
    _limits(run_options)
    if at != "auto":
        at = _seconds(at, "at")
    scale = _scale_args(size, width, height, even=False)
    if format is None:
        ext = ""
        if isinstance(dst, str | os.PathLike):
            ext = posixpath.splitext(os.fspath(dst))[1].lstrip(".").lower()
        format = "jpeg" if ext in ("jpg", "jpeg") else "png"
    if format not in ("png", "jpeg", "jpg"):
        raise JobSpecError(f"format must be 'png' or 'jpeg', got {format!r}")
    from ..wasi.pipes import Pipe, device_path

    files = Files(runtime, fs, root)
    src_loc = files.add_input(src)
    dst_loc = locate(dst, files.base, output=True) if dst is not None else None
    files.prepare()
    info = files.probe(src_loc, run_options)
    if info.video is None:
        raise ProcessingError(f"{src_loc.display} has no video stream to take a thumbnail from")
    if isinstance(at, float | int) and info.duration is not None and at >= info.duration:
        raise JobSpecError(f"at={at} is at or past the end of {src_loc.display} ({info.duration:g} s)")
    chain = ["thumbnail"] if at == "auto" else []
    chain.append("trim=end_frame=1")  # one frame, then the job is complete
    if scale:
        chain.append(f"scale={scale}")
    seek = {"start": at, "mode": "accurate"} if isinstance(at, float | int) and at > 0 else None
    jpeg = format != "png"
    pipe = Pipe(_THUMBNAIL_PIPE_BYTES)  # read after the job: it must never fill up, or the engine would wait
    job = ProcessJob(
        inputs=[Input(path=src_loc.guest, seek=seek)],
        filter=f"[0:v]{','.join(chain)}[v]",
        outputs=[Output(
            path=device_path("thumbnail"),
            map=["[v]"],
            video_codec="mjpeg" if jpeg else "png",
            format="image2",
            options={"qmin": "2", "qmax": "2"} if jpeg else None,  # what the frames op's JPEGs use (-q:v 2)
        )],
    )
    files.run(job, devices={"thumbnail": pipe.guest_writer()}, **run_options)
    pipe.close_write()
    chunks = []
    while chunk := pipe.read_some(1 << 20):
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data:
        raise ProcessingError(f"{src_loc.display} gave no frame at {at!r}")
    if dst_loc is not None:
        files.write(dst_loc, data)
    return data
