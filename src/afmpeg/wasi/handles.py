"""Open file descriptions: what an fd refers to (devices, captured streams, directories, files).

Handles raise :class:`WasiError` for expected failures. Files opened for writing share a :class:`Spool` (the
file's pending content, in memory or spooled to local disk; see :mod:`.spool`) so that seek-and-overwrite works on
every backend; read-only files stream from the backend's file object.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import constants as c
from .errors import WasiError

if TYPE_CHECKING:
    from .mounts import FsspecMount, Mount
    from .spool import SpoolFile
    from .stoppable import StoppableCalls


@dataclass
class Stat:
    """What ``filestat`` reports about a file."""

    filetype: int
    size: int = 0
    mtime_ns: int = 0
    ino: int = 0
    dev: int = 0
    nlink: int = 1


def seek_target(pos: int, size: int, offset: int, whence: int) -> int:
    """The new position of an ``lseek`` (``offset`` is signed); ``EINVAL`` for a bad whence or a result < 0."""
    if whence == c.WHENCE_SET:
        new = offset
    elif whence == c.WHENCE_CUR:
        new = pos + offset
    elif whence == c.WHENCE_END:
        new = size + offset
    else:
        raise WasiError(c.EINVAL)
    if not 0 <= new <= c.MAX_OFFSET:
        raise WasiError(c.EINVAL)
    return new


class Handle:
    """An open file description. Subclasses override what they support."""

    filetype = c.FILETYPE_UNKNOWN
    readable = False
    writable = False
    append = False

    def read(self, n: int) -> bytes:
        raise WasiError(c.EBADF)

    def readinto(self, view: memoryview) -> int:
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def write(self, data: bytes) -> int:
        raise WasiError(c.EBADF)

    def pread(self, n: int, offset: int) -> bytes:
        raise WasiError(c.ESPIPE)

    def pwrite(self, data: bytes, offset: int) -> int:
        raise WasiError(c.ESPIPE)

    def seek(self, offset: int, whence: int) -> int:
        raise WasiError(c.ESPIPE)

    def tell(self) -> int:
        raise WasiError(c.ESPIPE)

    def stat(self) -> Stat:
        return Stat(self.filetype)

    def set_size(self, size: int) -> None:
        raise WasiError(c.EINVAL)

    def allocate(self, offset: int, length: int) -> None:
        raise WasiError(c.EINVAL)

    def sync(self) -> None:
        pass

    def close(self) -> None:
        pass


class NullHandle(Handle):
    """``/dev/null`` and stdin: reads hit EOF, writes are discarded."""

    filetype = c.FILETYPE_CHARACTER_DEVICE
    readable = True
    writable = True

    def read(self, n: int) -> bytes:
        return b""

    def write(self, data: bytes) -> int:
        return len(data)

    def pread(self, n: int, offset: int) -> bytes:
        return self.read(n)

    def pwrite(self, data: bytes, offset: int) -> int:
        return len(data)

    def seek(self, offset: int, whence: int) -> int:
        return 0

    def tell(self) -> int:
        return 0


class RandomHandle(NullHandle):
    """``/dev/urandom`` (libav's ``av_get_random_seed`` spins forever without it)."""

    def read(self, n: int) -> bytes:
        return os.urandom(n)


class ZeroHandle(NullHandle):
    """``/dev/zero``."""

    def read(self, n: int) -> bytes:
        return bytes(n)


class CaptureHandle(Handle):
    """A write-only stream collected into memory (stdout, stderr, the progress device).

    With ``tail`` set only the last ``tail`` bytes are kept; with ``limit`` set, bytes past it are dropped.
    ``on_write`` (if given) sees every chunk.
    """

    writable = True

    def __init__(
        self,
        *,
        tail: int | None = None,
        limit: int | None = None,
        on_write: Callable[[bytes], None] | None = None,
        filetype: int = c.FILETYPE_UNKNOWN,
    ) -> None:
        self.buffer = bytearray()
        self.total = 0
        self.tail = tail
        self.limit = limit
        self.on_write = on_write
        self.filetype = filetype

    def write(self, data: bytes) -> int:
        n = len(data)
        self.total += n
        if self.limit is not None:
            room = self.limit - len(self.buffer)
            if room > 0:
                self.buffer += data[:room]
        else:
            self.buffer += data
            if self.tail is not None and len(self.buffer) > 2 * self.tail:
                del self.buffer[: len(self.buffer) - self.tail]
        if self.on_write is not None:
            self.on_write(bytes(data))
        return n

    def getvalue(self) -> bytes:
        if self.tail is not None and len(self.buffer) > self.tail:
            return bytes(self.buffer[-self.tail :])
        return bytes(self.buffer)


class DirHandle(Handle):
    """An open directory; ``fd_readdir`` cookies index a snapshot of its entries taken at cookie 0."""

    filetype = c.FILETYPE_DIRECTORY

    def __init__(self, mount: Mount, rel: str) -> None:
        self.mount = mount
        self.rel = rel
        self.listing: list[tuple[str, int, int]] | None = None

    def stat(self) -> Stat:
        return self.mount.stat(self.rel)

    def entries(self, cookie: int) -> list[tuple[str, int, int]]:
        """Directory entries ``(name, filetype, ino)``, ``.`` and ``..`` first."""
        if cookie == 0 or self.listing is None:
            st = self.mount.stat(self.rel)
            parent_ino = self.mount.stat(self.rel.rpartition("/")[0]).ino if self.rel else st.ino
            self.listing = [(".", c.FILETYPE_DIRECTORY, st.ino), ("..", c.FILETYPE_DIRECTORY, parent_ino)]
            self.listing += self.mount.listdir(self.rel)
        return self.listing


class OutputBudget:
    """Total bytes the files written by one call may grow by (``limit=None``: unlimited).

    Exceeding it fails the write with ``EFBIG`` and sets ``exceeded``; the runtime then ends the job with
    :class:`~afmpeg.OutputLimitExceeded`.
    """

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self.used = 0
        self.exceeded = False

    def charge(self, n: int) -> None:
        if self.limit is not None and self.used + n > self.limit:
            self.exceeded = True
            raise WasiError(c.EFBIG)
        self.used += n


class Spool:
    """The pending content of a file opened for writing (a :class:`~afmpeg.wasi.spool.SpoolFile`), shared by every fd
    open on that path.

    It stays pending (visible to the guest: re-opening the path sees it) until the call ends; the mount publishes
    it to the filesystem only if the call succeeded (see :meth:`FsspecMount.publish`).
    """

    def __init__(self, mount: FsspecMount, rel: str, data: SpoolFile, *, dirty: bool, mtime_ns: int) -> None:
        self.mount = mount
        self.rel = rel
        self.data = data
        self.dirty = dirty
        self.unlinked = False
        self.refs = 0
        self.mtime_ns = mtime_ns

    @property
    def size(self) -> int:
        """The file's current size in bytes."""
        return self.data.size

    def touch(self) -> None:
        self.dirty = True
        self.mtime_ns = time.time_ns()

    def grow_to(self, size: int) -> None:
        """Account for the file growing to ``size`` bytes against the call's output budget (``EFBIG`` beyond), and
        make room for it (the content may move from memory to disk)."""
        extra = size - self.data.size
        if extra > 0:
            budget = self.mount.budget
            budget.charge(extra)
            try:
                self.data.prepare(size, self.rel)
            except BaseException:
                budget.used -= extra  # nothing was written
                raise


class SpoolHandle(Handle):
    """An fd on a :class:`Spool`, with its own position."""

    filetype = c.FILETYPE_REGULAR_FILE

    def __init__(self, spool: Spool, readable: bool, writable: bool, append: bool) -> None:
        self.spool = spool
        self.readable = readable
        self.writable = writable
        self.append = append
        self.pos = 0
        self.closed = False
        spool.refs += 1

    def read(self, n: int) -> bytes:
        data = self.pread(n, self.pos)
        self.pos += len(data)
        return data

    def readinto(self, view: memoryview) -> int:
        if not self.readable:
            raise WasiError(c.EBADF)
        n = self.spool.data.readinto(view, self.pos)
        self.pos += n
        return n

    def pread(self, n: int, offset: int) -> bytes:
        if not self.readable:
            raise WasiError(c.EBADF)
        return self.spool.data.pread(n, offset)

    def _write_at(self, data: bytes, offset: int) -> int:
        end = offset + len(data)
        if end > c.MAX_OFFSET:
            raise WasiError(c.EFBIG)
        self.spool.grow_to(end)
        self.spool.data.pwrite(data, offset)  # a write past the end leaves a zero-filled hole
        self.spool.touch()
        return end

    def write(self, data: bytes) -> int:
        if not self.writable:
            raise WasiError(c.EBADF)
        if self.append:
            self.pos = self.spool.size
        self.pos = self._write_at(data, self.pos)
        return len(data)

    def pwrite(self, data: bytes, offset: int) -> int:
        if not self.writable:
            raise WasiError(c.EBADF)
        if self.append:  # as on Linux: pwrite on an O_APPEND fd appends
            offset = self.spool.size
        self._write_at(data, offset)
        return len(data)

    def seek(self, offset: int, whence: int) -> int:
        self.pos = seek_target(self.pos, self.spool.size, offset, whence)
        return self.pos

    def tell(self) -> int:
        return self.pos

    def stat(self) -> Stat:
        mount = self.spool.mount
        ino = 0 if self.spool.unlinked else mount.ino(self.spool.rel)
        return Stat(c.FILETYPE_REGULAR_FILE, self.spool.size, self.spool.mtime_ns, ino, mount.dev)

    def set_size(self, size: int) -> None:
        if not self.writable:
            raise WasiError(c.EINVAL)
        self.spool.grow_to(size)
        self.spool.data.truncate(size)
        self.spool.touch()

    def allocate(self, offset: int, length: int) -> None:
        if not self.writable:
            raise WasiError(c.EBADF)
        if offset + length > self.spool.size:
            self.set_size(offset + length)

    def sync(self) -> None:
        pass  # published when the call succeeds

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.spool.mount.release(self.spool)


class ReadHandle(Handle):
    """A read-only regular file served straight from an fsspec file object (seekable, ranged reads).

    With ``calls`` (remote backends) every read of the file object goes through it, so that a job being stopped
    does not wait for a slow fetch (see :mod:`.stoppable`); a read given up that way leaves the file object busy in a
    helper thread, so the handle then fails every further read with ``EIO`` and leaves the closing to that thread.
    """

    filetype = c.FILETYPE_REGULAR_FILE
    readable = True

    def __init__(self, fobj: Any, st: Stat, calls: StoppableCalls | None = None) -> None:
        self.f = fobj
        self.st = st
        self.pos = 0
        self.fpos = 0  # where the underlying object is positioned: seek it only when that differs
        self.calls = calls
        self.lost = False  # a read was given up while the file object was still busy with it

    def _sync_pos(self, pos: int) -> None:
        if self.fpos != pos:
            self.f.seek(pos)
            self.fpos = pos

    def _read_at(self, n: int, offset: int) -> bytes:
        self._sync_pos(offset)
        data = self.f.read(n)
        self.fpos = offset + len(data)
        return data

    def _stoppable_read(self, n: int, offset: int) -> bytes:
        assert self.calls is not None
        if self.lost or self.f is None:
            raise WasiError(c.EIO)
        try:
            return self.calls(self._read_at, n, offset)
        except BaseException:
            if self.calls.abandoned:
                self.lost = True
            raise

    def read(self, n: int) -> bytes:
        data = self.pread(n, self.pos)
        self.pos += len(data)
        return data

    def readinto(self, view: memoryview) -> int:
        if self.calls is not None and self.calls.should_stop is not None:
            # the read may run in a helper thread, which must never write into guest memory: copy it here
            data = self._stoppable_read(len(view), self.pos)
            view[: len(data)] = data
            self.pos += len(data)
            return len(data)
        if not hasattr(self.f, "readinto"):
            return super().readinto(view)
        self._sync_pos(self.pos)
        n = self.f.readinto(view) or 0
        self.pos += n
        self.fpos = self.pos
        return n

    def pread(self, n: int, offset: int) -> bytes:
        if self.calls is not None:
            return self._stoppable_read(n, offset)
        return self._read_at(n, offset)

    def seek(self, offset: int, whence: int) -> int:
        self.pos = seek_target(self.pos, self.st.size, offset, whence)
        return self.pos

    def tell(self) -> int:
        return self.pos

    def stat(self) -> Stat:
        return self.st

    def close(self) -> None:
        f, self.f = self.f, None
        if f is None:
            return
        if self.lost and self.calls is not None:
            self.calls.after(f.close)  # once the read given up on is over
        else:
            f.close()
