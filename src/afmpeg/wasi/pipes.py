"""Bounded byte pipes between a host thread and the guest, served as stream devices under ``/dev``.

A :class:`Pipe` holds at most ``capacity`` bytes. The writer blocks while it is full and the reader while it is
empty (back-pressure: a fast producer waits for a slow consumer, so memory stays bounded). Either side may close
its end: the reader then sees EOF once the buffer is drained, the writer gets ``BrokenPipeError``.

The guest sees one end of a pipe as a character device, ``/dev/afmpeg-pipe-NAME`` (the only names under ``/dev``
the engine accepts as job inputs and outputs). Pass ``{NAME: pipe.guest_reader()}`` or ``{NAME:
pipe.guest_writer()}`` as ``devices=`` to :meth:`afmpeg.Runtime.run`; the host thread uses the other end
(:meth:`Pipe.write_all`, :meth:`Pipe.read_exact`, ...). The guest's blocked reads and writes poll the job's stop
condition (time limit, cancel token), so limits and cancellation work while it waits.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping

from . import constants as c
from .errors import WasiError
from .handles import Handle, Stat

__all__ = ["Pipe", "PipeStopped", "DEVICE_PREFIX", "device_path", "dev_entries", "DeviceFactory"]

#: Stream devices live at ``/dev/afmpeg-pipe-NAME`` (the engine refuses every other ``/dev`` path).
DEVICE_PREFIX = "afmpeg-pipe-"
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")

#: How often a blocked side re-checks its stop condition, in seconds.
POLL_SECONDS = 0.05

#: What ``devices=`` maps a device name to: called with the job's stop check each time the guest opens the device.
DeviceFactory = Callable[[Callable[[], bool]], Handle]


def device_path(name: str) -> str:
    """The guest path of stream device ``name`` (``"out0"`` → ``"/dev/afmpeg-pipe-out0"``)."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"stream device names are 1-64 characters of [A-Za-z0-9_-], got {name!r}")
    return f"/dev/{DEVICE_PREFIX}{name}"


def dev_entries(devices: Mapping[str, DeviceFactory] | None) -> dict[str, DeviceFactory]:
    """The ``/dev`` entries for ``devices`` (``{NAME: factory}``): ``{"afmpeg-pipe-NAME": factory}``, names
    checked."""
    out = {}
    for name, factory in (devices or {}).items():
        device_path(name)  # ValueError for a bad name
        if not callable(factory):
            raise TypeError(f"device {name!r}: expected a device factory such as Pipe.guest_reader()")
        out[DEVICE_PREFIX + name] = factory
    return out


class PipeStopped(Exception):
    """A blocked pipe operation gave up because its stop condition became true."""


_Bytes = bytes | bytearray | memoryview


def _never() -> bool:
    return False


