""":func:`extract_audio`: a file's first audio stream, without video."""

from __future__ import annotations

import os
import posixpath
from typing import Any

from ..errors import JobSpecError
from ..results import ProcessResult
from ..runtime import Runtime
from ._containers import CONTAINERS
from ._transcode import transcode
from ._types import ProgressCallback, Source, Target


def extract_audio(
    src: Source,
    dst: Target,
    *,
    codec: str | None = None,
    bitrate: int | str | None = None,
    sample_rate: int | None = None,
    channels: int | None = None,
    start: float | None = None,
    duration: float | None = None,
    format: str | None = None,
    progress: ProgressCallback | None = None,
    runtime: Runtime | None = None,
    fs: Any = None,
    root: str | None = None,
    **run_options: Any,
) -> ProcessResult:
    """Write the first audio stream of ``src`` to ``dst``, without video.

    The codec follows ``dst``'s extension: ``.m4a``/``.aac``/``.mp4`` → AAC, ``.flac``/``.mka`` → FLAC, ``.wav`` →
    16-bit PCM, ``.ogg`` → FLAC in Ogg; ``.mp3`` needs an MP3 encoder, which the lean build lacks (the engine then
    raises :class:`~afmpeg.ProcessingError` naming it). ``codec="copy"`` keeps the packets as they are (e.g. AAC
    from an ``.mp4`` into ``.m4a``).

    Example::

        afmpeg.extract_audio("talk.mp4", "talk.flac", sample_rate=16000, channels=1)
    """
    if isinstance(dst, str | os.PathLike):
        ext = posixpath.splitext(os.fspath(dst))[1].lstrip(".").lower()
        if format is None and ext in CONTAINERS and CONTAINERS[ext][1] is None:
            raise JobSpecError(f"'.{ext}' holds no audio: use .m4a, .aac, .flac, .wav or .mka")
    return transcode(src, dst, audio_codec=codec, audio_bitrate=bitrate, sample_rate=sample_rate, channels=channels,
                     start=start, duration=duration, video=False, format=format, progress=progress, runtime=runtime,
                     fs=fs, root=root, **run_options)
