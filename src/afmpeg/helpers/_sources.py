"""Where files are: src/dst arguments resolved to bytes or paths, and the one filesystem a helper's job runs on."""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..default import default_runtime
from ..errors import JobSpecError, error_for_exit
from ..memfs import MemoryFS
from ..results import ProcessResult
from ..runtime import Runtime, resolve_fs

# what the concat demuxer accepts in safe mode (see the job-spec reference)
_CONCAT_SAFE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*")


@dataclass
class _Loc:
    """One file argument, resolved: bytes, or a path on a filesystem."""

    given: Any
    output: bool
    data: bytes | None = None
    fs: Any = None
    path: str = ""
    #: set for a path named relative to the helper's filesystem (fs= or the runtime's): the guest path as given
    rel: str | None = None
    local: bool = False
    guest: str = ""

    @property
    def display(self) -> str:
        """The file as the caller named it (for results and messages)."""
        if self.data is not None:
            return "<bytes>"
        if isinstance(self.given, tuple):
            return os.fspath(self.given[1])
        return os.fspath(self.given)

    @property
    def ext(self) -> str:
        name = self.rel if self.rel is not None else self.path
        return posixpath.splitext(name.replace(os.sep, "/"))[1].lstrip(".").lower()


def _join(root: str, path: str) -> str:
    if not root:
        return path
    return f"{root.rstrip('/')}/{path.lstrip('/')}"


def _norm(path: str) -> str:
    """A filesystem path without leading slashes, ``.`` and ``..`` folded ("" for the root)."""
    text = posixpath.normpath("/" + path.replace("\\", "/")).lstrip("/")
    return "" if text == "." else text


def _relative_inside(root: str, path: str) -> str | None:
    """``path`` relative to ``root`` on one filesystem, or None when it lies outside."""
    r, p = _norm(root), _norm(path)
    if not r:
        return p or None
    if p.startswith(r + "/"):
        return p[len(r) + 1 :]
    return None


def _local_dir_of(fs: Any) -> str | None:
    """The local directory behind a ``DirFileSystem`` over the local disk (what ``fs="dir/"`` resolves to)."""
    from fsspec.implementations.dirfs import DirFileSystem
    from fsspec.implementations.local import LocalFileSystem

    if isinstance(fs, DirFileSystem) and isinstance(fs.fs, LocalFileSystem):
        return str(Path(fs.path).resolve())
    return None


def _local(given: Any, text: str, output: bool) -> _Loc:
    from fsspec.implementations.local import LocalFileSystem

    path = Path(text).expanduser()
    # the real file: a symlink the sandbox would refuse to follow out of its root is followed here, by the host
    real = path.resolve() if not output else path.parent.resolve() / path.name
    return _Loc(given, output, fs=LocalFileSystem(), path=str(real), local=True)


def _on_fs(given: Any, fs_like: Any, path: str, output: bool) -> _Loc:
    from fsspec.implementations.local import LocalFileSystem

    if isinstance(fs_like, str | os.PathLike):
        fs_like, root = resolve_fs(fs_like, None)
        path = _join(root, path)
    if isinstance(fs_like, LocalFileSystem):
        return _local(given, path, output)
    local_dir = _local_dir_of(fs_like)
    if local_dir is not None:
        return _local(given, os.path.join(local_dir, path.lstrip("/")), output)
    return _Loc(given, output, fs=fs_like, path=path)


def _locate(value: Any, base: tuple[Any, str] | None, *, output: bool) -> _Loc:
    what = "an output" if output else "an input"
    if isinstance(value, bytes | bytearray | memoryview):
        if output:
            raise JobSpecError("an output must be a path, a URL or a (filesystem, path) pair, not bytes")
        if not len(value):
            raise JobSpecError("the input is empty (0 bytes)")
        return _Loc(value, output, data=bytes(value))
    if isinstance(value, tuple):
        if len(value) != 2 or not isinstance(value[1], str | os.PathLike):
            raise JobSpecError(f"{what} given as a tuple must be (filesystem, path), got {value!r}")
        return _on_fs(value, value[0], os.fspath(value[1]), output)
    if isinstance(value, str | os.PathLike):
        text = os.fspath(value)
        if not text:
            raise JobSpecError(f"{what} path must not be empty")
        if "://" in text:
            import fsspec

            fs_obj, path = fsspec.core.url_to_fs(text)
            return _on_fs(value, fs_obj, path, output)
        if base is not None and isinstance(value, str):
            return _Loc(value, output, fs=base[0], path=_join(base[1], text), rel=text)
        return _local(value, text, output)  # a pathlib.Path is always a local file
    raise JobSpecError(f"{what} must be a path, a URL, a (filesystem, path) pair or bytes, got {type(value).__name__}")


def _common_root(paths: list[str], local: bool) -> tuple[str, list[str]] | None:
    """The directory to confine the job to: the deepest common directory, if it directly holds one of the files."""
    mod: Any = os.path if local else posixpath
    parents = [mod.dirname(p) for p in paths]
    try:
        common = mod.commonpath(parents) if parents else ""
    except ValueError:  # absolute and relative paths mixed
        return None
    if common not in parents:
        return None
    if not common:
        rels = [p.lstrip("/") for p in paths]
    else:
        rels = [mod.relpath(p, common).replace(os.sep, "/") if local else posixpath.relpath(p, common) for p in paths]
    return common, rels


def _identity(loc: _Loc) -> tuple[Any, str]:
    """Which file a location is, to tell when two arguments name the same one."""
    if loc.local:
        return ("local", os.path.normcase(loc.path))
    return (id(loc.fs), _norm(loc.path))


