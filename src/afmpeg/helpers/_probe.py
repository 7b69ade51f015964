""":func:`probe`, and how long a probed input plays."""

from __future__ import annotations

from typing import Any

from ..errors import ProcessingError
from ..results import ProbedInput
from ..runtime import Runtime
from ..sources import Files, Location
from ._checks import _limits
from ._types import Source


def probe(
    src: Source,
    *,
    format: str | None = None,
    options: dict[str, str] | None = None,
    runtime: Runtime | None = None,
    fs: Any = None,
    root: str | None = None,
    **run_options: Any,
) -> ProbedInput:
    """Describe one media file: its container, duration, streams, chapters and tags.

    ``src`` is a path (on ``fs=``, the ``runtime=``'s filesystem, or the local disk), an fsspec URL, a
    ``(filesystem, path)`` pair, or the file's bytes. ``format``/``options`` force a demuxer and set its options.
    An unreadable file raises (:class:`~afmpeg.ProcessingError` or a subclass naming the cause, and ``src`` as
    it was given) instead of returning an entry with ``error`` set.

    Example::

        info = afmpeg.probe(open("clip.mp4", "rb").read())
        print(info.duration, info.video.width, info.video.height, info.audio.codec)
    """
    limits = _limits(run_options)
    files = Files(runtime, fs, root)
    loc = files.add_input(src)
    files.prepare()
    return files.probe(loc, limits, format=format, options=options)


def _length(info: ProbedInput) -> float | None:
    """How long an input plays: its video's duration, else the container's."""
    for value in (info.video.duration if info.video else None, info.duration,
                  info.audio.duration if info.audio else None):
        if value is not None and value > 0:
            return value
    return None


def _num(value: float | None, loc: Location) -> str:
    if value is None:
        raise ProcessingError(f"cannot tell how long {loc.display} is")
    return f"{value:.6f}".rstrip("0").rstrip(".")
