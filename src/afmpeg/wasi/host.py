"""WASI preview1 implemented in Python over fsspec (the ``wasi_snapshot_preview1`` import module).

One :class:`WasiCall` holds everything a single guest run owns: argv, the fd table, the mounts, captured
stdout/stderr, the exit code. Host functions are plain methods named after the WASI imports; they receive the
raw (unsigned) integer arguments and return a WASI errno. They are reached through a single raw ctypes
trampoline (see :mod:`afmpeg.wasi._raw`) that

* finds the call's state through the Store's context data (never a global "current call"),
* turns *every* Python exception into an errno (``EIO`` unless it maps to something better) and records it on
  the state, so nothing is ever raised into wasmtime,
* implements ``proc_exit`` (and Ctrl-C during a host call) by returning a freshly made trap with a marker
  message, after recording the exit code on the state.
"""

from __future__ import annotations

import ctypes
import itertools
import os
import struct
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import _raw
from . import constants as c
from .vfs import (
    CaptureHandle,
    DevMount,
    DirHandle,
    FsspecMount,
    Handle,
    Mount,
    NullHandle,
    SpoolHandle,
    Stat,
    WasiError,
    resolve,
)

WASI_MODULE = "wasi_snapshot_preview1"
EXIT_MARKER = "afmpeg:proc_exit"
INTERRUPT_MARKER = "afmpeg:host-interrupt"

MAX_FDS = 4096
STDERR_TAIL = 64 * 1024
STDOUT_LIMIT = 64 * 1024 * 1024
MAX_IO = 1 << 30  # cap for a single read/write request

_u32 = struct.Struct("<I")
_u64 = struct.Struct("<Q")
_iovec = struct.Struct("<II")
_filestat = struct.Struct("<QQBxxxxxxxQQQQQ")  # 64 bytes
_fdstat = struct.Struct("<BxHxxxxQQ")  # 24 bytes
_prestat = struct.Struct("<BxxxI")  # 8 bytes
_dirent = struct.Struct("<QQIBxxx")  # 24 bytes
_subscription = struct.Struct("<QB7xIxxxxQQH6x")  # 48 bytes (clock variant layout)
_event = struct.Struct("<QHBxxxxxQH6x")  # 32 bytes

assert _filestat.size == 64 and _fdstat.size == 24 and _prestat.size == 8
assert _dirent.size == 24 and _subscription.size == 48 and _event.size == 32


@dataclass
class FdEntry:
    handle: Handle
    rights_base: int
    rights_inheriting: int
    fdflags: int = 0
    preopen: str | None = None  # the guest path for preopened directories
    mount: Mount | None = None
    rel: str = ""  # mount-relative path for directories


class GuestExit(Exception):
    """Internal: raised by ``proc_exit`` and caught by the trampoline (never leaves this module)."""


