""":func:`read_frames` and its :class:`FrameReader`: a video decoded into NumPy arrays or PIL images."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

from ..errors import ProcessingError
from ..job import VOCAB_VERSION
from ..limits import CancelToken
from ..progress import Progress
from ..runtime import UNSET, Runtime
from ..sources import Files, Source
from ._arguments import _buffer_frames, _rate
from ._jobs import _input_entry, _probe_keys, _run_kw, _window
from ._layout import PIX_FMTS, FrameLayout, _resolve_size, frame_layout
from ._optional import _numpy, _pil_image
from ._pipe_job import DEFAULT_BUFFER_FRAMES, MIN_PIPE_BYTES
from ._stream_reader import _StreamReader

_PIL_MODES = {"rgb24": "RGB", "rgba": "RGBA", "gray": "L"}


class FrameReader(_StreamReader):
    """An iterator of decoded frames (see :func:`read_frames`); also a context manager.

    The job starts at the first ``next()``. Breaking out of the loop, :meth:`close`, leaving a ``with`` block or
    dropping the reader stops the job and waits for its thread. Not for use from several threads at once.

    Attributes:
        width, height, pix_fmt: the frames' size and pixel format.
        layout: the :class:`FrameLayout` (array ``shape`` and ``dtype``, ``nbytes`` per frame).
        fps: the output frame rate (``fps=``, else the source's when known).
        source: the probed input (:class:`~afmpeg.ProbedInput`).
        frames: frames yielded so far.
        pipe: the bounded pipe (``capacity`` bytes; ``max_fill`` is the most it ever held).
        result: the job's :class:`~afmpeg.ProcessResult` after the last frame.
    """

    def __init__(
        self,
        files: Files,
        job: dict[str, Any],
        layout: FrameLayout,
        *,
        fps: float | None,
        source: Any,
        as_pil: bool,
        buffer_frames: int,
        cancel: CancelToken | None,
        run_kw: dict[str, Any],
    ) -> None:
        self.layout = layout
        self.width, self.height, self.pix_fmt = layout.width, layout.height, layout.pix_fmt
        self.fps = fps
        self.source = source
        self.frames = 0
        self._as_pil = as_pil
        self._np = None if as_pil else _numpy()
        self._image = _pil_image() if as_pil else None
        capacity = max(buffer_frames * layout.nbytes, MIN_PIPE_BYTES)
        self._setup(files, job, layout.nbytes, capacity, cancel, run_kw)

    def __next__(self) -> Any:
        buf = self._next_chunk(partial_ok=False)
        self.frames += 1
        if self._image is not None:
            mode = _PIL_MODES[self.pix_fmt]
            return self._image.frombuffer(mode, (self.width, self.height), buf, "raw", mode, 0, 1)
        assert self._np is not None
        return self._np.frombuffer(buf, dtype=self.layout.dtype).reshape(self.layout.shape)

    def __repr__(self) -> str:
        return f"FrameReader({self.width}x{self.height} {self.pix_fmt}, frames={self.frames})"


def read_frames(
    src: Source,
    *,
    size: tuple[int, int] | None = None,
    pix_fmt: str = "rgb24",
    fps: float | str | Fraction | None = None,
    start: float | None = None,
    duration: float | None = None,
    accurate_seek: bool = True,
    vf: str | None = None,
    scale_flags: str = "bicubic",
    as_pil: bool = False,
    input_format: str | None = None,
    input_options: Mapping[str, str] | None = None,
    buffer_frames: int = DEFAULT_BUFFER_FRAMES,
    runtime: Runtime | None = None,
    fs: Any = None,
    root: str | None = None,
    memory_limit: int | None = UNSET,
    time_limit: float | None = UNSET,
    cancel: CancelToken | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> FrameReader:
    """Decode the first video stream of ``src`` and yield its frames as NumPy arrays, as they are decoded.

    Args:
        src: the media file, in any form the helpers take (see :mod:`afmpeg.helpers`): a path (on ``fs=``, else
            on the ``runtime=``'s filesystem, else a local file relative to the working directory), a
            :class:`pathlib.Path` (always local), an fsspec URL (``"s3://bucket/in.mp4"``), a ``(filesystem, path)``
            pair, or the file's bytes.
        size: ``(width, height)`` to scale to; one side may be ``-1`` to keep the aspect ratio. Default: the
            source's size.
        pix_fmt: ``"rgb24"`` (``H×W×3`` uint8, the default), ``"bgr24"``, ``"rgba"``/``"bgra"``/``"argb"``/``"abgr"``
            (``H×W×4``), ``"gray"`` (``H×W``), ``"gray16le"`` (``H×W`` uint16), ``"rgb48le"``/``"rgba64le"``
            (uint16), ``"yuv444p"`` (``3×H×W``), ``"yuv420p"`` (``H*3/2×W``, see :func:`frame_layout`).
        fps: resample to this frame rate (the ``fps`` filter: frames are dropped or repeated).
        start, duration: decode only this window (seconds; ``start`` from the input's start, an accurate seek
            unless ``accurate_seek=False``).
        vf: an FFmpeg video filter chain applied before the scaling (``"crop=320:240:0:0,hflip"``).
        scale_flags: the swscale flags of the conversion (``"bicubic"``, ``"bilinear"``, ``"lanczos"``,
            ``"bicubic+accurate_rnd+full_chroma_int"``...).
        as_pil: yield ``PIL.Image.Image`` objects instead (``rgb24`` → RGB, ``rgba`` → RGBA, ``gray`` → L).
        input_format, input_options: force a demuxer and give it options (e.g. raw video).
        buffer_frames: how many frames the pipe between engine and Python holds (at least 64 KiB). Memory in use
            is about this many frames plus the one being handed out, however long the video is.
        runtime: the :class:`~afmpeg.Runtime` to use (default: :func:`~afmpeg.default_runtime`).
        fs, root: the filesystem (and directory in it) a path string names a file on, as for the helpers.
        memory_limit, time_limit, cancel: as for :meth:`Runtime.run`. ``time_limit`` counts wall time, including
            the time the loop body spends on each frame (the engine waits for it).
        progress: a progress callback, as for :meth:`Runtime.run`.

    Returns:
        A :class:`FrameReader`: iterate it (``for frame in afmpeg.read_frames("in.mp4"): ...``). Arrays are
        writable and independent of each other. The source is probed first (for its size); the decode job starts
        at the first frame requested. Breaking out of the loop stops the job; a job failure (unreadable input, a
        bad filter, a limit) is raised from the loop, after the frames decoded before it. Errors name ``src`` as it
        was given (``InputNotFound.filename`` too).
    """
    buffer_frames = _buffer_frames(buffer_frames)
    if as_pil and pix_fmt not in _PIL_MODES:
        raise ValueError(f"as_pil supports pix_fmt {', '.join(_PIL_MODES)}; got {pix_fmt!r}")
    if pix_fmt not in PIX_FMTS:
        raise ValueError(f"unsupported pix_fmt {pix_fmt!r}; one of {', '.join(PIX_FMTS)}")
    if as_pil:
        _pil_image()
    else:
        _numpy()
    files = Files(runtime, fs, root)
    loc = files.add_input(src)
    files.prepare()
    limits = {"memory_limit": memory_limit, "time_limit": time_limit, "cancel": cancel}
    info = files.probe(loc, limits, **_probe_keys(input_format, input_options))
    entry = _input_entry(loc.guest, input_format, input_options)
    video = info.video
    if video is None or not video.width or not video.height:
        raise ProcessingError(f"{loc.display}: no video stream with a known size", job={"inputs": [entry]})
    width, height = _resolve_size(size, int(video.width), int(video.height))
    layout = frame_layout(pix_fmt, width, height)
    chain = [vf] if vf else []
    if fps is not None:
        chain.append(f"fps=fps={_rate(fps)}")
    chain.append(f"scale={width}:{height}:flags={scale_flags}")
    chain.append(f"format={pix_fmt}")
    job: dict[str, Any] = {
        "op": "process",
        "version": VOCAB_VERSION,
        "inputs": [entry],
        "filter": f"[0:v]{','.join(chain)}[v]",
        "outputs": [{"path": "", "format": "rawvideo", "map": ["[v]"], "video_codec": "rawvideo"}],
    }
    _window(job, start, duration, accurate_seek)
    out_fps = float(Fraction(_rate(fps))) if fps is not None else video.frame_rate
    return FrameReader(
        files,
        job,
        layout,
        fps=out_fps,
        source=info,
        as_pil=as_pil,
        buffer_frames=buffer_frames,
        cancel=cancel,
        run_kw=_run_kw(memory_limit, time_limit, progress),
    )
