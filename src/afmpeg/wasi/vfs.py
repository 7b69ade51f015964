"""The virtual filesystem the guest sees: mounts, open-file handles and path confinement.

Everything here raises :class:`WasiError` (carrying a WASI errno) for expected failures; the host layer turns
that into the errno returned to the guest. Any other exception is a host bug or a filesystem failure and is
reported as ``EIO`` (and recorded) by the host layer.
"""

from __future__ import annotations

import datetime as _dt
import os
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import constants as c


class WasiError(Exception):
    """An expected failure that maps to a WASI errno."""

    def __init__(self, errno: int) -> None:
        super().__init__(errno)
        self.errno = errno


@dataclass
class Stat:
    filetype: int
    size: int = 0
    mtime_ns: int = 0
    ino: int = 0
    dev: int = 0
    nlink: int = 1


# --------------------------------------------------------------------------- paths


def resolve(base: str, path: str) -> tuple[str, bool]:
    """Join a guest path onto a directory's mount-relative ``base`` and normalise it.

    Returns ``(relative_path, must_be_dir)``; ``relative_path`` is ``""`` for the mount root and never contains
    ``.``/``..`` components. A path that would leave the mount (``..`` above the root) or an absolute path raises
    ``ENOTCAPABLE``, like other WASI hosts do.
    """
    if not path:
        raise WasiError(c.ENOENT)
    if "\x00" in path:
        raise WasiError(c.EINVAL)
    if path.startswith("/"):
        raise WasiError(c.ENOTCAPABLE)
    must_be_dir = path.endswith("/")
    parts: list[str] = [p for p in base.split("/") if p] if base else []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise WasiError(c.ENOTCAPABLE)
            parts.pop()
            continue
        parts.append(part)
    return "/".join(parts), must_be_dir


def _parent(rel: str) -> str:
    return rel.rpartition("/")[0]


def _to_ns(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, _dt.datetime):
        return int(value.timestamp() * 1_000_000_000)
    if isinstance(value, int | float):
        return int(value * 1_000_000_000)
    return 0


# --------------------------------------------------------------------------- handles


class Handle:
    """An open file description. Subclasses override what they support."""

    filetype = c.FILETYPE_UNKNOWN
    readable = False
    writable = False
    seekable = False
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

    def readinto(self, view: memoryview) -> int:
        return 0

    def write(self, data: bytes) -> int:
        return len(data)

    def pread(self, n: int, offset: int) -> bytes:
        return b""

    def pwrite(self, data: bytes, offset: int) -> int:
        return len(data)

    def seek(self, offset: int, whence: int) -> int:
        return 0

    def tell(self) -> int:
        return 0


class RandomHandle(NullHandle):
    """``/dev/urandom``."""

    def read(self, n: int) -> bytes:
        return os.urandom(n)

    def readinto(self, view: memoryview) -> int:
        n = len(view)
        view[:] = os.urandom(n)
        return n

    def pread(self, n: int, offset: int) -> bytes:
        return os.urandom(n)


class ZeroHandle(NullHandle):
    """``/dev/zero``."""

    def read(self, n: int) -> bytes:
        return bytes(n)

    def readinto(self, view: memoryview) -> int:
        n = len(view)
        view[:] = bytes(n)
        return n

    def pread(self, n: int, offset: int) -> bytes:
        return bytes(n)


class CaptureHandle(Handle):
    """A write-only stream collected into memory (stdout, stderr, the progress device).

    With ``tail`` set only the last ``tail`` bytes are kept; with ``limit`` set, bytes past it are dropped.
    ``on_write`` (if given) sees every chunk.
    """

    filetype = c.FILETYPE_UNKNOWN
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
    filetype = c.FILETYPE_DIRECTORY

    def __init__(self, mount: Mount, rel: str) -> None:
        self.mount = mount
        self.rel = rel
        self.listing: list[tuple[str, int, int]] | None = None

    def stat(self) -> Stat:
        return self.mount.stat(self.rel)

    def entries(self, cookie: int) -> list[tuple[str, int, int]]:
        """Directory entries ``(name, filetype, ino)``; a fresh snapshot is taken when reading from cookie 0."""
        if cookie == 0 or self.listing is None:
            st = self.mount.stat(self.rel)
            parent_ino = self.mount.stat(_parent(self.rel)).ino if self.rel else st.ino
            self.listing = [(".", c.FILETYPE_DIRECTORY, st.ino), ("..", c.FILETYPE_DIRECTORY, parent_ino)]
            self.listing += self.mount.listdir(self.rel)
        return self.listing


