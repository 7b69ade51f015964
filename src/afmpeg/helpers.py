"""Helpers for everyday work, each a thin layer over one or two job specs.

::

    import afmpeg

    info = afmpeg.probe("talk.mp4")                                   # a ProbedInput
    afmpeg.transcode("talk.mov", "talk.mp4", size=(1280, -1), video_bitrate="2M")
    afmpeg.clip("talk.mp4", "intro.mp4", start=3, duration=10)
    png = afmpeg.thumbnail("talk.mp4", at=5, size=(320, -1))          # bytes
    afmpeg.extract_audio("talk.mp4", "talk.m4a")
    afmpeg.concat(["a.mp4", "b.mov"], "both.mp4")
    afmpeg.slideshow([("cover.png", 3), "clip.mp4"], "reel.mp4", audio="music.flac")

Where files are (every helper takes the same forms):

- a path string: a file on ``fs=`` (an fsspec filesystem, a local directory or a URL, inside ``root=``, exactly
  as :meth:`Runtime.run` reads them); without ``fs=``, on the filesystem of the ``runtime=`` you passed; without
  either, a file on the local disk (relative to the working directory);
- a :class:`pathlib.Path`: always a file on the local disk;
- an fsspec URL (``"s3://bucket/clip.mp4"``, ``"memory://x.mp4"``) or a ``(filesystem, path)`` pair: that file;
- ``bytes`` (inputs only): the file's contents.

When all files sit on one filesystem the job runs there (the engine sees only the directory that holds them).
Otherwise (bytes, files on two filesystems, local files in unrelated directories) the inputs are copied into a
private in-memory filesystem, the job runs there, and its outputs are written to their destinations after it
succeeded.

Every helper takes ``runtime=`` (default: :func:`default_runtime`) and the limit keywords of :meth:`Runtime.run`
(``time_limit``, ``memory_limit``, ``output_limit``, ``cancel``), validates its arguments before the engine runs
(:class:`~afmpeg.JobSpecError`, a ``ValueError``), and raises the engine's typed errors
(:class:`~afmpeg.ProcessingError` and its subclasses) when the work fails.
"""

from __future__ import annotations

import math
import os
import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from .builder import stream_kinds
from .default import default_runtime
from .errors import AfmpegError, JobSpecError, ProcessingError, error_for_exit
from .job import MAX_INPUTS, MAX_SECONDS, Input, Output, ProbeJob, ProcessJob
from .memfs import MemoryFS
from .progress import Progress
from .results import ProbedInput, ProcessResult
from .runtime import Runtime, resolve_fs

__all__ = [
    "default_runtime",
    "probe",
    "transcode",
    "clip",
    "thumbnail",
    "extract_audio",
    "concat",
    "slideshow",
    "Slide",
    "CONTAINERS",
]

#: What a helper may be given as an input file.
Source = bytes | bytearray | memoryview | str | os.PathLike[str] | tuple[Any, str]
#: What a helper may be given as an output file.
Target = str | os.PathLike[str] | tuple[Any, str]
ProgressCallback = Callable[[Progress], None]

# "leave the codec to the muxer": the build's encoder for the muxer's default codec, or an error naming it
_MUXER_DEFAULT = ""

#: Output containers the helpers know, by extension: ``(video codec, audio codec)`` they encode to by default.
#: ``None`` means the container holds no such stream; ``""`` leaves the choice to the muxer (which fails, naming
#: the codec, when the build has no encoder for it: the lean build has none for WebM's VP8/Vorbis or for MP3).
CONTAINERS: dict[str, tuple[str | None, str | None]] = {
    "mp4": ("libopenh264", "aac"),
    "m4v": ("libopenh264", "aac"),
    "mov": ("libopenh264", "aac"),
    "mkv": ("libopenh264", "aac"),
    "ts": ("libopenh264", "aac"),
    "m2ts": ("libopenh264", "aac"),
    "mts": ("libopenh264", "aac"),
    "webm": (_MUXER_DEFAULT, _MUXER_DEFAULT),
    "gif": ("gif", None),
    "m4a": (None, "aac"),
    "aac": (None, "aac"),
    "flac": (None, "flac"),
    "wav": (None, "pcm_s16le"),
    "mka": (None, "flac"),
    "ogg": (None, _MUXER_DEFAULT),
    "oga": (None, _MUXER_DEFAULT),
    "mp3": (None, _MUXER_DEFAULT),
}
# an output's ``format`` (muxer name) → the extension whose defaults apply
_FORMAT_EXTENSIONS = {
    "mp4": "mp4", "mov": "mov", "ipod": "m4a", "matroska": "mkv", "matroska_audio": "mka", "webm": "webm",
    "mpegts": "ts", "adts": "aac", "flac": "flac", "wav": "wav", "ogg": "ogg", "mp3": "mp3", "gif": "gif",
}
# encoders whose quantiser the ``quality`` keyword sets (qmin = qmax), and its range
_QUALITY_RANGES = {"libopenh264": (1, 51), "mpeg4": (1, 31), "mjpeg": (1, 31), "h263": (1, 31)}
# what the concat demuxer accepts in safe mode (see the job-spec reference)
_CONCAT_SAFE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*(/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*")
_TRANSITION = re.compile(r"[a-z][a-z0-9]*")
# room for any one still (the engine refuses pictures over 64 Mpx); the buffer only grows as the engine writes
_THUMBNAIL_PIPE_BYTES = 1 << 30

# ---------------------------------------------------------------------------- the default runtime



# ---------------------------------------------------------------------------- where files are


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


def _limits(run_options: dict[str, Any]) -> dict[str, Any]:
    """The keywords a probe takes from a helper's run options (its limits and cancel token)."""
    allowed = ("memory_limit", "time_limit", "output_limit", "cancel")
    unknown = sorted(set(run_options) - set(allowed))
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(unknown)}")
    return dict(run_options)


