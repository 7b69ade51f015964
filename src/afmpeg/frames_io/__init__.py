"""NumPy / PIL frame I/O, streamed through the sandbox with back-pressure.

:func:`read_frames` decodes a video and yields one NumPy array (or PIL image) per frame *as the engine produces
it*; :func:`write_frames` encodes an iterator of arrays or images into a video file. The frames travel as raw
video through a bounded pipe that the guest sees as a device file (``/dev/afmpeg-pipe-NAME``, see
:mod:`afmpeg.wasi.pipes`): when the consumer is slow, the engine blocks in its write and waits, so memory stays
bounded to a few frames however long the video is. The job runs in a background thread; stopping early, a
failing producer or a failing job all end it promptly.

Files are named as for the helpers (see :mod:`afmpeg.helpers`): a path string is a local file unless ``fs=`` or
``runtime=`` is given (then it is on that filesystem); a :class:`pathlib.Path` is always local; fsspec URLs,
``(filesystem, path)`` pairs and, for inputs, bytes work too. ``afmpeg.read_frames("clip.mp4")`` reads
``clip.mp4`` in the working directory. An output is published only when its job succeeds.

NumPy and Pillow are optional: ``pip install afmpeg[numpy]`` / ``afmpeg[pil]``.
"""

from __future__ import annotations

from ._audio_reader import AudioReader, read_audio
from ._frame_reader import FrameReader, read_frames
from ._frame_writer import write_frames
from ._layout import PIX_FMTS, FrameLayout, frame_layout
from ._pipe_job import DEFAULT_BUFFER_FRAMES as DEFAULT_BUFFER_FRAMES
from ._pipe_job import MIN_PIPE_BYTES as MIN_PIPE_BYTES
from ._pipe_job import STOP_TIMEOUT as STOP_TIMEOUT

__all__ = [
    "read_frames",
    "read_audio",
    "write_frames",
    "FrameReader",
    "AudioReader",
    "FrameLayout",
    "frame_layout",
    "PIX_FMTS",
]