class Pipe:
    """A bounded, thread-safe byte pipe with one reader and one writer.

    Attributes:
        capacity: the most bytes buffered at once.
        max_fill: the most bytes that were ever buffered (instrumentation: never above ``capacity``).
        bytes_written, bytes_read: totals so far.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a pipe needs a capacity of at least 1 byte")
        self.capacity = int(capacity)
        self._buf = bytearray()  # deleting from the front of a bytearray is O(1) in CPython
        self._cond = threading.Condition()
        self._write_closed = False
        self._read_closed = False
        self._aborted = False
        self.max_fill = 0
        self.bytes_written = 0
        self.bytes_read = 0

    def __repr__(self) -> str:
        return (
            f"Pipe(capacity={self.capacity}, buffered={len(self._buf)}, max_fill={self.max_fill}, "
            f"write_closed={self._write_closed}, read_closed={self._read_closed})"
        )

    @property
    def buffered(self) -> int:
        """Bytes currently in the pipe."""
        return len(self._buf)

    @property
    def write_closed(self) -> bool:
        """True once the writer closed its end (the reader gets EOF after the buffered bytes)."""
        return self._write_closed

    @property
    def read_closed(self) -> bool:
        """True once the reader closed its end (writes fail with ``BrokenPipeError``)."""
        return self._read_closed

    # ------------------------------------------------------------------ waiting

    def _wait(self, ready: Callable[[], bool], should_stop: Callable[[], bool], timeout: float | None) -> None:
        """Wait (holding the condition) until ``ready()``; poll ``should_stop`` meanwhile."""
        remaining = timeout
        while True:
            if self._aborted:
                raise PipeStopped
            if ready():
                return
            if should_stop():
                raise PipeStopped
            if remaining is not None:
                if remaining <= 0:
                    raise TimeoutError("pipe operation timed out")
                step = min(POLL_SECONDS, remaining)
                remaining -= step
            else:
                step = POLL_SECONDS
            self._cond.wait(step)

    # ------------------------------------------------------------------ writer side

    def write(
        self, data: _Bytes, should_stop: Callable[[], bool] = _never, timeout: float | None = None
    ) -> int:
        """Write some of ``data``: block until there is room for at least one byte, then copy what fits.

        Returns the number of bytes written (≥ 1 for non-empty data; a short write like a POSIX pipe). Raises
        ``BrokenPipeError`` if the reader closed its end (or the writer's own end is closed), :class:`PipeStopped`
        when ``should_stop()`` became true while waiting or the pipe was aborted, ``TimeoutError`` after
        ``timeout`` seconds.
        """
        if not data:
            return 0
        with self._cond:
            self._wait(
                lambda: self._read_closed or self._write_closed or len(self._buf) < self.capacity, should_stop, timeout
            )
            if self._read_closed or self._write_closed:
                raise BrokenPipeError("the pipe's reader is gone")
            room = self.capacity - len(self._buf)
            chunk = data[:room]
            self._buf += chunk
            self.bytes_written += len(chunk)
            if len(self._buf) > self.max_fill:
                self.max_fill = len(self._buf)
            self._cond.notify_all()
            return len(chunk)

    def write_all(
        self, data: _Bytes, should_stop: Callable[[], bool] = _never, timeout: float | None = None
    ) -> None:
        """Write all of ``data``, blocking as often as needed (``timeout`` applies to each wait)."""
        view = memoryview(data).cast("B")
        pos = 0
        while pos < len(view):
            pos += self.write(view[pos:], should_stop, timeout)

    def close_write(self) -> None:
        """Close the writing end: the reader gets EOF once it has drained the buffer. Idempotent."""
        with self._cond:
            self._write_closed = True
            self._cond.notify_all()

    # ------------------------------------------------------------------ reader side

    def readinto(
        self, view: memoryview, should_stop: Callable[[], bool] = _never, timeout: float | None = None
    ) -> int:
        """Fill up to ``len(view)`` bytes: block until at least one byte is buffered; 0 means EOF.

        Raises :class:`PipeStopped` / ``TimeoutError`` like :meth:`write`; reading after closing the read end
        gives EOF.
        """
        if not len(view):
            return 0
        with self._cond:
            self._wait(lambda: bool(self._buf) or self._write_closed or self._read_closed, should_stop, timeout)
            if self._read_closed:
                return 0
            n = min(len(view), len(self._buf))
            if n:
                with memoryview(self._buf) as mv:  # released before the bytearray is resized
                    view[:n] = mv[:n]
                del self._buf[:n]
                self.bytes_read += n
                self._cond.notify_all()
            return n

    def read_some(self, n: int, should_stop: Callable[[], bool] = _never, timeout: float | None = None) -> bytes:
        """Up to ``n`` bytes (at least one unless at EOF, which gives ``b""``)."""
        buf = bytearray(n)
        got = self.readinto(memoryview(buf), should_stop, timeout)
        del buf[got:]
        return bytes(buf)

    def read_exact(
        self, n: int, should_stop: Callable[[], bool] = _never, timeout: float | None = None
    ) -> bytearray:
        """Exactly ``n`` bytes, or fewer only at EOF (``len(result) < n`` means the writer closed; empty at a
        clean EOF). The result is a fresh ``bytearray`` (usable as a NumPy buffer without a copy)."""
        buf = bytearray(n)
        view = memoryview(buf)
        got = 0
        while got < n:
            k = self.readinto(view[got:], should_stop, timeout)
            if k == 0:
                break
            got += k
        view.release()
        if got < n:
            del buf[got:]
        return buf

    def close_read(self) -> None:
        """Close the reading end: buffered bytes are dropped and blocked or later writes fail. Idempotent."""
        with self._cond:
            self._read_closed = True
            self._buf.clear()
            self._cond.notify_all()

    def close(self) -> None:
        """Close both ends."""
        self.close_write()
        self.close_read()

    def abort(self) -> None:
        """Fail every blocked and later operation on either end with :class:`PipeStopped` (never a clean EOF):
        how a job that must not finish normally is cut off from its stream. Idempotent."""
        with self._cond:
            self._aborted = True
            self._write_closed = self._read_closed = True
            self._buf.clear()
            self._cond.notify_all()

    @property
    def aborted(self) -> bool:
        """True once :meth:`abort` was called."""
        return self._aborted

    # ------------------------------------------------------------------ guest devices

    def guest_reader(self) -> DeviceFactory:
        """A ``devices=`` entry through which the guest reads this pipe (the host writes to it)."""
        return _DeviceFactory(self, reader=True)

    def guest_writer(self) -> DeviceFactory:
        """A ``devices=`` entry through which the guest writes this pipe (the host reads from it)."""
        return _DeviceFactory(self, reader=False)


class _DeviceFactory:
    """Opens the guest's end of a pipe; a second open of the same device is ``EBUSY`` (one stream, one fd)."""

    def __init__(self, pipe: Pipe, *, reader: bool) -> None:
        self.pipe = pipe
        self.reader = reader
        self.opened = False

    def __call__(self, should_stop: Callable[[], bool]) -> Handle:
        if self.opened:
            raise WasiError(c.EBUSY)
        self.opened = True
        if self.reader:
            return PipeReadHandle(self.pipe, should_stop)
        return PipeWriteHandle(self.pipe, should_stop)


class _PipeHandle(Handle):
    """The guest's fd on a pipe: a non-seekable character device (``fd_seek``/``fd_tell`` give ``ESPIPE``)."""

    filetype = c.FILETYPE_CHARACTER_DEVICE

    def __init__(self, pipe: Pipe, should_stop: Callable[[], bool]) -> None:
        self.pipe = pipe
        self.should_stop = should_stop
        self.closed = False
        #: times the guest tried to seek or tell (each answered ``ESPIPE``): 0 when libav treats it as a stream
        self.seek_attempts = 0

    def seek(self, offset: int, whence: int) -> int:
        self.seek_attempts += 1
        raise WasiError(c.ESPIPE)

    def tell(self) -> int:
        self.seek_attempts += 1
        raise WasiError(c.ESPIPE)

    def stat(self) -> Stat:
        return Stat(c.FILETYPE_CHARACTER_DEVICE)


class PipeReadHandle(_PipeHandle):
    """The guest reads; blocks while the pipe is empty. Closing it breaks the host's writes."""

    readable = True

    def readinto(self, view: memoryview) -> int:
        try:
            return self.pipe.readinto(view, self.should_stop)
        except PipeStopped:
            raise WasiError(c.EPIPE) from None  # the job is being stopped; the runtime reports why

    def read(self, n: int) -> bytes:
        buf = bytearray(n)
        got = self.readinto(memoryview(buf))
        return bytes(buf[:got])

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.pipe.close_read()


class PipeWriteHandle(_PipeHandle):
    """The guest writes; blocks while the pipe is full (short writes). Closing it is EOF for the host."""

    writable = True

    def write(self, data: bytes) -> int:
        try:
            return self.pipe.write(data, self.should_stop)
        except (BrokenPipeError, PipeStopped):
            raise WasiError(c.EPIPE) from None

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.pipe.close_write()