# ---------------------------------------------------------------------------- argument checks


def _seconds(value: Any, name: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise JobSpecError(f"{name} must be a number of seconds, got {value!r}")
    if value < 0 or (positive and value == 0) or value > MAX_SECONDS:
        bound = "greater than 0" if positive else "0 or more"
        raise JobSpecError(f"{name} must be {bound} (and at most {MAX_SECONDS:g}), got {value!r}")
    return value


def _scale_args(size: Any, width: Any, height: Any, *, even: bool) -> str | None:
    """The ``scale`` filter's ``W:H`` for ``size=(w, h)``/``"WxH"`` or ``width=``/``height=`` (-1: keep the aspect
    ratio; rounded to an even number when ``even``, as 4:2:0 encoders need)."""
    if size is not None and (width is not None or height is not None):
        raise JobSpecError("give size=(width, height) or width=/height=, not both")
    if size is None:
        if width is None and height is None:
            return None
        size = (-1 if width is None else width, -1 if height is None else height)
    if isinstance(size, str):
        parts = re.fullmatch(r"\s*(-?\d+)\s*[x:]\s*(-?\d+)\s*", size)
        if not parts:
            raise JobSpecError(f"size must be (width, height) or 'WxH', got {size!r}")
        size = (int(parts.group(1)), int(parts.group(2)))
    try:
        w, h = size
    except (TypeError, ValueError):
        raise JobSpecError(f"size must be (width, height), got {size!r}") from None
    for name, v in (("width", w), ("height", h)):
        if isinstance(v, bool) or not isinstance(v, int) or (v <= 0 and v != -1):
            raise JobSpecError(f"{name} must be a positive whole number of pixels or -1 (keep the aspect), got {v!r}")
    if w == -1 and h == -1:
        return None
    keep = "-2" if even else "-1"
    return f"{keep if w == -1 else w}:{keep if h == -1 else h}"


def _fps_text(value: Any, name: str = "fps") -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | Fraction):
        raise JobSpecError(f"{name} must be a number, a Fraction or a string such as '30000/1001', got {value!r}")
    try:
        rate = Fraction(value) if not isinstance(value, float) else Fraction(value).limit_denominator(1001)
    except (ValueError, ZeroDivisionError):
        raise JobSpecError(f"{name} must be a number or 'num/den', got {value!r}") from None
    if not rate > 0 or rate > 1000:
        raise JobSpecError(f"{name} must be above 0 and at most 1000, got {value!r}")
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


