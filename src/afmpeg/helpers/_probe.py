""":func:`probe`, the probe every helper runs on its prepared inputs, and how long a probed input plays."""

from __future__ import annotations

from typing import Any

from ..errors import AfmpegError, ProcessingError, error_for_exit
from ..job import Input, ProbeJob
from ..results import ProbedInput
from ..runtime import Runtime
from ._checks import _limits
from ._sources import _Files, _Loc, _setup
from ._types import Source


def _probe_error(info: ProbedInput, job: dict[str, Any]) -> AfmpegError:
    details = {"error": info.error, "kind": info.extra.get("error_kind"), "field": "inputs[0]"}
    return error_for_exit(1, str(info.error), job=job, details=details)


def _probe_guest(files: _Files, loc: _Loc, run_options: dict[str, Any], **input_keys: Any) -> ProbedInput:
    """Probe a prepared input; a file that cannot be read raises instead of giving an entry with ``error``."""
    job = ProbeJob(inputs=[Input(path=loc.guest, **input_keys)])
    job.validate()
    info = files.runtime.probe(job, **files.where, **_limits(run_options)).inputs[0]
    if info.error is not None:
        raise _probe_error(info, job.to_dict())
    info.path = loc.display
    return info


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
    An unreadable file raises (:class:`~afmpeg.ProcessingError` or a subclass naming the cause) instead of
    returning an entry with ``error`` set.

    Example::

        info = afmpeg.probe(open("clip.mp4", "rb").read())
        print(info.duration, info.video.width, info.video.height, info.audio.codec)
    """
    _limits(run_options)
    files = _setup(runtime, fs, root)
    loc = files.add_input(src)
    files.prepare()
    return _probe_guest(files, loc, run_options, format=format, options=options)


def _length(info: ProbedInput) -> float | None:
    """How long an input plays: its video's duration, else the container's."""
    for value in (info.video.duration if info.video else None, info.duration,
                  info.audio.duration if info.audio else None):
        if value is not None and value > 0:
            return value
    return None


def _num(value: float | None, loc: _Loc) -> str:
    if value is None:
        raise ProcessingError(f"cannot tell how long {loc.display} is")
    return f"{value:.6f}".rstrip("0").rstrip(".")
