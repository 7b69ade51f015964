"""The ``afmpeg`` command line (also ``python -m afmpeg``): run job specs, probe, grab frames, transcode, list what
the engine can do.

Files are read and written on a *root*: a local directory (default: the working directory) or an fsspec URL
(``--root s3://bucket/media``); the engine sees nothing else. See ``afmpeg --help`` and docs/reference/cli.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

from . import __version__
from .errors import (
    AfmpegError,
    Cancelled,
    JobSpecError,
    LimitExceeded,
    ModuleNotFound,
    ProcessingError,
    UnsupportedVocabulary,
)
from .job import FramesJob, Input, ProbeJob
from .limits import CancelToken
from .progress import Progress
from .results import CAPABILITY_KINDS, Capabilities, FramesResult, ProbeResult, ProcessResult
from .running import RunningJob

__all__ = [
    "main",
    "build_parser",
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
#: bad usage: a wrong argument, an unreadable or malformed job file, a job spec the engine rejects
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
  {EXIT_USAGE}    bad usage: wrong arguments, unreadable or malformed job JSON, a job spec the engine rejects
  {EXIT_VOCABULARY}    the job's vocabulary version is newer than this engine
  {EXIT_LIMIT}    stopped by a limit (--time-limit, --memory-limit, output size)
  {EXIT_NO_ENGINE}    no engine module found or loadable (build one, or pass --module / set AFMPEG_MODULE)
  {EXIT_INTERRUPTED}  interrupted with Ctrl-C: the job was cancelled, nothing it wrote was published

With --json, results go to stdout as one JSON document and errors to stderr as
{{"error": ..., "type": ..., "exit_code": ..., "kind"?: ..., "field"?: ...}}.
Progress bars are drawn on stderr when it is a terminal (or with --progress), never with --quiet.
"""

_SIZE_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


