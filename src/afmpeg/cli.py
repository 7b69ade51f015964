"""The ``afmpeg`` command line (also ``python -m afmpeg``): run job specs, probe, grab frames, transcode, list what
the engine can do.

Files are read and written on a *root*: a local directory or an fsspec URL (``--root s3://bucket/media``); the
engine sees nothing else, and a path that leaves ``--root`` is a usage error. Without ``--root``, ``run`` uses the
working directory, and ``probe``/``frames``/``transcode`` take ordinary local paths (or URLs) and run in the
directory that holds their files. Every failure is one line on stderr (or one JSON object with ``--json``), never a
traceback. See ``afmpeg --help`` and docs/reference/cli.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import posixpath
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

from . import __version__
from .cli_module import add_module_parser, run_module_command
from .errors import (
    AfmpegError,
    Cancelled,
    JobSpecError,
    LimitExceeded,
    ModuleNotFound,
    UnsupportedVocabulary,
    error_for_exit,
)
from .job import FramesJob, Input, ProbeJob
from .limits import CancelToken
from .progress import Progress
from .results import CAPABILITY_KINDS, Capabilities, FramesResult, ProbeResult, ProcessResult
from .running import RunningJob

__all__ = [
    "main",
    "build_parser",
    "exit_code_for",
    "UsageError",
    "EXIT_OK",
    "EXIT_FAILURE",
    "EXIT_USAGE",
    "EXIT_VOCABULARY",
    "EXIT_LIMIT",
    "EXIT_NO_ENGINE",
    "EXIT_INTERRUPTED",
]

#: the job succeeded
EXIT_OK = 0
#: processing failed: unreadable or missing input, codec/format/filter failure, engine crash, …
EXIT_FAILURE = 1
#: bad usage: a wrong argument, an unreadable or malformed job file, a job spec the engine rejects, a path outside
#: ``--root``
EXIT_USAGE = 2
#: the job's spec vocabulary is newer than the engine's
EXIT_VOCABULARY = 3
#: the job was stopped by a limit: --time-limit, --memory-limit, or an output size limit
EXIT_LIMIT = 4
#: no engine module could be found or loaded
EXIT_NO_ENGINE = 5
#: interrupted (Ctrl-C): the job was cancelled and nothing it wrote was published
EXIT_INTERRUPTED = 130

EPILOG = f"""\
exit codes:
  {EXIT_OK}    success
  {EXIT_FAILURE}    processing failure (missing or unreadable input, codec/format/filter failure, engine crash)
  {EXIT_USAGE}    bad usage: wrong arguments, unreadable or malformed job JSON, a job spec the engine rejects,
       a path outside --root
  {EXIT_VOCABULARY}    the job's vocabulary version is newer than this engine
  {EXIT_LIMIT}    stopped by a limit (--time-limit, --memory-limit, output size)
  {EXIT_NO_ENGINE}    no engine module found or loadable (build one, or pass --module / set AFMPEG_MODULE)
  {EXIT_INTERRUPTED}  interrupted with Ctrl-C: the job was cancelled, nothing it wrote was published

Without --root, probe, frames and transcode take ordinary local paths (or fsspec URLs); with --root,
paths are relative to it and one that leaves it is an error.

With --json, results go to stdout as one JSON document and errors to stderr as
{{"error": ..., "type": ..., "exit_code": ..., "kind"?: ..., "field"?: ..., "ffmpeg_message"?: ...}}.
Progress bars are drawn on stderr when it is a terminal (or with --progress), never with --quiet.
"""

_SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


class UsageError(Exception):
    """A command-line mistake (exit code 2): a wrong argument, an unreadable job file, a path outside ``--root``.

    ``field`` names the job field it concerns, when there is one. With ``--json`` its ``type`` is ``"UsageError"``.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class _Parser(argparse.ArgumentParser):
    # report usage errors through main() (so --json can format them) instead of exiting from inside argparse
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def _memory(text: str) -> int | None:
    """``--memory-limit``: bytes, with an optional k/M/G suffix (powers of 1024), or ``none``."""
    if text.strip().lower() == "none":
        return None
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)i?[bB]?\s*", text)
    if not m or float(m[1]) <= 0:
        raise argparse.ArgumentTypeError(f"expected a size such as 512M or 2G, or 'none', got {text!r}")
    return int(float(m[1]) * _SIZE_UNITS[m[2].lower()])