class Spool:
    """The in-memory content of a file opened for writing, shared by every fd open on that path.

    It is written back to the filesystem when the last fd referring to it is closed (or on ``fd_sync``).
    """

    def __init__(self, mount: FsspecMount, rel: str, data: bytearray, dirty: bool) -> None:
        self.mount = mount
        self.rel = rel
        self.data = data
        self.dirty = dirty
        self.unlinked = False
        self.refs = 0
        self.mtime_ns = 0

    def flush(self) -> None:
        if self.dirty and not self.unlinked:
            self.mount.write_back(self.rel, self.data)
        self.dirty = False


class SpoolHandle(Handle):
    filetype = c.FILETYPE_REGULAR_FILE
    seekable = True

    def __init__(self, spool: Spool, readable: bool, writable: bool, append: bool) -> None:
        self.spool = spool
        self.readable = readable
        self.writable = writable
        self.append = append
        self.pos = 0
        spool.refs += 1
        self.closed = False

    def read(self, n: int) -> bytes:
        if not self.readable:
            raise WasiError(c.EBADF)
        data = bytes(self.spool.data[self.pos : self.pos + n])
        self.pos += len(data)
        return data

    def pread(self, n: int, offset: int) -> bytes:
        if not self.readable:
            raise WasiError(c.EBADF)
        return bytes(self.spool.data[offset : offset + n])

    def _write_at(self, data: bytes, offset: int) -> int:
        buf = self.spool.data
        end = offset + len(data)
        if offset > len(buf):
            buf.extend(bytes(offset - len(buf)))
        buf[offset:end] = data
        self.spool.dirty = True
        self.spool.mtime_ns = _now_ns()
        return end

    def write(self, data: bytes) -> int:
        if not self.writable:
            raise WasiError(c.EBADF)
        if self.append:
            self.pos = len(self.spool.data)
        self.pos = self._write_at(data, self.pos)
        return len(data)

    def pwrite(self, data: bytes, offset: int) -> int:
        if not self.writable:
            raise WasiError(c.EBADF)
        if self.append:  # POSIX (Linux): pwrite on an O_APPEND fd appends
            offset = len(self.spool.data)
        self._write_at(data, offset)
        return len(data)

    def seek(self, offset: int, whence: int) -> int:
        if whence == c.WHENCE_SET:
            new = offset
        elif whence == c.WHENCE_CUR:
            new = self.pos + offset
        elif whence == c.WHENCE_END:
            new = len(self.spool.data) + offset
        else:
            raise WasiError(c.EINVAL)
        if new < 0:
            raise WasiError(c.EINVAL)
        self.pos = new
        return new

    def tell(self) -> int:
        return self.pos

    def stat(self) -> Stat:
        st = self.spool.mount.stat(self.spool.rel) if not self.spool.unlinked else None
        ino = st.ino if st is not None else 0
        return Stat(c.FILETYPE_REGULAR_FILE, len(self.spool.data), self.spool.mtime_ns, ino, self.spool.mount.dev)

    def set_size(self, size: int) -> None:
        if not self.writable:
            raise WasiError(c.EINVAL)
        buf = self.spool.data
        if size < len(buf):
            del buf[size:]
        else:
            buf.extend(bytes(size - len(buf)))
        self.spool.dirty = True

    def allocate(self, offset: int, length: int) -> None:
        if not self.writable:
            raise WasiError(c.EBADF)
        if offset + length > len(self.spool.data):
            self.set_size(offset + length)

    def sync(self) -> None:
        self.spool.flush()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.spool.mount.release(self.spool)


