"""NumPy / PIL frame I/O, streamed through the sandbox with back-pressure.

:func:`read_frames` decodes a video and yields one NumPy array (or PIL image) per frame *as the engine produces
it*; :func:`write_frames` encodes an iterator of arrays or images into a video file. The frames travel as raw
video through a bounded pipe that the guest sees as a device file (``/dev/afmpeg-pipe-NAME``, see
:mod:`afmpeg.wasi.pipes`): when the consumer is slow, the engine blocks in its write and waits, so memory stays
bounded to a few frames however long the video is. The job runs in a background thread; stopping early, a
failing producer or a failing job all end it promptly.

NumPy and Pillow are optional: ``pip install afmpeg[numpy]`` / ``afmpeg[pil]``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Self

from .default import default_runtime
from .errors import AfmpegError, Cancelled, ProcessingError, error_for_exit
from .limits import CancelToken
from .memfs import MemoryFS
from .progress import Progress
from .results import ProbeResult, ProcessResult
from .runtime import UNSET, Runtime
from .wasi.pipes import Pipe, device_path

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

#: Pixel formats :func:`read_frames` / :func:`write_frames` handle: name → (channels or None for one plane of
#: samples, bytes per sample). ``yuv420p`` and ``yuv444p`` are planar (see :func:`frame_layout`).
PIX_FMTS: dict[str, tuple[int | None, int]] = {
    "rgb24": (3, 1),
    "bgr24": (3, 1),
    "rgba": (4, 1),
    "bgra": (4, 1),
    "argb": (4, 1),
    "abgr": (4, 1),
    "gray": (None, 1),
    "gray16le": (None, 2),
    "rgb48le": (3, 2),
    "rgba64le": (4, 2),
    "yuv420p": (None, 1),
    "yuv444p": (None, 1),
}

_PIL_MODES = {"rgb24": "RGB", "rgba": "RGBA", "gray": "L"}
_SAMPLE_FMTS = {"f32": ("f32le", "pcm_f32le", "flt", "<f4", 4), "s16": ("s16le", "pcm_s16le", "s16", "<i2", 2)}

#: Frames the pipe between engine and Python holds by default.
DEFAULT_BUFFER_FRAMES = 2
#: How long stopping a job may take before it is reported as stuck (it normally takes milliseconds).
STOP_TIMEOUT = 30.0
#: Smallest pipe capacity (tiny frames would otherwise turn each engine write into many host calls).
MIN_PIPE_BYTES = 64 * 1024


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:
        raise ImportError("afmpeg frame I/O needs NumPy: pip install 'afmpeg[numpy]'") from None
    return numpy


def _pil_image() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("afmpeg frame I/O with PIL images needs Pillow: pip install 'afmpeg[pil]'") from None
    return Image


def _runtime(runtime: Runtime | None) -> Runtime:
    """``runtime``, or the shared :func:`~afmpeg.default_runtime`."""
    return runtime if runtime is not None else default_runtime()


def _source(src: Any, fs: Any) -> tuple[str, Any]:
    """``(path, fs)`` for a source given as a path on ``fs`` or as bytes (put in a private in-memory fs)."""
    if isinstance(src, bytes | bytearray | memoryview):
        if fs is not None:
            raise ValueError("pass either bytes or fs=, not both")
        mem = MemoryFS()
        mem.pipe("input", bytes(src))
        return "input", mem
    if isinstance(src, str | os.PathLike):
        return os.fspath(src), fs
    raise TypeError(f"src must be a path or bytes, got {type(src).__name__}")


def _rate(value: float | int | str | Fraction) -> str:
    """A frame rate as the string FFmpeg options take (``30``, ``"30000/1001"``, ``Fraction(25, 2)``, ``29.97``)."""
    if isinstance(value, bool):
        raise TypeError("fps must be a number or a string")
    if isinstance(value, Fraction):
        text = f"{value.numerator}/{value.denominator}"
    elif isinstance(value, int | float):
        if not value > 0 or value != value or value == float("inf"):
            raise ValueError(f"fps must be a positive finite number, got {value!r}")
        text = str(int(value)) if float(value).is_integer() else repr(float(value))
    elif isinstance(value, str) and value.strip():
        text = value.strip()
    else:
        raise TypeError(f"fps must be a number, a Fraction or a string, got {value!r}")
    if float(Fraction(text)) <= 0:
        raise ValueError(f"fps must be positive, got {value!r}")
    return text


@dataclass(frozen=True)
class FrameLayout:
    """How one raw frame of ``pix_fmt`` at ``width``×``height`` maps to a NumPy array."""

    pix_fmt: str
    width: int
    height: int
    shape: tuple[int, ...]
    dtype: str
    nbytes: int


def frame_layout(pix_fmt: str, width: int, height: int) -> FrameLayout:
    """The array shape, dtype and byte size of one frame.

    Packed formats are ``(height, width, channels)`` (``(height, width)`` for ``gray``/``gray16le``);
    ``yuv444p`` is ``(3, height, width)`` (Y, U, V planes); ``yuv420p`` is ``(height * 3 // 2, width)`` — the Y
    plane's rows, then U and V (each ``width/2`` × ``height/2``) packed two half-rows per row, as OpenCV's
    ``COLOR_YUV2RGB_I420`` expects — and needs an even width and height.
    """
    if pix_fmt not in PIX_FMTS:
        raise ValueError(f"unsupported pix_fmt {pix_fmt!r}; one of {', '.join(PIX_FMTS)}")
    if width <= 0 or height <= 0:
        raise ValueError(f"frame size must be positive, got {width}x{height}")
    channels, depth = PIX_FMTS[pix_fmt]
    dtype = "<u2" if depth == 2 else "u1"
    if pix_fmt == "yuv420p":
        if width % 2 or height % 2:
            raise ValueError(f"yuv420p frames need an even width and height, got {width}x{height}")
        shape: tuple[int, ...] = (height * 3 // 2, width)
    elif pix_fmt == "yuv444p":
        shape = (3, height, width)
    elif channels is None:
        shape = (height, width)
    else:
        shape = (height, width, channels)
    n = 1
    for dim in shape:
        n *= dim
    return FrameLayout(pix_fmt, width, height, shape, dtype, n * depth)


def _even_rescale(a: int, b: int, c: int) -> int:
    """``round(a * b / c)`` as ``av_rescale`` does it (half away from zero)."""
    return (2 * a * b + c) // (2 * c)


def _resolve_size(size: tuple[int, int] | None, src_w: int, src_h: int) -> tuple[int, int]:
    """The output size: the source's, or ``size`` with at most one ``-1`` (keep the aspect ratio, like ``scale``)."""
    if size is None:
        return src_w, src_h
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"size must be (width, height), got {size!r}") from None
    if w == -1 and h == -1:
        return src_w, src_h
    if w == -1:
        w = max(1, _even_rescale(h, src_w, src_h))
    elif h == -1:
        h = max(1, _even_rescale(w, src_h, src_w))
    if w <= 0 or h <= 0:
        raise ValueError(f"size must be positive (or -1 for one side), got {size!r}")
    return w, h


