"""Where the content of pending files lives: in memory while it is small, in a file on local disk beyond that.

Files a job writes stay pending until the job ends (see :class:`~afmpeg.wasi.mounts.FsspecMount`). Holding them in
memory would make host memory grow with the job's output (an output of a gigabyte, or a decompression bomb written
out). A :class:`Spooler` keeps each mount's pending files in memory only up to :data:`MEMORY_PER_FILE` bytes per
file and :data:`MEMORY_PER_MOUNT` bytes in all; past that a file *rolls over* to a file on local disk:

* on a local filesystem, a hidden temporary file beside the target (see :func:`is_side_name`), which publication
  then renames into place: a rename within one filesystem is atomic, and nothing is copied;
* on a remote or in-memory filesystem nothing rolls over: the design keeps those outputs in memory until they are
  uploaded (no temporary files on the host), bounded by the job's ``output_limit``.

The guest sees none of this: a rolled-over file behaves exactly like an in-memory one (seek-and-overwrite, holes,
truncation, reading back what was written).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import uuid
import weakref
from collections.abc import Callable
from typing import Any

#: bytes of one pending file kept in memory at most; a bigger file rolls over to disk
MEMORY_PER_FILE = 1 << 20
#: bytes of all of a mount's pending files kept in memory at most
MEMORY_PER_MOUNT = 8 << 20
#: chunk size for copies between files
COPY_CHUNK = 1 << 20
#: host files a mount keeps open at most for its spool files (others are reopened when needed)
MAX_OPEN_FILES = 16

_OPEN_FLAGS = os.O_RDWR | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)

#: names of the temporary files a local mount keeps beside their targets: ``.NAME.afmpeg-HEX.tmp`` (content being
#: written or about to be renamed into place) and ``.NAME.afmpeg-HEX.old`` (what publication moved out of the way)
_SIDE_NAME = re.compile(r"\..*\.afmpeg-[0-9a-f]{12}\.(?:tmp|old)", re.DOTALL)


def side_name(name: str, kind: str) -> str:
    """A fresh hidden name for a temporary file beside a file called ``name`` (short enough for any filesystem's
    255-byte name limit; random, so it never clashes with a user's file or another job's)."""
    short = name.encode("utf-8")[:200].decode("utf-8", errors="ignore")
    return f".{short}.afmpeg-{uuid.uuid4().hex[:12]}.{kind}"


def is_side_name(name: str) -> bool:
    """Whether ``name`` (one path component) is a temporary file's name as :func:`side_name` makes them."""
    return _SIDE_NAME.fullmatch(name) is not None


