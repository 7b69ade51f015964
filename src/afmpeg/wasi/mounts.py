"""Mounts: the directory trees the guest sees under its preopened directories.

Paths given to a mount are mount-relative and already lexically clean (see :func:`.paths.resolve`).
"""

from __future__ import annotations

import datetime as _dt
import posixpath
import time
import uuid
from collections.abc import Callable
from typing import Any

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
    """``/dev``: ``null``, ``zero``, ``urandom``, ``random`` and the progress device."""

    def __init__(self, dev: int, progress: CaptureHandle) -> None:
        super().__init__()
        self.dev = dev
        self.devices: dict[str, Callable[[], Handle]] = {
            "null": NullHandle,
            "zero": ZeroHandle,
            "urandom": RandomHandle,
            "random": RandomHandle,
            "afmpeg-progress": lambda: progress,
        }

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


class FsspecMount(Mount):
    """A directory tree backed by an fsspec filesystem, below ``root``.

    Reads stream from ``fs.open(path, "rb")``. Files opened for writing are spooled in memory (seek-and-overwrite
    works on any backend) and stay pending until the call ends: :meth:`publish` writes them (local disk: to a
    temporary name in the same directory, renamed into place), :meth:`discard` drops them. Unlinking a file that
    exists on the backend is deferred the same way.
    Only primitive, glob-free fsspec calls are used (``info``, ``ls``, ``open``, ``cat_file``, ``cp_file``,
    ``rm_file``, ``mkdir``, ``rmdir``): ``mv``/``rm``/``copy`` expand ``*?[`` in names, which a guest controls.
    """

    def __init__(self, fs: Any, root: str, dev: int, budget: OutputBudget | None = None) -> None:
        super().__init__()
        self.budget = budget or OutputBudget()
        self.removed: set[str] = set()  # backend files the guest unlinked (deleted on publish)
        self.fs = fs
        self.root = root.rstrip("/") if root not in ("", "/") else root
        self.dev = dev
        self.spools: dict[str, Spool] = {}
        self.local = LocalRoot.of(fs, self.root)

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

    def _info(self, rel: str) -> dict[str, Any] | None:
        try:
            return self.fs.info(self.path(rel))
        except (FileNotFoundError, NotADirectoryError):
            return None

    def stat_or_none(self, rel: str) -> Stat | None:
        spool = self.spools.get(rel)
        if spool is not None:
            return Stat(c.FILETYPE_REGULAR_FILE, len(spool.data), spool.mtime_ns, self.ino(rel), self.dev)
        if rel in self.removed:
            return None
        info = self._info(rel)
        if info is None:
            return None
        kind = info.get("type")
        ft = {"directory": c.FILETYPE_DIRECTORY, "file": c.FILETYPE_REGULAR_FILE}.get(kind, c.FILETYPE_UNKNOWN)
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
        st = self.stat_or_none(rel)
        if st is None:
            raise self._missing(rel)
        return st

    def _require_parent_dir(self, rel: str) -> None:
        st = self.stat(parent(rel))
        if st.filetype != c.FILETYPE_DIRECTORY:
            raise WasiError(c.ENOTDIR)

    # -- open
    def open(self, rel: str, *, oflags: int, read: bool, write: bool, append: bool, must_be_dir: bool) -> Handle:
        st = self.stat_or_none(rel)
        if st is None:
            if not oflags & c.OFLAGS_CREAT or oflags & c.OFLAGS_DIRECTORY:
                raise self._missing(rel)
            if must_be_dir:  # open("new/", O_CREAT)
                raise WasiError(c.EISDIR)
            self._require_parent_dir(rel)
            self.removed.discard(rel)
            spool = self.spools[rel] = Spool(self, rel, bytearray(), dirty=True, mtime_ns=time.time_ns())
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
                del spool.data[:]
                spool.touch()
            return SpoolHandle(spool, read, write, append)
        if write:
            data = bytearray() if truncate else bytearray(self.fs.cat_file(self.path(rel)))
            if not truncate:
                self.budget.charge(len(data))  # a copy in memory all the same
            spool = self.spools[rel] = Spool(self, rel, data, dirty=truncate, mtime_ns=st.mtime_ns)
            return SpoolHandle(spool, read, write, append)
        return ReadHandle(self.fs.open(self.path(rel), "rb"), st)

    def write_back(self, rel: str, data: bytearray) -> None:
        """Write ``data`` to ``rel`` on the backend (local disk: a temporary file in the same directory renamed
        into place, so the path holds either the old or the complete new content)."""
        if self.local is None:
            with self.fs.open(self.path(rel), "wb") as f:
                if data:
                    f.write(memoryview(data))
            return
        head, _, name = rel.rpartition("/")
        tmp_name = f".{name}.afmpeg-{uuid.uuid4().hex[:12]}.tmp"
        tmp_rel = f"{head}/{tmp_name}" if head else tmp_name
        tmp = self.path(tmp_rel)
        try:
            with self.fs.open(tmp, "wb") as f:
                if data:
                    f.write(memoryview(data))
            self.fs.mv(tmp, self.path(rel))
        except BaseException:
            try:
                self.fs.rm_file(tmp)
            except Exception:  # noqa: BLE001 - the original error matters
                pass
            raise

    def release(self, spool: Spool) -> None:
        """One fd on ``spool`` closed; its content stays pending (re-opening the path sees it) until the call
        ends. A spool that was never modified is dropped."""
        spool.refs -= 1
        if spool.refs > 0:
            return
        if not spool.dirty and self.spools.get(spool.rel) is spool:
            del self.spools[spool.rel]

    # -- directories
    def _children(self, rel: str) -> list[tuple[str, bool]]:
        """``(name, is_dir)`` for the entries the backend lists in directory ``rel``."""
        out = []
        for entry in self.fs.ls(self.path(rel), detail=True):
            name = posixpath.basename(str(entry.get("name", "")).rstrip("/"))
            if name and name not in (".", ".."):
                out.append((name, entry.get("type") == "directory"))
        return out

    def listdir(self, rel: str) -> list[tuple[str, int, int]]:
        if self.stat(rel).filetype != c.FILETYPE_DIRECTORY:
            raise WasiError(c.ENOTDIR)
        out: dict[str, tuple[str, int, int]] = {}
        for name, is_dir in self._children(rel):
            if (f"{rel}/{name}" if rel else name) in self.removed:
                continue
            ft = c.FILETYPE_DIRECTORY if is_dir else c.FILETYPE_REGULAR_FILE
            out[name] = (name, ft, self.ino(f"{rel}/{name}" if rel else name))
        for key in self.spools:  # files created but not yet written back
            if parent(key) == rel:
                name = key.rpartition("/")[2]
                out.setdefault(name, (name, c.FILETYPE_REGULAR_FILE, self.ino(key)))
        return sorted(out.values())

    def _is_empty_dir(self, rel: str) -> bool:
        if any(k.startswith(rel + "/") for k in self.spools):
            return False
        return all(f"{rel}/{name}" in self.removed for name, _ in self._children(rel))

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
            if self._info(rel) is not None:
                raise

    def mkdir(self, rel: str) -> None:
        if self.stat_or_none(rel) is not None:
            raise WasiError(c.EEXIST)
        self._require_parent_dir(rel)
        self._mkdir(rel)

    def rmdir(self, rel: str) -> None:
        if rel == "":
            raise WasiError(c.EBUSY)
        if self.stat(rel).filetype != c.FILETYPE_DIRECTORY:
            raise WasiError(c.ENOTDIR)
        if not self._is_empty_dir(rel):
            raise WasiError(c.ENOTEMPTY)
        self._rmdir(rel)

    def unlink(self, rel: str) -> None:
        spool = self.spools.pop(rel, None)
        if spool is not None:
            spool.unlinked = True
            if rel not in self.removed and self._info(rel) is not None:
                self.removed.add(rel)
            return
        if self.stat(rel).filetype == c.FILETYPE_DIRECTORY:
            raise WasiError(c.EISDIR)  # what Linux answers, and what wasi-libc passes on
        self.removed.add(rel)  # deleted from the backend only if the call succeeds

    def rename(self, src: str, dst: str) -> None:
        if src == "" or dst == "":
            raise WasiError(c.EBUSY)
        src_is_dir = self.stat(src).filetype == c.FILETYPE_DIRECTORY
        if src == dst:
            return
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
        if not src_is_dir:  # deferred like every other change to files: dst becomes pending, src is removed
            spool = self.spools.get(src)
            if spool is None:  # a file on the backend: pending copy at dst
                st = self.stat(src)
                data = bytearray(self.fs.cat_file(self.path(src)))
                self.budget.charge(len(data))
                spool = Spool(self, dst, data, dirty=True, mtime_ns=st.mtime_ns)
            else:
                del self.spools[src]
            if self._info(src) is not None:
                self.removed.add(src)
            spool.rel = dst
            spool.dirty = True
            self.spools[dst] = spool
            return
        on_fs = self._info(src) is not None
        if on_fs:
            self._move(src, dst, src_is_dir)
        # re-key open spools (the file itself, or files below a renamed directory)
        for key in list(self.spools):
            if key == src or key.startswith(src + "/"):
                spool = self.spools.pop(key)
                spool.rel = dst + key[len(src) :]
                spool.dirty = spool.dirty or not on_fs
                self.spools[spool.rel] = spool

    def _move(self, src: str, dst: str, is_dir: bool) -> None:
        if self.local is not None:  # a real rename; LocalFileSystem.mv does not glob
            self.fs.mv(self.path(src), self.path(dst))
        elif not is_dir:
            self.fs.cp_file(self.path(src), self.path(dst))
            self.fs.rm_file(self.path(src))
        else:
            self._mkdir(dst)
            for name, child_is_dir in self._children(src):
                self._move(f"{src}/{name}", f"{dst}/{name}", child_is_dir)
            self._rmdir(src)

    def publish(self) -> list[tuple[str, BaseException]]:
        """The call succeeded: delete what the guest unlinked, write every modified file. Returns failures."""
        errors: list[tuple[str, BaseException]] = []
        for rel in sorted(self.removed):
            try:
                if rel not in self.spools and self._info(rel) is not None:
                    self.fs.rm_file(self.path(rel))
            except Exception as exc:  # noqa: BLE001 - reported to the caller
                errors.append((rel, exc))
        for spool in list(self.spools.values()):
            if not spool.dirty or spool.unlinked:
                continue
            try:
                self.write_back(spool.rel, spool.data)
                spool.dirty = False
            except Exception as exc:  # noqa: BLE001 - reported to the caller
                errors.append((spool.rel, exc))
        self.discard()
        return errors

    def discard(self) -> None:
        """The call failed: drop every pending file and deferred delete; the backend is left as it was."""
        self.spools.clear()
        self.removed.clear()

    def close(self) -> list[tuple[str, BaseException]]:
        return self.publish()


def _to_ns(value: Any) -> int:
    """fsspec reports mtimes as datetimes or (float) seconds, depending on the backend."""
    if isinstance(value, _dt.datetime):
        return int(value.timestamp() * 1_000_000_000)
    if isinstance(value, int | float):
        return int(value * 1_000_000_000)
    return 0
