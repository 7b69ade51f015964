"""WASI preview1 ABI constants (values from wasi-libc's ``wasi/api.h``)."""

from __future__ import annotations

import errno as _host_errno

# --- errno -----------------------------------------------------------------
SUCCESS = 0
E2BIG = 1
EACCES = 2
EAGAIN = 6
EBADF = 8
EBUSY = 10
EEXIST = 20
EFAULT = 21
EFBIG = 22
EILSEQ = 25
EINTR = 27
EINVAL = 28
EIO = 29
EISDIR = 31
ELOOP = 32
EMFILE = 33
ENAMETOOLONG = 37
ENOENT = 44
ENOMEM = 48
ENOSPC = 51
ENOSYS = 52
ENOTDIR = 54
ENOTEMPTY = 55
ENOTSUP = 58
ENOTTY = 59
EOVERFLOW = 61
EPERM = 63
EPIPE = 64
EROFS = 69
ESPIPE = 70
ETIMEDOUT = 73
EXDEV = 75
ENOTCAPABLE = 76

#: WASI errno value -> name ("ENOENT"), for messages.
ERRNO_NAMES: dict[int, str] = {
    value: name for name, value in dict(globals()).items() if name.startswith("E") and isinstance(value, int)
}

#: Host (Python ``errno``) value -> WASI errno, for ``OSError`` raised by filesystems.
HOST_TO_WASI_ERRNO: dict[int, int] = {
    _host_errno.E2BIG: E2BIG,
    _host_errno.EACCES: EACCES,
    _host_errno.EAGAIN: EAGAIN,
    _host_errno.EBADF: EBADF,
    _host_errno.EBUSY: EBUSY,
    _host_errno.EEXIST: EEXIST,
    _host_errno.EFBIG: EFBIG,
    _host_errno.EINTR: EINTR,
    _host_errno.EINVAL: EINVAL,
    _host_errno.EIO: EIO,
    _host_errno.EISDIR: EISDIR,
    _host_errno.ELOOP: ELOOP,
    _host_errno.EMFILE: EMFILE,
    _host_errno.ENAMETOOLONG: ENAMETOOLONG,
    _host_errno.ENOENT: ENOENT,
    _host_errno.ENOMEM: ENOMEM,
    _host_errno.ENOSPC: ENOSPC,
    _host_errno.ENOSYS: ENOSYS,
    _host_errno.ENOTDIR: ENOTDIR,
    _host_errno.ENOTEMPTY: ENOTEMPTY,
    _host_errno.ENOTSUP: ENOTSUP,
    _host_errno.EPERM: EPERM,
    _host_errno.EPIPE: EPIPE,
    _host_errno.EROFS: EROFS,
    _host_errno.ESPIPE: ESPIPE,
    _host_errno.ETIMEDOUT: ETIMEDOUT,
    _host_errno.EXDEV: EXDEV,
}

# --- filetype --------------------------------------------------------------
FILETYPE_UNKNOWN = 0
FILETYPE_BLOCK_DEVICE = 1
FILETYPE_CHARACTER_DEVICE = 2
FILETYPE_DIRECTORY = 3
FILETYPE_REGULAR_FILE = 4
FILETYPE_SYMBOLIC_LINK = 7

# --- fdflags / oflags / lookupflags ----------------------------------------
FDFLAGS_APPEND = 1 << 0
FDFLAGS_DSYNC = 1 << 1
FDFLAGS_NONBLOCK = 1 << 2
FDFLAGS_RSYNC = 1 << 3
FDFLAGS_SYNC = 1 << 4

OFLAGS_CREAT = 1 << 0
OFLAGS_DIRECTORY = 1 << 1
OFLAGS_EXCL = 1 << 2
OFLAGS_TRUNC = 1 << 3