class _UsageError(Exception):
    """A command-line mistake (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    # report usage errors through main() (so --json can format them) instead of exiting from inside argparse
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message}")


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


def _root_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", metavar="DIR|URL", default=None, help="the directory (or fsspec URL) the job's paths "
                   "are relative to; the engine sees nothing outside it (default: the working directory)")


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
    _root_option(p)

    p = add("probe", "describe a media file: container, duration, streams")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--format", help="force the demuxer (e.g. rawvideo, s16le)")
    _root_option(p)

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
    _root_option(p)

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
    _root_option(p)

    p = add("capabilities", "list what this engine build contains (from libav's registries)")
    p.add_argument("--kind", choices=CAPABILITY_KINDS, help="only this kind of component")

    add("version", "print afmpeg's, the engine's and FFmpeg's versions")
    return parser


# ------------------------------------------------------------------------------------------------ running


class _Context:
    """What one invocation needs: parsed options, output streams, the runtime (made on first use)."""

    def __init__(self, args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> None:
        self.args = args
        self.stdout = stdout
        self.stderr = stderr
        self.json: bool = getattr(args, "json", False)
        self.quiet: bool = getattr(args, "quiet", False)
        self._runtime: Any = None

    def runtime(self, fs: Any = None) -> Any:
        from .runtime import DEFAULT_MEMORY_LIMIT, Runtime

        kw: dict[str, Any] = {
            "memory_limit": getattr(self.args, "memory_limit", DEFAULT_MEMORY_LIMIT),
            "time_limit": getattr(self.args, "time_limit", None),
        }
        if fs is not None:
            kw["fs"] = fs
        return Runtime(getattr(self.args, "module", None), **kw)

    def root(self) -> str:
        """The job's root: --root, or the working directory. A missing directory is a usage error."""
        root = getattr(self.args, "root", None) or os.getcwd()
        if "://" not in root and not os.path.isdir(root):
            raise _UsageError(f"--root {root!r} is not a directory")
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
        raise _UsageError(f"cannot read the job file {name}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise _UsageError(f"the job file {name} is not UTF-8 text: {exc}") from None
    try:
        job = json.loads(text)
    except ValueError as exc:
        raise _UsageError(f"the job file {name} is not valid JSON: {exc}") from None
    if not isinstance(job, dict):
        raise _UsageError(f"the job file {name} must hold a JSON object, got {type(job).__name__}")
    return job


def _cmd_run(ctx: _Context, stdin: IO[str]) -> int:
    job = _read_job(ctx.args.job, stdin)
    root = ctx.root()
    rt = ctx.runtime(fs=root)
    op = job.get("op", "process")
    bar = _make_bar(ctx, os.path.basename(ctx.args.job) if ctx.args.job != "-" else "job") if op == "process" else None
    wire = {**job, "op": op}
    answer = _run(lambda on_progress, token: rt.call(wire, progress=on_progress, cancel=token), bar)
    if ctx.json:
        ctx.emit_json(answer)
        return EXIT_OK
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
    rt = ctx.runtime(fs=ctx.root())
    job = ProbeJob(inputs=[Input(ctx.args.file, format=ctx.args.format)]).to_dict()
    answer = _run(lambda _progress, token: rt.call(job, cancel=token))
    info = ProbeResult.from_dict(answer).inputs[0]
    if not info.ok:  # the engine reports an unreadable input inside its answer; for the CLI it is a failure
        message = info.error or "cannot read it"
        raise ProcessingError(message if info.path in message else f"{info.path}: {message}", job=job)
    if ctx.json:
        ctx.emit_json(answer)
        return EXIT_OK
    return _print_probe(ctx, ProbeResult.from_dict(answer))


def _print_probe(ctx: _Context, result: ProbeResult) -> int:
    status = EXIT_OK
    for info in result.inputs:
        if not info.ok:
            print(f"afmpeg: {info.path}: {info.error}", file=ctx.stderr)
            status = EXIT_FAILURE
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
    root = ctx.root()
    rt = ctx.runtime(fs=root)
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
    job = FramesJob(inputs=[Input(a.input)], select=select, path=a.pattern, codec=a.codec, scale=a.scale,
                    count=a.count)
    job.validate()  # a JobSpecError names the field before the engine runs
    parent = os.path.dirname(a.pattern.lstrip("/"))
    if parent:  # the engine does not create directories; the CLI does it for the user
        rt.fs.makedirs(_join(rt.root, parent), exist_ok=True)
    wire = job.to_dict()
    answer = _run(lambda _progress, token: rt.call(wire, cancel=token))
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
    rt = ctx.runtime()
    where: dict[str, Any] = {}
    src: Any = a.src
    dst: Any = a.dst
    if a.root is not None:
        where["fs"] = ctx.root()
    else:  # no root: local files anywhere (a Path is always a local file to the helpers), or URLs
        src = src if "://" in src else Path(src)
        dst = dst if "://" in dst else Path(dst)
    bar = _make_bar(ctx, os.path.basename(a.dst))

    def target(on_progress: Callable[[Progress], None], token: CancelToken) -> ProcessResult:
        return helpers.transcode(
            src, dst, video_codec=a.vcodec, audio_codec=a.acodec, size=a.size, fps=a.fps, video_bitrate=a.vb,
            audio_bitrate=a.ab, start=a.start, duration=a.duration, video=a.video, audio=a.audio, format=a.format,
            progress=on_progress, runtime=rt, cancel=token, **where,
        )

    result = _run(target, bar)
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


# ------------------------------------------------------------------------------------------------ errors


def exit_code_for(exc: BaseException) -> int:
    """The exit code the CLI gives for an exception (see the ``--help`` epilog)."""
    if isinstance(exc, KeyboardInterrupt | Cancelled):
        return EXIT_INTERRUPTED
    if isinstance(exc, _UsageError | JobSpecError):
        return EXIT_USAGE
    if isinstance(exc, UnsupportedVocabulary):
        return EXIT_VOCABULARY
    if isinstance(exc, LimitExceeded):
        return EXIT_LIMIT
    if isinstance(exc, ModuleNotFound):
        return EXIT_NO_ENGINE
    return EXIT_FAILURE


def _report(exc: BaseException, code: int, as_json: bool, stderr: IO[str]) -> None:
    if isinstance(exc, KeyboardInterrupt):
        message = "interrupted: the job was cancelled and nothing was written"
    else:
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    if as_json:
        data: dict[str, Any] = {"error": message, "type": type(exc).__name__, "exit_code": code}
        if isinstance(exc, AfmpegError):
            for key in ("kind", "field"):
                value = getattr(exc, key, None)
                if isinstance(value, str):
                    data[key] = value
            if exc.exit_code is not None:
                data["engine_exit_code"] = exc.exit_code
        print(json.dumps(data, ensure_ascii=False), file=stderr)
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
    except (KeyboardInterrupt, _UsageError, AfmpegError, OSError, ValueError) as exc:
        code = exit_code_for(exc)
        _report(exc, code, as_json, stderr)
        if isinstance(exc, _UsageError) and not as_json:
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
