"""The iterator machinery shared by the frame and audio readers: start the job, read fixed-size chunks, stop."""

from __future__ import annotations

from typing import Any, Self

from ..errors import AfmpegError
from ..limits import CancelToken
from ..results import ProcessResult
from ..sources import Files
from ..wasi.pipes import Pipe, device_path
from ._pipe_job import _PipeJob


class _StreamReader:
    """Shared iterator machinery of :class:`FrameReader` and :class:`AudioReader`."""

    _job: _PipeJob | None = None
    _closed = False

    def _setup(
        self,
        files: Files,
        job: dict[str, Any],
        chunk_bytes: int,
        capacity: int,
        cancel: CancelToken | None,
        run_kw: dict[str, Any],
    ) -> None:
        self._files = files
        self.runtime = files.runtime
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
                self._files, self.job, self.pipe, name, guest_writes=True, cancel=self._cancel, run_kw=self._run_kw
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