def _seconds(text: str) -> float | None:
    """``--time-limit``: seconds (> 0), or ``none``."""
    if text.strip().lower() == "none":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def _time(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected seconds from 0 up, got {text!r}")
    return value


def _common_options() -> argparse.ArgumentParser:
    """The global flags, accepted before or after the subcommand (SUPPRESS keeps a later one from resetting)."""
    common = argparse.ArgumentParser(add_help=False)
    g = common.add_argument_group("global options")
    s = argparse.SUPPRESS
    g.add_argument("--module", metavar="PATH", default=s, help="the engine .wasm (default: AFMPEG_MODULE, then the "
                   "installed or built module)")
    g.add_argument("--variant", choices=("lgpl", "gpl"), default=s, help="the engine variant to use when no "
                   "--module is given (default: lgpl if installed, else gpl)")
    g.add_argument("--profile", choices=("lean", "full"), default=s, help="the engine profile to use when no "
                   "--module is given (default: lean if installed, else full)")
    g.add_argument("--json", action="store_true", default=s, help="machine-readable output on stdout; errors as "
                   "JSON on stderr")
    g.add_argument("-q", "--quiet", action="store_true", default=s, help="print nothing but errors (and --json "
                   "output); no progress bar")
    g.add_argument("--progress", action="store_true", default=s, help="draw a progress bar even when stderr is "
                   "not a terminal")
    g.add_argument("--no-progress", dest="progress_off", action="store_true", default=s, help="never draw a "
                   "progress bar")
    g.add_argument("--memory-limit", type=_memory, metavar="SIZE", default=s, help="guest memory cap, e.g. 512M, "
                   "2G or none (default 1G)")
    g.add_argument("--time-limit", type=_seconds, metavar="SECONDS", default=s, help="wall-time cap per job "
                   "(default none)")
    return common


def _root_option(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument("--root", metavar="DIR|URL", default=None, help="the directory (or fsspec URL) the paths are "
                   f"relative to; the engine sees nothing outside it, a path that leaves it is an error ({default})")


_FILES_ROOT = "default: none, ordinary local paths or URLs; the job sees only the directory holding the files"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``afmpeg`` command."""
    common = _common_options()
    parser = _Parser(
        prog="afmpeg",
        description="FFmpeg as a sandboxed WebAssembly module: run job specs, probe, grab frames, transcode.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("-V", "--version", action="version", version=f"afmpeg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, description=help_text, parents=[common], epilog=EPILOG,
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    p = add("run", "run a job spec (any op) from a JSON file, or from stdin with '-'")
    p.add_argument("job", metavar="JOB.json", help="the job spec file, or - for stdin")
    _root_option(p, "default: the working directory")

    p = add("probe", "describe a media file: container, duration, streams")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--format", help="force the demuxer (e.g. rawvideo, s16le)")
    _root_option(p, _FILES_ROOT)

    p = add("frames", "write stills of a video: one image per selected frame")
    p.add_argument("input", metavar="INPUT")
    p.add_argument("pattern", metavar="PATTERN", help="output path template, e.g. thumbs/f_%%03d.png (its "
                   "directory is created)")
    sel = p.add_mutually_exclusive_group()
    sel.add_argument("--at", type=_time, nargs="+", metavar="T", help="the frames at these times (seconds)")
    sel.add_argument("--every", type=_time, metavar="N", help="one frame every N seconds")
    sel.add_argument("--scene", type=float, metavar="X", help="frames whose scene-change score exceeds X (0-1)")
    sel.add_argument("--thumbnail", action="store_true", help="the most representative frame of each 100")
    p.add_argument("--count", type=int, help="the most frames to write (1-4096)")
    p.add_argument("--scale", help="scale filter arguments, e.g. 320:-2")
    p.add_argument("--codec", choices=["png", "mjpeg", "webp"], help="default: from the extension, else png")
    _root_option(p, _FILES_ROOT)

    p = add("transcode", "convert IN to OUT (container from OUT's extension)")
    p.add_argument("src", metavar="IN")
    p.add_argument("dst", metavar="OUT")
    p.add_argument("--vcodec", help="video encoder (e.g. libopenh264, mpeg4) or copy")
    p.add_argument("--acodec", help="audio encoder (e.g. aac, flac) or copy")
    p.add_argument("--size", metavar="WxH", help="output size; -1 for one side keeps the aspect (1280x-1)")
    p.add_argument("--fps", help="output frame rate (25, 30000/1001)")
    p.add_argument("--vb", metavar="RATE", help="video bit rate (2M, 800k)")
    p.add_argument("--ab", metavar="RATE", help="audio bit rate (128k)")
    p.add_argument("--start", type=_time, metavar="SECONDS", help="start this far into IN")
    p.add_argument("--duration", type=_time, metavar="SECONDS", help="stop after this much output")
    p.add_argument("--no-video", dest="video", action="store_false", help="leave video out")
    p.add_argument("--no-audio", dest="audio", action="store_false", help="leave audio out")
    p.add_argument("--format", help="force the output muxer")
    _root_option(p, _FILES_ROOT)

    p = add("capabilities", "list what this engine build contains (from libav's registries)")
    p.add_argument("--kind", choices=CAPABILITY_KINDS, help="only this kind of component")

    add("version", "print afmpeg's, the engine's and FFmpeg's versions")

    add_module_parser(sub, common, EPILOG)
    return parser


# ------------------------------------------------------------------------------------------------ running


class _Root:
    """The ``--root`` of a command (or the working directory): the filesystem the job runs on."""

    def __init__(self, given: str | None) -> None:
        from .runtime import resolve_fs

        self.given = given
        text = given or os.getcwd()
        #: how messages name the root
        self.label = f"--root {given}" if given else "the working directory (the default root)"
        if "://" not in text and not os.path.isdir(text):
            raise UsageError(f"--root {text!r} is not a directory")
        try:
            self.fs, self.path = resolve_fs(text, None)
        except Exception as exc:  # an unknown protocol, a missing fsspec backend, file:// to no directory, …
            raise UsageError(f"--root {text}: {_reason(exc)}") from None
        #: the real local directory behind the root, when it is one
        self.local: str | None = _local_dir_of(self.fs)
        #: the root as the user may have spelled it in an absolute path (before symlinks were resolved)
        self._spelled = os.path.abspath(os.path.expanduser(text)) if "://" not in text else None

    def inside(self, path: str, *, output: bool = False) -> str:
        """``path`` as the job names it: relative to the root. A path that leaves the root is a usage error.

        Relative paths are relative to the root; an absolute local path must lie inside a local root; a URL must
        lie inside a URL root. ``..`` may be used as long as the path stays inside.
        """
        outside = UsageError(f"{path} is outside {self.label}")
        if not path:
            raise UsageError("a path must not be empty")
        if self.local is not None:
            if "://" in path:
                raise outside
            text = os.path.expanduser(path)
            if os.path.isabs(text):
                rel = next((r for r in (_relpath(text, base) for base in (self._spelled, self.local) if base)
                            if r is not None), None)
                if rel is None:
                    raise outside
            else:
                rel = os.path.normpath(text).replace(os.sep, "/")
            if _leaves(rel):
                raise outside
            # a symbolic link inside the root that leads out of it: the sandbox refuses it, say why now
            full = os.path.join(self.local, rel)
            real = os.path.realpath(os.path.dirname(full) if output else full)
            if not _within(real, self.local):
                raise UsageError(f"{path} is outside {self.label} (a symbolic link leads out of it)")
            return rel
        text = path
        if "://" in text:  # a URL: of the root's filesystem, under the root's path
            protocols = self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,)
            if text.split("://", 1)[0] not in protocols:
                raise outside
            full = posixpath.normpath(self.fs._strip_protocol(text))
            base = posixpath.normpath(self.path).rstrip("/") if self.path.strip("/") else ""
            if base and not (full + "/").startswith(base + "/"):
                raise outside
            text = full[len(base):]
        rel = posixpath.normpath(text.lstrip("/")) if text.strip("/") else "."
        if _leaves(rel):
            raise outside
        return rel


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror if exc.filename is None else f"{exc.filename}: {exc.strerror}"
    return str(exc) or type(exc).__name__


def _relpath(path: str, base: str) -> str | None:
    try:
        rel = os.path.relpath(os.path.normpath(path), base).replace(os.sep, "/")
    except ValueError:  # another drive
        return None
    return None if _leaves(rel) else rel


def _leaves(rel: str) -> bool:
    return rel == ".." or rel.startswith("../") or rel.startswith("/")


def _within(path: str, directory: str) -> bool:
    try:
        return os.path.commonpath([path, directory]) == directory
    except ValueError:
        return False


def _local_dir_of(fs: Any) -> str | None:
    """The local directory behind a ``DirFileSystem`` over the local disk (what a directory root resolves to)."""
    from fsspec.implementations.dirfs import DirFileSystem
    from fsspec.implementations.local import LocalFileSystem

    if isinstance(fs, DirFileSystem) and isinstance(fs.fs, LocalFileSystem):
        return os.path.realpath(fs.path)
    return None


@dataclasses.dataclass
class _File:
    """A command-line file without ``--root``: a local file (``fs`` is None) or a file an fsspec URL names."""

    given: str
    fs: Any
    #: local: the absolute path with symlinks resolved (of its directory, for an output); else the path on ``fs``
    path: str
    output: bool

    @property
    def mod(self) -> Any:
        return os.path if self.fs is None else posixpath


def _host_file(given: str, *, output: bool, field: str) -> _File:
    """Where ``given`` is, without ``--root``; a local input that is missing or a directory fails here."""
    text = given
    if not text:
        raise UsageError("a path must not be empty")
    if "://" in text:
        import fsspec
        from fsspec.implementations.local import LocalFileSystem

        try:
            fs, path = fsspec.core.url_to_fs(text)
        except Exception as exc:  # an unknown protocol, a missing backend
            raise UsageError(f"{given}: {_reason(exc)}") from None
        if not isinstance(fs, LocalFileSystem):
            return _File(given, fs, path, output)
        text = path
    p = Path(text).expanduser()
    # the host follows symlinks the user named: the job sees the real file, inside its real directory
    real = str(p.parent.resolve() / p.name) if output else str(p.resolve())
    if not output:
        _check_local_input(given, real, field)
    return _File(given, None, real, output)


def _check_local_input(given: str, real: str, field: str) -> None:
    """A missing input, or a directory, fails as the engine would report it (same type, kind and field)."""
    if os.path.isdir(real):
        message, kind = f"{given}: Is a directory", "processing"
    elif not os.path.exists(real):
        message, kind = f"{given}: No such file or directory", "not_found"
    else:
        return
    raise error_for_exit(1, message, details={"error": message, "kind": kind, "field": field})


def _check_local_output(given: str, real: str, field: str) -> None:
    """An output that cannot be created where it is (no such directory, not a directory, no permission)."""
    parent = os.path.dirname(real)
    if os.path.isdir(real):
        message = f"{given}: Is a directory"
    elif not os.path.exists(parent):
        message = f"{given}: cannot create the file: its directory does not exist"
    elif not os.path.isdir(parent):
        message = f"{given}: Not a directory"
    elif not os.access(parent, os.W_OK):
        message = f"{given}: Permission denied (cannot write into its directory)"
    else:
        return
    raise error_for_exit(1, message, details={"error": message, "kind": "processing", "field": field})


# the engine keeps these top-level names for its private /tmp and /dev
_PRIVATE = ("tmp", "dev")


@dataclasses.dataclass
class _Place:
    """Where a command's job runs (``fs``/``root`` for the Runtime) and the path it names each file by."""

    fs: Any
    root: str
    guests: list[str]
    #: the files were copied into a private in-memory filesystem (outputs are copied out after the job)
    staged: bool = False


def _place(files: list[_File]) -> _Place:
    """Without ``--root``: run the job in the deepest directory holding all the files (the file's own directory
    for one file), so the engine sees no more of the disk than it must. When there is none short of the whole
    filesystem (files in unrelated places, or on two filesystems), the inputs are copied into memory instead."""
    first = files[0]
    same = all((f.fs is None) == (first.fs is None) and (f.fs is None or f.fs is first.fs) for f in files)
    if same:
        mod = first.mod
        try:
            common = mod.commonpath([mod.dirname(f.path) for f in files])
        except ValueError:
            common = None
        while common is not None and _deep(common, mod):
            guests = [mod.relpath(f.path, common).replace(os.sep, "/") for f in files]
            if not any(g.split("/", 1)[0] in _PRIVATE for g in guests):
                if first.fs is None:
                    return _Place(common, "", guests)
                return _Place(first.fs, common, guests)
            common = mod.dirname(common)
    from .memfs import MemoryFS

    mem = MemoryFS()
    guests = []
    for i, f in enumerate(files):
        name = f.mod.basename(f.path)
        ext = os.path.splitext(name)[1]
        if f.output:
            guests.append(name)
        else:
            guests.append(f"input{i}{ext}")
            data = Path(f.path).read_bytes() if f.fs is None else f.fs.cat_file(f.path)
            mem.pipe_file("/" + guests[-1], bytes(data))
    return _Place(mem, "", guests, staged=True)


def _deep(directory: str, mod: Any) -> bool:
    """False for a filesystem's top (``/``, a drive, a bucket-less remote root)."""
    if mod is os.path:
        return os.path.dirname(directory) != directory
    return bool(directory.strip("/"))


def _makedirs_for(output: _File) -> None:
    """Create the directory an output goes into (the engine does not create directories)."""
    parent = output.mod.dirname(output.path)
    try:
        if output.fs is None:
            os.makedirs(parent, exist_ok=True)
        else:
            output.fs.makedirs(parent, exist_ok=True)
    except OSError as exc:
        raise _dir_error(exc, os.path.dirname(output.given) or ".") from None


def _dir_error(exc: OSError, shown: str) -> OSError:
    return type(exc)(exc.errno, f"cannot create the directory {shown}: {exc.strerror or exc}")


class _Context:
    """What one invocation needs: parsed options, output streams, the runtime (made on first use)."""

    def __init__(self, args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> None:
        self.args = args
        self.stdout = stdout
        self.stderr = stderr
        self.json: bool = getattr(args, "json", False)
        self.quiet: bool = getattr(args, "quiet", False)
        #: the job's paths → the paths as the user named them (errors and results are told in the user's terms)
        self.names: dict[str, str] = {}
        #: how errors name the job's root ("--root DIR"), when the user chose it
        self.root_label: str | None = None

    def runtime(self, fs: Any = None, root: str = "") -> Any:
        from .runtime import DEFAULT_MEMORY_LIMIT, Runtime

        kw: dict[str, Any] = {
            "memory_limit": getattr(self.args, "memory_limit", DEFAULT_MEMORY_LIMIT),
            "time_limit": getattr(self.args, "time_limit", None),
        }
        if fs is not None:
            kw["fs"] = fs
            kw["root"] = root
        return Runtime(getattr(self.args, "module", None), variant=getattr(self.args, "variant", None),
                       profile=getattr(self.args, "profile", None), **kw)

    def root(self) -> _Root:
        """The job's root: --root, or the working directory. A missing directory or a bad URL is a usage error."""
        root = _Root(getattr(self.args, "root", None))
        self.root_label = root.label
        return root

    def want_bar(self) -> bool:
        if self.quiet or getattr(self.args, "progress_off", False):
            return False
        return bool(getattr(self.args, "progress", False) or _isatty(self.stderr))

    def out(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.stdout)

    def emit_json(self, data: Any) -> None:
        json.dump(data, self.stdout, indent=2, ensure_ascii=False, default=str)
        self.stdout.write("\n")


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _make_bar(ctx: _Context, description: str) -> Any:
    """The progress bar of a long job (rich, on stderr), or ``None`` when none should be drawn."""
    if not ctx.want_bar():
        return None
    from .progress_bars import RichProgressBar

    return RichProgressBar(description, file=ctx.stderr)


def _run(target: Callable[[Callable[[Progress], None], CancelToken], Any], bar: Any = None) -> Any:
    """Run ``target`` in a background thread so Ctrl-C reaches this one; Ctrl-C cancels the job cleanly."""
    handle: RunningJob[Any] = RunningJob(target, progress=bar)
    try:
        try:
            return handle.result()
        except KeyboardInterrupt:
            handle.cancel()
            try:
                handle.wait()
            except KeyboardInterrupt:  # a second Ctrl-C: stop waiting; the job still stops at its next check
                raise
            if handle.exception() is None:  # it had already finished (and published): report the success
                return handle.result()
            raise
    finally:
        if bar is not None:
            bar.close()


def _plain(value: Any) -> Any:
    """A typed result as JSON-ready data: dataclass fields, with unknown engine keys (``extra``) merged back."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if f.name == "extra":
                out.update({k: _plain(v) for k, v in item.items()})
            else:
                out[f.name] = _plain(item)
        return out
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


# ------------------------------------------------------------------------------------------------ commands


def _read_job(path: str, stdin: IO[str]) -> dict[str, Any]:
    name = "stdin" if path == "-" else path
    try:
        text = stdin.read() if path == "-" else open(path, encoding="utf-8").read()  # noqa: SIM115
    except OSError as exc:
        raise UsageError(f"cannot read the job file {name}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"the job file {name} is not UTF-8 text: {exc}") from None
    try:
        job = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"the job file {name} is not valid JSON: {exc}") from None
    if not isinstance(job, dict):
        raise UsageError(f"the job file {name} must hold a JSON object, got {type(job).__name__}")
    return job


def _cmd_run(ctx: _Context, stdin: IO[str]) -> int:
    job = _read_job(ctx.args.job, stdin)
    root = ctx.root()
    rt = ctx.runtime(fs=root.fs, root=root.path)
    op = job.get("op", "process")
    bar = _make_bar(ctx, os.path.basename(ctx.args.job) if ctx.args.job != "-" else "job") if op == "process" else None
    wire = {**job, "op": op}
    answer = _run(lambda on_progress, token: rt.call(wire, progress=on_progress, cancel=token), bar)
    if ctx.json:
        status = EXIT_OK
        if op == "probe":  # an input that could not be read fails the command, as without --json
            for entry in answer.get("inputs") or []:
                if isinstance(entry, dict) and isinstance(entry.get("error"), str):
                    status = max(status, EXIT_USAGE if _NOT_CAPABLE in entry["error"] else EXIT_FAILURE)
                    entry["error"] = _clear_text(ctx, entry["error"])
        ctx.emit_json(answer)
        return status
    if op == "process":
        _print_process(ctx, ProcessResult.from_dict(answer))
    elif op == "probe":
        return _print_probe(ctx, ProbeResult.from_dict(answer))
    elif op == "frames":
        _print_frames(ctx, FramesResult.from_dict(answer))
    elif op == "capabilities":
        _print_capabilities(ctx, Capabilities.from_dict(answer), None)
    else:
        ctx.out(json.dumps(answer, ensure_ascii=False))
    return EXIT_OK


def _print_process(ctx: _Context, result: ProcessResult) -> None:
    for out in result.outputs:
        streams = ", ".join(f"{s.type} {s.codec}" for s in out.streams)
        ctx.out(f"wrote {out.path}" + (f" ({streams})" if streams else "") + (" [segmented]" if out.segmented else ""))
    if result.analysis:
        ctx.out(f"{len(result.analysis)} analysis entries (use --json to see them)")


def _cmd_probe(ctx: _Context) -> int:
    a = ctx.args
    if a.root is not None:
        root = ctx.root()
        place = _Place(root.fs, root.path, [root.inside(a.file)])
    else:  # no root: any local file (or URL), probed in its own directory
        place = _place([_host_file(a.file, output=False, field="inputs[0]")])
    guest = place.guests[0]
    ctx.names[guest] = a.file
    rt = ctx.runtime(fs=place.fs, root=place.root)
    job = ProbeJob(inputs=[Input(guest, format=a.format)]).to_dict()
    answer = _run(lambda _progress, token: rt.call(job, cancel=token))
    entries = answer.get("inputs") or []
    if entries and isinstance(entries[0], dict):
        entries[0]["path"] = a.file  # named as the user did
    info = ProbeResult.from_dict(answer).inputs[0]
    if not info.ok:  # the engine reports an unreadable input inside its answer; for the CLI it is a failure
        raise _probe_error(ctx, info, job)
    if ctx.json:
        ctx.emit_json(answer)
        return EXIT_OK
    return _print_probe(ctx, ProbeResult.from_dict(answer))


def _probe_error(ctx: _Context, info: Any, job: dict[str, Any]) -> AfmpegError:
    """A probed input's ``error`` as the exception the API raises for it (``afmpeg.probe``): typed by its kind."""
    message = _clear_text(ctx, info.error or "cannot read it")
    if info.path not in message:
        message = f"{info.path}: {message}"
    details = {"error": message, "kind": info.extra.get("error_kind"), "field": "inputs[0]"}
    return error_for_exit(1, message, job=job, details=details)


def _print_probe(ctx: _Context, result: ProbeResult) -> int:
    status = EXIT_OK
    for info in result.inputs:
        if not info.ok:
            message = _clear_text(ctx, info.error or "cannot read it")
            print(f"afmpeg: {message if info.path in message else f'{info.path}: {message}'}", file=ctx.stderr)
            status = max(status, EXIT_USAGE if _NOT_CAPABLE in (info.error or "") else EXIT_FAILURE)
            continue
        head = [info.format or "?"]
        if info.duration is not None:
            head.append(f"{info.duration:.3f} s")
        if info.bit_rate:
            head.append(f"{info.bit_rate / 1000:.0f} kb/s")
        ctx.out(f"{info.path}: " + ", ".join(head))
        for s in info.streams:
            parts = [f"#{s.index}", s.type or "?", s.codec or "?"]
            if s.profile:
                parts.append(f"({s.profile})")
            if s.width and s.height:
                parts.append(f"{s.width}x{s.height}")
            for value in (s.pix_fmt, s.channel_layout, s.sample_fmt, s.language):
                if value:
                    parts.append(value)
            if s.frame_rate:
                parts.append(f"{s.frame_rate:.3g} fps")
            if s.sample_rate:
                parts.append(f"{s.sample_rate} Hz")
            if s.bit_rate:
                parts.append(f"{s.bit_rate / 1000:.0f} kb/s")
            ctx.out("  " + " ".join(parts))
        for key, value in info.tags.items():
            ctx.out(f"  {key}: {value}")
    return status


def _cmd_frames(ctx: _Context) -> int:
    a = ctx.args
    if a.at is not None:
        select: dict[str, Any] = {"timestamps": a.at} if len(a.at) > 1 else {"timestamp": a.at[0]}
    elif a.every is not None:
        select = {"interval": a.every}
    elif a.scene is not None:
        select = {"scene": a.scene}
    elif a.thumbnail:
        select = {"scene": "thumbnail"}
    else:
        select = {"timestamp": 0}  # no selector: the first frame
    if not os.path.basename(a.pattern):
        raise UsageError(f"PATTERN {a.pattern!r} names a directory: give a file name template such as "
                         f"{a.pattern}f_%03d.png")
    job = FramesJob(inputs=[Input(a.input)], select=select, path=a.pattern, codec=a.codec, scale=a.scale,
                    count=a.count)
    job.validate()  # a JobSpecError names the field before the engine runs
    out_file: _File | None = None
    if a.root is not None:
        root = ctx.root()
        place = _Place(root.fs, root.path, [root.inside(a.input), root.inside(a.pattern, output=True)])
        parent = posixpath.dirname(place.guests[1])
        if parent:  # the engine does not create directories; the CLI does it for the user
            try:
                root.fs.makedirs(_join(root.path, parent), exist_ok=True)
            except OSError as exc:
                raise _dir_error(exc, os.path.dirname(a.pattern)) from None
    else:  # no root: local files (or URLs) anywhere; the job runs in the directory holding both
        src = _host_file(a.input, output=False, field="inputs[0]")
        out_file = _host_file(a.pattern, output=True, field="path")
        place = _place([src, out_file])
        _makedirs_for(out_file)
    guest_in, guest_pattern = place.guests
    ctx.names[guest_in] = a.input
    ctx.names[guest_pattern] = a.pattern
    rt = ctx.runtime(fs=place.fs, root=place.root)
    wire = dataclasses.replace(job, inputs=[Input(guest_in)], path=guest_pattern).to_dict()
    answer = _run(lambda _progress, token: rt.call(wire, cancel=token))
    guest_dir, shown_dir = posixpath.dirname(guest_pattern), os.path.dirname(a.pattern)
    for frame in answer.get("frames") or []:
        if not isinstance(frame, dict) or not isinstance(frame.get("path"), str):
            continue
        name = posixpath.relpath(frame["path"].lstrip("/"), guest_dir) if guest_dir else frame["path"].lstrip("/")
        if place.staged and out_file is not None:  # the job wrote into memory: publish to the real directory
            data = bytes(rt.fs.cat_file("/" + frame["path"].lstrip("/")))
            target = out_file.mod.join(out_file.mod.dirname(out_file.path), name)
            if out_file.fs is None:
                Path(target).write_bytes(data)
            else:
                out_file.fs.pipe_file(target, data)
        frame["path"] = os.path.join(shown_dir, name)  # named as the user did
    if ctx.json:
        ctx.emit_json(answer)
    else:
        _print_frames(ctx, FramesResult.from_dict(answer))
    return EXIT_OK


def _join(root: str, path: str) -> str:
    return f"{root.rstrip('/')}/{path}" if root else path


def _print_frames(ctx: _Context, result: FramesResult) -> None:
    for frame in result.frames:
        at = "" if frame.timestamp is None else f" at {frame.timestamp:.3f} s"
        ctx.out(f"wrote {frame.path}{at}")
    if not result.frames:
        ctx.out("no frame matched")


def _cmd_transcode(ctx: _Context) -> int:
    from . import helpers

    a = ctx.args
    where: dict[str, Any] = {}
    src: Any = a.src
    dst: Any = a.dst
    shown: dict[str, str] = {}
    if a.root is not None:
        root = ctx.root()
        src, dst = root.inside(a.src), root.inside(a.dst, output=True)
        where.update(fs=root.fs, root=root.path)
        shown = {src: a.src, dst: a.dst}
    else:  # no root: local files anywhere (a Path is always a local file to the helpers), or URLs
        files = _host_file(a.src, output=False, field="inputs[0]"), _host_file(a.dst, output=True,
                                                                              field="outputs[0].path")
        if files[1].fs is None:
            _check_local_output(a.dst, files[1].path, "outputs[0].path")
        src, dst = (f.given if f.fs is not None else Path(f.path) for f in files)
        shown = {f.path: f.given for f in files if f.fs is None}
    ctx.names.update(shown)
    rt = ctx.runtime()
    bar = _make_bar(ctx, os.path.basename(a.dst))

    def target(on_progress: Callable[[Progress], None], token: CancelToken) -> ProcessResult:
        return helpers.transcode(
            src, dst, video_codec=a.vcodec, audio_codec=a.acodec, size=a.size, fps=a.fps, video_bitrate=a.vb,
            audio_bitrate=a.ab, start=a.start, duration=a.duration, video=a.video, audio=a.audio, format=a.format,
            progress=on_progress, runtime=rt, cancel=token, **where,
        )

    result = _run(target, bar)
    for out in result.outputs:
        out.path = shown.get(out.path, out.path)
    if ctx.json:
        ctx.emit_json(_plain(result))
    else:
        _print_process(ctx, result)
    return EXIT_OK


def _cmd_capabilities(ctx: _Context) -> int:
    rt = ctx.runtime()
    answer = _run(lambda _progress, token: rt.call({"op": "capabilities"}, cancel=token))
    kind = ctx.args.kind
    if ctx.json:
        ctx.emit_json(answer if kind is None else {kind: answer.get(kind)})
    else:
        _print_capabilities(ctx, Capabilities.from_dict(answer), kind)
    return EXIT_OK


def _print_capabilities(ctx: _Context, caps: Capabilities, kind: str | None) -> None:
    if kind is None:
        ctx.out(f"FFmpeg {caps.ffmpeg_version}, engine {caps.engine_version}, vocabulary {caps.vocab_version}"
                f" ({caps.license})")
        for k in CAPABILITY_KINDS:
            if k == "protocols":
                ctx.out(f"protocols: input {', '.join(caps.input_protocols)}; output "
                        f"{', '.join(caps.output_protocols)}")
            else:
                names = caps.names(k)
                ctx.out(f"{k} ({len(names)}): {', '.join(names)}")
        return
    rows: list[tuple[str, str]] = []
    if kind in ("encoders", "decoders"):
        rows = [(c.name, f"{c.type or '':9} {c.long_name or ''}") for c in getattr(caps, kind)]
    elif kind in ("muxers", "demuxers"):
        rows = [(f.name, f.long_name or "") for f in getattr(caps, kind)]
    elif kind == "filters":
        rows = [(f.name, f.description or "") for f in caps.filters]
    elif kind == "bitstream_filters":
        rows = [(b.name, ", ".join(b.codecs) or "any codec") for b in caps.bitstream_filters]
    elif kind == "parsers":
        rows = [(", ".join(p.codecs), "") for p in caps.parsers]
    elif kind == "protocols":
        rows = [(name, "input" + (", output" if name in caps.output_protocols else ""))
                for name in caps.input_protocols]
        rows += [(name, "output") for name in caps.output_protocols if name not in caps.input_protocols]
    width = max((len(name) for name, _ in rows), default=0)
    for name, text in rows:
        ctx.out(f"{name:<{width}}  {text}".rstrip())


def _cmd_version(ctx: _Context) -> int:
    rt = ctx.runtime()
    answer = _run(lambda _progress, token: rt.call({"op": "version"}, cancel=token))
    if ctx.json:
        ctx.emit_json({"afmpeg": __version__, "module": rt.module_path, **answer})
    else:
        ctx.out(f"afmpeg {__version__}")
        ctx.out(f"engine {answer.get('engine_version')} (vocabulary {answer.get('vocab_version')}), "
                f"FFmpeg {answer.get('ffmpeg_version')}")
        ctx.out(f"module {rt.module_path}")
    return EXIT_OK


def _cmd_module(ctx: _Context) -> int:
    return run_module_command(ctx, UsageError)


# ------------------------------------------------------------------------------------------------ errors


# What the engine says when the sandbox refuses a path (wasi-libc's text for ENOTCAPABLE): a symbolic link, or a
# name inside the media, that leads out of the job's root. The CLI tells it in the user's terms.
_NOT_CAPABLE = "Capabilities insufficient"
_NOT_CAPABLE_PATH = re.compile(r'(?P<path>"[^"]*"|[^\s:"(][^:]*?): Capabilities insufficient')
# the engine's words for a job path that leaves the root (`..`, an absolute path)
_OUTSIDE = "outside the job's filesystem"


def _rename(text: str, names: dict[str, str]) -> str:
    """``text`` with the job's paths replaced by the paths as the user named them."""
    for guest, shown in sorted(names.items(), key=lambda item: -len(item[0])):
        if guest and guest != shown:
            text = re.sub(rf"(?<![\w./\\-]){re.escape(guest)}(?![\w/\\-]|\.\w)", lambda _m, s=shown: s, text)
    return text


def _clear_text(ctx: _Context | None, text: str) -> str:
    """An engine message in the user's terms: their paths, their root, no errno text."""
    if ctx is None:
        return text
    text = _rename(text, ctx.names)
    label = ctx.root_label or "the job's root"
    if ctx.root_label:
        text = text.replace(_OUTSIDE, f"outside {ctx.root_label}")
    text = _NOT_CAPABLE_PATH.sub(lambda m: f"{m['path']} is outside {label}", text)
    return text.replace(_NOT_CAPABLE, f"a path leads outside {label}")


def _clarify(exc: BaseException, ctx: _Context | None) -> BaseException:
    """The exception to report: an engine error retold with :func:`_clear_text`; a path the sandbox refused
    becomes a :class:`JobSpecError` (exit code 2), like a job path that leaves the root."""
    if not isinstance(exc, AfmpegError) or ctx is None:
        return exc
    message = _clear_text(ctx, exc.message)
    if _NOT_CAPABLE in exc.message and not isinstance(exc, JobSpecError):
        details = {**exc.details, "error": message, "kind": "spec"}
        return JobSpecError(message, exit_code=exc.exit_code, stderr=exc.stderr, job=exc.job, details=details)
    if message != exc.message:
        exc.message = message
        exc.args = (message,)
        if isinstance(exc.details.get("error"), str):
            exc.details = {**exc.details, "error": message}
    return exc


def exit_code_for(exc: BaseException) -> int:
    """The exit code the CLI gives for an exception (see the ``--help`` epilog)."""
    if isinstance(exc, KeyboardInterrupt | Cancelled):
        return EXIT_INTERRUPTED
    if isinstance(exc, UsageError | JobSpecError):
        return EXIT_USAGE
    if isinstance(exc, UnsupportedVocabulary):
        return EXIT_VOCABULARY
    if isinstance(exc, LimitExceeded):
        return EXIT_LIMIT
    if isinstance(exc, ModuleNotFound):
        return EXIT_NO_ENGINE
    return EXIT_FAILURE


def _message(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted: the job was cancelled and nothing was written"
    if isinstance(exc, UsageError | AfmpegError):
        return exc.message
    if isinstance(exc, OSError):  # "PATH: reason", not "[Errno N] reason: 'PATH'"
        return _reason(exc)
    if isinstance(exc, ValueError):
        return str(exc) or type(exc).__name__
    # not an error the CLI expects: still one line, never a traceback
    return f"unexpected {type(exc).__name__}: {exc}" if str(exc) else f"unexpected {type(exc).__name__}"


def _error_json(exc: BaseException, message: str, code: int) -> dict[str, Any]:
    """The ``--json`` error object: type, exit code, message; kind, field, FFmpeg's words when there are any."""
    data: dict[str, Any] = {"error": message, "type": type(exc).__name__, "exit_code": code}
    if isinstance(exc, AfmpegError):
        for key in ("kind", "field"):
            value = getattr(exc, key, None)
            if isinstance(value, str):
                data[key] = value
        if any(line.strip() for line in (exc.stderr or "").splitlines()):
            data["ffmpeg_message"] = exc.ffmpeg_message
        if exc.exit_code is not None:
            data["engine_exit_code"] = exc.exit_code
    elif isinstance(exc, UsageError) and exc.field:
        data["field"] = exc.field
    elif isinstance(exc, OSError) and exc.errno is not None:
        data["errno"] = exc.errno
    return data


def _report(exc: BaseException, code: int, as_json: bool, stderr: IO[str]) -> None:
    message = _message(exc)
    if as_json:
        print(json.dumps(_error_json(exc, message, code), ensure_ascii=False), file=stderr)
        return
    text = message if message.startswith("afmpeg") else f"afmpeg: error: {message}"
    field = getattr(exc, "field", None)
    if isinstance(field, str) and field not in message:
        text += f" (in {field})"
    print(text, file=stderr)


_COMMANDS: dict[str, Callable[..., int]] = {
    "probe": _cmd_probe,
    "frames": _cmd_frames,
    "transcode": _cmd_transcode,
    "capabilities": _cmd_capabilities,
    "version": _cmd_version,
    "module": _cmd_module,
}


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: IO[str] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """Run the ``afmpeg`` command with ``argv`` (default: ``sys.argv[1:]``) and return its exit code.

    ``stdin``/``stdout``/``stderr`` default to the process's streams (tests pass their own).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    as_json = "--json" in argv  # known before parsing, so usage errors can be JSON too
    parser = build_parser()
    ctx: _Context | None = None
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help / --version print and exit 0
            return int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_USAGE
        ctx = _Context(args, stdout, stderr)
        if args.command == "run":
            return _cmd_run(ctx, stdin)
        return _COMMANDS[args.command](ctx)
    except BrokenPipeError:  # e.g. `afmpeg capabilities | head`: the reader left; not an error worth a message
        _silence(stdout)
        return EXIT_FAILURE
    except (KeyboardInterrupt, Exception) as caught:  # every failure is one line on stderr, never a traceback
        exc = _clarify(caught, ctx)
        code = exit_code_for(exc)
        _report(exc, code, as_json, stderr)
        if isinstance(exc, UsageError) and not as_json:
            print("run 'afmpeg --help' for usage", file=stderr)
        return code


def _silence(stream: IO[str]) -> None:
    # the interpreter flushes stdout at exit and would report the broken pipe again
    if stream is sys.stdout:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