def _read(loc: _Loc) -> bytes:
    """An input's bytes, for a job that runs on a private copy; a missing file is the engine's "not found"."""
    try:
        return bytes(loc.fs.cat_file(loc.path))
    except FileNotFoundError as exc:
        message = f"{loc.display}: No such file or directory"
        raise error_for_exit(1, message, details={"error": message, "kind": "not_found"}) from exc


class _Files:
    """The files one helper call reads and writes, and the single filesystem its job runs on."""

    def __init__(self, runtime: Runtime | None, fs: Any, root: str | None) -> None:
        self._runtime = runtime
        self.base: tuple[Any, str] | None
        if fs is not None:
            self.base = resolve_fs(fs, root)
        elif runtime is not None:
            self.base = (runtime.fs, runtime.root if root is None else root)
        elif root is not None:
            raise JobSpecError("root= names a directory inside fs=: pass fs= (or runtime=) too")
        else:
            self.base = None
        self.inputs: list[_Loc] = []
        self.outputs: list[_Loc] = []
        self.job_fs: Any = None
        self.job_root = ""
        self.staged = False

    @property
    def runtime(self) -> Runtime:
        """The runtime jobs run on (the default one is made only when a job is about to run)."""
        if self._runtime is None:
            self._runtime = default_runtime()
        return self._runtime

    def add_input(self, src: Any) -> _Loc:
        loc = _locate(src, self.base, output=False)
        self.inputs.append(loc)
        return loc

    def add_output(self, dst: Any) -> _Loc:
        loc = _locate(dst, self.base, output=True)
        self.outputs.append(loc)
        return loc

    @property
    def where(self) -> dict[str, Any]:
        """The ``fs``/``root`` keywords for the runtime call."""
        return {"fs": self.job_fs, "root": self.job_root}

    def prepare(self, *, concat_safe: bool = False) -> None:
        """Pick the job's filesystem and the guest path of every file; copy inputs in when it must be private."""
        locs = self.inputs + self.outputs
        sources = {_identity(loc) for loc in self.inputs if loc.data is None}
        for loc in self.outputs:
            if _identity(loc) in sources:
                raise JobSpecError(f"{loc.display} is both an input and an output: write to another file")
        if self._try_direct(locs, concat_safe):
            return
        mem = MemoryFS()
        for i, loc in enumerate(self.inputs):
            loc.guest = f"in{i}.{loc.ext}" if loc.ext else f"in{i}"
            mem.pipe_file("/" + loc.guest, loc.data if loc.data is not None else _read(loc))
        for i, loc in enumerate(self.outputs):
            loc.guest = f"out{i}.{loc.ext}" if loc.ext else f"out{i}"
        self.job_fs, self.job_root, self.staged = mem, "", True

    def _try_direct(self, locs: list[_Loc], concat_safe: bool) -> bool:
        if any(loc.data is not None for loc in locs):
            return False
        guests: list[str] | None = None
        if self.base is not None:
            guests = [g for g in (self._on_base(loc) for loc in locs) if g is not None]
            if len(guests) != len(locs):
                return False
            job_fs, job_root = self.base
        elif locs and all(loc.local for loc in locs):
            found = _common_root([loc.path for loc in locs], local=True)
            if found is None:
                return False
            job_fs, job_root, guests = found[0], "", found[1]
        elif locs and all(loc.fs is locs[0].fs for loc in locs):
            found = _common_root([loc.path for loc in locs], local=False)
            if found is None:
                return False
            job_fs, job_root, guests = locs[0].fs, found[0], found[1]
        else:
            return False
        for guest in guests:
            first = _norm(guest).split("/", 1)[0]
            if first in ("tmp", "dev", "") or (concat_safe and not _CONCAT_SAFE.fullmatch(guest)):
                return False  # the engine keeps tmp/ and dev/ private; the concat demuxer wants plain names
        for loc, guest in zip(locs, guests, strict=True):
            loc.guest = guest
        self.job_fs, self.job_root = job_fs, job_root
        return True

    def _on_base(self, loc: _Loc) -> str | None:
        assert self.base is not None
        base_fs, base_root = self.base
        if loc.rel is not None:
            return loc.rel
        if loc.local:
            local_dir = _local_dir_of(base_fs)
            if local_dir is None:
                return None
            inside = os.path.relpath(loc.path, os.path.join(local_dir, base_root.lstrip("/")))
            return None if inside.startswith("..") else inside.replace(os.sep, "/")
        if loc.fs is base_fs:
            return _relative_inside(base_root, loc.path)
        return None

    def write(self, loc: _Loc, data: bytes) -> None:
        """Write ``data`` to an output's real destination."""
        if loc.rel is not None:
            assert self.base is not None
            self.base[0].pipe_file(_join(self.base[1], loc.rel), data)
        else:
            loc.fs.pipe_file(loc.path, data)

    def finish(self, result: ProcessResult) -> ProcessResult:
        """Publish staged outputs and name every output in ``result`` as the caller did."""
        if self.staged:
            for loc in self.outputs:
                self.write(loc, self.job_fs.cat_file("/" + loc.guest))
        names = {loc.guest: loc.display for loc in self.outputs}
        for out in result.outputs:
            out.path = names.get(out.path.lstrip("/"), names.get(out.path, out.path))
        return result


def _setup(runtime: Runtime | None, fs: Any, root: str | None) -> _Files:
    return _Files(runtime, fs, root)