class WasiCall:
    """Per-run WASI state. Create one per guest run; never share between threads."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        fs: Any,
        root: str = "",
        tmp_fs: Any = None,
        env: dict[str, str] | None = None,
        on_progress: Callable[[bytes], None] | None = None,
    ) -> None:
        self.args = [a.encode("utf-8") + b"\0" for a in args]
        self.env = [f"{k}={v}".encode() + b"\0" for k, v in (env or {}).items()]
        self.exit_code: int | None = None
        self.interrupt: BaseException | None = None
        self.host_errors: list[str] = []
        self.write_errors: list[str] = []
        self.stdout = CaptureHandle(limit=STDOUT_LIMIT)
        self.stderr = CaptureHandle(tail=STDERR_TAIL)
        self.progress = CaptureHandle(on_write=on_progress, filetype=c.FILETYPE_CHARACTER_DEVICE)
        if tmp_fs is None:
            from ..memfs import MemoryFS

            tmp_fs = MemoryFS()
        self.root_mount = FsspecMount(fs, root, dev=1)
        self.tmp_mount = FsspecMount(tmp_fs, "", dev=2)
        self.dev_mount = DevMount(3, self.progress)
        self.fds: dict[int, FdEntry] = {
            0: FdEntry(NullHandle(), c.RIGHTS_FD_READ | c.RIGHTS_POLL_FD_READWRITE, 0),
            1: FdEntry(self.stdout, c.RIGHTS_FD_WRITE | c.RIGHTS_POLL_FD_READWRITE, 0),
            2: FdEntry(self.stderr, c.RIGHTS_FD_WRITE | c.RIGHTS_POLL_FD_READWRITE, 0),
        }
        for fd, (name, mount) in enumerate(
            (("/", self.root_mount), ("/tmp", self.tmp_mount), ("/dev", self.dev_mount)), start=3
        ):
            self.fds[fd] = FdEntry(
                DirHandle(mount, ""), c.RIGHTS_DIRECTORY, c.RIGHTS_ALL, preopen=name, mount=mount, rel=""
            )
        # set by the runtime / trampoline
        self.memory: Any = None  # wasmtime_memory_t (ctypes struct) of the instance
        self.memory_ref: int = 0
        self.ctx: int = 0
        self._base: int | None = None
        self._size = 0
        self.closed = False

    # ------------------------------------------------------------------ plumbing

    def set_memory(self, memory: Any) -> None:
        self.memory = memory
        self.memory_ref = ctypes.addressof(memory)

    def record(self, exc: BaseException) -> int:
        """Record an unexpected host exception and choose the errno for the guest."""
        if isinstance(exc, OSError) and exc.errno in c.HOST_TO_WASI_ERRNO and not isinstance(exc, BlockingIOError):
            return c.HOST_TO_WASI_ERRNO[exc.errno]
        if isinstance(exc, FileNotFoundError):
            return c.ENOENT
        if isinstance(exc, FileExistsError):
            return c.EEXIST
        if isinstance(exc, IsADirectoryError):
            return c.EISDIR
        if isinstance(exc, NotADirectoryError):
            return c.ENOTDIR
        if isinstance(exc, PermissionError):
            return c.EACCES
        if isinstance(exc, MemoryError):
            self.host_errors.append("MemoryError in host function")
            return c.ENOMEM
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=8))
        if len(self.host_errors) < 100:
            self.host_errors.append(text)
        return c.EIO

    def _span(self, ptr: int, n: int) -> int:
        """Absolute host address of guest range ``[ptr, ptr+n)`` after a bounds check (``EFAULT`` otherwise)."""
        if self._base is None:
            if not self.memory_ref:  # called before the runtime looked up the memory (e.g. from a start function)
                raise WasiError(c.EFAULT)
            self._base = _raw.memory_data(self.ctx, self.memory_ref) or 0
            self._size = _raw.memory_data_size(self.ctx, self.memory_ref)
        if n < 0 or ptr + n > self._size:
            raise WasiError(c.EFAULT)
        return self._base + ptr

    def _read_mem(self, ptr: int, n: int) -> bytes:
        if n == 0:
            return b""
        return ctypes.string_at(self._span(ptr, n), n)

    def _write_mem(self, ptr: int, data: bytes) -> None:
        n = len(data)
        if n:
            ctypes.memmove(self._span(ptr, n), data, n)

    def _view(self, ptr: int, n: int) -> memoryview:
        addr = self._span(ptr, n)
        return memoryview((ctypes.c_char * n).from_address(addr)).cast("B")

    def _put_u32(self, ptr: int, value: int) -> None:
        self._write_mem(ptr, _u32.pack(value & 0xFFFFFFFF))

    def _put_u64(self, ptr: int, value: int) -> None:
        self._write_mem(ptr, _u64.pack(value & 0xFFFFFFFFFFFFFFFF))

    def _string(self, ptr: int, n: int) -> str:
        raw = self._read_mem(ptr, n)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise WasiError(c.EILSEQ) from None

    def _entry(self, fd: int) -> FdEntry:
        entry = self.fds.get(fd)
        if entry is None:
            raise WasiError(c.EBADF)
        return entry

    def _dir(self, fd: int) -> FdEntry:
        entry = self._entry(fd)
        if entry.mount is None:
            raise WasiError(c.ENOTDIR)
        return entry

    def _resolve(self, fd: int, path_ptr: int, path_len: int) -> tuple[Mount, str, bool]:
        entry = self._dir(fd)
        path = self._string(path_ptr, path_len)
        rel, must_be_dir = resolve(entry.rel, path)
        assert entry.mount is not None
        return entry.mount, rel, must_be_dir

    def _alloc_fd(self, entry: FdEntry) -> int:
        for fd in range(len(self.fds) + 1):
            if fd not in self.fds:
                break
        if fd >= MAX_FDS:
            raise WasiError(c.EMFILE)
        self.fds[fd] = entry
        return fd

    def _iovecs(self, iovs: int, n: int) -> list[tuple[int, int]]:
        if n > 1024:
            raise WasiError(c.EINVAL)
        raw = self._read_mem(iovs, 8 * n)
        return [_iovec.unpack_from(raw, 8 * i) for i in range(n)]

    def _write_filestat(self, ptr: int, st: Stat) -> None:
        self._write_mem(
            ptr, _filestat.pack(st.dev, st.ino, st.filetype, st.nlink, st.size, st.mtime_ns, st.mtime_ns, st.mtime_ns)
        )

    def close(self) -> list[str]:
        """Close every fd and write back pending files (the guest may exit without closing them).

        Returns every write-back failure of the call (including those the guest saw as ``EIO`` from close).
        """
        if self.closed:
            return list(self.write_errors)
        self.closed = True
        seen: set[int] = set()
        for fd in sorted(self.fds):
            handle = self.fds[fd].handle
            if id(handle) in seen:
                continue
            seen.add(id(handle))
            try:
                self._close_handle(handle)
            except Exception:  # noqa: BLE001 - already in write_errors
                pass
        self.fds.clear()
        for mount in (self.root_mount, self.tmp_mount, self.dev_mount):
            for path, exc in mount.close():
                self.write_errors.append(f"{path}: {type(exc).__name__}: {exc}")
        return list(self.write_errors)

    # ------------------------------------------------------------------ args / env / clocks / random

    def args_sizes_get(self, argc_ptr: int, size_ptr: int) -> int:
        self._put_u32(argc_ptr, len(self.args))
        self._put_u32(size_ptr, sum(len(a) for a in self.args))
        return c.SUCCESS

    def args_get(self, argv_ptr: int, buf_ptr: int) -> int:
        return self._strings_get(self.args, argv_ptr, buf_ptr)

    def environ_sizes_get(self, count_ptr: int, size_ptr: int) -> int:
        self._put_u32(count_ptr, len(self.env))
        self._put_u32(size_ptr, sum(len(e) for e in self.env))
        return c.SUCCESS

    def environ_get(self, env_ptr: int, buf_ptr: int) -> int:
        return self._strings_get(self.env, env_ptr, buf_ptr)

    def _strings_get(self, items: list[bytes], ptrs: int, buf: int) -> int:
        offsets = []
        pos = buf
        for item in items:
            offsets.append(pos)
            pos += len(item)
        if items:
            self._write_mem(ptrs, struct.pack(f"<{len(items)}I", *offsets))
            self._write_mem(buf, b"".join(items))
        return c.SUCCESS

    def clock_res_get(self, clock_id: int, out_ptr: int) -> int:
        if clock_id > c.CLOCK_THREAD_CPUTIME_ID:
            return c.EINVAL
        self._put_u64(out_ptr, 1000)
        return c.SUCCESS

    def clock_time_get(self, clock_id: int, precision: int, out_ptr: int) -> int:
        if clock_id == c.CLOCK_REALTIME:
            now = time.time_ns()
        elif clock_id == c.CLOCK_MONOTONIC:
            now = time.monotonic_ns()
        elif clock_id in (c.CLOCK_PROCESS_CPUTIME_ID, c.CLOCK_THREAD_CPUTIME_ID):
            now = time.thread_time_ns()
        else:
            return c.EINVAL
        self._put_u64(out_ptr, now)
        return c.SUCCESS

    def random_get(self, buf: int, n: int) -> int:
        if n:
            self._write_mem(buf, os.urandom(n))
        return c.SUCCESS

    def sched_yield(self) -> int:
        return c.SUCCESS

    def proc_exit(self, code: int) -> int:
        self.exit_code = code & 0xFFFFFFFF
        raise GuestExit

    def proc_raise(self, sig: int) -> int:
        return c.ENOSYS

    def poll_oneoff(self, in_ptr: int, out_ptr: int, nsubs: int, nevents_ptr: int) -> int:
        if nsubs == 0:
            return c.EINVAL
        if nsubs > 4096:
            return c.EINVAL
        raw = self._read_mem(in_ptr, 48 * nsubs)
        events = []
        for i in range(nsubs):
            userdata, tag, _clock_or_fd, _timeout, _precision, _flags = _subscription.unpack_from(raw, 48 * i)
            if tag == c.EVENTTYPE_CLOCK:
                events.append(_event.pack(userdata, c.SUCCESS, tag, 0, 0))
            elif tag in (c.EVENTTYPE_FD_READ, c.EVENTTYPE_FD_WRITE):
                err = c.SUCCESS if _clock_or_fd in self.fds else c.EBADF
                events.append(_event.pack(userdata, err, tag, 0, 0))
            else:
                return c.EINVAL
        self._write_mem(out_ptr, b"".join(events))
        self._put_u32(nevents_ptr, len(events))
        return c.SUCCESS

    # ------------------------------------------------------------------ fd operations

    def fd_prestat_get(self, fd: int, buf: int) -> int:
        entry = self._entry(fd)
        if entry.preopen is None:
            return c.EBADF
        self._write_mem(buf, _prestat.pack(c.PREOPENTYPE_DIR, len(entry.preopen.encode())))
        return c.SUCCESS

    def fd_prestat_dir_name(self, fd: int, path_ptr: int, path_len: int) -> int:
        entry = self._entry(fd)
        if entry.preopen is None:
            return c.EBADF
        name = entry.preopen.encode()
        if path_len < len(name):
            return c.ENAMETOOLONG
        self._write_mem(path_ptr, name)
        return c.SUCCESS

    def fd_fdstat_get(self, fd: int, buf: int) -> int:
        entry = self._entry(fd)
        self._write_mem(
            buf, _fdstat.pack(entry.handle.filetype, entry.fdflags, entry.rights_base, entry.rights_inheriting)
        )
        return c.SUCCESS

    def fd_fdstat_set_flags(self, fd: int, flags: int) -> int:
        entry = self._entry(fd)
        entry.fdflags = flags & 0xFFFF
        if isinstance(entry.handle, SpoolHandle):
            entry.handle.append = bool(flags & c.FDFLAGS_APPEND)
        return c.SUCCESS

    def fd_fdstat_set_rights(self, fd: int, base: int, inheriting: int) -> int:
        entry = self._entry(fd)
        if base & ~entry.rights_base or inheriting & ~entry.rights_inheriting:
            return c.ENOTCAPABLE
        entry.rights_base, entry.rights_inheriting = base, inheriting
        return c.SUCCESS

    def fd_filestat_get(self, fd: int, buf: int) -> int:
        entry = self._entry(fd)
        self._write_filestat(buf, entry.handle.stat())
        return c.SUCCESS

    def fd_filestat_set_size(self, fd: int, size: int) -> int:
        self._entry(fd).handle.set_size(size)
        return c.SUCCESS

    def fd_filestat_set_times(self, fd: int, atim: int, mtim: int, flags: int) -> int:
        self._entry(fd)
        return c.SUCCESS

    def fd_advise(self, fd: int, offset: int, length: int, advice: int) -> int:
        self._entry(fd)
        return c.SUCCESS

    def fd_allocate(self, fd: int, offset: int, length: int) -> int:
        self._entry(fd).handle.allocate(offset, length)
        return c.SUCCESS

    def fd_sync(self, fd: int) -> int:
        self._entry(fd).handle.sync()
        return c.SUCCESS

    def fd_datasync(self, fd: int) -> int:
        return self.fd_sync(fd)

    def fd_close(self, fd: int) -> int:
        entry = self._entry(fd)
        del self.fds[fd]
        if not any(e.handle is entry.handle for e in self.fds.values()):
            self._close_handle(entry.handle)
        return c.SUCCESS

    def _close_handle(self, handle: Handle) -> None:
        try:
            handle.close()
        except Exception as exc:
            # closing a file opened for writing writes it back to the filesystem: a failure there loses data
            where = handle.spool.rel if isinstance(handle, SpoolHandle) else type(handle).__name__
            self.write_errors.append(f"{where}: {type(exc).__name__}: {exc}")
            raise

    def fd_renumber(self, fd: int, to: int) -> int:
        self._entry(fd)
        self._entry(to)
        if fd == to:
            return c.SUCCESS
        old = self.fds.pop(to)
        self.fds[to] = self.fds.pop(fd)
        if not any(e.handle is old.handle for e in self.fds.values()):
            self._close_handle(old.handle)
        return c.SUCCESS

    def fd_read(self, fd: int, iovs: int, iovs_len: int, nread_ptr: int) -> int:
        handle = self._entry(fd).handle
        if handle.filetype == c.FILETYPE_DIRECTORY:
            return c.EISDIR
        if not handle.readable:
            return c.EBADF
        total = 0
        for buf, length in self._iovecs(iovs, iovs_len):
            if length == 0:
                continue
            length = min(length, MAX_IO)
            n = handle.readinto(self._view(buf, length))
            total += n
            if n < length:
                break
        self._put_u32(nread_ptr, total)
        return c.SUCCESS

    def fd_pread(self, fd: int, iovs: int, iovs_len: int, offset: int, nread_ptr: int) -> int:
        handle = self._entry(fd).handle
        if handle.filetype == c.FILETYPE_DIRECTORY:
            return c.EISDIR
        if not handle.readable:
            return c.EBADF
        total = 0
        for buf, length in self._iovecs(iovs, iovs_len):
            if length == 0:
                continue
            self._span(buf, length)
            data = handle.pread(min(length, MAX_IO), offset + total)
            self._write_mem(buf, data)
            total += len(data)
            if len(data) < length:
                break
        self._put_u32(nread_ptr, total)
        return c.SUCCESS

    def _gather(self, iovs: int, iovs_len: int) -> bytes:
        parts = [self._read_mem(buf, length) for buf, length in self._iovecs(iovs, iovs_len) if length]
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def fd_write(self, fd: int, iovs: int, iovs_len: int, nwritten_ptr: int) -> int:
        handle = self._entry(fd).handle
        if not handle.writable:
            return c.EBADF
        data = self._gather(iovs, iovs_len)
        n = handle.write(data) if data else 0
        self._put_u32(nwritten_ptr, n)
        return c.SUCCESS

    def fd_pwrite(self, fd: int, iovs: int, iovs_len: int, offset: int, nwritten_ptr: int) -> int:
        handle = self._entry(fd).handle
        if not handle.writable:
            return c.EBADF
        data = self._gather(iovs, iovs_len)
        n = handle.pwrite(data, offset) if data else 0
        self._put_u32(nwritten_ptr, n)
        return c.SUCCESS

    def fd_seek(self, fd: int, offset: int, whence: int, out_ptr: int) -> int:
        handle = self._entry(fd).handle
        if offset >= 1 << 63:
            offset -= 1 << 64
        self._put_u64(out_ptr, handle.seek(offset, whence))
        return c.SUCCESS

    def fd_tell(self, fd: int, out_ptr: int) -> int:
        self._put_u64(out_ptr, self._entry(fd).handle.tell())
        return c.SUCCESS

    def fd_readdir(self, fd: int, buf: int, buf_len: int, cookie: int, bufused_ptr: int) -> int:
        handle = self._entry(fd).handle
        if not isinstance(handle, DirHandle):
            return c.ENOTDIR
        entries = handle.entries(cookie)
        out = bytearray()
        for index in range(cookie, len(entries)):
            if len(out) >= buf_len:
                break
            name, filetype, ino = entries[index]
            raw = name.encode("utf-8")
            out += _dirent.pack(index + 1, ino, len(raw), filetype) + raw
        out = out[:buf_len]
        self._write_mem(buf, bytes(out))
        self._put_u32(bufused_ptr, len(out))
        return c.SUCCESS

    # ------------------------------------------------------------------ path operations

    def path_open(
        self,
        fd: int,
        dirflags: int,
        path_ptr: int,
        path_len: int,
        oflags: int,
        rights_base: int,
        rights_inheriting: int,
        fdflags: int,
        fd_out: int,
    ) -> int:
        dir_entry = self._dir(fd)
        mount, rel, must_be_dir = self._resolve(fd, path_ptr, path_len)
        rights_base &= dir_entry.rights_inheriting
        rights_inheriting &= dir_entry.rights_inheriting
        read = bool(rights_base & c.RIGHTS_FD_READ)
        write = bool(rights_base & c.RIGHTS_FD_WRITE)
        if oflags & c.OFLAGS_TRUNC and not rights_base & c.RIGHTS_FD_WRITE:
            write = False
        handle = mount.open(
            rel, oflags=oflags, read=read, write=write, append=bool(fdflags & c.FDFLAGS_APPEND), must_be_dir=must_be_dir
        )
        if isinstance(handle, DirHandle):
            base = rights_base & c.RIGHTS_DIRECTORY
            entry = FdEntry(handle, base, rights_inheriting, fdflags & 0xFFFF, mount=mount, rel=rel)
        else:
            entry = FdEntry(handle, rights_base & c.RIGHTS_REGULAR_FILE, rights_inheriting, fdflags & 0xFFFF)
        try:
            new_fd = self._alloc_fd(entry)
        except WasiError:
            handle.close()
            raise
        self._put_u32(fd_out, new_fd)
        return c.SUCCESS

    def path_filestat_get(self, fd: int, flags: int, path_ptr: int, path_len: int, buf: int) -> int:
        mount, rel, must_be_dir = self._resolve(fd, path_ptr, path_len)
        st = mount.stat(rel)
        if must_be_dir and st.filetype != c.FILETYPE_DIRECTORY:
            return c.ENOTDIR
        self._write_filestat(buf, st)
        return c.SUCCESS

    def path_filestat_set_times(
        self, fd: int, flags: int, path_ptr: int, path_len: int, atim: int, mtim: int, fst_flags: int
    ) -> int:
        mount, rel, _ = self._resolve(fd, path_ptr, path_len)
        mount.stat(rel)
        return c.SUCCESS

    def path_create_directory(self, fd: int, path_ptr: int, path_len: int) -> int:
        mount, rel, _ = self._resolve(fd, path_ptr, path_len)
        mount.mkdir(rel)
        return c.SUCCESS

    def path_remove_directory(self, fd: int, path_ptr: int, path_len: int) -> int:
        mount, rel, _ = self._resolve(fd, path_ptr, path_len)
        mount.rmdir(rel)
        return c.SUCCESS

    def path_unlink_file(self, fd: int, path_ptr: int, path_len: int) -> int:
        mount, rel, must_be_dir = self._resolve(fd, path_ptr, path_len)
        if must_be_dir:
            st = mount.stat(rel)
            return c.EISDIR if st.filetype == c.FILETYPE_DIRECTORY else c.ENOTDIR
        mount.unlink(rel)
        return c.SUCCESS

    def path_rename(self, fd: int, old_ptr: int, old_len: int, new_fd: int, new_ptr: int, new_len: int) -> int:
        src_mount, src, _ = self._resolve(fd, old_ptr, old_len)
        dst_mount, dst, _ = self._resolve(new_fd, new_ptr, new_len)
        if src_mount is not dst_mount:
            return c.EXDEV
        src_mount.rename(src, dst)
        return c.SUCCESS

    def path_readlink(self, fd: int, path_ptr: int, path_len: int, buf: int, buf_len: int, used_ptr: int) -> int:
        mount, rel, _ = self._resolve(fd, path_ptr, path_len)
        mount.stat(rel)  # ENOENT if missing
        return c.EINVAL  # nothing is a symlink

    def path_symlink(self, old_ptr: int, old_len: int, fd: int, new_ptr: int, new_len: int) -> int:
        return c.ENOTSUP

    def path_link(
        self, fd: int, flags: int, old_ptr: int, old_len: int, new_fd: int, new_ptr: int, new_len: int
    ) -> int:
        return c.ENOTSUP


# ---------------------------------------------------------------------- registration / trampoline

#: WASI functions we implement, with their expected wasm parameter types ("i" = i32, "I" = i64).
SIGNATURES: dict[str, str] = {
    "args_get": "ii",
    "args_sizes_get": "ii",
    "environ_get": "ii",
    "environ_sizes_get": "ii",
    "clock_res_get": "ii",
    "clock_time_get": "iIi",
    "random_get": "ii",
    "sched_yield": "",
    "proc_exit": "i",
    "proc_raise": "i",
    "poll_oneoff": "iiii",
    "fd_prestat_get": "ii",
    "fd_prestat_dir_name": "iii",
    "fd_fdstat_get": "ii",
    "fd_fdstat_set_flags": "ii",
    "fd_fdstat_set_rights": "iII",
    "fd_filestat_get": "ii",
    "fd_filestat_set_size": "iI",
    "fd_filestat_set_times": "iIIi",
    "fd_advise": "iIIi",
    "fd_allocate": "iII",
    "fd_sync": "i",
    "fd_datasync": "i",
    "fd_close": "i",
    "fd_renumber": "ii",
    "fd_read": "iiii",
    "fd_pread": "iiiIi",
    "fd_write": "iiii",
    "fd_pwrite": "iiiIi",
    "fd_seek": "iIii",
    "fd_tell": "ii",
    "fd_readdir": "iiiIi",
    "path_open": "iiiiiIIii",
    "path_filestat_get": "iiiii",
    "path_filestat_set_times": "iiiiIIi",
    "path_create_directory": "iii",
    "path_remove_directory": "iii",
    "path_unlink_file": "iii",
    "path_rename": "iiiiii",
    "path_readlink": "iiiiii",
    "path_symlink": "iiiii",
    "path_link": "iiiiiii",
}


@dataclass
class _Spec:
    name: str
    method: Callable[..., int] | None  # None: ENOSYS stub
    unpack: Callable[[bytes], tuple[int, ...]]
    nbytes: int
    has_result: bool
    trap_message: str | None = None  # for stubs of non-WASI imports


_SPECS: list[_Spec | None] = [None]  # env index 0 unused
_SPEC_INDEX: dict[tuple[str, str, tuple[str, ...], tuple[str, ...]], int] = {}  # one spec per distinct import
_SPECS_LOCK = threading.Lock()
_STATES: dict[int, WasiCall] = {}
_KEYS = itertools.count(1)


def register_state(state: WasiCall) -> int:
    key = next(_KEYS)
    _STATES[key] = state
    return key


def unregister_state(key: int) -> None:
    _STATES.pop(key, None)


def _results_slot(args: int) -> ctypes.c_uint32:
    return ctypes.c_uint32.from_address(args)


def _trampoline(env: int, caller: int, args: int, nargs: int) -> int:
    state: WasiCall | None = None
    try:
        spec = _SPECS[env]
        assert spec is not None
        ctx = _raw.caller_context(caller)
        state = _STATES.get(_raw.context_get_data(ctx) or 0)
        if state is None:
            return _raw.new_trap("afmpeg: WASI call without an active call state")
        if spec.trap_message is not None:
            return _raw.new_trap(spec.trap_message)
        state.ctx = ctx
        state._base = None
        if spec.method is None:
            result = c.ENOSYS
        else:
            values = spec.unpack(ctypes.string_at(args, spec.nbytes)) if spec.nbytes else ()
            try:
                result = spec.method(state, *values)
            except WasiError as exc:
                result = exc.errno
            except GuestExit:
                return _raw.new_trap(EXIT_MARKER)
            except (KeyboardInterrupt, SystemExit) as exc:
                state.interrupt = exc
                return _raw.new_trap(INTERRUPT_MARKER)
            except BaseException as exc:  # noqa: BLE001 - never raise into wasmtime
                result = state.record(exc)
        if spec.has_result:
            _results_slot(args).value = result
        return 0
    except BaseException as exc:  # noqa: BLE001 - last line of defence: never raise into wasmtime
        try:
            if state is not None:
                if isinstance(exc, KeyboardInterrupt | SystemExit):
                    state.interrupt = exc
                else:
                    state.record(exc)
            return _raw.new_trap("afmpeg: internal error in WASI host function")
        except BaseException:  # noqa: BLE001
            return 0


_TRAMPOLINE = _raw.RAW_CALLBACK(_trampoline)


def _make_spec(name: str, params: list[str], results: list[str], method: Callable[..., int] | None) -> _Spec:
    fmt = "<"
    for kind in params:
        fmt += "I12x" if kind == "i32" else "Q8x"
    packer = struct.Struct(fmt)
    return _Spec(name, method, packer.unpack, packer.size, bool(results))


def _kind(valtype: Any) -> str:
    return str(valtype)


def define_imports(linker: Any, module: Any) -> list[str]:
    """Define every import of ``module`` on ``linker`` (a ``wasmtime.Linker``) through the raw trampoline.

    Known WASI functions get their implementation; unknown ``wasi_snapshot_preview1`` functions return ENOSYS;
    function imports from other modules trap with a clear message when called. Returns the names of stubs.
    """
    import wasmtime

    stubs: list[str] = []
    for imp in module.imports:
        ty = imp.type
        if not isinstance(ty, wasmtime.FuncType):
            raise ValueError(f"module imports a non-function {imp.module}.{imp.name}; afmpeg cannot provide it")
        params = [_kind(p) for p in ty.params]
        results = [_kind(r) for r in ty.results]
        method: Callable[..., int] | None = None
        trap_message = None
        if imp.module == WASI_MODULE:
            expected = SIGNATURES.get(imp.name or "")
            actual = "".join("i" if p == "i32" else "I" if p == "i64" else "?" for p in params)
            if expected is not None and expected == actual and results in ([], ["i32"]):
                method = getattr(WasiCall, imp.name or "")
            else:
                stubs.append(imp.name or "")
                if results not in ([], ["i32"]) or "?" in actual:
                    trap_message = f"afmpeg: unsupported WASI import {imp.name}"
        else:
            stubs.append(f"{imp.module}.{imp.name}")
            trap_message = f"afmpeg: called unsupported import {imp.module}.{imp.name}"
        ident = (imp.module, imp.name or "", tuple(params), tuple(results))
        with _SPECS_LOCK:
            env = _SPEC_INDEX.get(ident, 0)
            if not env:
                spec = _make_spec(imp.name or "", params, results, method)
                spec.trap_message = trap_message
                _SPECS.append(spec)
                env = _SPEC_INDEX[ident] = len(_SPECS) - 1
        _raw.define_raw_func(linker.ptr(), imp.module, imp.name or "", ty.ptr(), _TRAMPOLINE, env)
    return stubs
