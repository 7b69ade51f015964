"""Mounts: the directory trees the guest sees under its preopened directories.

Paths given to a mount are mount-relative and already lexically clean (see :func:`.paths.resolve`).
"""

from __future__ import annotations

import datetime as _dt
import errno
import functools
import os
import posixpath
import shutil
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from . import constants as c
from .errors import WasiError
from .handles import (
    CaptureHandle,
    DirHandle,
    Handle,
    NullHandle,
    OutputBudget,
    RandomHandle,
    ReadHandle,
    Spool,
    SpoolHandle,
    Stat,
    ZeroHandle,
)
from .paths import LocalRoot, parent
from .spool import COPY_CHUNK, MEMORY_PER_FILE, Spooler, SpoolFile, is_side_name, side_name
from .stoppable import StoppableCalls

T = TypeVar("T")


class Mount:
    """A directory tree the guest sees under one preopened directory."""

    dev = 0

    def __init__(self) -> None:
        self._inodes: dict[str, int] = {}

    def ino(self, rel: str) -> int:
        """A stable inode number per path (fsspec has none)."""
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
    """``/dev``: ``null``, ``zero``, ``urandom``, ``random``, the progress device, and ``extra`` devices (name →
    handle factory, called at each open; e.g. the stream devices of :mod:`afmpeg.wasi.pipes`)."""

    def __init__(
        self, dev: int, progress: CaptureHandle, extra: Mapping[str, Callable[[], Handle]] | None = None
    ) -> None:
        super().__init__()
        self.dev = dev
        self.devices: dict[str, Callable[[], Handle]] = {
            "null": NullHandle,
            "zero": ZeroHandle,
            "urandom": RandomHandle,
            "random": RandomHandle,
            "afmpeg-progress": lambda: progress,
        }
        for name, factory in (extra or {}).items():
            if name in self.devices or not name or "/" in name or name in (".", ".."):
                raise ValueError(f"cannot add a device named {name!r} to /dev")
            self.devices[name] = factory

    def stat(self, rel: str) -> Stat:
        if rel == "":
            return Stat(c.FILETYPE_DIRECTORY, 0, 0, self.ino(""), self.dev)
        if rel in self.devices:
            return Stat(c.FILETYPE_CHARACTER_DEVICE, 0, 0, self.ino(rel), self.dev)
        raise WasiError(c.ENOENT)

    def open(self, rel: str, *, oflags: int, read: bool, write: bool, append: bool, must_be_dir: bool) -> Handle:
        if rel == "":
            if write or oflags & c.OFLAGS_CREAT:
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


#: fsspec protocols whose backends have no real directories: a "directory" is a key prefix that exists while an
#: object lies below it (an empty one cannot be stored).
OBJECT_STORE_PROTOCOLS = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "oss"})

#: How files on a remote backend are opened for reading: ranged requests of ``block_size`` bytes, kept in a small
#: LRU of blocks so that a demuxer's seeks (an mp4 index at the end, interleaved streams) do not fetch the same bytes
#: twice, while memory stays bounded (``block_size * maxblocks`` per open file). Local and in-memory files are
#: read directly.
REMOTE_READ_OPTIONS: dict[str, Any] = {
    "block_size": 2 << 20,
    "cache_type": "blockcache",
    "cache_options": {"maxblocks": 8},
}


def _innermost(fs: Any) -> Any:
    """The filesystem below any ``DirFileSystem`` layers."""
    from fsspec.implementations.dirfs import DirFileSystem

    while isinstance(fs, DirFileSystem):
        fs = fs.fs
    return fs


def is_object_store(fs: Any) -> bool:
    """Whether ``fs`` is an object store (S3, GCS, Azure, …): no real directories, whole-object writes."""
    protocols = getattr(_innermost(fs), "protocol", ())
    return any(p in OBJECT_STORE_PROTOCOLS for p in ((protocols,) if isinstance(protocols, str) else protocols))


def is_remote(fs: Any) -> bool:
    """Whether reads from ``fs`` go over a network (anything but the local disk and fsspec's memory filesystem; an
    object store always is remote)."""
    from fsspec.implementations.local import LocalFileSystem
    from fsspec.implementations.memory import MemoryFileSystem

    return is_object_store(fs) or not isinstance(_innermost(fs), LocalFileSystem | MemoryFileSystem)