class ReadHandle(Handle):
    """A read-only regular file served straight from an fsspec file object (seekable, ranged reads)."""

    filetype = c.FILETYPE_REGULAR_FILE
    readable = True
    seekable = True

    def __init__(self, mount: FsspecMount, rel: str, fobj: Any, st: Stat) -> None:
        self.mount = mount
        self.rel = rel
        self.f = fobj
        self.st = st
        self.pos = 0
        self.fpos = 0  # where the underlying object is positioned

    def _sync_pos(self, pos: int) -> None:
        if self.fpos != pos:
            self.f.seek(pos)
            self.fpos = pos

    def read(self, n: int) -> bytes:
        self._sync_pos(self.pos)
        data = self.f.read(n)
        self.pos += len(data)
        self.fpos = self.pos
        return data

    def readinto(self, view: memoryview) -> int:
        if not hasattr(self.f, "readinto"):
            return super().readinto(view)
        self._sync_pos(self.pos)
        n = self.f.readinto(view) or 0
        self.pos += n
        self.fpos = self.pos
        return n

    def pread(self, n: int, offset: int) -> bytes:
        self._sync_pos(offset)
        data = self.f.read(n)
        self.fpos = offset + len(data)
        return data

    def seek(self, offset: int, whence: int) -> int:
        if whence == c.WHENCE_SET:
            new = offset
        elif whence == c.WHENCE_CUR:
            new = self.pos + offset
        elif whence == c.WHENCE_END:
            new = self.st.size + offset
        else:
            raise WasiError(c.EINVAL)
        if new < 0:
            raise WasiError(c.EINVAL)
        self.pos = new
        return new

    def tell(self) -> int:
        return self.pos

    def stat(self) -> Stat:
        return self.st

    def close(self) -> None:
        f, self.f = self.f, None
        if f is not None:
            f.close()


def _now_ns() -> int:
    import time

    return time.time_ns()


# --------------------------------------------------------------------------- mounts


class Mount:
    """A directory tree the guest sees under one preopened directory."""

    dev = 0

    def __init__(self) -> None:
        self._inodes: dict[str, int] = {}

    def ino(self, rel: str) -> int:
        ino = self._inodes.get(rel)
        if ino is None:
            ino = self._inodes[rel] = len(self._inodes) + 1
        return ino

    def stat(self, rel: str) -> Stat:
        raise NotImplementedError

    def open(self, rel: str, *, oflags: int, read: bool, write: bool, append: bool, must_be_dir: bool) -> Handle:
        raise NotImplementedError

    def listdir(self, rel: str) -> list[tuple[str, int, int]]:
        raise NotImplementedError

    def mkdir(self, rel: str) -> None:
        raise WasiError(c.EACCES)

    def rmdir(self, rel: str) -> None:
        raise WasiError(c.EACCES)

    def unlink(self, rel: str) -> None:
        raise WasiError(c.EACCES)

    def rename(self, src: str, dst: str) -> None:
        raise WasiError(c.EACCES)

    def close(self) -> list[tuple[str, BaseException]]:
        """Release everything; returns write-back failures as ``(path, exception)``."""
        return []


class DevMount(Mount):
    """``/dev``: ``null``, ``zero``, ``urandom``, ``random`` and the progress device."""

    def __init__(self, dev: int, progress: CaptureHandle) -> None:
        super().__init__()
        self.dev = dev
        self.progress = progress
        self.devices: dict[str, Callable[[], Handle]] = {
            "null": NullHandle,
            "zero": ZeroHandle,
            "urandom": RandomHandle,
            "random": RandomHandle,
            "afmpeg-progress": lambda: self.progress,
        }

    def stat(self, rel: str) -> Stat:
        if rel == "":
            return Stat(c.FILETYPE_DIRECTORY, 0, 0, self.ino(""), self.dev)
        if rel in self.devices:
            return Stat(c.FILETYPE_CHARACTER_DEVICE, 0, 0, self.ino(rel), self.dev)
        raise WasiError(c.ENOENT)

    def open(self, rel: str, *, oflags: int, read: bool, write: bool, append: bool, must_be_dir: bool) -> Handle:
        if rel == "":
            if write:
                raise WasiError(c.EISDIR)
            return DirHandle(self, rel)
        if oflags & c.OFLAGS_DIRECTORY or must_be_dir:
            raise WasiError(c.ENOTDIR if rel in self.devices else c.ENOENT)
        factory = self.devices.get(rel)
        if factory is None:
            raise WasiError(c.EACCES if oflags & c.OFLAGS_CREAT else c.ENOENT)
        if oflags & c.OFLAGS_CREAT and oflags & c.OFLAGS_EXCL:
            raise WasiError(c.EEXIST)
        return factory()

    def listdir(self, rel: str) -> list[tuple[str, int, int]]:
        if rel != "":
            raise WasiError(c.ENOTDIR)
        return [(name, c.FILETYPE_CHARACTER_DEVICE, self.ino(name)) for name in self.devices]


