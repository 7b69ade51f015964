"""The WASI preview1 functions, over the mounts of one guest run.

One :class:`WasiCall` holds everything a single guest run owns: argv, the fd table, the mounts, captured
stdout/stderr, the exit code. Its methods are named after the WASI imports; they receive the raw (unsigned)
integer arguments and return a WASI errno, or raise :class:`WasiError`. They are reached through the
trampoline in :mod:`afmpeg.wasi.linker`, which turns anything else they raise into an errno.

Guest memory is only touched through :meth:`WasiCall._span`, which bounds-checks every pointer *before* the
host does any work for it.
"""

from __future__ import annotations

import ctypes
import os
import struct
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import _raw
from . import constants as c
from .errors import WasiError, errno_for
from .handles import CaptureHandle, DirHandle, Handle, NullHandle, OutputBudget, SpoolHandle, Stat
from .mounts import DevMount, FsspecMount, Mount
from .paths import resolve

MAX_FDS = 4096
MAX_SUBSCRIPTIONS = 4096
STDERR_TAIL = 64 * 1024
STDOUT_LIMIT = 64 * 1024 * 1024
MAX_IO = 1 << 30  # bytes moved by one read/write call at most (POSIX allows short transfers)
MAX_HOST_ERRORS = 100

#: What :meth:`WasiCall.proc_exit` returns: the trampoline ends the guest with a trap (no exception involved).
EXIT = -1

_u32 = struct.Struct("<I")
_u64 = struct.Struct("<Q")
_iovec = struct.Struct("<II")
_filestat = struct.Struct("<QQBxxxxxxxQQQQQ")  # dev, ino, filetype, nlink, size, atim, mtim, ctim
_fdstat = struct.Struct("<BxHxxxxQQ")  # filetype, flags, rights_base, rights_inheriting
_prestat = struct.Struct("<BxxxI")  # tag, dir name length
_dirent = struct.Struct("<QQIBxxx")  # d_next, d_ino, d_namlen, d_type; the name follows
_subscription = struct.Struct("<QB7xIxxxxQQH6x")  # userdata, tag, clock id | fd, timeout, precision, flags
_event = struct.Struct("<QHBxxxxxQH6x")  # userdata, error, type, nbytes, flags

assert (_filestat.size, _fdstat.size, _prestat.size, _dirent.size) == (64, 24, 8, 24)
assert (_subscription.size, _event.size) == (48, 32)


@dataclass
class FdEntry:
    """One slot of the fd table."""

    handle: Handle
    rights_base: int
    rights_inheriting: int
    fdflags: int = 0
    preopen: str | None = None  # the guest path of a preopened directory
    mount: Mount | None = None  # set for directories
    rel: str = ""  # mount-relative path of a directory