class SpoolFile:
    """The content of one pending file: a ``bytearray``, or a file on local disk once rolled over.

    The disk file is opened only while an fd refers to it (:meth:`idle` closes it), so a job that leaves thousands
    of pending files (segments) does not hold thousands of host file descriptors.
    """

    def __init__(self, owner: Spooler, data: bytes | bytearray = b"") -> None:
        self.owner = owner
        self.mem: bytearray | None = data if isinstance(data, bytearray) else bytearray(data)
        owner.memory += len(self.mem)
        self.size = len(self.mem)
        #: the disk file (absolute host path) once rolled over
        self.path: str | None = None
        self._f: io.FileIO | None = None

    # -- the storage
    @property
    def on_disk(self) -> bool:
        return self.mem is None

    def _file(self) -> io.FileIO:
        f = self._f
        if f is None:
            assert self.path is not None
            f = self._f = io.FileIO(os.open(self.path, _OPEN_FLAGS), "r+b", closefd=True)
            self.owner.opened(self)
        return f

    def prepare(self, size: int, rel: str) -> None:
        """The file is about to grow to ``size`` bytes (or just got its content, with ``size`` its size): roll over
        to disk first if it would be too big for memory (a failure to create the disk file raises here, before
        anything changed). ``rel`` is the file's mount-relative path, for where the disk file goes."""
        mem = self.mem
        if mem is None or self.owner.place is None:
            return
        grow = max(0, size - len(mem))
        if max(size, len(mem)) > MEMORY_PER_FILE or self.owner.memory + grow > MEMORY_PER_MOUNT:
            self.roll_over(rel)

    def roll_over(self, rel: str) -> None:
        """Move the content to a new file on disk (where the owner's ``place`` says, for the file ``rel``)."""
        mem = self.mem
        if mem is None:
            return
        assert self.owner.place is not None
        directory, name = self.owner.place(rel)
        while True:
            path = os.path.join(directory, side_name(name, "tmp"))
            try:
                fd = os.open(path, _OPEN_FLAGS | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:  # pragma: no cover - 48 random bits
                continue
            break
        f = io.FileIO(fd, "r+b", closefd=True)
        try:
            _write_all(f, mem)
        except BaseException:
            f.close()
            _remove(path)
            raise
        self._set_path(path)
        self._f = f
        self.owner.opened(self)
        self.mem = None
        self.owner.memory -= len(mem)

    def pread(self, n: int, offset: int) -> bytes:
        n = max(0, min(n, self.size - offset))
        if n == 0:
            return b""
        if self.mem is not None:
            return bytes(self.mem[offset : offset + n])
        f = self._file()
        f.seek(offset)
        out = bytearray(n)
        got = _read_all(f, memoryview(out))
        del out[got:]
        return bytes(out)

    def readinto(self, view: memoryview, offset: int) -> int:
        n = max(0, min(len(view), self.size - offset))
        if n == 0:
            return 0
        if self.mem is not None:
            view[:n] = self.mem[offset : offset + n]
            return n
        f = self._file()
        f.seek(offset)
        return _read_all(f, view[:n])

    def pwrite(self, data: bytes | memoryview, offset: int) -> None:
        """Write ``data`` at ``offset``; a gap past the end reads as zeros."""
        end = offset + len(data)
        mem = self.mem
        if mem is not None:
            if offset > len(mem):
                mem.extend(bytes(offset - len(mem)))
            mem[offset:end] = data
            self.owner.memory += len(mem) - self.size
            self.size = len(mem)
            return
        f = self._file()
        f.seek(offset)
        _write_all(f, data)
        self.size = max(self.size, end)

    def truncate(self, size: int) -> None:
        """Cut the content to ``size`` bytes, or extend it with zeros."""
        mem = self.mem
        if mem is not None:
            if size < len(mem):
                del mem[size:]
            else:
                mem.extend(bytes(size - len(mem)))
            self.owner.memory += len(mem) - self.size
        else:
            self._file().truncate(size)
        self.size = size

    def getvalue(self) -> bytes | bytearray:
        """The whole content (in memory: the buffer itself; from disk: read into memory — for small files only)."""
        if self.mem is not None:
            return self.mem
        return self.pread(self.size, 0)

    def copy_to(self, dst: io.RawIOBase | io.BufferedIOBase | Any) -> None:
        """Write the whole content to the writable file object ``dst``, in chunks."""
        if self.mem is not None:
            dst.write(self.mem)
            return
        f = self._file()
        f.seek(0)
        shutil.copyfileobj(f, dst, COPY_CHUNK)

    # -- the lifecycle
    def _set_path(self, path: str | None) -> None:
        self.path = path
        if path is None:
            self.owner.paths.pop(id(self), None)
            self.owner.files.discard(self)
        else:
            self.owner.paths[id(self)] = path
            self.owner.files.add(self)

    def idle(self) -> None:
        """No fd refers to the file any more: close the host file (it is reopened when needed)."""
        f, self._f = self._f, None
        if f is not None:
            self.owner.open_files.pop(self, None)
            f.close()

    def moved(self, path: str) -> None:
        """The disk file was renamed to ``path`` (publication moved a directory holding it out of the way)."""
        self.idle()
        self._set_path(path)

    def published(self) -> None:
        """The disk file was renamed into place: it is no longer ours to remove."""
        self.idle()
        self._set_path(None)

    def drop(self) -> None:
        """Forget the content now (the file was unlinked and no fd refers to it any more)."""
        self.idle()
        if self.mem is not None:
            self.owner.memory -= len(self.mem)
            self.mem = bytearray()
        elif self.path is not None:
            _remove(self.path)
            self._set_path(None)
        self.size = 0


class Spooler:
    """Creates and tracks one mount's :class:`SpoolFile` objects.

    ``place(rel) -> (host directory, name)`` says where a file ``rel`` rolls over to; ``None`` keeps everything in
    memory. :meth:`clear` removes every disk file that was not published (a failed, cancelled or trapped job leaves
    nothing behind); it also runs when the spooler is garbage-collected or the interpreter exits, as a last resort.
    """

    def __init__(self, place: Callable[[str], tuple[str, str]] | None) -> None:
        self.place = place
        self.memory = 0
        #: the spool files that are on disk (to close their host files), and their paths by ``id``: the last-resort
        #: finalizer holds only the paths (holding the files would keep the spooler alive)
        self.files: set[SpoolFile] = set()
        self.paths: dict[int, str] = {}
        #: the spool files whose host file is open, oldest first (at most :data:`MAX_OPEN_FILES`)
        self.open_files: dict[SpoolFile, None] = {}
        self._finalizer = weakref.finalize(self, _cleanup, self.paths)

    def opened(self, sf: SpoolFile) -> None:
        """``sf`` opened its host file: close the least recently opened ones beyond :data:`MAX_OPEN_FILES` (a guest
        may hold thousands of fds; the host process must not run out of its own)."""
        self.open_files[sf] = None
        while len(self.open_files) > MAX_OPEN_FILES:
            next(iter(self.open_files)).idle()

    def new(self, data: bytes | bytearray = b"") -> SpoolFile:
        return SpoolFile(self, data)

    def copy_in(self, read: Callable[[int], bytes], size: int, rel: str) -> SpoolFile:
        """A spool file holding what ``read(n)`` returns until it returns ``b""`` (``size``: the expected length,
        to decide up front whether it goes to disk)."""
        sf = SpoolFile(self)
        try:
            sf.prepare(size, rel)
            pos = 0
            while True:
                chunk = read(COPY_CHUNK)
                if not chunk:
                    return sf
                sf.prepare(pos + len(chunk), rel)
                sf.pwrite(chunk, pos)
                pos += len(chunk)
        except BaseException:
            sf.drop()
            raise

    def clear(self) -> None:
        """Remove every disk file not published."""
        for sf in list(self.files):
            sf.idle()  # (a file still open cannot be removed everywhere)
            sf.path = None
        self.files.clear()
        _cleanup(self.paths)
        self.memory = 0


def _cleanup(paths: dict[int, str]) -> None:
    for path in paths.values():
        _remove(path)
    paths.clear()


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
    except OSError:  # pragma: no cover - best effort (e.g. a directory that became read-only)
        pass


def _write_all(f: io.FileIO, data: bytes | bytearray | memoryview) -> None:
    view = memoryview(data).cast("B")
    while view:
        n = f.write(view)
        if n is None or n <= 0:  # pragma: no cover - regular files never answer EAGAIN
            raise OSError("short write to a spool file")
        view = view[n:]


def _read_all(f: io.FileIO, view: memoryview) -> int:
    got = 0
    while got < len(view):
        n = f.readinto(view[got:])
        if not n:
            break
        got += n
    return got