class _LinkedToken(CancelToken):
    """Cancelled by :meth:`cancel` (the frame reader/writer stopping the job) or by the caller's own token."""

    def __init__(self, outer: CancelToken | None) -> None:
        super().__init__()
        self.outer = outer
        self._own = threading.Event()

    def cancel(self) -> None:
        self._own.set()
        super().cancel()

    @property
    def cancelled(self) -> bool:
        return self._own.is_set() or (self.outer is not None and self.outer.cancelled)

    @property
    def internal(self) -> bool:
        """True if the frame reader/writer (not the caller's token) cancelled."""
        return self._own.is_set()


class _PipeJob:
    """One process job in a background thread, with one pipe to it.

    Holds no reference to the reader/writer object that owns it, so dropping that object (garbage collection)
    can stop the job. When the thread ends it closes the guest's end of the pipe, which wakes the host side.
    """

    def __init__(
        self,
        runtime: Runtime,
        job: dict[str, Any],
        pipe: Pipe,
        name: str,
        *,
        guest_writes: bool,
        cancel: CancelToken | None,
        run_kw: dict[str, Any],
    ) -> None:
        self.runtime = runtime
        self.job = job
        self.pipe = pipe
        self.name = name
        self.guest_writes = guest_writes
        self.token = _LinkedToken(cancel)
        self.run_kw = run_kw
        self.result: ProcessResult | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="afmpeg-frames-job", daemon=True)

    def _run(self) -> None:
        device = self.pipe.guest_writer() if self.guest_writes else self.pipe.guest_reader()
        try:
            self.result = self.runtime.run(self.job, devices={self.name: device}, cancel=self.token, **self.run_kw)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            self.error = exc
        finally:
            if self.guest_writes:
                self.pipe.close_write()  # EOF for the reader, whether or not the guest opened the device
            else:
                self.pipe.close_read()

    def start(self) -> None:
        self.thread.start()

    @property
    def done(self) -> bool:
        return not self.thread.is_alive()

    def stop(self) -> None:
        """Cancel the job and wait for its thread. The pipe is aborted, not closed: a guest blocked on it wakes
        at once with an error, never a clean EOF it could finish (and publish) on; the cancel token ends it if it
        is busy elsewhere."""
        self.token.cancel()
        self.pipe.abort()
        if self.thread.ident is not None and self.thread is not threading.current_thread():
            self.thread.join(STOP_TIMEOUT)
            if self.thread.is_alive():  # never seen; better an error than a hang
                raise AfmpegError(f"the frames job did not stop within {STOP_TIMEOUT} s")

    def raise_error(self) -> None:
        """Re-raise the job's failure in the caller's thread (not a cancellation the owner asked for)."""
        err = self.error
        if err is None:
            return
        if isinstance(err, Cancelled) and self.token.internal:
            return
        raise err


