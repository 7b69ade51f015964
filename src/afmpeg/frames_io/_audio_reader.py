""":func:`read_audio` and its :class:`AudioReader`: an audio stream decoded into NumPy arrays of samples."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import AfmpegError, ProcessingError
from ..job import VOCAB_VERSION
from ..limits import CancelToken
from ..runtime import UNSET, Runtime
from ..sources import Files, Source
from ._jobs import _input_entry, _probe_keys, _run_kw, _window
from ._optional import _numpy
from ._pipe_job import MIN_PIPE_BYTES
from ._stream_reader import _StreamReader

_SAMPLE_FMTS = {"f32": ("f32le", "pcm_f32le", "flt", "<f4", 4), "s16": ("s16le", "pcm_s16le", "s16", "<i2", 2)}


class AudioReader(_StreamReader):
    """An iterator of decoded audio chunks (see :func:`read_audio`): arrays of shape ``(samples, channels)``.

    Attributes: ``sample_rate``, ``channels``, ``sample_fmt``, ``chunk_samples``, ``samples`` (read so far),
    ``source``, ``pipe``, ``result`` — as for :class:`FrameReader`.
    """

    def __init__(
        self,
        files: Files,
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
        self._setup(files, job, chunk, max(2 * chunk, MIN_PIPE_BYTES), cancel, run_kw)

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


def read_audio(
    src: Source,
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
    first. ``src`` is the media file in any form the helpers take (a path, a :class:`pathlib.Path`, an fsspec URL,
    a ``(filesystem, path)`` pair or bytes; see :func:`read_frames`). Other arguments as for :func:`read_frames`.
    """
    if sample_fmt not in _SAMPLE_FMTS:
        raise ValueError(f"sample_fmt must be one of {', '.join(_SAMPLE_FMTS)}, got {sample_fmt!r}")
    if not isinstance(chunk_samples, int) or chunk_samples < 1:
        raise ValueError("chunk_samples must be a positive integer")
    _numpy()
    files = Files(runtime, fs, root)
    loc = files.add_input(src)
    files.prepare()
    limits = {"memory_limit": memory_limit, "time_limit": time_limit, "cancel": cancel}
    info = files.probe(loc, limits, **_probe_keys(input_format, input_options))
    entry = _input_entry(loc.guest, input_format, input_options)
    audio = info.audio
    if audio is None:
        raise ProcessingError(f"{loc.display}: no audio stream", job={"inputs": [entry]})
    rate = int(sample_rate or audio.sample_rate or 0)
    nch = int(channels or audio.channels or 0)
    if rate <= 0 or nch <= 0:
        raise ProcessingError(f"{loc.display}: the audio stream's sample rate or channel count is unknown; pass them")
    muxer, codec, fmt, _, _ = _SAMPLE_FMTS[sample_fmt]
    chain = [af] if af else []
    chain.append(f"aresample={rate}")
    chain.append(f"aformat=sample_fmts={fmt}:channel_layouts={nch}c")
    job: dict[str, Any] = {
        "op": "process",
        "version": VOCAB_VERSION,
        "inputs": [entry],
        "filter": f"[0:a]{','.join(chain)}[a]",
        "outputs": [{"path": "", "format": muxer, "map": ["[a]"], "audio_codec": codec}],
    }
    _window(job, start, duration, accurate_seek)
    return AudioReader(
        files,
        job,
        sample_rate=rate,
        channels=nch,
        sample_fmt=sample_fmt,
        chunk_samples=chunk_samples,
        source=info,
        cancel=cancel,
        run_kw=_run_kw(memory_limit, time_limit, None),
    )
