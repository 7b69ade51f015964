"""Helpers for everyday work, each a thin layer over one or two job specs.

::

    import afmpeg

    info = afmpeg.probe("talk.mp4")                                   # a ProbedInput
    afmpeg.transcode("talk.mov", "talk.mp4", size=(1280, -1), video_bitrate="2M")
    afmpeg.clip("talk.mp4", "intro.mp4", start=3, duration=10)
    png = afmpeg.thumbnail("talk.mp4", at=5, size=(320, -1))          # bytes
    afmpeg.extract_audio("talk.mp4", "talk.m4a")
    afmpeg.concat(["a.mp4", "b.mov"], "both.mp4")
    afmpeg.slideshow([("cover.png", 3), "clip.mp4"], "reel.mp4", audio="music.flac")

Where files are (every helper takes the same forms, and so do :func:`~afmpeg.read_frames`,
:func:`~afmpeg.read_audio` and :func:`~afmpeg.write_frames`):

- a path string: a file on ``fs=`` (an fsspec filesystem, a local directory or a URL, inside ``root=``, exactly
  as :meth:`Runtime.run` reads them); without ``fs=``, on the filesystem of the ``runtime=`` you passed; without
  either, a file on the local disk (relative to the working directory);
- a :class:`pathlib.Path`: always a file on the local disk;
- an fsspec URL (``"s3://bucket/clip.mp4"``, ``"memory://x.mp4"``) or a ``(filesystem, path)`` pair: that file;
- ``bytes`` (inputs only): the file's contents.

When all files sit on one filesystem the job runs there (the engine sees only the directory that holds them).
Otherwise (bytes, files on two filesystems, local files in unrelated directories) the inputs are copied into a
private in-memory filesystem, the job runs there, and its outputs are written to their destinations after it
succeeded. Errors name the files as the caller did: the message, and ``filename`` of an
:class:`~afmpeg.InputNotFound`, hold the path, URL or ``"<bytes>"`` that was passed, not the path the engine saw
(FFmpeg's own words stay in ``ffmpeg_message``).

Every helper takes ``runtime=`` (default: :func:`default_runtime`) and the limit keywords of :meth:`Runtime.run`
(``time_limit``, ``memory_limit``, ``output_limit``, ``cancel``), validates its arguments before the engine runs
(:class:`~afmpeg.JobSpecError`, a ``ValueError``), and raises the engine's typed errors
(:class:`~afmpeg.ProcessingError` and its subclasses) when the work fails.
"""

from __future__ import annotations

from ..default import default_runtime
from ._audio import extract_audio
from ._clip import clip
from ._concat import concat
from ._containers import CONTAINERS
from ._probe import probe
from ._slideshow import Slide, slideshow
from ._thumbnail import thumbnail
from ._transcode import transcode
from ._types import ProgressCallback as ProgressCallback
from ._types import Source as Source
from ._types import Target as Target

__all__ = [
    "default_runtime",
    "probe",
    "transcode",
    "clip",
    "thumbnail",
    "extract_audio",
    "concat",
    "slideshow",
    "Slide",
    "CONTAINERS",
]