def _probe(runtime: Runtime, path: str, fs: Any, root: str | None, entry: dict[str, Any], kw: dict[str, Any]) -> Any:
    """The probed input (raising its error, classified like a job's, when it cannot be opened)."""
    job = {"op": "probe", "version": 9, "inputs": [entry]}
    info = ProbeResult.from_dict(runtime.call(job, fs=fs, root=root, **kw)).inputs[0]
    if info.error is not None:  # the engine's message names the path
        kind = getattr(info, "error_kind", None) or info.extra.get("error_kind")
        details = {"error": info.error, "kind": kind, "field": "inputs[0]"}
        raise error_for_exit(1, info.error, job=job, details=details)
    return info


class _StreamReader:
    """Shared iterator machinery of :class:`FrameReader` and :class:`AudioReader`."""

    _job: _PipeJob | None = None
    _closed = False

    def _setup(
        self,
        runtime: Runtime,
        job: dict[str, Any],
        chunk_bytes: int,
        capacity: int,
        cancel: CancelToken | None,
        run_kw: dict[str, Any],
    ) -> None:
        self.runtime = runtime
        self.job = job
        self.chunk_bytes = chunk_bytes
        #: the bounded pipe the engine writes into (``pipe.capacity``, ``pipe.max_fill`` show the buffering)
        self.pipe = Pipe(capacity)
        self._cancel = cancel
        self._run_kw = run_kw
        #: the job's :class:`~afmpeg.ProcessResult` once every chunk was read
        self.result: ProcessResult | None = None

    def _start(self) -> _PipeJob:
        if self._job is None:
            name = "out0"
            self.job["outputs"][0]["path"] = device_path(name)
            self._job = _PipeJob(
                self.runtime, self.job, self.pipe, name, guest_writes=True, cancel=self._cancel, run_kw=self._run_kw
            )
            self._job.start()
        return self._job

    def _next_chunk(self, partial_ok: bool) -> bytearray:
        if self._closed:
            raise StopIteration
        job = self._start()
        try:
            buf = self.pipe.read_exact(self.chunk_bytes)
        except BaseException:
            self.close()  # e.g. KeyboardInterrupt while waiting
            raise
        if len(buf) == self.chunk_bytes or (partial_ok and buf):
            return buf
        # EOF: the job ended; its outcome decides
        job.thread.join()
        self._closed = True
        job.raise_error()
        if buf:
            raise AfmpegError(f"the engine's output ended inside a frame ({len(buf)} of {self.chunk_bytes} bytes)")
        self.result = job.result
        raise StopIteration

    def close(self) -> None:
        """Stop the job if it still runs (the rest of the video is not decoded) and wait for it. Idempotent."""
        self._closed = True
        if self._job is not None:
            self._job.stop()  # a no-op wait when the job already ended

    def __iter__(self) -> Self:
        return self

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - never raise from a finaliser
            pass


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
        runtime: Runtime,
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
        self._setup(runtime, job, layout.nbytes, capacity, cancel, run_kw)

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