def _offset(value: int) -> int:
    """A guest ``off_t`` passed as u64: values with the sign bit set are negative, hence ``EINVAL``."""
    if value > c.MAX_OFFSET:
        raise WasiError(c.EINVAL)
    return value


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
        output_limit: int | None = None,
        devices: Mapping[str, Callable[[Callable[[], bool]], Handle]] | None = None,
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
        #: bytes the files written by this call may add up to (shared by ``/`` and ``/tmp``)
        self.output_budget = OutputBudget(output_limit)
        self.root_mount = FsspecMount(fs, root, dev=1, budget=self.output_budget)
        self.tmp_mount = FsspecMount(tmp_fs, "", dev=2, budget=self.output_budget)
        # extra devices (stream pipes) get the job's stop check: their blocked reads/writes poll it
        def stopping() -> bool:
            return self.should_stop is not None and self.should_stop()

        extra = {name: (lambda f=factory: f(stopping)) for name, factory in (devices or {}).items()}
        self.dev_mount = DevMount(3, self.progress, extra)
        self.fds: dict[int, FdEntry] = {
            0: FdEntry(NullHandle(), c.RIGHTS_FD_READ | c.RIGHTS_POLL_FD_READWRITE, 0),
            1: FdEntry(self.stdout, c.RIGHTS_FD_WRITE | c.RIGHTS_POLL_FD_READWRITE, 0),
            2: FdEntry(self.stderr, c.RIGHTS_FD_WRITE | c.RIGHTS_POLL_FD_READWRITE, 0),
        }
        preopens = (("/", self.root_mount), ("/tmp", self.tmp_mount), ("/dev", self.dev_mount))
        for fd, (name, mount) in enumerate(preopens, start=3):
            self.fds[fd] = FdEntry(DirHandle(mount, ""), c.RIGHTS_DIRECTORY, c.RIGHTS_ALL, preopen=name, mount=mount)
        # set by the runtime / the trampoline
        self.memory: Any = None  # the instance's wasmtime_memory_t (a ctypes struct, kept alive here)
        self.memory_ref: int = 0
        self.ctx: int = 0
        self._base: int | None = None
        self._size = 0
        self.closed = False
        #: set by the runtime for jobs with a time limit or cancel token: true once the job must stop
        self.should_stop = None

    @property
    def should_stop(self) -> Callable[[], bool] | None:
        """The job's stop condition (set by the runtime for jobs with a time limit or cancel token): true once the
        job must stop. Blocking host calls poll it: pipes, ``poll_oneoff`` sleeps, remote filesystem requests."""
        return self._should_stop

    @should_stop.setter
    def should_stop(self, value: Callable[[], bool] | None) -> None:
        self._should_stop = value
        self.root_mount.should_stop = value
        self.tmp_mount.should_stop = value

    # ------------------------------------------------------------------ plumbing

    def set_memory(self, memory: Any) -> None:
        """Attach the instance's linear memory (before the guest runs)."""
        self.memory = memory
        self.memory_ref = ctypes.addressof(memory)

    def begin_host_call(self, ctx: int) -> None:
        """Called by the trampoline before each host function: memory may have moved or grown since the last."""
        self.ctx = ctx
        self._base = None

    def record(self, exc: BaseException) -> int:
        """Choose the errno for an exception a host function raised; record it unless it is an expected one."""
        errno = errno_for(exc)
        if errno is not None:
            return errno
        if isinstance(exc, MemoryError):
            text, errno = "MemoryError in host function", c.ENOMEM
        else:
            text, errno = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=8)), c.EIO
        if len(self.host_errors) < MAX_HOST_ERRORS:
            self.host_errors.append(text)
        return errno

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
        addr = self._span(ptr, n)
        return ctypes.string_at(addr, n) if n else b""

    def _write_mem(self, ptr: int, data: bytes) -> None:
        n = len(data)
        addr = self._span(ptr, n)
        if n:
            ctypes.memmove(addr, data, n)

    def _view(self, ptr: int, n: int) -> memoryview:
        addr = self._span(ptr, n)
        return memoryview((ctypes.c_char * n).from_address(addr)).cast("B")

    def _put_u32(self, ptr: int, value: int) -> None:
        self._write_mem(ptr, _u32.pack(value & 0xFFFFFFFF))

    def _put_u64(self, ptr: int, value: int) -> None:
        self._write_mem(ptr, _u64.pack(value & 0xFFFFFFFFFFFFFFFF))

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
        """``(mount, mount-relative path, must_be_dir)`` for a guest path relative to directory ``fd``."""
        entry = self._dir(fd)
        if path_len > c.PATH_MAX:
            raise WasiError(c.ENAMETOOLONG)
        try:
            path = self._read_mem(path_ptr, path_len).decode("utf-8")
        except UnicodeDecodeError:
            raise WasiError(c.EILSEQ) from None
        rel, must_be_dir = resolve(entry.rel, path)
        assert entry.mount is not None
        return entry.mount, rel, must_be_dir

    def _free_fd(self) -> int:
        """The lowest unused fd (``EMFILE`` when the table is full) — checked before anything is opened."""
        if len(self.fds) >= MAX_FDS:
            raise WasiError(c.EMFILE)
        return next(fd for fd in range(len(self.fds) + 1) if fd not in self.fds)

    def _iovecs(self, iovs: int, n: int) -> list[tuple[int, int]]:
        """The ``(buf, len)`` pairs of an iovec array, truncated so that they add up to ``MAX_IO`` at most."""
        if n > c.IOV_MAX:
            raise WasiError(c.EINVAL)
        raw = self._read_mem(iovs, 8 * n)
        out = []
        room = MAX_IO
        for i in range(n):
            buf, length = _iovec.unpack_from(raw, 8 * i)
            length = min(length, room)
            if length:
                self._span(buf, length)  # every buffer is checked before any byte moves
                out.append((buf, length))
                room -= length
        return out

    def _write_filestat(self, ptr: int, st: Stat) -> None:
        self._write_mem(
            ptr, _filestat.pack(st.dev, st.ino, st.filetype, st.nlink, st.size, st.mtime_ns, st.mtime_ns, st.mtime_ns)
        )

    def close(self, publish: bool = True) -> list[str]:
        """Close every fd; then publish the files the call wrote (``publish=True``, the call succeeded) or drop
        them, leaving the filesystem as it was (``publish=False``).

        Returns every write-back failure of the call.
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
            except WasiError:
                pass  # already in write_errors
        self.fds.clear()
        for mount in (self.root_mount, self.tmp_mount):
            if not publish:
                mount.discard()
                continue
            for path, exc in mount.publish():
                self.write_errors.append(f"{path}: {type(exc).__name__}: {exc}")
        return list(self.write_errors)

    def _release(self, handle: Handle) -> None:
        """Close ``handle`` unless another fd still refers to it (the progress device is one shared handle)."""
        if not any(e.handle is handle for e in self.fds.values()):
            self._close_handle(handle)

    def _close_handle(self, handle: Handle) -> None:
        try:
            handle.close()
        except Exception as exc:
            # closing a file opened for writing writes it back to the filesystem: a failure there loses data.
            # It is reported once, in write_errors; the guest gets the errno.
            where = handle.spool.rel if isinstance(handle, SpoolHandle) else type(handle).__name__
            self.write_errors.append(f"{where}: {type(exc).__name__}: {exc}")
            raise WasiError(errno_for(exc) or c.EIO) from exc

    # ------------------------------------------------------------------ args / env / clocks / random / process

    def args_sizes_get(self, argc_ptr: int, size_ptr: int) -> int:
        """The number of arguments and their total size."""
        self._put_u32(argc_ptr, len(self.args))
        self._put_u32(size_ptr, sum(len(a) for a in self.args))
        return c.SUCCESS

    def args_get(self, argv_ptr: int, buf_ptr: int) -> int:
        """Copy argv into guest memory."""
        return self._strings_get(self.args, argv_ptr, buf_ptr)

    def environ_sizes_get(self, count_ptr: int, size_ptr: int) -> int:
        """The number of environment variables and their total size."""
        self._put_u32(count_ptr, len(self.env))
        self._put_u32(size_ptr, sum(len(e) for e in self.env))
        return c.SUCCESS

    def environ_get(self, env_ptr: int, buf_ptr: int) -> int:
        """Copy the environment into guest memory (the guest gets an empty one)."""
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

    @staticmethod
    def _clock_now(clock_id: int) -> int | None:
        if clock_id == c.CLOCK_REALTIME:
            return time.time_ns()
        if clock_id == c.CLOCK_MONOTONIC:
            return time.monotonic_ns()
        if clock_id in (c.CLOCK_PROCESS_CPUTIME_ID, c.CLOCK_THREAD_CPUTIME_ID):
            return time.thread_time_ns()  # one guest run = one host thread
        return None

    def clock_res_get(self, clock_id: int, out_ptr: int) -> int:
        """The resolution of a clock."""
        if self._clock_now(clock_id) is None:
            return c.EINVAL
        self._put_u64(out_ptr, 1000)
        return c.SUCCESS

    def clock_time_get(self, clock_id: int, precision: int, out_ptr: int) -> int:
        """The time of a clock, in nanoseconds."""
        now = self._clock_now(clock_id)
        if now is None:
            return c.EINVAL
        self._put_u64(out_ptr, now)
        return c.SUCCESS

    def random_get(self, buf: int, n: int) -> int:
        """Fill a guest buffer with random bytes from the host's CSPRNG."""
        self._span(buf, n)  # before generating n bytes: n is up to 4 GiB
        self._write_mem(buf, os.urandom(n))
        return c.SUCCESS

    def sched_yield(self) -> int:
        """Yield the processor (a no-op)."""
        return c.SUCCESS

    def proc_exit(self, code: int) -> int:
        """End the guest with an exit code."""
        self.exit_code = code & 0xFFFFFFFF
        return EXIT

    def proc_raise(self, sig: int) -> int:
        """Raising a signal is not supported (ENOSYS)."""
        return c.ENOSYS

    def poll_oneoff(self, in_ptr: int, out_ptr: int, nsubs: int, nevents_ptr: int) -> int:
        """fd subscriptions are always ready (regular files and captured streams never block); when none is
        given, sleep until the earliest clock subscription expires and report the clocks that did."""
        if nsubs == 0 or nsubs > MAX_SUBSCRIPTIONS:
            return c.EINVAL
        raw = self._read_mem(in_ptr, _subscription.size * nsubs)
        self._span(out_ptr, _event.size * nsubs)
        self._span(nevents_ptr, 4)
        ready: list[bytes] = []
        clocks: list[tuple[int, int]] = []  # (ns from now, userdata)
        for i in range(nsubs):
            userdata, tag, clock_or_fd, timeout, _precision, flags = _subscription.unpack_from(raw, 48 * i)
            if tag == c.EVENTTYPE_CLOCK:
                now = self._clock_now(clock_or_fd)
                if now is None:
                    ready.append(_event.pack(userdata, c.EINVAL, tag, 0, 0))
                else:
                    clocks.append((timeout - now if flags & c.SUBCLOCKFLAGS_ABSTIME else timeout, userdata))
            elif tag in (c.EVENTTYPE_FD_READ, c.EVENTTYPE_FD_WRITE):
                err = c.SUCCESS if clock_or_fd in self.fds else c.EBADF
                ready.append(_event.pack(userdata, err, tag, 0, 0))
            else:
                return c.EINVAL
        if not ready and clocks:
            # sleep in slices so that a time limit or a cancellation (``should_stop``) ends it early; the guest then
            # sees the clock fire and is stopped at its next epoch check. Ctrl-C still reaches the trampoline.
            wait = max(0, min(delay for delay, _ in clocks))
            end = time.monotonic() + wait / 1e9
            while True:
                left = end - time.monotonic()
                if left <= 0 or (self.should_stop is not None and self.should_stop()):
                    break
                time.sleep(min(left, 0.05))
            ready = [_event.pack(ud, c.SUCCESS, c.EVENTTYPE_CLOCK, 0, 0) for delay, ud in clocks if delay <= wait]
        self._write_mem(out_ptr, b"".join(ready))
        self._put_u32(nevents_ptr, len(ready))
        return c.SUCCESS

    # ------------------------------------------------------------------ fd operations

    def fd_prestat_get(self, fd: int, buf: int) -> int:
        """Describe a preopened directory."""
        entry = self._entry(fd)
        if entry.preopen is None:
            return c.EBADF
        self._write_mem(buf, _prestat.pack(c.PREOPENTYPE_DIR, len(entry.preopen.encode())))
        return c.SUCCESS

    def fd_prestat_dir_name(self, fd: int, path_ptr: int, path_len: int) -> int:
        """The guest path of a preopened directory."""
        entry = self._entry(fd)
        if entry.preopen is None:
            return c.EBADF
        name = entry.preopen.encode()
        if path_len < len(name):
            return c.ENAMETOOLONG
        self._write_mem(path_ptr, name)
        return c.SUCCESS

    def fd_fdstat_get(self, fd: int, buf: int) -> int:
        """A descriptor's type, flags and rights."""
        entry = self._entry(fd)
        self._write_mem(
            buf, _fdstat.pack(entry.handle.filetype, entry.fdflags, entry.rights_base, entry.rights_inheriting)
        )
        return c.SUCCESS

    def fd_fdstat_set_flags(self, fd: int, flags: int) -> int:
        """Change a descriptor's flags (append, nonblock)."""
        entry = self._entry(fd)
        entry.fdflags = flags & 0xFFFF
        if isinstance(entry.handle, SpoolHandle):
            entry.handle.append = bool(flags & c.FDFLAGS_APPEND)
        return c.SUCCESS

    def fd_fdstat_set_rights(self, fd: int, base: int, inheriting: int) -> int:
        """Drop rights from a descriptor."""
        entry = self._entry(fd)
        if base & ~entry.rights_base or inheriting & ~entry.rights_inheriting:
            return c.ENOTCAPABLE
        entry.rights_base, entry.rights_inheriting = base, inheriting
        return c.SUCCESS

    def fd_filestat_get(self, fd: int, buf: int) -> int:
        """The attributes of an open file."""
        self._write_filestat(buf, self._entry(fd).handle.stat())
        return c.SUCCESS

    def fd_filestat_set_size(self, fd: int, size: int) -> int:
        """Truncate or extend an open file."""
        self._entry(fd).handle.set_size(_offset(size))
        return c.SUCCESS

    def fd_filestat_set_times(self, fd: int, atim: int, mtim: int, flags: int) -> int:
        """Setting an open file's times is accepted and ignored (the backend keeps its own)."""
        self._entry(fd)
        return c.SUCCESS

    def fd_advise(self, fd: int, offset: int, length: int, advice: int) -> int:
        """Access-pattern advice for a file (accepted and ignored)."""
        self._entry(fd)
        return c.SUCCESS

    def fd_allocate(self, fd: int, offset: int, length: int) -> int:
        """Make sure a file is at least a given size."""
        handle = self._entry(fd).handle
        if _offset(offset) + _offset(length) > c.MAX_OFFSET:
            return c.EFBIG
        handle.allocate(offset, length)
        return c.SUCCESS

    def fd_sync(self, fd: int) -> int:
        """Flush a file (pending files are published only when the job succeeds)."""
        self._entry(fd).handle.sync()
        return c.SUCCESS

    def fd_datasync(self, fd: int) -> int:
        """Flush a file's data (pending files are published only when the job succeeds)."""
        return self.fd_sync(fd)

    def fd_close(self, fd: int) -> int:
        """Close a descriptor."""
        entry = self._entry(fd)
        del self.fds[fd]
        self._release(entry.handle)
        return c.SUCCESS

    def fd_renumber(self, fd: int, to: int) -> int:
        """Move a descriptor to another number."""
        self._entry(fd)
        self._entry(to)
        if fd == to:
            return c.SUCCESS
        old = self.fds.pop(to)
        self.fds[to] = self.fds.pop(fd)
        self._release(old.handle)
        return c.SUCCESS

    def _readable(self, fd: int) -> Handle:
        handle = self._entry(fd).handle
        if handle.filetype == c.FILETYPE_DIRECTORY:
            raise WasiError(c.EISDIR)
        if not handle.readable:
            raise WasiError(c.EBADF)
        return handle

    def fd_read(self, fd: int, iovs: int, iovs_len: int, nread_ptr: int) -> int:
        """Read into a list of guest buffers (EOF is a read of 0 bytes)."""
        handle = self._readable(fd)
        total = 0
        for buf, length in self._iovecs(iovs, iovs_len):
            n = handle.readinto(self._view(buf, length))
            total += n
            if n < length:  # EOF (or a short read): later buffers must not get later bytes
                break
        self._put_u32(nread_ptr, total)
        return c.SUCCESS

    def fd_pread(self, fd: int, iovs: int, iovs_len: int, offset: int, nread_ptr: int) -> int:
        """Read at an offset without moving the file position."""
        handle = self._readable(fd)
        offset = _offset(offset)
        total = 0
        for buf, length in self._iovecs(iovs, iovs_len):
            data = handle.pread(length, offset + total)
            self._write_mem(buf, data)
            total += len(data)
            if len(data) < length:
                break
        self._put_u32(nread_ptr, total)
        return c.SUCCESS

    def _gather(self, fd: int, iovs: int, iovs_len: int) -> tuple[Handle, bytes]:
        handle = self._entry(fd).handle
        if not handle.writable:
            raise WasiError(c.EBADF)
        parts = [self._read_mem(buf, length) for buf, length in self._iovecs(iovs, iovs_len)]
        return handle, parts[0] if len(parts) == 1 else b"".join(parts)

    def fd_write(self, fd: int, iovs: int, iovs_len: int, nwritten_ptr: int) -> int:
        """Write a list of guest buffers."""
        handle, data = self._gather(fd, iovs, iovs_len)
        self._put_u32(nwritten_ptr, handle.write(data) if data else 0)
        return c.SUCCESS

    def fd_pwrite(self, fd: int, iovs: int, iovs_len: int, offset: int, nwritten_ptr: int) -> int:
        """Write at an offset without moving the file position."""
        handle, data = self._gather(fd, iovs, iovs_len)
        offset = _offset(offset)
        self._put_u32(nwritten_ptr, handle.pwrite(data, offset) if data else 0)
        return c.SUCCESS

    def fd_seek(self, fd: int, offset: int, whence: int, out_ptr: int) -> int:
        """Move the file position."""
        handle = self._entry(fd).handle
        if offset > c.MAX_OFFSET:  # the u64 carries a signed delta
            offset -= 1 << 64
        self._put_u64(out_ptr, handle.seek(offset, whence))
        return c.SUCCESS

    def fd_tell(self, fd: int, out_ptr: int) -> int:
        """The file position."""
        self._put_u64(out_ptr, self._entry(fd).handle.tell())
        return c.SUCCESS

    def fd_readdir(self, fd: int, buf: int, buf_len: int, cookie: int, bufused_ptr: int) -> int:
        """Entries from ``cookie`` on; the last one is cut at ``buf_len`` (the guest then retries bigger)."""
        handle = self._entry(fd).handle
        if not isinstance(handle, DirHandle):
            return c.ENOTDIR
        self._span(buf, buf_len)
        entries = handle.entries(cookie)
        out = bytearray()
        for index in range(cookie, len(entries)):
            if len(out) >= buf_len:
                break
            name, filetype, ino = entries[index]
            raw = name.encode("utf-8")
            out += _dirent.pack(index + 1, ino, len(raw), filetype) + raw
        del out[buf_len:]
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
        """Open or create a file below a directory descriptor, confined to that tree."""
        fdflags &= 0xFFFF
        dir_entry = self._dir(fd)
        mount, rel, must_be_dir = self._resolve(fd, path_ptr, path_len)
        self._span(fd_out, 4)
        new_fd = self._free_fd()  # before opening: a failed open must not create the file
        rights_base &= dir_entry.rights_inheriting
        rights_inheriting &= dir_entry.rights_inheriting
        handle = mount.open(
            rel,
            oflags=oflags,
            read=bool(rights_base & c.RIGHTS_FD_READ),
            write=bool(rights_base & c.RIGHTS_FD_WRITE),
            append=bool(fdflags & c.FDFLAGS_APPEND),
            must_be_dir=must_be_dir,
        )
        if isinstance(handle, DirHandle):
            entry = FdEntry(handle, rights_base & c.RIGHTS_DIRECTORY, rights_inheriting, fdflags, mount=mount, rel=rel)
        else:
            entry = FdEntry(handle, rights_base & c.RIGHTS_REGULAR_FILE, rights_inheriting, fdflags)
        self.fds[new_fd] = entry
        self._put_u32(fd_out, new_fd)
        return c.SUCCESS

    def path_filestat_get(self, fd: int, flags: int, path_ptr: int, path_len: int, buf: int) -> int:
        """The attributes of a file by path."""
        mount, rel, must_be_dir = self._resolve(fd, path_ptr, path_len)
        st = mount.stat(rel)
        if must_be_dir and st.filetype != c.FILETYPE_DIRECTORY:
            return c.ENOTDIR
        self._write_filestat(buf, st)
        return c.SUCCESS

    def path_filestat_set_times(
        self, fd: int, flags: int, path_ptr: int, path_len: int, atim: int, mtim: int, fst_flags: int
    ) -> int:
        """Setting a file's times by path is accepted and ignored (ENOENT if it is missing)."""
        mount, rel, _ = self._resolve(fd, path_ptr, path_len)
        mount.stat(rel)
        return c.SUCCESS

    def path_create_directory(self, fd: int, path_ptr: int, path_len: int) -> int:
        """Create a directory (pending until the job succeeds)."""
        mount, rel, _ = self._resolve(fd, path_ptr, path_len)
        mount.mkdir(rel)
        return c.SUCCESS

    def path_remove_directory(self, fd: int, path_ptr: int, path_len: int) -> int:
        """Remove an empty directory (pending until the job succeeds)."""
        mount, rel, _ = self._resolve(fd, path_ptr, path_len)
        mount.rmdir(rel)
        return c.SUCCESS

    def path_unlink_file(self, fd: int, path_ptr: int, path_len: int) -> int:
        """Remove a file (pending until the job succeeds)."""
        mount, rel, must_be_dir = self._resolve(fd, path_ptr, path_len)
        if must_be_dir:  # "x/": a directory (EISDIR) or not one (ENOTDIR); either way not unlinked
            return c.EISDIR if mount.stat(rel).filetype == c.FILETYPE_DIRECTORY else c.ENOTDIR
        mount.unlink(rel)
        return c.SUCCESS

    def path_rename(self, fd: int, old_ptr: int, old_len: int, new_fd: int, new_ptr: int, new_len: int) -> int:
        """Rename a file or directory (pending until the job succeeds)."""
        src_mount, src, _ = self._resolve(fd, old_ptr, old_len)
        dst_mount, dst, _ = self._resolve(new_fd, new_ptr, new_len)
        if src_mount is not dst_mount:
            return c.EXDEV
        src_mount.rename(src, dst)
        return c.SUCCESS

    def path_readlink(self, fd: int, path_ptr: int, path_len: int, buf: int, buf_len: int, used_ptr: int) -> int:
        """Read a symbolic link: the guest sees none (EINVAL for an existing file)."""
        mount, rel, _ = self._resolve(fd, path_ptr, path_len)
        mount.stat(rel)  # ENOENT if missing
        return c.EINVAL  # the guest sees no symlinks

    def path_symlink(self, old_ptr: int, old_len: int, fd: int, new_ptr: int, new_len: int) -> int:
        """Symbolic links are refused (ENOTSUP)."""
        return c.ENOTSUP

    def path_link(
        self, fd: int, flags: int, old_ptr: int, old_len: int, new_fd: int, new_ptr: int, new_len: int
    ) -> int:
        """Hard links are refused (ENOTSUP)."""
        return c.ENOTSUP