def _depth(rel: str) -> int:
    return rel.count("/")


class FsspecMount(Mount):
    """A directory tree backed by an fsspec filesystem, below ``root``.

    Nothing the guest does changes the backend while the call runs. Reads stream from ``fs.open(path, "rb")``
    (on remote backends with :data:`REMOTE_READ_OPTIONS`: ranged reads, never the whole object up front; every
    blocking request goes through :attr:`calls`, so that a job being stopped does not wait for it). Files opened for
    writing are spooled (seek-and-overwrite works on any backend, including object stores that refuse seeks in write
    mode): on a local filesystem in memory while small, then in a hidden file beside the target; elsewhere in
    memory (see :mod:`.spool`); ``unlink``, ``rename``, ``mkdir`` and ``rmdir`` are
    recorded the same way. The guest sees its own changes (``stat``, ``readdir``, ``open`` follow POSIX semantics
    over the pending state) until the call ends: then :meth:`publish` applies them, or :meth:`discard` drops them
    and the backend is left as it was (no temporary file left behind).

    On an object store a "directory" is a key prefix: a file can be created below a prefix that holds no object
    yet (no ``mkdir`` needed, none possible), and an empty directory the guest creates is not stored.

    Only primitive, glob-free fsspec calls are used (``info``, ``ls``, ``open``, ``cat_file``, ``pipe_file``,
    ``rm_file``, ``mkdir``, ``rmdir``): ``mv``/``rm``/``copy`` expand ``*?[`` in names, which a guest controls.
    """

    def __init__(self, fs: Any, root: str, dev: int, budget: OutputBudget | None = None) -> None:
        super().__init__()
        self.budget = budget or OutputBudget()
        self.fs = fs
        self.root = root.rstrip("/") if root not in ("", "/") else root
        self.dev = dev
        self.local = LocalRoot.of(fs, self.root)
        #: object stores: a file may be created below a "directory" (key prefix) that has no object yet
        self.implicit_dirs = is_object_store(fs)
        remote = is_remote(fs)
        #: keyword arguments for ``fs.open(path, "rb")``
        self.read_options: dict[str, Any] = dict(REMOTE_READ_OPTIONS) if remote else {}
        #: remote backends: runs blocking requests so that the job's stop condition can interrupt them
        self.calls: StoppableCalls | None = StoppableCalls() if remote else None
        #: where pending files live: beside their targets on local disk; in memory for a remote or in-memory backend
        #: (uploaded from memory on success: no temporary files on the host, bounded by output_limit)
        self.spooler = Spooler(self._spool_place if self.local is not None else None)
        # the call's pending changes, applied by publish() and dropped by discard()
        self.spools: dict[str, Spool] = {}  # files written or renamed by the guest
        self.removed: set[str] = set()  # backend files the guest unlinked or renamed away
        self.new_dirs: dict[str, int] = {}  # directories the guest created (absent on the backend): mtime
        self.removed_dirs: set[str] = set()  # backend directories the guest removed or renamed away
        # the backend does not change during the call (all changes are pending), so its answers can be kept
        self._infos: dict[str, dict[str, Any] | None] = {}
        if self.read_options:
            try:  # listings an earlier call cached may be stale: a call sees the backend as it is when it starts
                fs.invalidate_cache()
            except Exception:  # noqa: BLE001 - a cache that cannot be cleared only costs freshness
                pass

    @property
    def should_stop(self) -> Callable[[], bool] | None:
        """The job's stop condition (set by the host): remote requests stop waiting once it is true."""
        return self.calls.should_stop if self.calls is not None else None

    @should_stop.setter
    def should_stop(self, value: Callable[[], bool] | None) -> None:
        if self.calls is not None:
            self.calls.should_stop = value

    def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)``, a blocking request to the backend (interruptible on remote backends)."""
        if self.calls is None:
            return fn(*args, **kwargs)
        if kwargs:
            fn, args = functools.partial(fn, *args, **kwargs), ()
        return self.calls(fn, *args)

    # -- paths
    def path(self, rel: str) -> str:
        """The backend path of ``rel``; on local disk ``ENOTCAPABLE`` if a symlink leads it out of the root."""
        if self.local is not None:
            self.local.check(rel)
        if not rel:
            return self.root
        if not self.root:
            return rel
        if self.root == "/":
            return "/" + rel
        return f"{self.root}/{rel}"

    def _real(self, rel: str) -> str:
        """The host path of ``rel`` on a local root (after the symlink check)."""
        assert self.local is not None
        self.local.check(rel)
        return os.path.join(self.local.real, rel) if rel else self.local.real

    def _info(self, rel: str) -> dict[str, Any] | None:
        """The backend's ``info`` for ``rel`` as the call found it (``None``: nothing there)."""
        if rel in self._infos:
            return self._infos[rel]
        if self.local is not None and is_side_name(posixpath.basename(rel)):
            return None  # a temporary file of a job's (this one's, or another's): never the guest's to see
        try:
            info: dict[str, Any] | None = self._call(self.fs.info, self.path(rel))
        except (FileNotFoundError, NotADirectoryError):
            info = None
        self._infos[rel] = info
        return info

    def _backend_file(self, rel: str) -> bool:
        """Whether the backend holds a file (not a directory) at ``rel``."""
        info = self._info(rel)
        return info is not None and info.get("type") != "directory"

    def _pending_below(self, rel: str) -> bool:
        """Whether a pending file or new directory lies below ``rel`` (which then is a directory)."""
        prefix = f"{rel}/" if rel else ""
        return any(k.startswith(prefix) for k in self.spools) or any(k.startswith(prefix) for k in self.new_dirs)

    def stat_or_none(self, rel: str) -> Stat | None:
        """What the guest sees at ``rel`` (pending changes over the backend), or ``None`` if nothing."""
        spool = self.spools.get(rel)
        if spool is not None:
            return Stat(c.FILETYPE_REGULAR_FILE, spool.size, spool.mtime_ns, self.ino(rel), self.dev)
        mtime = self.new_dirs.get(rel)
        if mtime is not None:
            return Stat(c.FILETYPE_DIRECTORY, 0, mtime, self.ino(rel), self.dev)
        if rel and (rel in self.removed or rel in self.removed_dirs):
            return Stat(c.FILETYPE_DIRECTORY, 0, 0, self.ino(rel), self.dev) if self._pending_below(rel) else None
        info = self._info(rel)
        if info is None:
            if rel == "" or self._pending_below(rel):
                # the root always is a directory (on an object store the prefix may hold no object yet), and so is
                # a prefix with pending files below it
                return Stat(c.FILETYPE_DIRECTORY, 0, 0, self.ino(rel), self.dev)
            return None
        kind = info.get("type")
        ft = {"directory": c.FILETYPE_DIRECTORY, "file": c.FILETYPE_REGULAR_FILE}.get(kind, c.FILETYPE_UNKNOWN)
        if rel == "":
            ft = c.FILETYPE_DIRECTORY
        mtime = info.get("mtime", info.get("LastModified", info.get("last_modified", info.get("created"))))
        size = int(info.get("size") or 0) if ft == c.FILETYPE_REGULAR_FILE else 0
        return Stat(ft, size, _to_ns(mtime), self.ino(rel), self.dev)

    def _missing(self, rel: str) -> WasiError:
        """The error for a path that does not exist: ``ENOTDIR`` if it runs through a file, else ``ENOENT``."""
        ancestor = parent(rel)
        while ancestor:
            st = self.stat_or_none(ancestor)
            if st is not None:
                return WasiError(c.ENOENT if st.filetype == c.FILETYPE_DIRECTORY else c.ENOTDIR)
            ancestor = parent(ancestor)
        return WasiError(c.ENOENT)

    def stat(self, rel: str) -> Stat:
        """What the guest sees at ``rel``; ``ENOENT`` (or ``ENOTDIR`` through a file) if nothing."""
        st = self.stat_or_none(rel)
        if st is None:
            raise self._missing(rel)
        return st

    def _require_parent_dir(self, rel: str) -> None:
        """``ENOENT``/``ENOTDIR`` unless the parent of ``rel`` is a directory. On an object store a missing parent
        is a key prefix without objects, which is fine; a file in the way is not."""
        ancestor = parent(rel)
        while True:
            st = self.stat_or_none(ancestor)
            if st is not None:
                if st.filetype != c.FILETYPE_DIRECTORY:
                    raise WasiError(c.ENOTDIR)
                return
            if not self.implicit_dirs:
                raise self._missing(ancestor)
            ancestor = parent(ancestor)  # "" (the root) always is a directory

    # -- open
    def open(self, rel: str, *, oflags: int, read: bool, write: bool, append: bool, must_be_dir: bool) -> Handle:
        """Open ``rel`` as POSIX ``open`` would: a directory handle, a read-only stream, or a spool for writing."""
        st = self.stat_or_none(rel)
        if st is None:
            if not oflags & c.OFLAGS_CREAT or oflags & c.OFLAGS_DIRECTORY:
                raise self._missing(rel)
            if must_be_dir:  # open("new/", O_CREAT)
                raise WasiError(c.EISDIR)
            self._require_parent_dir(rel)
            self._check_new_name(rel)
            spool = self.spools[rel] = Spool(self, rel, self.spooler.new(), dirty=True, mtime_ns=time.time_ns())
            return SpoolHandle(spool, read, write, append)
        if oflags & c.OFLAGS_CREAT and oflags & c.OFLAGS_EXCL:
            raise WasiError(c.EEXIST)
        if st.filetype == c.FILETYPE_DIRECTORY:
            if write or oflags & c.OFLAGS_CREAT:
                raise WasiError(c.EISDIR)
            return DirHandle(self, rel)
        if oflags & c.OFLAGS_DIRECTORY or must_be_dir:
            raise WasiError(c.ENOTDIR)
        truncate = bool(oflags & c.OFLAGS_TRUNC) and write
        spool = self.spools.get(rel)
        if spool is not None:
            if truncate:
                spool.data.truncate(0)
                spool.touch()
            return SpoolHandle(spool, read, write, append)
        if write:
            data = self.spooler.new() if truncate else self._copy_in(rel, st.size)
            spool = self.spools[rel] = Spool(self, rel, data, dirty=truncate, mtime_ns=st.mtime_ns)
            return SpoolHandle(spool, read, write, append)
        # read-only: a handle that cannot write, on a file object opened "rb" (nothing to publish, ever)
        return ReadHandle(self._open_read(rel), st, self.calls)

    def _open_read(self, rel: str) -> Any:
        path = self.path(rel)
        if self.read_options:
            try:
                return self._call(self.fs.open, path, "rb", **self.read_options)
            except TypeError:  # a backend whose open() takes no cache options
                pass
        return self._call(self.fs.open, path, "rb")

    def _copy_in(self, rel: str, size: int, dest: str | None = None) -> SpoolFile:
        """A pending copy of the backend file ``rel`` (of ``size`` bytes, as stat saw it), for the file ``dest``
        (default: ``rel``), charged to the output budget (a copy all the same)."""
        dest = rel if dest is None else dest
        self.budget.charge(size)
        if size <= MEMORY_PER_FILE or self.spooler.place is None:
            data = self.spooler.new(bytearray(self._call(self.fs.cat_file, self.path(rel))))
            try:
                data.prepare(data.size, dest)
            except BaseException:
                data.drop()
                raise
        else:  # streamed to disk, a chunk at a time
            f = self._open_read(rel)
            try:
                data = self.spooler.copy_in(functools.partial(self._call, f.read), size, dest)
            finally:
                if self.calls is not None and self.calls.abandoned:
                    self.calls.after(f.close)
                else:
                    f.close()
        if data.size > size:
            try:
                self.budget.charge(data.size - size)
            except WasiError:
                data.drop()
                raise
        return data

    def _spool_place(self, rel: str) -> tuple[str, str]:
        """Where the pending file ``rel`` of a local mount goes on disk: its target's directory, or, if that is
        not there yet (the guest made it: directories are created at publication), its nearest ancestor that is.
        A rename from there into place is atomic all the same."""
        assert self.local is not None
        ancestor = parent(rel)
        while ancestor:
            if ancestor not in self.new_dirs:
                real = self._real(ancestor)
                if os.path.isdir(real):
                    return real, posixpath.basename(rel)
            ancestor = parent(ancestor)
        return self.local.real, posixpath.basename(rel)

    def _check_new_name(self, rel: str) -> None:
        """``EACCES`` for a name the local mount keeps for its own temporary files (see :func:`.spool.side_name`)."""
        if self.local is not None and is_side_name(posixpath.basename(rel)):
            raise WasiError(c.EACCES)

    def release(self, spool: Spool) -> None:
        """One fd on ``spool`` closed; its content stays pending (re-opening the path sees it) until the call
        ends. A spool that was never modified, or was unlinked, is dropped."""
        spool.refs -= 1
        if spool.refs > 0:
            return
        spool.data.idle()
        if spool.unlinked:
            spool.data.drop()
        elif not spool.dirty and self.spools.get(spool.rel) is spool:
            del self.spools[spool.rel]
            spool.data.drop()

    # -- directories
    def _children(self, rel: str) -> list[tuple[str, bool]]:
        """``(name, is_dir)`` for the entries the backend lists in directory ``rel``."""
        path = self.path(rel)
        try:
            entries = self._call(self.fs.ls, path, detail=True)
        except (FileNotFoundError, NotADirectoryError):
            return []  # e.g. an object store prefix without objects
        own = path.strip("/")
        out = []
        for entry in entries:
            full = str(entry.get("name", "")).rstrip("/")
            name = posixpath.basename(full)
            if name and name not in (".", "..") and full.lstrip("/") != own:  # some stores list a prefix marker
                if self.local is not None and is_side_name(name):
                    continue  # a job's temporary file
                out.append((name, entry.get("type") == "directory"))
        return out

    def listdir(self, rel: str) -> list[tuple[str, int, int]]:
        """``(name, filetype, ino)`` of the entries of directory ``rel``, pending changes included, sorted."""
        if self.stat(rel).filetype != c.FILETYPE_DIRECTORY:
            raise WasiError(c.ENOTDIR)
        prefix = f"{rel}/" if rel else ""
        out: dict[str, tuple[str, int, int]] = {}
        if rel not in self.new_dirs:
            for name, is_dir in self._children(rel):
                child = prefix + name
                if child not in self.removed and child not in self.removed_dirs:
                    ft = c.FILETYPE_DIRECTORY if is_dir else c.FILETYPE_REGULAR_FILE
                    out[name] = (name, ft, self.ino(child))
        for key, is_file in [*((k, False) for k in self.new_dirs), *((k, True) for k in self.spools)]:
            if key.startswith(prefix):  # pending entries (deeper ones imply a directory, as on an object store)
                name, deeper, _ = key[len(prefix) :].partition("/")
                ft = c.FILETYPE_REGULAR_FILE if is_file and not deeper else c.FILETYPE_DIRECTORY
                out[name] = (name, ft, self.ino(prefix + name))
        return sorted(out.values())

    def _is_empty_dir(self, rel: str) -> bool:
        if self._pending_below(rel):
            return False
        if rel in self.new_dirs:
            return True
        prefix = f"{rel}/" if rel else ""
        return all(
            prefix + name in self.removed or prefix + name in self.removed_dirs for name, _ in self._children(rel)
        )

    def _add_dir(self, rel: str) -> None:
        """Record a new directory at ``rel`` (``rel`` is free in the guest's view)."""
        if rel in self.removed_dirs:
            self.removed_dirs.discard(rel)  # the backend still has it, and the guest emptied it
        else:
            self.new_dirs[rel] = time.time_ns()

    def _drop_dir(self, rel: str) -> None:
        """Record that the (empty) directory ``rel`` is gone."""
        if self.new_dirs.pop(rel, None) is None:
            self.removed_dirs.add(rel)

    def mkdir(self, rel: str) -> None:
        """Create directory ``rel`` (pending until :meth:`publish`)."""
        if self.stat_or_none(rel) is not None:
            raise WasiError(c.EEXIST)
        self._require_parent_dir(rel)
        self._check_new_name(rel)
        self._add_dir(rel)

    def rmdir(self, rel: str) -> None:
        """Remove the empty directory ``rel`` (pending until :meth:`publish`)."""
        if rel == "":
            raise WasiError(c.EBUSY)
        if self.stat(rel).filetype != c.FILETYPE_DIRECTORY:
            raise WasiError(c.ENOTDIR)
        if not self._is_empty_dir(rel):
            raise WasiError(c.ENOTEMPTY)
        self._drop_dir(rel)

    def unlink(self, rel: str) -> None:
        """Remove file ``rel`` (pending until :meth:`publish`; fds open on it keep working)."""
        spool = self.spools.pop(rel, None)
        if spool is not None:
            spool.unlinked = True
            if spool.refs == 0:
                spool.data.drop()
            if self._backend_file(rel):
                self.removed.add(rel)
            return
        if self.stat(rel).filetype == c.FILETYPE_DIRECTORY:
            raise WasiError(c.EISDIR)  # what Linux answers, and what wasi-libc passes on
        self.removed.add(rel)

    def rename(self, src: str, dst: str) -> None:
        """Rename a file or directory as POSIX ``rename`` would (pending until :meth:`publish`)."""
        if src == "" or dst == "":
            raise WasiError(c.EBUSY)
        src_is_dir = self.stat(src).filetype == c.FILETYPE_DIRECTORY
        if src == dst:
            return
        if src_is_dir and dst.startswith(src + "/"):
            raise WasiError(c.EINVAL)
        self._require_parent_dir(dst)
        self._check_new_name(dst)
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
        if not src_is_dir:
            self._move_file(src, dst)
            return
        # a directory: its tree is re-created at dst (files become pending copies) and removed at src
        tree = self._tree(src)
        self._add_dir(dst)
        for rel, is_dir in tree:
            target = dst + rel[len(src) :]
            if is_dir:
                self._add_dir(target)
            else:
                self._move_file(rel, target)
        for rel, is_dir in reversed(tree):  # children before their parents
            if is_dir:
                self._drop_dir(rel)
        self._drop_dir(src)

    def _tree(self, rel: str) -> list[tuple[str, bool]]:
        """``(path, is_dir)`` of everything below directory ``rel`` in the guest's view, parents before children."""
        out: list[tuple[str, bool]] = []
        stack = [rel]
        while stack:  # iterative: a guest can nest directories deeper than Python's recursion limit
            top = stack.pop()
            for name, ft, _ in self.listdir(top):
                child = f"{top}/{name}"
                out.append((child, ft == c.FILETYPE_DIRECTORY))
                if ft == c.FILETYPE_DIRECTORY:
                    stack.append(child)
        return out

    def _move_file(self, src: str, dst: str) -> None:
        """Rename a file: ``dst`` becomes a pending file with its content; a backend file at ``src`` is removed."""
        spool = self.spools.pop(src, None)
        if spool is None:  # a file on the backend: a pending copy at dst
            st = self.stat(src)
            spool = Spool(self, dst, self._copy_in(src, st.size, dst), dirty=True, mtime_ns=st.mtime_ns)
        if self._backend_file(src):
            self.removed.add(src)
        spool.rel = dst
        spool.dirty = True
        self.spools[dst] = spool

    # -- the end of the call
    def publish(self) -> list[tuple[str, BaseException]]:
        """The call succeeded: apply its pending changes to the backend; returns the failures ``(path, error)``.

        New and changed files are written first, deletions come last, so a failure part-way leaves deleted files
        in place. On local disk every file is first on disk under a temporary name (spooled there while the job
        ran, or written now if it was small enough to stay in memory), and only when all of them are there are
        they renamed into place; each rename is atomic, and if one fails the renames already done are taken back
        (files this publish created are removed, files it replaced get their old content back where the
        filesystem has hard links), so the disk is left as it was. Elsewhere each file is one upload
        (``pipe_file``: on an object store the object appears whole or not at all); if one fails, the objects
        this publish created are deleted again, but objects it already overwrote keep their new content.
        """
        self.should_stop = None  # publication is not interrupted half-way
        try:
            return self._apply()
        finally:
            self.discard()

    def _apply(self) -> list[tuple[str, BaseException]]:
        writes = sorted((s for s in self.spools.values() if s.dirty and not s.unlinked), key=lambda s: s.rel)
        deletes = sorted(r for r in self.removed if r not in self.spools and self._backend_file(r))
        fresh = {s.rel for s in writes if not self._backend_file(s.rel)}  # files this publish creates
        in_way: set[str] = set()
        if self.implicit_dirs:
            # object stores have no directories to create or remove (prefixes come and go with their objects), and a
            # key may be both an object and a prefix: nothing is ever in the way
            mkdirs: list[str] = []
            rmdirs: list[str] = []
        else:
            mkdirs = sorted(self.new_dirs, key=_depth)
            rmdirs = sorted(self.removed_dirs, key=_depth, reverse=True)
            # entries the guest removed that stand where a new file or directory goes (a path that changed type)
            targets = {s.rel for s in writes} | set(mkdirs)
            in_way = {r for r in deletes if r in targets or any(t.startswith(r + "/") for t in targets)}
            in_way |= {d for d in rmdirs if d in targets}

        def covered(rel: str) -> bool:
            return any(rel == w or rel.startswith(w + "/") for w in in_way)

        early = [r for r in deletes if covered(r)], [d for d in rmdirs if covered(d)]
        deletes = [r for r in deletes if not covered(r)]
        rmdirs = [d for d in rmdirs if not covered(d)]
        if self.local is not None:
            errors = self._write_local(writes, fresh, mkdirs, sorted(in_way))
        else:
            errors = self._write_remote(writes, fresh, mkdirs, early)
        if errors:
            return errors  # nothing is deleted after a failed write
        for rel in deletes:
            try:
                self.fs.rm_file(self.path(rel))
            except Exception as exc:  # noqa: BLE001 - reported to the caller
                errors.append((rel, exc))
        for rel in rmdirs:
            try:
                self._rmdir(rel)
            except Exception as exc:  # noqa: BLE001 - reported to the caller
                errors.append((rel, exc))
        return errors

    def _side_name(self, rel: str, kind: str) -> str:
        """A fresh hidden name beside ``rel`` (same directory: a rename from it is atomic)."""
        head, _, name = rel.rpartition("/")
        side = side_name(name, kind)
        return f"{head}/{side}" if head else side

    def _write_local(
        self, writes: list[Spool], fresh: set[str], mkdirs: list[str], in_way: list[str]
    ) -> list[tuple[str, BaseException]]:
        """Get every file on disk aside, then rename them all into place; undo what can be undone if a step fails."""
        aside: list[tuple[str, str]] = []  # (rel, where it was moved)
        made: list[str] = []
        staged: list[tuple[str, str, SpoolFile]] = []  # (rel, host path of the content, its spool file)
        written: list[str] = []  # host paths of the temporary files written here (from memory)
        backups: dict[str, str] = {}  # rel → host path of a hard link to the file it replaces
        committed: list[str] = []
        current = ""
        try:
            for current in in_way:
                side = self._side_name(current, "old")
                old, new = self._real(current), self._real(side)
                os.rename(old, new)
                aside.append((current, side))
                self._relocate(old, new)  # spool files inside a directory moved aside moved with it
            for current in mkdirs:
                try:
                    os.mkdir(self._real(current))
                except FileExistsError:
                    if not os.path.isdir(self._real(current)):
                        raise
                    continue  # someone else made it meanwhile
                made.append(current)
            for spool in writes:
                current = spool.rel
                data = spool.data
                data.idle()
                if data.on_disk:
                    assert data.path is not None
                    staged.append((current, data.path, data))
                    continue
                tmp = self._real(self._side_name(current, "tmp"))
                with open(tmp, "xb") as f:  # "x": never follows or clobbers anything
                    written.append(tmp)
                    staged.append((current, tmp, data))
                    data.copy_to(f)
            for current, tmp, data in staged:
                final = self._real(current)
                if current not in fresh:
                    backup = self._real(self._side_name(current, "old"))
                    try:  # the old content stays reachable until every file is in place
                        os.link(final, backup, follow_symlinks=False)
                        backups[current] = backup
                    except (OSError, NotImplementedError):
                        pass  # no hard links here: a failure later leaves this file replaced
                self._replace(tmp, final)
                committed.append(current)
                if data.on_disk:
                    data.published()
        except Exception as exc:  # noqa: BLE001 - reported to the caller
            undo: list[tuple[Callable[..., Any], tuple[str, ...]]] = []
            undo += [(os.remove, (tmp,)) for tmp in written]
            for rel in committed:
                if rel in fresh:
                    undo.append((os.remove, (self._real(rel),)))
                elif rel in backups:
                    undo.append((os.replace, (backups.pop(rel), self._real(rel))))
            undo += [(os.remove, (backup,)) for backup in backups.values()]
            undo += [(os.rmdir, (self._real(rel),)) for rel in reversed(made)]
            for rel, side in reversed(aside):
                old, new = self._real(rel), self._real(side)
                undo += [(os.rename, (new, old)), (self._relocate, (new, old))]
            _quietly(undo)
            return [(current, exc)]
        errors: list[tuple[str, BaseException]] = []
        for backup in backups.values():
            _quietly([(os.remove, (backup,))])
        for rel, side in aside:  # what the guest removed and that was moved out of the way: now it goes
            try:
                real = self._real(side)
                if os.path.isdir(real) and not os.path.islink(real):
                    shutil.rmtree(real)
                else:
                    os.remove(real)
            except Exception as exc:  # noqa: BLE001 - reported to the caller
                errors.append((rel, exc))
        return errors

    def _relocate(self, old: str, new: str) -> None:
        """The host directory ``old`` was renamed to ``new``: spool files inside it now are there."""
        prefix = old.rstrip(os.sep) + os.sep
        for data in list(self.spooler.files):
            if data.path is not None and data.path.startswith(prefix):
                data.moved(new.rstrip(os.sep) + os.sep + data.path[len(prefix) :])

    def _replace(self, tmp: str, final: str) -> None:
        """Rename ``tmp`` onto ``final`` (atomic). Across filesystems (a mount point inside the root), copy to a
        temporary file beside ``final`` first, and rename that."""
        try:
            os.replace(tmp, final)
            return
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
        head, name = os.path.split(final)
        beside = os.path.join(head, side_name(name, "tmp"))
        try:
            with open(tmp, "rb") as src, open(beside, "xb") as dst:
                shutil.copyfileobj(src, dst, COPY_CHUNK)
            os.replace(beside, final)
        except BaseException:
            _quietly([(os.remove, (beside,))])
            raise
        _quietly([(os.remove, (tmp,))])

    def _write_remote(
        self, writes: list[Spool], fresh: set[str], mkdirs: list[str], early: tuple[list[str], list[str]]
    ) -> list[tuple[str, BaseException]]:
        """One upload per file; if one fails, delete what this publish created and stop."""
        current = ""
        try:
            for current in early[0]:  # entries in the way of new ones cannot be moved aside here: they go first
                self.fs.rm_file(self.path(current))
            for current in early[1]:
                self._rmdir(current)
            for current in mkdirs:
                self._mkdir(current)
        except Exception as exc:  # noqa: BLE001 - reported to the caller
            return [(current, exc)]
        uploaded: list[str] = []
        for spool in writes:
            try:
                # one call per file (no seeks, which object stores refuse): the object appears whole or not at all
                self.fs.pipe_file(self.path(spool.rel), spool.data.getvalue())
            except Exception as exc:  # noqa: BLE001 - reported to the caller
                undo: list[tuple[Callable[..., Any], tuple[str, ...]]] = []
                undo += [(self.fs.rm_file, (self.path(rel),)) for rel in uploaded if rel in fresh]
                undo += [(self._rmdir, (rel,)) for rel in reversed(mkdirs)]
                _quietly(undo)
                return [(spool.rel, exc)]
            uploaded.append(spool.rel)
        return []

    def _mkdir(self, rel: str) -> None:
        try:
            self.fs.mkdir(self.path(rel), create_parents=False)
        except TypeError:  # backends whose mkdir takes no create_parents
            self.fs.mkdir(self.path(rel))

    def _rmdir(self, rel: str) -> None:
        try:
            self.fs.rmdir(self.path(rel))
        except FileNotFoundError:
            # fsspec's memory filesystem only knows explicit directories; an implied one is gone once empty
            if self.fs.exists(self.path(rel)):
                raise

    def discard(self) -> None:
        """The call failed: drop every pending change (and remove every temporary file); the backend is left as it
        was. Also the end of :meth:`publish`."""
        if self.calls is not None:
            self.calls.close()
        self.spooler.clear()
        self.spools.clear()
        self.removed.clear()
        self.new_dirs.clear()
        self.removed_dirs.clear()
        self._infos.clear()

    def close(self) -> list[tuple[str, BaseException]]:
        """Publish (the call succeeded); see :meth:`publish`."""
        return self.publish()


def _quietly(steps: list[tuple[Callable[..., Any], tuple[str, ...]]]) -> None:
    """Run every step of an undo, ignoring failures (the error that caused the undo is the one reported)."""
    for func, args in steps:
        try:
            func(*args)
        except Exception:  # noqa: BLE001 - best effort
            pass


def _to_ns(value: Any) -> int:
    """fsspec reports mtimes as datetimes or (float) seconds, depending on the backend."""
    if isinstance(value, _dt.datetime):
        return int(value.timestamp() * 1_000_000_000)
    if isinstance(value, int | float):
        return int(value * 1_000_000_000)
    return 0