class AudioReader(_StreamReader):
    """An iterator of decoded audio chunks (see :func:`read_audio`): arrays of shape ``(samples, channels)``.

    Attributes: ``sample_rate``, ``channels``, ``sample_fmt``, ``chunk_samples``, ``samples`` (read so far),
    ``source``, ``pipe``, ``result`` — as for :class:`FrameReader`.
    """

    def __init__(
        self,
        runtime: Runtime,
        job: dict[str, Any],
        *,
        sample_rate: int,
        channels: int,
        sample_fmt: str,
        chunk_samples: int,
        source: Any,
        cancel: CancelToken | None,
        run_kw: dict[str, Any],
    ) -> None:
        self.sample_rate = sample_rate
        self.channels = channels
        self.sample_fmt = sample_fmt
        self.chunk_samples = chunk_samples
        self.source = source
        self.samples = 0
        self._np = _numpy()
        self._dtype = _SAMPLE_FMTS[sample_fmt][3]
        self._frame_bytes = channels * _SAMPLE_FMTS[sample_fmt][4]
        chunk = chunk_samples * self._frame_bytes
        self._setup(runtime, job, chunk, max(2 * chunk, MIN_PIPE_BYTES), cancel, run_kw)

    def __next__(self) -> Any:
        buf = self._next_chunk(partial_ok=True)
        if len(buf) % self._frame_bytes:
            self.close()
            raise AfmpegError("the engine's audio output ended inside a sample")
        arr = self._np.frombuffer(buf, dtype=self._dtype).reshape(-1, self.channels)
        self.samples += arr.shape[0]
        return arr

    def __repr__(self) -> str:
        return f"AudioReader({self.sample_rate} Hz x{self.channels} {self.sample_fmt}, samples={self.samples})"


def _input_entry(path: str, input_format: str | None, input_options: Mapping[str, str] | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"path": path}
    if input_format is not None:
        entry["format"] = input_format
    if input_options:
        entry["options"] = dict(input_options)
    return entry


def _window(job: dict[str, Any], start: float | None, duration: float | None, accurate: bool) -> None:
    if start is not None:
        job["inputs"][0]["seek"] = {"start": float(start), "mode": "accurate" if accurate else "fast"}
    if duration is not None:
        job["outputs"][0]["duration"] = float(duration)


def _run_kw(fs: Any, root: str | None, memory_limit: Any, time_limit: Any, progress: Any) -> dict[str, Any]:
    return {"fs": fs, "root": root, "memory_limit": memory_limit, "time_limit": time_limit, "progress": progress}


