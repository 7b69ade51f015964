""":func:`write_frames`: an iterator of frames encoded into a video file, streamed through a bounded pipe."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from fractions import Fraction
from typing import Any

from ..errors import AfmpegError
from ..job import VOCAB_VERSION
from ..limits import CancelToken
from ..progress import Progress
from ..results import ProcessResult
from ..runtime import UNSET, Runtime
from ..sources import Files, Source, Target
from ..wasi.pipes import Pipe, device_path
from ._arguments import _buffer_frames, _rate
from ._frame_encoder import _FrameEncoder
from ._jobs import _run_kw
from ._layout import _resolve_size
from ._pipe_job import DEFAULT_BUFFER_FRAMES, MIN_PIPE_BYTES, _PipeJob


def write_frames(
    dst: Target,
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
    audio: Source | None = None,
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
        dst: the output file, in any form the helpers take (see :mod:`afmpeg.helpers`): a path (on ``fs=``, else
            on the ``runtime=``'s filesystem, else a local file relative to the working directory), a
            :class:`pathlib.Path` (always local), an fsspec URL or a ``(filesystem, path)`` pair. Published only if
            the job succeeds.
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
        audio: a media file whose first audio stream is added (encoded with ``audio_codec``, default the
            muxer's), in any form ``src`` of :func:`read_frames` takes (bytes too). It plays to its end unless
            ``duration`` cuts the output.
        duration: cut the output at this many seconds.
        metadata: container tags.
        buffer_frames: frames the pipe holds (at least 64 KiB).
        runtime: the :class:`~afmpeg.Runtime` to use (default: :func:`~afmpeg.default_runtime`).
        fs, root: the filesystem (and directory in it) a path string names a file on, as for the helpers.
        memory_limit, time_limit, output_limit, cancel, progress: as for :meth:`Runtime.run`.

    Returns:
        The job's :class:`~afmpeg.ProcessResult`, its output named as ``dst`` was.

    Raises:
        Whatever the frames iterator raises (the job is cancelled first and nothing is written); the job's
        error (:class:`~afmpeg.ProcessingError`, limits, :class:`~afmpeg.Cancelled`, ...), naming the files as
        they were given;
        ``ValueError``/``TypeError`` for a frame of the wrong kind, size or format (the job is cancelled).
    """
    rate = _rate(fps)
    buffer_frames = _buffer_frames(buffer_frames)
    files = Files(runtime, fs, root)
    dst_loc = files.add_output(dst)
    audio_loc = files.add_input(audio) if audio is not None else None
    files.prepare()
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
    output: dict[str, Any] = {"path": dst_loc.guest, "map": ["[v]"]}
    inputs: list[dict[str, Any]] = [video_in]
    if audio_loc is not None:
        inputs.append({"path": audio_loc.guest})
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
    job = {"op": "process", "version": VOCAB_VERSION, "inputs": inputs, "filter": graph, "outputs": [output]}
    pipe = Pipe(max(buffer_frames * layout.nbytes, MIN_PIPE_BYTES))
    run_kw = _run_kw(memory_limit, time_limit, progress)
    run_kw["output_limit"] = output_limit
    pj = _PipeJob(files, job, pipe, name, guest_writes=False, cancel=cancel, run_kw=run_kw)
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
    return files.finish(pj.result)  # a staged output is published now, after the job succeeded
