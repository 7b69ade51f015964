"""Where the files of a helper or frame I/O call are: its source/target arguments resolved to bytes or paths, the
one filesystem its job runs on, and errors that name the files as the caller did.

Internal: :mod:`afmpeg.helpers` and :mod:`afmpeg.frames_io` share this module, so a file argument means the same
thing in every one of them. What the forms mean is documented in :mod:`afmpeg.helpers`:

- a path string: a file on ``fs=`` (inside ``root=``); without ``fs=``, on the filesystem of the ``runtime=``
  passed; without either, a file on the local disk (relative to the working directory);
- a :class:`pathlib.Path`: always a local file;
- an fsspec URL (``"s3://bucket/clip.mp4"``, ``"memory://x.mp4"``) or a ``(filesystem, path)`` pair: that file;
- ``bytes`` (inputs only): the file's contents.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .default import default_runtime
from .errors import Error, InputNotFound, JobSpecError, error_for_exit
from .job import Input, ProbeJob
from .memfs import MemoryFS
from .results import ProbedInput, ProcessResult
from .runtime import Runtime, resolve_fs

__all__ = ["Source", "Target"]

#: What a helper or frame reader may be given as an input file.
Source = bytes | bytearray | memoryview | str | os.PathLike[str] | tuple[Any, str]
#: What a helper or frame writer may be given as an output file.
Target = str | os.PathLike[str] | tuple[Any, str]

# what the concat demuxer accepts in safe mode (see the job-spec reference)
_CONCAT_SAFE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*")


@dataclass
class Location:
    """One file argument, resolved: bytes, or a path on a filesystem."""

    given: Any
    output: bool
    data: bytes | None = None
    fs: Any = None
    path: str = ""
    #: set for a path named relative to the call's filesystem (fs= or the runtime's): the guest path as given
    rel: str | None = None
    local: bool = False
    #: the path the job names it by (set by :meth:`Files.prepare`)
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
    def name(self) -> str:
        """The path whose extension tells the container (as given when relative to the call's filesystem)."""
        return self.rel if self.rel is not None else self.path

    @property
    def ext(self) -> str:
        return posixpath.splitext(self.name.replace(os.sep, "/"))[1].lstrip(".").lower()


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


def _local(given: Any, text: str, output: bool) -> Location:
    from fsspec.implementations.local import LocalFileSystem

    path = Path(text).expanduser()
    # the real file: a symlink the sandbox would refuse to follow out of its root is followed here, by the host
    real = path.resolve() if not output else path.parent.resolve() / path.name
    return Location(given, output, fs=LocalFileSystem(), path=str(real), local=True)


def _on_fs(given: Any, fs_like: Any, path: str, output: bool) -> Location:
    from fsspec.implementations.local import LocalFileSystem

    if isinstance(fs_like, str | os.PathLike):
        fs_like, root = resolve_fs(fs_like, None)
        path = _join(root, path)
    if isinstance(fs_like, LocalFileSystem):
        return _local(given, path, output)
    local_dir = _local_dir_of(fs_like)
    if local_dir is not None:
        return _local(given, os.path.join(local_dir, path.lstrip("/")), output)
    return Location(given, output, fs=fs_like, path=path)


def locate(value: Any, base: tuple[Any, str] | None, *, output: bool) -> Location:
    """Resolve one file argument; ``base`` is the call's ``(filesystem, root)`` for plain path strings, if any."""
    what = "an output" if output else "an input"
    if isinstance(value, bytes | bytearray | memoryview):
        if output:
            raise JobSpecError("an output must be a path, a URL or a (filesystem, path) pair, not bytes")
        if not len(value):
            raise JobSpecError("the input is empty (0 bytes)")
        return Location(value, output, data=bytes(value))
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
            return Location(value, output, fs=base[0], path=_join(base[1], text), rel=text)
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


def _identity(loc: Location) -> tuple[Any, str]:
    """Which file a location is, to tell when two arguments name the same one."""
    if loc.local:
        return ("local", os.path.normcase(loc.path))
    return (id(loc.fs), _norm(loc.path))


def _not_found(loc: Location) -> Error:
    """The engine's "not found" for an input the host found missing, named as the caller named it."""
    message = f"{loc.display}: No such file or directory"
    err = error_for_exit(1, message, details={"error": message, "kind": "not_found"})
    if isinstance(err, InputNotFound):
        err.filename = loc.display
    return err


def _read(loc: Location) -> bytes:
    """An input's bytes, for a job that runs on a private copy; a missing file is the engine's "not found"."""
    try:
        return bytes(loc.fs.cat_file(loc.path))
    except FileNotFoundError as exc:
        raise _not_found(loc) from exc


# A guest path inside an error message: not part of a longer path, followed by the end of the path (":", a quote,
# a bracket, a space, the end, or a full stop that ends the sentence). The engine may write it with a leading "/"
# or a "file:" prefix (FFmpeg's own log does).
_BEFORE = r"(?<![\w./\\-])(?:file:)?/*"
_AFTER = r"(?=$|[\s:'\"),;\]]|\.(?!\w))"


def _rename_paths(text: str, names: dict[str, str]) -> str:
    """``text`` with every guest path in ``names`` replaced by the caller's name for that file."""
    if not names or not text:
        return text
    alternation = "|".join(re.escape(g) for g in sorted(names, key=len, reverse=True))
    pattern = re.compile(f"{_BEFORE}({alternation}){_AFTER}")
    return pattern.sub(lambda m: names[m.group(1)], text)


def _first_path(text: str, names: dict[str, str]) -> str | None:
    """The guest path an error message starts with ("in0.mp4: No such file or directory"), if any."""
    for guest in sorted(names, key=len, reverse=True):
        if re.match(f"{_BEFORE}{re.escape(guest)}:", text):
            return guest
    return None


class Files:
    """The files one helper or frame I/O call reads and writes, and the single filesystem its job runs on."""

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
        self.inputs: list[Location] = []
        self.outputs: list[Location] = []
        self.job_fs: Any = None
        self.job_root = ""
        self.staged = False

    @property
    def runtime(self) -> Runtime:
        """The runtime jobs run on (the default one is made only when a job is about to run)."""
        if self._runtime is None:
            self._runtime = default_runtime()
        return self._runtime

    def add_input(self, src: Any) -> Location:
        loc = locate(src, self.base, output=False)
        self.inputs.append(loc)
        return loc

    def add_output(self, dst: Any) -> Location:
        loc = locate(dst, self.base, output=True)
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

    def _try_direct(self, locs: list[Location], concat_safe: bool) -> bool:
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
            if not os.path.isdir(found[0]):  # the job could not even start there: name the missing input
                missing = next((loc for loc in self.inputs if not os.path.exists(loc.path)), None)
                if missing is not None:
                    raise _not_found(missing)
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

    def _on_base(self, loc: Location) -> str | None:
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

    # -- running the job, with errors that name the files as the caller did

    def _names(self) -> dict[str, str]:
        """Guest path (without leading slashes) → the caller's name, for every prepared file."""
        return {loc.guest.lstrip("/"): loc.display for loc in self.inputs + self.outputs if loc.guest.strip("/")}

    def rename_error(self, err: Error) -> None:
        """Name the files in ``err`` as the caller did: its message (and ``args``) and, for a missing input,
        ``filename``. ``ffmpeg_message`` keeps the engine's own words and ``details`` its error JSON."""
        names = self._names()
        original = err.message
        renamed = _rename_paths(original, names)
        if renamed != original:
            err.message = renamed
            err.args = (renamed,)
            if isinstance(err, OSError):
                err.strerror = renamed
        if isinstance(err, InputNotFound):
            guest = err.filename.lstrip("/") if isinstance(err.filename, str) else None
            if guest not in names:
                guest = _first_path(original, names)
            if guest is not None:
                err.filename = names[guest]

    @contextmanager
    def naming_errors(self) -> Iterator[None]:
        """Errors raised inside are renamed with :meth:`rename_error`."""
        try:
            yield
        except Error as err:
            self.rename_error(err)
            raise

    def run(self, job: Any, **kwargs: Any) -> ProcessResult:
        """Run a process job on the job's filesystem (``kwargs``: those of :meth:`Runtime.run` but ``fs``/``root``);
        a failure names the files as the caller did. Staged outputs are published by :meth:`finish`."""
        with self.naming_errors():
            return self.runtime.run(job, **self.where, **kwargs)

    def probe(self, loc: Location, limits: dict[str, Any], **input_keys: Any) -> ProbedInput:
        """Probe a prepared input (``input_keys``: ``format``, ``options``); a file that cannot be read raises
        (classified like a job's failure, naming the file as the caller did) instead of giving an entry with
        ``error``. ``limits``: the limit and ``cancel`` keywords of :meth:`Runtime.run`."""
        job = ProbeJob(inputs=[Input(path=loc.guest, **input_keys)])
        job.validate()
        with self.naming_errors():
            info = self.runtime.probe(job, **self.where, **limits).inputs[0]
            if info.error is not None:
                details = {"error": info.error, "kind": info.error_kind, "field": "inputs[0]"}
                raise error_for_exit(1, info.error, job=job.to_dict(), details=details)
        info.path = loc.display
        return info

    def write(self, loc: Location, data: bytes) -> None:
        """Write ``data`` to an output's real destination."""
        if loc.rel is not None:
            assert self.base is not None
            self.base[0].pipe_file(_join(self.base[1], loc.rel), data)
        else:
            loc.fs.pipe_file(loc.path, data)

    def finish(self, result: ProcessResult) -> ProcessResult:
        """Publish staged outputs (call it only once the job succeeded) and name every output in ``result`` as the
        caller did."""
        if self.staged:
            for loc in self.outputs:
                self.write(loc, self.job_fs.cat_file("/" + loc.guest))
        names = {loc.guest: loc.display for loc in self.outputs}
        for out in result.outputs:
            out.path = names.get(out.path.lstrip("/"), names.get(out.path, out.path))
        return result