def read_frames(
    src: str | os.PathLike[str] | bytes,
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
        src: a path on ``fs`` (default: the runtime's filesystem), or the media as bytes.
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
        runtime: the :class:`~afmpeg.Runtime` to use (default: a shared one made on first use).
        fs, root: the filesystem ``src`` is on (as for :meth:`Runtime.run`).
        memory_limit, time_limit, cancel: as for :meth:`Runtime.run`. ``time_limit`` counts wall time, including
            the time the loop body spends on each frame (the engine waits for it).
        progress: a progress callback, as for :meth:`Runtime.run`.

    Returns:
        A :class:`FrameReader`: iterate it (``for frame in afmpeg.read_frames("in.mp4"): ...``). Arrays are
        writable and independent of each other. The source is probed first (for its size); the decode job starts
        at the first frame requested. Breaking out of the loop stops the job; a job failure (unreadable input, a
        bad filter, a limit) is raised from the loop, after the frames decoded before it.
    """
    rt = _runtime(runtime)
    path, fs = _source(src, fs)
    if not isinstance(buffer_frames, int) or buffer_frames < 1:
        raise ValueError("buffer_frames must be a positive integer")
    if as_pil and pix_fmt not in _PIL_MODES:
        raise ValueError(f"as_pil supports pix_fmt {', '.join(_PIL_MODES)}; got {pix_fmt!r}")
    if pix_fmt not in PIX_FMTS:
        raise ValueError(f"unsupported pix_fmt {pix_fmt!r}; one of {', '.join(PIX_FMTS)}")
    if as_pil:
        _pil_image()
    else:
        _numpy()
    entry = _input_entry(path, input_format, input_options)
    info = _probe(rt, path, fs, root, entry, {"memory_limit": memory_limit, "time_limit": time_limit, "cancel": cancel})
    video = info.video
    if video is None or not video.width or not video.height:
        raise ProcessingError(f"{path}: no video stream with a known size", job={"inputs": [entry]})
    width, height = _resolve_size(size, int(video.width), int(video.height))
    layout = frame_layout(pix_fmt, width, height)
    chain = [vf] if vf else []
    if fps is not None:
        chain.append(f"fps=fps={_rate(fps)}")
    chain.append(f"scale={width}:{height}:flags={scale_flags}")
    chain.append(f"format={pix_fmt}")
    job: dict[str, Any] = {
        "op": "process",
        "version": 9,
        "inputs": [entry],
        "filter": f"[0:v]{','.join(chain)}[v]",
        "outputs": [{"path": "", "format": "rawvideo", "map": ["[v]"], "video_codec": "rawvideo"}],
    }
    _window(job, start, duration, accurate_seek)
    out_fps = float(Fraction(_rate(fps))) if fps is not None else video.frame_rate
    return FrameReader(
        rt,
        job,
        layout,
        fps=out_fps,
        source=info,
        as_pil=as_pil,
        buffer_frames=buffer_frames,
        cancel=cancel,
        run_kw=_run_kw(fs, root, memory_limit, time_limit, progress),
    )


def read_audio(
    src: str | os.PathLike[str] | bytes,
    *,
    sample_rate: int | None = None,
    channels: int | None = None,
    sample_fmt: str = "f32",
    chunk_samples: int = 4096,
    start: float | None = None,
    duration: float | None = None,
    accurate_seek: bool = True,
    af: str | None = None,
    input_format: str | None = None,
    input_options: Mapping[str, str] | None = None,
    runtime: Runtime | None = None,
    fs: Any = None,
    root: str | None = None,
    memory_limit: int | None = UNSET,
    time_limit: float | None = UNSET,
    cancel: CancelToken | None = None,
) -> AudioReader:
    """Decode the first audio stream of ``src`` and yield chunks of interleaved samples as they are decoded.

    Each chunk is a NumPy array of shape ``(chunk_samples, channels)`` (the last one may be shorter), dtype
    ``float32`` for ``sample_fmt="f32"`` (-1.0 to 1.0) or ``int16`` for ``"s16"``. ``sample_rate`` and
    ``channels`` default to the source's (resampled / remixed otherwise). ``af`` is an audio filter chain applied
    first. Other arguments as for :func:`read_frames`.
    """
    rt = _runtime(runtime)
    path, fs = _source(src, fs)
    if sample_fmt not in _SAMPLE_FMTS:
        raise ValueError(f"sample_fmt must be one of {', '.join(_SAMPLE_FMTS)}, got {sample_fmt!r}")
    if not isinstance(chunk_samples, int) or chunk_samples < 1:
        raise ValueError("chunk_samples must be a positive integer")
    _numpy()
    entry = _input_entry(path, input_format, input_options)
    info = _probe(rt, path, fs, root, entry, {"memory_limit": memory_limit, "time_limit": time_limit, "cancel": cancel})
    audio = info.audio
    if audio is None:
        raise ProcessingError(f"{path}: no audio stream", job={"inputs": [entry]})
    rate = int(sample_rate or audio.sample_rate or 0)
    nch = int(channels or audio.channels or 0)
    if rate <= 0 or nch <= 0:
        raise ProcessingError(f"{path}: the audio stream's sample rate or channel count is unknown; pass them")
    muxer, codec, fmt, _, _ = _SAMPLE_FMTS[sample_fmt]
    chain = [af] if af else []
    chain.append(f"aresample={rate}")
    chain.append(f"aformat=sample_fmts={fmt}:channel_layouts={nch}c")
    job: dict[str, Any] = {
        "op": "process",
        "version": 9,
        "inputs": [entry],
        "filter": f"[0:a]{','.join(chain)}[a]",
        "outputs": [{"path": "", "format": muxer, "map": ["[a]"], "audio_codec": codec}],
    }
    _window(job, start, duration, accurate_seek)
    return AudioReader(
        rt,
        job,
        sample_rate=rate,
        channels=nch,
        sample_fmt=sample_fmt,
        chunk_samples=chunk_samples,
        source=info,
        cancel=cancel,
        run_kw=_run_kw(fs, root, memory_limit, time_limit, None),
    )


# ---------------------------------------------------------------------------------------------------- writing


def _array_pix_fmt(arr: Any, np: Any) -> str:
    """The raw pixel format an array's shape and dtype imply."""
    if arr.dtype == np.uint8:
        by_channels = {1: "gray", 3: "rgb24", 4: "rgba"}
    elif arr.dtype == np.uint16:
        by_channels = {1: "gray16le", 3: "rgb48le", 4: "rgba64le"}
    else:
        raise TypeError(f"frames must be uint8 or uint16 arrays, got dtype {arr.dtype} (convert first, e.g. "
                        "(a * 255).clip(0, 255).astype('uint8'))")
    channels = 1 if arr.ndim == 2 else (arr.shape[2] if arr.ndim == 3 else 0)
    if channels not in by_channels:
        raise ValueError(f"frames must be H×W, H×W×1, H×W×3 or H×W×4 arrays, got shape {arr.shape}")
    return by_channels[channels]


class _FrameEncoder:
    """Turns each produced frame into raw bytes of one fixed layout (set by the first frame)."""

    def __init__(self, in_pix_fmt: str | None) -> None:
        self.in_pix_fmt = in_pix_fmt
        self.layout: FrameLayout | None = None
        self.count = 0

    def _pil_bytes(self, img: Any) -> tuple[bytes, str, int, int]:
        mode = img.mode
        if mode == "I;16":
            fmt = "gray16le"
        else:
            fmt = {"RGB": "rgb24", "RGBA": "rgba", "L": "gray"}.get(mode, "")
            if not fmt:
                img = img.convert("RGBA" if "A" in mode or "transparency" in img.info else "RGB")
                fmt = "rgba" if img.mode == "RGBA" else "rgb24"
        return img.tobytes(), fmt, img.width, img.height

    def encode(self, frame: Any) -> memoryview | bytes:
        index = self.count
        if hasattr(frame, "tobytes") and hasattr(frame, "mode") and hasattr(frame, "size"):  # a PIL image
            data, fmt, width, height = self._pil_bytes(frame)
            fmt = self.in_pix_fmt or fmt
            out: memoryview | bytes = data
        else:
            np = _numpy()
            arr = np.asarray(frame)
            fmt = self.in_pix_fmt or _array_pix_fmt(arr, np)
            if fmt == "yuv420p" and arr.ndim == 2:  # (H*3/2, W): Y rows, then U and V
                height, width = int(arr.shape[0]) * 2 // 3, int(arr.shape[1])
            elif fmt == "yuv444p" and arr.ndim == 3:  # (3, H, W): Y, U, V planes
                height, width = int(arr.shape[1]), int(arr.shape[2])
            elif arr.ndim in (2, 3):
                height, width = int(arr.shape[0]), int(arr.shape[1])
            else:
                raise ValueError(f"frame {index}: expected an image array, got shape {arr.shape}")
            if arr.dtype.byteorder == ">":
                arr = arr.astype(arr.dtype.newbyteorder("<"))
            out = memoryview(np.ascontiguousarray(arr)).cast("B")
        if self.layout is None:
            self.layout = frame_layout(fmt, width, height)
        lay = self.layout
        if (fmt, width, height) != (lay.pix_fmt, lay.width, lay.height) or len(out) != lay.nbytes:
            raise ValueError(
                f"frame {index} is {width}x{height} {fmt} ({len(out)} bytes); the first frame set "
                f"{lay.width}x{lay.height} {lay.pix_fmt} ({lay.nbytes} bytes)"
            )
        self.count += 1
        return out


def write_frames(
    dst: str | os.PathLike[str],
    frames: Iterable[Any],
    *,
    fps: float | str | Fraction,
    codec: str | None = "libopenh264",
    pix_fmt: str | None = "yuv420p",
    size: tuple[int, int] | None = None,
    in_pix_fmt: str | None = None,
    options: Mapping[str, str] | None = None,
    format: str | None = None,
    format_options: Mapping[str, str] | None = None,
    vf: str | None = None,
    scale_flags: str = "bicubic",
    audio: str | None = None,
    audio_codec: str | None = None,
    duration: float | None = None,
    metadata: Mapping[str, str] | None = None,
    buffer_frames: int = DEFAULT_BUFFER_FRAMES,
    runtime: Runtime | None = None,
    fs: Any = None,
    root: str | None = None,
    memory_limit: int | None = UNSET,
    time_limit: float | None = UNSET,
    output_limit: int | None = UNSET,
    cancel: CancelToken | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> ProcessResult:
    """Encode an iterator of frames (NumPy arrays or PIL images) into the video file ``dst``, streaming.

    The frames are consumed one at a time in the calling thread and handed to the engine through a bounded pipe:
    a long or endless generator never sits in memory, and a slow encoder makes the producer wait.

    Args:
        dst: the output path on ``fs`` (default: the runtime's filesystem). Published only if the job succeeds.
        frames: arrays of ``uint8`` (``H×W`` gray, ``H×W×3`` RGB, ``H×W×4`` RGBA) or ``uint16`` (gray16 / RGB48 /
            RGBA64), or PIL images (RGB, RGBA, L, I;16; other modes are converted to RGB/RGBA). The first frame
            fixes the size and format; every later one must match.
        fps: the frame rate (``30``, ``"30000/1001"``, ``Fraction(24000, 1001)``).
        codec: the video encoder (default ``"libopenh264"``; e.g. ``"mpeg4"``, ``"png"``, ``"rawvideo"``,
            ``None`` for the muxer's default).
        pix_fmt: the encoded pixel format (default ``"yuv420p"``; ``None`` lets the encoder choose).
        size: ``(width, height)`` to scale to (default: the frames' size).
        in_pix_fmt: the arrays' pixel format when it is not the one implied (``"bgr24"`` for OpenCV images,
            ``"bgra"``, ``"yuv420p"``, ...).
        options: encoder options (``{"b": "2M", "g": "60"}``); ``format``/``format_options``: the muxer.
        vf: a video filter chain applied before scaling; ``scale_flags``: swscale flags of the conversion.
        audio: the path of a media file on ``fs`` whose first audio stream is added (encoded with
            ``audio_codec``, default the muxer's). It plays to its end unless ``duration`` cuts the output.
        duration: cut the output at this many seconds.
        metadata: container tags.
        buffer_frames: frames the pipe holds (at least 64 KiB).
        runtime, fs, root, memory_limit, time_limit, output_limit, cancel, progress: as for :meth:`Runtime.run`.

    Returns:
        The job's :class:`~afmpeg.ProcessResult`.

    Raises:
        Whatever the frames iterator raises (the job is cancelled first and nothing is written); the job's
        error (:class:`~afmpeg.ProcessingError`, limits, :class:`~afmpeg.Cancelled`, ...);
        ``ValueError``/``TypeError`` for a frame of the wrong kind, size or format (the job is cancelled).
    """
    rt = _runtime(runtime)
    path = os.fspath(dst)
    rate = _rate(fps)
    if not isinstance(buffer_frames, int) or buffer_frames < 1:
        raise ValueError("buffer_frames must be a positive integer")
    encoder = _FrameEncoder(in_pix_fmt)
    it = iter(frames)
    try:
        first = next(it)
    except StopIteration:
        raise ValueError("write_frames needs at least one frame") from None
    first_bytes = encoder.encode(first)
    layout = encoder.layout
    assert layout is not None
    chain = [vf] if vf else []
    if size is not None:
        w, h = _resolve_size(size, layout.width, layout.height)
        chain.append(f"scale={w}:{h}:flags={scale_flags}")
    if pix_fmt is not None:
        if size is None:
            chain.append(f"scale=flags={scale_flags}")  # the conversion's flags (a no-op scale otherwise)
        chain.append(f"format={pix_fmt}")
    name = "in0"
    video_in = {
        "path": device_path(name),
        "format": "rawvideo",
        "options": {"video_size": f"{layout.width}x{layout.height}", "pixel_format": layout.pix_fmt, "framerate": rate},
    }
    graph = f"[0:v]{','.join(chain) or 'null'}[v]"
    output: dict[str, Any] = {"path": path, "map": ["[v]"]}
    inputs: list[dict[str, Any]] = [video_in]
    if audio is not None:
        inputs.append({"path": os.fspath(audio)})
        graph += ";[1:a]anull[a]"
        output["map"].append("[a]")
        if audio_codec is not None:
            output["audio_codec"] = audio_codec
    if codec is not None:
        output["video_codec"] = codec
    if options:
        output["options"] = dict(options)
    if format is not None:
        output["format"] = format
    if format_options:
        output["format_options"] = dict(format_options)
    if duration is not None:
        output["duration"] = float(duration)
    if metadata:
        output["metadata"] = dict(metadata)
    job = {"op": "process", "version": 9, "inputs": inputs, "filter": graph, "outputs": [output]}
    pipe = Pipe(max(buffer_frames * layout.nbytes, MIN_PIPE_BYTES))
    run_kw = _run_kw(fs, root, memory_limit, time_limit, progress)
    run_kw["output_limit"] = output_limit
    pj = _PipeJob(rt, job, pipe, name, guest_writes=False, cancel=cancel, run_kw=run_kw)
    pj.start()
    end = object()
    try:
        data: memoryview | bytes | None = first_bytes
        while data is not None:
            try:
                pipe.write_all(data)
            except BrokenPipeError:
                break  # the job stopped reading: it ended (its outcome is below)
            frame = next(it, end)  # one frame at a time: the producer runs only as fast as the engine reads
            data = None if frame is end else encoder.encode(frame)
    except BaseException:
        pj.stop()  # cancelled before EOF reaches the engine: nothing is published
        raise
    pipe.close_write()  # EOF: the engine finishes the file
    try:
        pj.thread.join()
    except BaseException:  # e.g. Ctrl-C while the engine finishes
        pj.stop()
        raise
    pj.raise_error()
    if pj.result is None:  # pragma: no cover - the thread always sets one of result / error
        raise AfmpegError("the write_frames job ended without a result")
    return pj.result