# --- rights ----------------------------------------------------------------
RIGHTS_FD_DATASYNC = 1 << 0
RIGHTS_FD_READ = 1 << 1
RIGHTS_FD_SEEK = 1 << 2
RIGHTS_FD_FDSTAT_SET_FLAGS = 1 << 3
RIGHTS_FD_SYNC = 1 << 4
RIGHTS_FD_TELL = 1 << 5
RIGHTS_FD_WRITE = 1 << 6
RIGHTS_FD_ADVISE = 1 << 7
RIGHTS_FD_ALLOCATE = 1 << 8
RIGHTS_PATH_CREATE_DIRECTORY = 1 << 9
RIGHTS_PATH_CREATE_FILE = 1 << 10
RIGHTS_PATH_OPEN = 1 << 13
RIGHTS_FD_READDIR = 1 << 14
RIGHTS_PATH_READLINK = 1 << 15
RIGHTS_PATH_RENAME_SOURCE = 1 << 16
RIGHTS_PATH_RENAME_TARGET = 1 << 17
RIGHTS_PATH_FILESTAT_GET = 1 << 18
RIGHTS_PATH_FILESTAT_SET_SIZE = 1 << 19
RIGHTS_PATH_FILESTAT_SET_TIMES = 1 << 20
RIGHTS_FD_FILESTAT_GET = 1 << 21
RIGHTS_FD_FILESTAT_SET_SIZE = 1 << 22
RIGHTS_FD_FILESTAT_SET_TIMES = 1 << 23
RIGHTS_PATH_REMOVE_DIRECTORY = 1 << 25
RIGHTS_PATH_UNLINK_FILE = 1 << 26
RIGHTS_POLL_FD_READWRITE = 1 << 27

RIGHTS_ALL = (1 << 30) - 1

RIGHTS_REGULAR_FILE = (
    RIGHTS_FD_DATASYNC
    | RIGHTS_FD_READ
    | RIGHTS_FD_SEEK
    | RIGHTS_FD_FDSTAT_SET_FLAGS
    | RIGHTS_FD_SYNC
    | RIGHTS_FD_TELL
    | RIGHTS_FD_WRITE
    | RIGHTS_FD_ADVISE
    | RIGHTS_FD_ALLOCATE
    | RIGHTS_FD_FILESTAT_GET
    | RIGHTS_FD_FILESTAT_SET_SIZE
    | RIGHTS_FD_FILESTAT_SET_TIMES
    | RIGHTS_POLL_FD_READWRITE
)
RIGHTS_DIRECTORY = RIGHTS_ALL & ~(
    RIGHTS_FD_READ
    | RIGHTS_FD_WRITE
    | RIGHTS_FD_SEEK
    | RIGHTS_FD_TELL
    | RIGHTS_FD_ALLOCATE
    | RIGHTS_FD_FILESTAT_SET_SIZE
)

# --- whence / clocks / events ----------------------------------------------
WHENCE_SET = 0
WHENCE_CUR = 1
WHENCE_END = 2

CLOCK_REALTIME = 0
CLOCK_MONOTONIC = 1
CLOCK_PROCESS_CPUTIME_ID = 2
CLOCK_THREAD_CPUTIME_ID = 3

EVENTTYPE_CLOCK = 0
EVENTTYPE_FD_READ = 1
EVENTTYPE_FD_WRITE = 2

SUBCLOCKFLAGS_ABSTIME = 1 << 0

PREOPENTYPE_DIR = 0

# --- sizes -----------------------------------------------------------------
#: Largest file offset a guest can express (``off_t`` is a signed 64-bit integer).
MAX_OFFSET = (1 << 63) - 1
#: wasi-libc's ``PATH_MAX``; longer guest paths are ``ENAMETOOLONG`` on every backend.
PATH_MAX = 4096
#: Longest path component in bytes, as on Linux; a longer name is ``ENAMETOOLONG`` on every backend.
NAME_MAX = 255
#: wasi-libc's ``IOV_MAX``.
IOV_MAX = 1024