def _positive_int(value: Any, name: str, *, low: int = 1, high: int | None = None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        limit = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise JobSpecError(f"{name} must be a whole number {limit}, got {value!r}")
    return value


def _bitrate(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?[kKmMgG]?", value.strip()):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
        return str(int(value))
    raise JobSpecError(f"{name} must be bits per second, e.g. 128000 or '128k', got {value!r}")


def _layout(channels: int | None) -> str | None:
    if channels is None:
        return None
    return {1: "mono", 2: "stereo", 6: "5.1", 8: "7.1"}.get(channels, f"{channels}c")


def _container(loc_name: str, format: str | None) -> tuple[str | None, str | None]:
    """The default ``(video, audio)`` codecs for an output; raises when neither extension nor format is known."""
    if format is not None:
        if not isinstance(format, str) or not format:
            raise JobSpecError(f"format must be a muxer name such as 'mp4', got {format!r}")
        ext = _FORMAT_EXTENSIONS.get(format)
        if ext is None:
            video, audio = stream_kinds(loc_name, format)
            return (_MUXER_DEFAULT if video else None, _MUXER_DEFAULT if audio else None)
        return CONTAINERS[ext]
    ext = posixpath.splitext(loc_name)[1].lstrip(".").lower()
    if ext not in CONTAINERS:
        what = f"unknown output extension '.{ext}'" if ext else "no extension"
        raise JobSpecError(f"{loc_name!r} has {what}: use one of {', '.join(sorted(CONTAINERS))}, "
                           "or pass format= (a muxer name)")
    return CONTAINERS[ext]


def _quality_options(quality: Any, codec: str | None) -> dict[str, str]:
    if quality is None:
        return {}
    if codec not in _QUALITY_RANGES:
        names = ", ".join(_QUALITY_RANGES)
        raise JobSpecError(f"quality= sets the quantiser of {names}; the video codec here is {codec or 'unset'!r}")
    low, high = _QUALITY_RANGES[codec]
    q = _positive_int(quality, f"quality for {codec}", low=low, high=high)
    # a fixed quantiser: the encoders' own rate control keeps it between qmin and qmax
    return {"qmin:v": str(q), "qmax:v": str(q)}


# ---------------------------------------------------------------------------- probing


def _probe_error(info: ProbedInput, job: dict[str, Any]) -> AfmpegError:
    details = {"error": info.error, "kind": info.extra.get("error_kind"), "field": "inputs[0]"}
    return error_for_exit(1, str(info.error), job=job, details=details)


def _probe_guest(files: _Files, loc: _Loc, run_options: dict[str, Any], **input_keys: Any) -> ProbedInput:
    """Probe a prepared input; a file that cannot be read raises instead of giving an entry with ``error``."""
    job = ProbeJob(inputs=[Input(path=loc.guest, **input_keys)])
    job.validate()
    info = files.runtime.probe(job, **files.where, **_limits(run_options)).inputs[0]
    if info.error is not None:
        raise _probe_error(info, job.to_dict())
    info.path = loc.display
    return info


def probe(
    src: Source,
    *,
    format: str | None = None,
    options: dict[str, str] | None = None,
    runtime: Runtime | None = None,
    fs: Any = None,
    root: str | None = None,
    **run_options: Any,
) -> ProbedInput:
    """Describe one media file: its container, duration, streams, chapters and tags.

    ``src`` is a path (on ``fs=``, the ``runtime=``'s filesystem, or the local disk), an fsspec URL, a
    ``(filesystem, path)`` pair, or the file's bytes. ``format``/``options`` force a demuxer and set its options.
    An unreadable file raises (:class:`~afmpeg.ProcessingError` or a subclass naming the cause) instead of
    returning an entry with ``error`` set.

    Example::

        info = afmpeg.probe(open("clip.mp4", "rb").read())
        print(info.duration, info.video.width, info.video.height, info.audio.codec)
    """
    _limits(run_options)
    files = _setup(runtime, fs, root)
    loc = files.add_input(src)
    files.prepare()
    return _probe_guest(files, loc, run_options, format=format, options=options)


# ---------------------------------------------------------------------------- transcode, clip, extract_audio


@dataclass
class _Encode:
    """What transcode(), clip() and extract_audio() ask for, checked."""

    video_codec: str | None = None
    audio_codec: str | None = None
    scale: str | None = None
    fps: str | None = None
    video_bitrate: str | None = None
    audio_bitrate: str | None = None
    quality: int | None = None
    keyframe_interval: int | None = None
    sample_rate: int | None = None
    channels: int | None = None
    start: float | None = None
    duration: float | None = None
    video: bool = True
    audio: bool = True
    format: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    format_options: dict[str, str] | None = None
    metadata: dict[str, str] | None = None


def _run_encode(
    src: Source,
    dst: Target,
    want: _Encode,
    *,
    progress: ProgressCallback | None,
    runtime: Runtime | None,
    fs: Any,
    root: str | None,
    run_options: dict[str, Any],
) -> ProcessResult:
    _limits(run_options)
    files = _setup(runtime, fs, root)
    src_loc = files.add_input(src)
    dst_loc = files.add_output(dst)
    name = dst_loc.rel if dst_loc.rel is not None else dst_loc.path
    v_default, a_default = _container(name, want.format)
    if want.video_codec == "copy" and (want.scale or want.fps or want.quality is not None):
        raise JobSpecError("video_codec='copy' keeps the video as it is: size, fps and quality need an encoder")
    if want.audio_codec == "copy" and (want.sample_rate or want.channels):
        raise JobSpecError("audio_codec='copy' keeps the audio as it is: sample_rate and channels need an encoder")
    files.prepare()
    info = _probe_guest(files, src_loc, run_options)
    if want.start is not None and info.duration is not None and want.start >= info.duration:
        raise JobSpecError(f"start={want.start} is at or past the end of {src_loc.display} ({info.duration:g} s)")

    video = want.video and v_default is not None and info.video is not None
    audio = want.audio and a_default is not None and info.audio is not None
    asked_video = want.scale or want.fps or want.quality is not None or want.video_bitrate or (
        want.video_codec not in (None, "copy"))
    if asked_video and want.video and info.video is None:
        raise ProcessingError(f"{src_loc.display} has no video stream, but video settings were given")
    if not want.video and info.audio is None:
        raise ProcessingError(f"{src_loc.display} has no audio stream")
    if not video and not audio:
        holds = "audio only" if v_default is None else "video only" if a_default is None else "video and audio"
        found = [s.type or "?" for s in info.streams] or ["no streams"]
        raise ProcessingError(f"nothing to write: {dst_loc.display} holds {holds}, {src_loc.display} has "
                              f"{', '.join(found)}")

    v_codec = (want.video_codec or v_default or None) if video else None
    a_codec = (want.audio_codec or a_default or None) if audio else None
    graph: list[str] = []
    mapping: list[str] = []
    if video:
        if v_codec == "copy":
            mapping.append("0:v:0")
        else:
            chain = ",".join(p for p in (f"scale={want.scale}" if want.scale else "",
                                         f"fps={want.fps}" if want.fps else "") if p) or "null"
            graph.append(f"[0:v]{chain}[v]")
            mapping.append("[v]")
    if audio:
        if a_codec == "copy":
            mapping.append("0:a:0")
        else:
            parts = []
            if want.sample_rate:
                parts.append(f"aresample={want.sample_rate}")
            if want.channels:
                parts.append(f"aformat=channel_layouts={_layout(want.channels)}")
            graph.append(f"[0:a]{','.join(parts) or 'anull'}[a]")
            mapping.append("[a]")

    options: dict[str, str] = {}
    if video and v_codec != "copy":
        options.update(_quality_options(want.quality, v_codec))
        if want.video_bitrate:
            options["b:v"] = want.video_bitrate
        if want.keyframe_interval:
            options["g:v"] = str(want.keyframe_interval)
    if audio and a_codec != "copy" and want.audio_bitrate:
        options["b:a"] = want.audio_bitrate
    options.update(want.options)

    copying = "copy" in (v_codec, a_codec)
    seek = None
    if want.start:
        seek = {"start": want.start, "mode": "fast" if copying else "accurate"}
    job = ProcessJob(
        inputs=[Input(path=src_loc.guest, seek=seek)],
        filter=";".join(graph) or None,
        outputs=[Output(
            path=dst_loc.guest,
            map=mapping,
            video_codec=v_codec if v_codec != "copy" else None,
            audio_codec=a_codec if a_codec != "copy" else None,
            options=options or None,
            format=want.format,
            format_options=want.format_options,
            duration=want.duration,
            metadata=want.metadata,
        )],
    )
    result = files.runtime.run(job, progress=progress, **files.where, **run_options)
    return files.finish(result)


def transcode(
    src: Source,
    dst: Target,
    *,
    video_codec: str | None = None,
    audio_codec: str | None = None,
    size: tuple[int, int] | str | None = None,
    width: int | None = None,
    height: int | None = None,
    fps: float | str | Fraction | None = None,
    video_bitrate: int | str | None = None,
    audio_bitrate: int | str | None = None,
    quality: int | None = None,
    keyframe_interval: int | None = None,
    sample_rate: int | None = None,
    channels: int | None = None,
    start: float | None = None,
    duration: float | None = None,
    video: bool = True,
    audio: bool = True,
    format: str | None = None,
    options: dict[str, str] | None = None,
    format_options: dict[str, str] | None = None,
    metadata: dict[str, str] | None = None,
    progress: ProgressCallback | None = None,
    runtime: Runtime | None = None,
    fs: Any = None,
    root: str | None = None,
    **run_options: Any,
) -> ProcessResult:
    """Convert ``src`` into ``dst``, whose container comes from its extension (or ``format=``).

    Defaults per container (:data:`CONTAINERS`): ``.mp4``/``.mov``/``.mkv``/``.ts`` → H.264 (``libopenh264``) +
    AAC; ``.m4a``/``.aac`` → AAC, ``.flac`` → FLAC, ``.wav`` → 16-bit PCM (audio only); ``.gif`` → GIF (video
    only). The first video and audio streams are used; a container that holds one kind only drops the other.

    Args:
        video_codec, audio_codec: an encoder name, or ``"copy"`` to keep that stream's packets as they are.
        size: ``(width, height)`` or ``"WxH"``; ``-1`` for one side keeps the aspect ratio (rounded to an even
            number). Or ``width=``/``height=`` alone.
        fps: output frame rate (``25``, ``"30000/1001"``); frames are dropped or repeated.
        video_bitrate, audio_bitrate: bits per second (``2_000_000``, ``"2M"``, ``"128k"``).
        quality: a fixed quantiser instead of a bit rate, lower is better: 1–51 for ``libopenh264``, 1–31 for
            ``mpeg4``/``mjpeg`` (sets the encoder's ``qmin`` and ``qmax``).
        keyframe_interval: at most this many frames between keyframes (the ``g`` option).
        sample_rate, channels: resample the audio / change its channel count.
        start, duration: seconds; an exact cut (copied streams start on the keyframe at or before ``start``).
        video, audio: ``False`` leaves that stream out.
        format, format_options: force the muxer and set its options (``{"movflags": "+faststart"}``).
        options: more encoder options (string values; ``"b:v"``-style suffixes pick the stream type).
        metadata: container tags (``{"title": "..."}``).
        progress: called with :class:`~afmpeg.Progress` reports while it runs.
        runtime, fs, root: where it runs and where the files are (see :mod:`afmpeg.helpers`).

    Returns the :class:`~afmpeg.ProcessResult`, its output named as ``dst`` was.

    Example::

        afmpeg.transcode("in.mov", "out.mp4", size=(1280, -1), fps=30, video_bitrate="2M", audio_bitrate="128k")
    """
    want = _Encode(
        video_codec=video_codec,
        audio_codec=audio_codec,
        scale=_scale_args(size, width, height, even=True),
        fps=_fps_text(fps),
        video_bitrate=_bitrate(video_bitrate, "video_bitrate"),
        audio_bitrate=_bitrate(audio_bitrate, "audio_bitrate"),
        quality=_positive_int(quality, "quality"),
        keyframe_interval=_positive_int(keyframe_interval, "keyframe_interval"),
        sample_rate=_positive_int(sample_rate, "sample_rate", low=1000, high=768000),
        channels=_positive_int(channels, "channels", high=64),
        start=None if start is None else _seconds(start, "start"),
        duration=None if duration is None else _seconds(duration, "duration", positive=True),
        video=video,
        audio=audio,
        format=format,
        options=_string_options(options, "options"),
        format_options=_string_options(format_options, "format_options") or None,
        metadata=_string_options(metadata, "metadata") or None,
    )
    for name, codec in (("video_codec", video_codec), ("audio_codec", audio_codec)):
        if codec is not None and (not isinstance(codec, str) or not codec):
            raise JobSpecError(f"{name} must be an encoder name or 'copy', got {codec!r}")
    return _run_encode(src, dst, want, progress=progress, runtime=runtime, fs=fs, root=root,
                       run_options=run_options)


def _string_options(value: Any, name: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise JobSpecError(f"{name} must be a dict of strings (as on the ffmpeg command line), got {value!r}")
    return dict(value)


def clip(
    src: Source,
    dst: Target,
    start: float,
    duration: float,
    *,
    accurate: bool = True,
    progress: ProgressCallback | None = None,
    runtime: Runtime | None = None,
    fs: Any = None,
    root: str | None = None,
    **kwargs: Any,
) -> ProcessResult:
    """Cut ``duration`` seconds from ``src``, starting ``start`` seconds in, into ``dst``.

    ``accurate=True`` (default) re-encodes: the clip starts exactly at ``start`` (audio to the sample) and lasts
    ``duration``. ``accurate=False`` copies the packets without decoding them — fast and lossless — so it must
    start on a keyframe: the one at or before ``start``; the clip then lasts ``duration`` from there.

    Other keywords are :func:`transcode`'s (codecs, size, bit rates, …; only with ``accurate=True``), and the
    limits of :meth:`Runtime.run`.

    Example::

        afmpeg.clip("match.mp4", "goal.mp4", start=754.2, duration=12)
        afmpeg.clip("match.mp4", "goal-fast.mp4", start=754.2, duration=12, accurate=False)
    """
    start = _seconds(start, "start")
    duration = _seconds(duration, "duration", positive=True)
    encode_keys = {"video_codec", "audio_codec", "size", "width", "height", "fps", "video_bitrate", "audio_bitrate",
                   "quality", "keyframe_interval", "sample_rate", "channels", "options"}
    if not accurate:
        clash = sorted(k for k in encode_keys if kwargs.get(k) is not None)
        if clash:
            raise JobSpecError(f"accurate=False copies the streams, so {', '.join(clash)} cannot apply")
        kwargs["video_codec"] = kwargs["audio_codec"] = "copy"
    return transcode(src, dst, start=start, duration=duration, progress=progress, runtime=runtime, fs=fs, root=root,
                     **kwargs)


def extract_audio(
    src: Source,
    dst: Target,
    *,
    codec: str | None = None,
    bitrate: int | str | None = None,
    sample_rate: int | None = None,
    channels: int | None = None,
    start: float | None = None,
    duration: float | None = None,
    format: str | None = None,
    progress: ProgressCallback | None = None,
    runtime: Runtime | None = None,
    fs: Any = None,
    root: str | None = None,
    **run_options: Any,
) -> ProcessResult:
    """Write the first audio stream of ``src`` to ``dst``, without video.

    The codec follows ``dst``'s extension: ``.m4a``/``.aac``/``.mp4`` → AAC, ``.flac``/``.mka`` → FLAC, ``.wav`` →
    16-bit PCM, ``.ogg`` → FLAC in Ogg; ``.mp3`` needs an MP3 encoder, which the lean build lacks (the engine then
    raises :class:`~afmpeg.ProcessingError` naming it). ``codec="copy"`` keeps the packets as they are (e.g. AAC
    from an ``.mp4`` into ``.m4a``).

    Example::

        afmpeg.extract_audio("talk.mp4", "talk.flac", sample_rate=16000, channels=1)
    """
    if isinstance(dst, str | os.PathLike):
        ext = posixpath.splitext(os.fspath(dst))[1].lstrip(".").lower()
        if format is None and ext in CONTAINERS and CONTAINERS[ext][1] is None:
            raise JobSpecError(f"'.{ext}' holds no audio: use .m4a, .aac, .flac, .wav or .mka")
    return transcode(src, dst, audio_codec=codec, audio_bitrate=bitrate, sample_rate=sample_rate, channels=channels,
                     start=start, duration=duration, video=False, format=format, progress=progress, runtime=runtime,
                     fs=fs, root=root, **run_options)


# ---------------------------------------------------------------------------- thumbnail


def thumbnail(
    src: Source,
    dst: Target | None = None,
    *,
    at: float | str = "auto",
    size: tuple[int, int] | str | None = None,
    width: int | None = None,
    height: int | None = None,
    format: str | None = None,
    runtime: Runtime | None = None,
    fs: Any = None,
    root: str | None = None,
    **run_options: Any,
) -> bytes:
    """One still of ``src``'s video as PNG or JPEG bytes (also written to ``dst`` when given).

    ``at`` is a time in seconds (the first frame shown at or after it, as ``ffmpeg -ss T -frames:v 1``) or
    ``"auto"``: FFmpeg's ``thumbnail`` filter, the most representative frame of the first 100. ``size`` (or
    ``width``/``height``; ``-1`` keeps the aspect ratio) scales it. ``format`` is ``"png"`` or ``"jpeg"``;
    by default it follows ``dst``'s extension, else PNG. JPEGs use a fixed high quality (``-q:v 2``).

    Example::

        png = afmpeg.thumbnail("clip.mp4", at=1.5, width=320)
        afmpeg.thumbnail("clip.mp4", "poster.jpg")          # the representative frame, as a JPEG file
    """
    _limits(run_options)
    if at != "auto":
        at = _seconds(at, "at")
    scale = _scale_args(size, width, height, even=False)
    if format is None:
        ext = ""
        if isinstance(dst, str | os.PathLike):
            ext = posixpath.splitext(os.fspath(dst))[1].lstrip(".").lower()
        format = "jpeg" if ext in ("jpg", "jpeg") else "png"
    if format not in ("png", "jpeg", "jpg"):
        raise JobSpecError(f"format must be 'png' or 'jpeg', got {format!r}")
    from .wasi.pipes import Pipe, device_path

    files = _setup(runtime, fs, root)
    src_loc = files.add_input(src)
    dst_loc = _locate(dst, files.base, output=True) if dst is not None else None
    files.prepare()
    info = _probe_guest(files, src_loc, run_options)
    if info.video is None:
        raise ProcessingError(f"{src_loc.display} has no video stream to take a thumbnail from")
    if isinstance(at, float | int) and info.duration is not None and at >= info.duration:
        raise JobSpecError(f"at={at} is at or past the end of {src_loc.display} ({info.duration:g} s)")
    chain = ["thumbnail"] if at == "auto" else []
    chain.append("trim=end_frame=1")  # one frame, then the job is complete
    if scale:
        chain.append(f"scale={scale}")
    seek = {"start": at, "mode": "accurate"} if isinstance(at, float | int) and at > 0 else None
    jpeg = format != "png"
    pipe = Pipe(_THUMBNAIL_PIPE_BYTES)  # read after the job: it must never fill up, or the engine would wait
    job = ProcessJob(
        inputs=[Input(path=src_loc.guest, seek=seek)],
        filter=f"[0:v]{','.join(chain)}[v]",
        outputs=[Output(
            path=device_path("thumbnail"),
            map=["[v]"],
            video_codec="mjpeg" if jpeg else "png",
            format="image2",
            options={"qmin": "2", "qmax": "2"} if jpeg else None,  # what the frames op's JPEGs use (-q:v 2)
        )],
    )
    files.runtime.run(job, devices={"thumbnail": pipe.guest_writer()}, **files.where, **run_options)
    pipe.close_write()
    chunks = []
    while chunk := pipe.read_some(1 << 20):
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data:
        raise ProcessingError(f"{src_loc.display} gave no frame at {at!r}")
    if dst_loc is not None:
        files.write(dst_loc, data)
    return data


# ---------------------------------------------------------------------------- concat


def _video_signature(info: ProbedInput) -> tuple[Any, ...]:
    v, a = info.video, info.audio
    return (
        None if v is None else (v.codec, v.profile, v.width, v.height, v.pix_fmt, v.frame_rate),
        None if a is None else (a.codec, a.sample_rate, a.channels),
    )


def concat(
    srcs: Sequence[Source],
    dst: Target,
    *,
    copy: bool = False,
    size: tuple[int, int] | str | None = None,
    fps: float | str | Fraction | None = None,
    sample_rate: int | None = None,
    channels: int | None = None,
    video_codec: str | None = None,
    audio_codec: str | None = None,
    video_bitrate: int | str | None = None,
    audio_bitrate: int | str | None = None,
    quality: int | None = None,
    options: dict[str, str] | None = None,
    progress: ProgressCallback | None = None,
    runtime: Runtime | None = None,
    fs: Any = None,
    root: str | None = None,
    **run_options: Any,
) -> ProcessResult:
    """Join files one after the other into ``dst``.

    By default everything is re-encoded, so the files may differ: each picture is scaled to fit ``size`` (default:
    the first file's) and padded with black, set to ``fps`` (default: the first file's rate); audio is resampled to
    ``sample_rate``/``channels`` (default: the first file's); a file without audio gets silence, one without video
    black. At most 32 files.

    ``copy=True`` joins the packets without decoding (FFmpeg's concat demuxer): fast and lossless, but every file
    must have the same streams with the same codecs and parameters (checked first). It suits MPEG-TS segments;
    MP4 files whose audio runs past their video may fail with "non monotonically increasing dts".

    Example::

        afmpeg.concat(["intro.mp4", "talk.mov", "outro.png.mp4"], "full.mp4", size=(1280, 720))
        afmpeg.concat(["seg0.ts", "seg1.ts", "seg2.ts"], "all.ts", copy=True)
    """
    _limits(run_options)
    if isinstance(srcs, str | bytes | bytearray | os.PathLike) or not isinstance(srcs, Sequence):
        raise JobSpecError("srcs must be a list of files")
    if not srcs:
        raise JobSpecError("concat needs at least one file")
    if not copy and len(srcs) > MAX_INPUTS:
        raise JobSpecError(f"at most {MAX_INPUTS} files can be re-encoded in one job, got {len(srcs)}")
    scale = _scale_args(size, None, None, even=True)
    rate = _fps_text(fps)
    if copy and any(v is not None for v in (size, fps, sample_rate, channels, video_codec, audio_codec,
                                             video_bitrate, audio_bitrate, quality, options)):
        raise JobSpecError("copy=True joins the packets as they are: encoding settings cannot apply")
    sr = _positive_int(sample_rate, "sample_rate", low=1000, high=768000)
    ch = _positive_int(channels, "channels", high=64)
    files = _setup(runtime, fs, root)
    locs = [files.add_input(s) for s in srcs]
    dst_loc = files.add_output(dst)
    v_default, a_default = _container(dst_loc.rel if dst_loc.rel is not None else dst_loc.path, None)
    files.prepare(concat_safe=copy)
    infos = [_probe_guest(files, loc, run_options) for loc in locs]

    if copy:
        first = _video_signature(infos[0])
        for loc, info in zip(locs, infos, strict=True):
            if _video_signature(info) != first:
                raise JobSpecError(f"copy=True needs files with the same streams: {loc.display} differs from "
                                   f"{locs[0].display} ({_video_signature(info)} vs {first}); use copy=False")
        mapping = [m for m, s in (("0:v", infos[0].video), ("0:a", infos[0].audio)) if s is not None]
        job = ProcessJob(inputs=[Input(concat=[loc.guest for loc in locs])],
                         outputs=[Output(path=dst_loc.guest, map=mapping)])
        return files.finish(files.runtime.run(job, progress=progress, **files.where, **run_options))

    has_video = v_default is not None and any(i.video is not None for i in infos)
    has_audio = a_default is not None and any(i.audio is not None for i in infos)
    if not has_video and not has_audio:
        raise ProcessingError(f"nothing to write: the files have no stream {dst_loc.display} can hold")
    first_v = next((i.video for i in infos if i.video is not None), None)
    first_a = next((i.audio for i in infos if i.audio is not None), None)
    if has_video and first_v is not None:
        if scale is None:
            w, h = first_v.width or 640, first_v.height or 360
            scale = f"{w + w % 2}:{h + h % 2}"
        if rate is None:
            rate = _fps_text(first_v.frame_rate or 25)
    width_s, height_s = (scale or "640:360").split(":")
    if "-" in width_s + height_s:
        raise JobSpecError("concat needs a full size=(width, height): the pictures are fitted into it")
    rate_sr = sr or (first_a.sample_rate if first_a is not None else None) or 48000
    layout = _layout(ch or (first_a.channels if first_a is not None else None) or 2)

    graph: list[str] = []
    pads: list[str] = []
    for i, info in enumerate(infos):
        length = _length(info)
        if has_video:
            if info.video is not None:
                graph.append(f"[{i}:v]scale={width_s}:{height_s}:force_original_aspect_ratio=decrease,"
                             f"pad={width_s}:{height_s}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps={rate}[v{i}]")
            else:
                graph.append(f"color=c=black:s={width_s}x{height_s}:r={rate}:d={_num(length, locs[i])}[v{i}]")
            pads.append(f"[v{i}]")
        if has_audio:
            if info.audio is not None:
                graph.append(f"[{i}:a]aresample={rate_sr},aformat=channel_layouts={layout}[a{i}]")
            else:
                graph.append(f"anullsrc=r={rate_sr}:cl={layout},atrim=duration={_num(length, locs[i])}[a{i}]")
            pads.append(f"[a{i}]")
    graph.append(f"{''.join(pads)}concat=n={len(infos)}:v={int(has_video)}:a={int(has_audio)}"
                 f"{'[v]' if has_video else ''}{'[a]' if has_audio else ''}")
    v_codec = (video_codec or v_default or None) if has_video else None
    a_codec = (audio_codec or a_default or None) if has_audio else None
    opts: dict[str, str] = {}
    if has_video:
        opts.update(_quality_options(_positive_int(quality, "quality"), v_codec))
        if video_bitrate is not None:
            opts["b:v"] = _bitrate(video_bitrate, "video_bitrate") or ""
    if has_audio and audio_bitrate is not None:
        opts["b:a"] = _bitrate(audio_bitrate, "audio_bitrate") or ""
    opts.update(_string_options(options, "options"))
    job = ProcessJob(
        inputs=[Input(path=loc.guest) for loc in locs],
        filter=";".join(graph),
        outputs=[Output(path=dst_loc.guest, map=[p for p, ok in (("[v]", has_video), ("[a]", has_audio)) if ok],
                        video_codec=v_codec, audio_codec=a_codec, options=opts or None)],
    )
    return files.finish(files.runtime.run(job, progress=progress, **files.where, **run_options))


def _length(info: ProbedInput) -> float | None:
    """How long an input plays: its video's duration, else the container's."""
    for value in (info.video.duration if info.video else None, info.duration,
                  info.audio.duration if info.audio else None):
        if value is not None and value > 0:
            return value
    return None


def _num(value: float | None, loc: _Loc) -> str:
    if value is None:
        raise ProcessingError(f"cannot tell how long {loc.display} is")
    return f"{value:.6f}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------------------- slideshow


@dataclass
class Slide:
    """One item of a :func:`slideshow`: a still image or a video clip.

    ``duration``: seconds on screen (an image's default is the slideshow's ``image_duration``; a clip's, the rest
    of the clip after ``start``). ``start``: where a clip begins (seconds). A clip's own sound is not used.

    Example: ``afmpeg.Slide("holiday.mp4", duration=4, start=10)``
    """

    src: Source
    duration: float | None = None
    start: float = 0.0


_IMAGE_FORMATS = ("image2",)


def _is_still(info: ProbedInput) -> bool:
    fmt = info.format or ""
    return fmt in _IMAGE_FORMATS or fmt.endswith("_pipe")


def _as_slide(item: Any, index: int) -> Slide:
    if isinstance(item, Slide):
        slide = item
    elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], int | float) and not isinstance(
        item[1], bool
    ):
        slide = Slide(item[0], float(item[1]))
    else:
        slide = Slide(item)
    if slide.duration is not None:
        _seconds(slide.duration, f"items[{index}].duration", positive=True)
    _seconds(slide.start, f"items[{index}].start")
    return slide


def slideshow(
    items: Sequence[Any],
    dst: Target,
    *,
    audio: Source | None = None,
    size: tuple[int, int] | str = (1280, 720),
    fps: float | str | Fraction = 30,
    crossfade: float = 0.5,
    transition: str = "fade",
    image_duration: float = 3.0,
    audio_fade: float = 1.0,
    background: str = "black",
    video_codec: str = "libopenh264",
    audio_codec: str = "aac",
    video_bitrate: int | str | None = None,
    audio_bitrate: int | str | None = None,
    quality: int | None = None,
    progress: ProgressCallback | None = None,
    runtime: Runtime | None = None,
    fs: Any = None,
    root: str | None = None,
    **run_options: Any,
) -> ProcessResult:
    """A reel of images and clips with crossfades, plus an optional music track → H.264/AAC.

    ``items`` are files (images or clips), ``(file, seconds)`` pairs or :class:`Slide` objects. Each is fitted into
    ``size`` (letterboxed with ``background``), set to ``fps``, and joined to the next with an ``xfade`` of
    ``crossfade`` seconds (``transition``: any xfade transition — ``fade``, ``wipeleft``, ``slideup``,
    ``circleopen``, …; ``crossfade=0`` cuts). The video lasts ``sum(durations) - crossfade * (len(items) - 1)``.

    ``audio`` (a file with sound) is cut or padded with silence to exactly the video's length and faded out over
    the last ``audio_fade`` seconds. The clips' own sound is not used.

    Example::

        afmpeg.slideshow(
            [("title.png", 2.5), "beach.jpg", afmpeg.Slide("surf.mp4", duration=4, start=12)],
            "holiday.mp4", audio="song.flac", size=(1280, 720), fps=30, crossfade=0.75,
        )
    """
    _limits(run_options)
    if isinstance(items, str | bytes | bytearray | os.PathLike) or not isinstance(items, Sequence):
        raise JobSpecError("items must be a list of images and clips")
    if not items:
        raise JobSpecError("a slideshow needs at least one item")
    slides = [_as_slide(item, i) for i, item in enumerate(items)]
    if len(slides) + (audio is not None) > MAX_INPUTS:
        raise JobSpecError(f"at most {MAX_INPUTS} files per slideshow (audio included), got "
                           f"{len(slides) + (audio is not None)}")
    scale = _scale_args(size, None, None, even=True)
    if scale is None or "-" in scale:
        raise JobSpecError(f"size must be a full (width, height), got {size!r}")
    w, h = scale.split(":")
    rate = _fps_text(fps)
    crossfade = _seconds(crossfade, "crossfade")
    image_duration = _seconds(image_duration, "image_duration", positive=True)
    audio_fade = _seconds(audio_fade, "audio_fade")
    if not isinstance(transition, str) or not _TRANSITION.fullmatch(transition):
        raise JobSpecError(f"transition must be an xfade transition name such as 'fade', got {transition!r}")
    if not isinstance(background, str) or not re.fullmatch(r"[#A-Za-z0-9@.]+", background):
        raise JobSpecError(f"background must be a colour such as 'black' or '#202020', got {background!r}")
    opts: dict[str, str] = dict(_quality_options(_positive_int(quality, "quality"), video_codec))
    if video_bitrate is not None:
        opts["b:v"] = _bitrate(video_bitrate, "video_bitrate") or ""
    if audio is not None and audio_bitrate is not None:
        opts["b:a"] = _bitrate(audio_bitrate, "audio_bitrate") or ""

    files = _setup(runtime, fs, root)
    locs = [files.add_input(s.src) for s in slides]
    audio_loc = files.add_input(audio) if audio is not None else None
    dst_loc = files.add_output(dst)
    files.prepare()
    infos = [_probe_guest(files, loc, run_options) for loc in locs]

    durations: list[float] = []
    for i, (slide, info, loc) in enumerate(zip(slides, infos, locs, strict=True)):
        if info.video is None:
            raise ProcessingError(f"items[{i}] ({loc.display}) has no picture")
        if _is_still(info):
            durations.append(slide.duration if slide.duration is not None else image_duration)
            continue
        length = _length(info)
        if length is None:
            raise ProcessingError(f"cannot tell how long items[{i}] ({loc.display}) is: give it a duration")
        rest = length - slide.start
        if rest <= 0:
            raise JobSpecError(f"items[{i}].start={slide.start} is past the end of {loc.display} ({length:g} s)")
        if slide.duration is not None and slide.duration > rest + 1e-3:
            raise JobSpecError(f"items[{i}] asks for {slide.duration:g} s, but {loc.display} has {rest:g} s "
                               f"from {slide.start:g} s")
        durations.append(slide.duration if slide.duration is not None else rest)
    if len(slides) > 1 and crossfade > 0:
        for i, d in enumerate(durations):
            inner = 0 < i < len(durations) - 1
            need = 2 * crossfade if inner else crossfade
            if d < need or (not inner and d == crossfade):
                raise JobSpecError(f"items[{i}] lasts {d:g} s: with crossfade={crossfade:g} every item must last "
                                   f"longer than the crossfade, and inner items at least twice as long")
    total = sum(durations) - crossfade * (len(slides) - 1)

    fit = (f"scale={w}:{h}:force_original_aspect_ratio=decrease,pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color={background},"
           "setsar=1,format=yuv420p")
    graph: list[str] = []
    inputs: list[Input] = []
    for i, (slide, info, loc) in enumerate(zip(slides, infos, locs, strict=True)):
        d = _num(durations[i], loc)
        if _is_still(info):
            inputs.append(Input(path=loc.guest))
            graph.append(f"[{i}:v]{fit},loop=loop=-1:size=1,fps={rate},trim=duration={d},setpts=PTS-STARTPTS[s{i}]")
        else:
            seek = {"start": slide.start, "mode": "accurate"} if slide.start > 0 else None
            inputs.append(Input(path=loc.guest, seek=seek))
            graph.append(f"[{i}:v]trim=duration={d},setpts=PTS-STARTPTS,fps={rate},{fit}[s{i}]")
    last = "[s0]"
    if len(slides) > 1 and crossfade > 0:
        offset = 0.0
        for i in range(1, len(slides)):
            offset += durations[i - 1] - crossfade
            label = "[v]" if i == len(slides) - 1 else f"[x{i}]"
            graph.append(f"{last}[s{i}]xfade=transition={transition}:duration={crossfade:g}:"
                         f"offset={offset:.6f}{label}")
            last = label
    elif len(slides) > 1:
        graph.append(f"{''.join(f'[s{i}]' for i in range(len(slides)))}concat=n={len(slides)}:v=1:a=0[v]")
    else:
        graph[-1] = graph[-1][: -len("[s0]")] + "[v]"
    mapping = ["[v]"]
    if audio_loc is not None:
        info = _probe_guest(files, audio_loc, run_options)
        if info.audio is None:
            raise ProcessingError(f"audio ({audio_loc.display}) has no sound")
        inputs.append(Input(path=audio_loc.guest))
        t = f"{total:.6f}"
        chain = [f"atrim=duration={t}", "asetpts=PTS-STARTPTS", f"apad=whole_dur={t}"]
        fade = min(audio_fade, total)
        if fade > 0:
            chain.append(f"afade=t=out:st={total - fade:.6f}:d={fade:.6f}")
        chain.append("aresample=48000,aformat=channel_layouts=stereo")
        graph.append(f"[{len(inputs) - 1}:a]{','.join(chain)}[a]")
        mapping.append("[a]")
    job = ProcessJob(
        inputs=inputs,
        filter=";".join(graph),
        outputs=[Output(path=dst_loc.guest, map=mapping, video_codec=video_codec,
                        audio_codec=audio_codec if audio_loc is not None else None, options=opts or None,
                        duration=round(total, 6))],
    )
    return files.finish(files.runtime.run(job, progress=progress, **files.where, **run_options))