class FsspecMount(Mount):
    """A directory tree backed by an fsspec filesystem, below ``root``.

    Reads stream from ``fs.open(path, "rb")``. Files opened for writing are spooled in memory (seek-and-overwrite
    works on any backend) and written back with ``fs.open(path, "wb")`` when their last fd closes.
    """

    def __init__(self, fs: Any, root: str, dev: int) -> None:
        super().__init__()
        self.fs = fs
        self.root = root.rstrip("/") if root not in ("", "/") else root
        self.dev = dev
        self.spools: dict[str, Spool] = {}

    # -- path mapping
    def path(self, rel: str) -> str:
        if not rel:
            return self.root
        if not self.root:
            return rel
        if self.root == "/":
            return "/" + rel
        return f"{self.root}/{rel}"

    def _info(self, rel: str) -> dict[str, Any] | None:
        try:
            return self.fs.info(self.path(rel))
        except FileNotFoundError:
            return None
        except NotADirectoryError:
            return None

    def stat_or_none(self, rel: str) -> Stat | None:
        spool = self.spools.get(rel)
        if spool is not None:
            return Stat(c.FILETYPE_REGULAR_FILE, len(spool.data), spool.mtime_ns, self.ino(rel), self.dev)
        info = self._info(rel)
        if info is None:
            return None
        kind = info.get("type")
        if kind == "directory":
            ft = c.FILETYPE_DIRECTORY
        elif kind == "file":
            ft = c.FILETYPE_REGULAR_FILE
        else:
            ft = c.FILETYPE_UNKNOWN
        mtime = info.get("mtime", info.get("LastModified", info.get("last_modified", info.get("created"))))
        size = int(info.get("size") or 0) if ft == c.FILETYPE_REGULAR_FILE else 0
        return Stat(ft, size, _to_ns(mtime), self.ino(rel), self.dev)

    def stat(self, rel: str) -> Stat:
        st = self.stat_or_none(rel)
        if st is None:
            raise WasiError(c.ENOENT)
        return st

    def _require_parent_dir(self, rel: str) -> None:
        parent = _parent(rel)
        st = self.stat_or_none(parent)
        if st is None:
            raise WasiError(c.ENOENT)
        if st.filetype != c.FILETYPE_DIRECTORY:
            raise WasiError(c.ENOTDIR)

    # -- open
    def open(self, rel: str, *, oflags: int, read: bool, write: bool, append: bool, must_be_dir: bool) -> Handle:
        st = self.stat_or_none(rel)
        if st is not None and oflags & c.OFLAGS_CREAT and oflags & c.OFLAGS_EXCL:
            raise WasiError(c.EEXIST)
        if oflags & c.OFLAGS_DIRECTORY or must_be_dir:
            if st is None:
                raise WasiError(c.ENOENT)
            if st.filetype != c.FILETYPE_DIRECTORY:
                raise WasiError(c.ENOTDIR)
        if st is None:
            if not oflags & c.OFLAGS_CREAT:
                raise WasiError(c.ENOENT)
            self._require_parent_dir(rel)
            spool = Spool(self, rel, bytearray(), dirty=True)
            spool.mtime_ns = _now_ns()
            self.spools[rel] = spool
            return SpoolHandle(spool, read, write, append)
        if st.filetype == c.FILETYPE_DIRECTORY:
            if write:
                raise WasiError(c.EISDIR)
            return DirHandle(self, rel)
        truncate = bool(oflags & c.OFLAGS_TRUNC) and write
        spool = self.spools.get(rel)
        if spool is not None:
            if truncate:
                del spool.data[:]
                spool.dirty = True
            return SpoolHandle(spool, read, write, append)
        if write:
            if truncate:
                data, dirty = bytearray(), True
            else:
                data, dirty = bytearray(self.fs.cat_file(self.path(rel))), False
            spool = Spool(self, rel, data, dirty)
            spool.mtime_ns = st.mtime_ns
            self.spools[rel] = spool
            return SpoolHandle(spool, read, write, append)
        fobj = self.fs.open(self.path(rel), "rb")
        return ReadHandle(self, rel, fobj, st)

    def write_back(self, rel: str, data: bytearray) -> None:
        with self.fs.open(self.path(rel), "wb") as f:
            if data:
                f.write(memoryview(data))

    def release(self, spool: Spool) -> None:
        spool.refs -= 1
        if spool.refs > 0:
            return
        if self.spools.get(spool.rel) is spool:
            del self.spools[spool.rel]
        spool.flush()

    # -- directories
    def listdir(self, rel: str) -> list[tuple[str, int, int]]:
        st = self.stat(rel)
        if st.filetype != c.FILETYPE_DIRECTORY:
            raise WasiError(c.ENOTDIR)
        out: dict[str, tuple[str, int, int]] = {}
        for entry in self.fs.ls(self.path(rel), detail=True):
            name = posixpath.basename(str(entry.get("name", "")).rstrip("/"))
            if not name or name in (".", ".."):
                continue
            child = f"{rel}/{name}" if rel else name
            ft = c.FILETYPE_DIRECTORY if entry.get("type") == "directory" else c.FILETYPE_REGULAR_FILE
            out[name] = (name, ft, self.ino(child))
        for key in self.spools:
            if _parent(key) == rel:
                name = key.rpartition("/")[2]
                out.setdefault(name, (name, c.FILETYPE_REGULAR_FILE, self.ino(key)))
        return sorted(out.values())

    def _is_empty_dir(self, rel: str) -> bool:
        if any(_parent(k) == rel or k.startswith(rel + "/") for k in self.spools):
            return False
        for entry in self.fs.ls(self.path(rel), detail=True):
            name = posixpath.basename(str(entry.get("name", "")).rstrip("/"))
            if name and name not in (".", ".."):
                return False
        return True

    def mkdir(self, rel: str) -> None:
        if rel == "":
            raise WasiError(c.EEXIST)
        if self.stat_or_none(rel) is not None:
            raise WasiError(c.EEXIST)
        self._require_parent_dir(rel)
        try:
            self.fs.mkdir(self.path(rel), create_parents=False)
        except TypeError:
            self.fs.mkdir(self.path(rel))

    def rmdir(self, rel: str) -> None:
        if rel == "":
            raise WasiError(c.EBUSY)
        st = self.stat(rel)
        if st.filetype != c.FILETYPE_DIRECTORY:
            raise WasiError(c.ENOTDIR)
        if not self._is_empty_dir(rel):
            raise WasiError(c.ENOTEMPTY)
        try:
            self.fs.rmdir(self.path(rel))
        except FileNotFoundError:
            # fsspec's memory filesystem only knows explicit directories; an implied one is gone once empty
            if self._info(rel) is not None:
                raise

    def unlink(self, rel: str) -> None:
        spool = self.spools.pop(rel, None)
        if spool is not None:
            spool.unlinked = True
            if self._info(rel) is not None:
                self.fs.rm_file(self.path(rel))
            return
        st = self.stat(rel)
        if st.filetype == c.FILETYPE_DIRECTORY:
            raise WasiError(c.EISDIR)
        self.fs.rm_file(self.path(rel))

    def rename(self, src: str, dst: str) -> None:
        if src == "" or dst == "":
            raise WasiError(c.EBUSY)
        sst = self.stat(src)
        if src == dst:
            return
        src_is_dir = sst.filetype == c.FILETYPE_DIRECTORY
        if src_is_dir and dst.startswith(src + "/"):
            raise WasiError(c.EINVAL)
        self._require_parent_dir(dst)
        dst_st = self.stat_or_none(dst)
        if dst_st is not None:
            if dst_st.filetype == c.FILETYPE_DIRECTORY:
                if not src_is_dir:
                    raise WasiError(c.EISDIR)
                if not self._is_empty_dir(dst):
                    raise WasiError(c.ENOTEMPTY)
                self.rmdir(dst)
            else:
                if src_is_dir:
                    raise WasiError(c.ENOTDIR)
                self.unlink(dst)
        on_fs = self._info(src) is not None
        if on_fs:
            if src_is_dir:
                self.fs.mv(self.path(src), self.path(dst), recursive=True)
            else:
                self.fs.mv(self.path(src), self.path(dst))
        # re-key open spools (the file itself, or files below a renamed directory)
        for key in list(self.spools):
            if key == src or key.startswith(src + "/"):
                spool = self.spools.pop(key)
                spool.rel = dst + key[len(src) :]
                spool.dirty = spool.dirty or not on_fs
                self.spools[spool.rel] = spool

    def close(self) -> list[tuple[str, BaseException]]:
        errors: list[tuple[str, BaseException]] = []
        for spool in list(self.spools.values()):
            try:
                spool.flush()
            except Exception as exc:  # noqa: BLE001 - reported to the caller
                errors.append((spool.rel, exc))
        self.spools.clear()
        return errors
