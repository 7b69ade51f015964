"""One process job in a background thread with one bounded pipe to it, its cancel token and the pipe sizes."""

from __future__ import annotations

import threading
from typing import Any

from ..errors import AfmpegError, Cancelled
from ..limits import CancelToken, LinkedToken
from ..results import ProcessResult
from ..sources import Files
from ..wasi.pipes import Pipe

#: Frames the pipe between engine and Python holds by default.
DEFAULT_BUFFER_FRAMES = 2
#: How long stopping a job may take before it is reported as stuck (it normally takes milliseconds).
STOP_TIMEOUT = 30.0
#: Smallest pipe capacity (tiny frames would otherwise turn each engine write into many host calls).
MIN_PIPE_BYTES = 64 * 1024


class _PipeJob:
    """One process job in a background thread, with one pipe to it, run on the filesystem of the call's ``files``.

    Holds no reference to the reader/writer object that owns it, so dropping that object (garbage collection)
    can stop the job. When the thread ends it closes the guest's end of the pipe, which wakes the host side.
    """

    def __init__(
        self,
        files: Files,
        job: dict[str, Any],
        pipe: Pipe,
        name: str,
        *,
        guest_writes: bool,
        cancel: CancelToken | None,
        run_kw: dict[str, Any],
    ) -> None:
        self.files = files
        self.job = job
        self.pipe = pipe
        self.name = name
        self.guest_writes = guest_writes
        self.token = LinkedToken(cancel)
        self.run_kw = run_kw
        self.result: ProcessResult | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="afmpeg-frames-job", daemon=True)

    def _run(self) -> None:
        device = self.pipe.guest_writer() if self.guest_writes else self.pipe.guest_reader()
        try:
            # the files' run: on the call's filesystem, its errors naming the files as the caller did
            self.result = self.files.run(self.job, devices={self.name: device}, cancel=self.token, **self.run_kw)
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
        if isinstance(err, Cancelled) and self.token.cancelled_here:
            return
        raise err
