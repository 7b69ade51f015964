"""The runtime: compile the engine once, run many jobs, each in a fresh sandboxed instance."""

from __future__ import annotations

import ctypes
import hashlib
import importlib.metadata
import json
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import wasmtime
from wasmtime import _ffi as ffi

from . import compile_cache
from . import limits as _limits
from .errors import (
    AfmpegError,
    Cancelled,
    EngineCrash,
    JobSpecError,
    JobTimeout,
    MemoryLimitExceeded,
    ModuleNotFound,
    OutputLimitExceeded,
    ProcessingError,
    UnknownVariant,
    error_for_exit,
)
from .job import FramesJob, Input, ProbeJob, ProcessJob, job_to_dict
from .limits import CancelToken
from .memfs import MemoryFS
from .progress import Progress, ProgressParser
from .results import Capabilities, FramesResult, ProbeResult, ProcessResult, VersionInfo
from .running import RunningJob
from .sigint import SigintDeferral
from .wasi import _raw
from .wasi.host import WasiCall
from .wasi.linker import EXIT_MARKER, define_imports, register_state, unregister_state
from .wasi.pipes import DeviceFactory, dev_entries

__all__ = [
    "Runtime",
    "CommandResult",
    "find_module",
    "locate_module",
    "DEFAULT_MODULE_NAME",
    "ENGINE_VARIANTS",
    "ENGINE_PROFILES",
    "ENGINE_ENTRY_POINT_GROUP",
]

DEFAULT_MODULE_NAME = "afmpeg-engine-lgpl.wasm"
#: the engine variants, in order of preference when none is asked for
ENGINE_VARIANTS = ("lgpl", "gpl")
#: the engine profiles, in order of preference when none is asked for: ``lean`` (smaller, compiles faster) and
#: ``full`` (adds Opus, MP3, Vorbis, VP8/VP9, WebP, AV1 decoding, text and subtitle rendering, …)
ENGINE_PROFILES = ("lean", "full")
#: the entry point group through which installed engine packages announce their module
ENGINE_ENTRY_POINT_GROUP = "afmpeg.engines"
ENGINE_ARGV0 = "afmpeg-engine"
_NO_DEADLINE = 1 << 62
DEFAULT_MEMORY_LIMIT = 1 << 30
WASM_PAGE = 64 * 1024


class _Unset:
    def __repr__(self) -> str:
        return "<runtime default>"


#: "use the Runtime's setting" for the per-call limit keywords
UNSET: Any = _Unset()

#: Every wasmtime Config flag afmpeg sets (part of the compile-cache key).
#: ``wasm_exceptions``: the full profile's libvpx recovers from errors with setjmp/longjmp, which clang lowers to
#: Wasm exception handling.
CONFIG_FLAGS: dict[str, Any] = {"epoch_interruption": True, "wasm_exceptions": True}


def _repo_build_module() -> Path:
    # src/afmpeg/runtime.py -> <repo>/build/<module> (an editable install / source checkout)
    return Path(__file__).resolve().parent.parent.parent / "build" / DEFAULT_MODULE_NAME


def _engine_entry_points() -> list[importlib.metadata.EntryPoint]:
    """The installed engine packages' entry points (group ``afmpeg.engines``, named after the variant)."""
    return list(importlib.metadata.entry_points(group=ENGINE_ENTRY_POINT_GROUP))


def _check_variant(variant: str | None, profile: str | None = None) -> None:
    if variant is not None and variant not in ENGINE_VARIANTS:
        raise UnknownVariant(f"unknown engine variant {variant!r} (the variants are: {', '.join(ENGINE_VARIANTS)})")
    if profile is not None and profile not in ENGINE_PROFILES:
        raise UnknownVariant(f"unknown engine profile {profile!r} (the profiles are: {', '.join(ENGINE_PROFILES)})")


def engine_name(variant: str, profile: str = "lean") -> str:
    """The name of a variant/profile pair: the variant for the lean profile (``"lgpl"``), ``"lgpl-full"`` else.

    It names the installed package's entry point and the module file ``afmpeg-engine-<name>.wasm``.
    """
    return variant if profile == "lean" else f"{variant}-{profile}"


def _wanted(variant: str | None, profile: str | None) -> list[str]:
    """The engine names to look for, most preferred first (variant before profile: a license matters more)."""
    variants = ENGINE_VARIANTS if variant is None else (variant,)
    profiles = ENGINE_PROFILES if profile is None else (profile,)
    return [engine_name(v, p) for v in variants for p in profiles]


def _installed_engines() -> dict[str, importlib.metadata.EntryPoint]:
    """The installed engine packages by engine name; the first on sys.path wins, as for imports."""
    installed: dict[str, importlib.metadata.EntryPoint] = {}
    for ep in _engine_entry_points():
        installed.setdefault(ep.name, ep)
    return installed


def _installed_path(ep: importlib.metadata.EntryPoint) -> Path:
    """The module file an installed engine package announces (ModuleNotFound naming the package if broken)."""
    dist = ep.dist.name if ep.dist is not None else ep.module
    try:
        target = ep.load()
        path = Path(target() if callable(target) else target)
    except Exception as exc:  # a broken install must say which package, not fail obscurely
        raise ModuleNotFound(f"the installed engine package {dist} is broken ({exc!r}): reinstall it") from exc
    if not path.is_file():
        raise ModuleNotFound(f"the installed engine package {dist} has no module at {str(path)!r}: reinstall it")
    return path


def _installed_module(ep: importlib.metadata.EntryPoint, path: Path) -> bytes:
    """The bytes of an installed package's module, checked against the SHA-256 the package was built with."""
    data = path.read_bytes()
    expected = getattr(sys.modules.get(ep.module), "SHA256", None)
    if isinstance(expected, str) and hashlib.sha256(data).hexdigest() != expected.lower():
        dist = ep.dist.name if ep.dist is not None else ep.module
        raise ModuleNotFound(f"the module of the installed engine package {dist} ({path}) is not the one it was built "
                             "with (its SHA-256 differs): reinstall the package")
    return data


def locate_module(variant: str | None = None, profile: str | None = None
                  ) -> tuple[Path, importlib.metadata.EntryPoint | None]:
    """Where :func:`find_module` would take the module from when none is given, without reading it:
    ``(path, the installed package's entry point or None)``. Raises what :func:`find_module` raises."""
    _check_variant(variant, profile)
    env = os.environ.get("AFMPEG_MODULE")
    if env:
        path = Path(env)
        if not path.is_file():
            raise ModuleNotFound(f"AFMPEG_MODULE points to {env!r}, which does not exist")
        return path, None
    wanted = _wanted(variant, profile)
    installed = _installed_engines()
    for name in wanted:
        if name in installed:
            return _installed_path(installed[name]), installed[name]
    for name in wanted:
        path = _repo_build_module().with_name(f"afmpeg-engine-{name}.wasm")
        if path.is_file():
            return path, None
    raise ModuleNotFound(_how_to_get(wanted, variant, profile))


def _how_to_get(wanted: Sequence[str], variant: str | None, profile: str | None) -> str:
    v = wanted[0]
    pkg = v.replace("-", "_")
    asked = [f"{variant!r} variant" if variant else "", f"{profile!r} profile" if profile else ""]
    release_args = repr(variant or "lgpl") + (f", profile={profile!r}" if profile and profile != "lean" else "")
    return (
        f"no afmpeg engine module found ({', '.join(a for a in asked if a) or 'any variant or profile'}). Get one:\n"
        f"  - install the engine wheel: pip install afmpeg_engine_{pkg}-<version>-py3-none-any.whl (package "
        f"afmpeg-engine-{v}, made by `make engine` in an afmpeg checkout or attached to a release)\n"
        f"  - or set AFMPEG_MODULE to an engine .wasm file, or pass Runtime(module=...)\n"
        f"  - or build it from source in an afmpeg checkout: `make engine` (it writes build/afmpeg-engine-{v}.wasm)\n"
        f"  - or download a verified one: Runtime.from_url(url, sha256=...) or "
        f"Runtime.from_release(tag, {release_args}, base_url=... | bundle_dir=...)"
    )


def find_module(
    module: str | os.PathLike[str] | bytes | bytearray | memoryview | None = None,
    *,
    variant: str | None = None,
    profile: str | None = None,
) -> tuple[bytes, str]:
    """Locate the engine: explicit path or bytes → ``AFMPEG_MODULE`` → an installed engine package → the source tree.

    An installed engine package (``afmpeg-engine-lgpl``, ``afmpeg-engine-gpl``, ``afmpeg-engine-lgpl-full``, …,
    found through its ``afmpeg.engines`` entry point) of the requested ``variant`` (``"lgpl"`` or ``"gpl"``) and
    ``profile`` (``"lean"`` or ``"full"``). Left out, LGPL is preferred to GPL and lean to full (the GPL or full
    one is used when it is the only one installed). Then the source tree's ``build/afmpeg-engine-<name>.wasm``
    (an afmpeg checkout after ``make engine``). ``variant`` and ``profile`` do not apply to an explicit ``module``
    or to ``AFMPEG_MODULE``, which are used as given.

    Returns ``(wasm_bytes, description)``; raises :class:`ModuleNotFound` saying how to get a module, or
    :class:`UnknownVariant` for a variant or profile afmpeg does not know.
    """
    _check_variant(variant, profile)
    if isinstance(module, bytes | bytearray | memoryview):
        return bytes(module), "<bytes>"
    if module is not None:
        path = Path(module)
        if not path.is_file():
            raise ModuleNotFound(f"engine module {str(path)!r} does not exist")
        return path.read_bytes(), str(path)
    path, ep = locate_module(variant, profile)
    return (path.read_bytes() if ep is None else _installed_module(ep, path)), str(path)


def resolve_fs(fs: Any, root: str | None, storage_options: Mapping[str, Any] | None = None) -> tuple[Any, str]:
    """Normalise the ``fs`` argument into ``(fsspec filesystem, root path inside it)``.

    ``fs`` is an fsspec filesystem, a local directory path, or an fsspec URL such as ``"s3://bucket/prefix"``,
    ``"memory://"`` or ``"file:///srv/media"`` (made with ``fsspec.core.url_to_fs``). ``storage_options`` are the
    keywords for the filesystem a URL names (e.g. ``endpoint_url``, ``key``/``secret`` or ``profile`` for S3);
    without them fsspec's configuration and the backend's own defaults, such as AWS environment variables, apply.
    They apply only to a URL: given with a filesystem object or a plain directory path they raise ``ValueError``
    (configure a filesystem object when you make it). ``root`` is a path inside it that jobs see as ``/`` (appended
    to the URL's path); with a filesystem object it may also be given as a URL of that filesystem
    (``root="s3://bucket/prefix"``).
    """
    if isinstance(fs, str | os.PathLike):
        text = os.fspath(fs)
        if "://" in text:
            import fsspec
            from fsspec.implementations.local import LocalFileSystem

            url_fs, url_root = fsspec.core.url_to_fs(text, **dict(storage_options or {}))
            if root:
                url_root = f"{url_root.rstrip('/')}/{root.lstrip('/')}"
            if isinstance(url_fs, LocalFileSystem):  # file://: the same checks as a directory path
                return _local_directory(url_root, None, url_fs)
            return url_fs, url_root
        _no_storage_options(storage_options, "a local directory path")
        return _local_directory(text, root, None)
    _no_storage_options(storage_options, "a filesystem object" if fs is not None else "no fs=")
    from fsspec.implementations.local import LocalFileSystem

    if isinstance(fs, LocalFileSystem):
        # a bare local filesystem would resolve guest paths against the process's working directory
        if not root:
            raise ValueError("a LocalFileSystem needs a root directory: pass root=..., or fs=<directory path>")
        return _local_directory(root, None, fs)
    if root and "://" in root:  # root="s3://bucket/prefix" with an S3FileSystem
        root = fs._strip_protocol(root)
    return fs, root or ""


def _no_storage_options(storage_options: Mapping[str, Any] | None, given: str) -> None:
    if storage_options:
        raise ValueError(
            f"storage_options= apply to an fs= URL such as 's3://bucket/prefix', not to {given}: "
            "pass fs= as a URL, or configure the filesystem object when you make it"
        )


def _local_directory(text: str, root: str | None, local_fs: Any) -> tuple[Any, str]:
    """A local directory (and ``root`` inside it) confined with a ``DirFileSystem`` over ``local_fs``."""
    from fsspec.implementations.dirfs import DirFileSystem
    from fsspec.implementations.local import LocalFileSystem

    directory = Path(text).expanduser().resolve()
    if root:
        directory = directory / root.lstrip("/")
    if not directory.is_dir():
        raise FileNotFoundError(f"{str(directory)!r} is not a directory")
    return DirFileSystem(path=str(directory), fs=local_fs if local_fs is not None else LocalFileSystem()), ""


@dataclass
class CommandResult:
    """The raw outcome of running the module as a WASI command (see :meth:`Runtime.run_command`)."""

    exit_code: int | None
    stdout: bytes
    stderr: bytes
    progress: bytes = b""
    trap: str | None = None
    trap_code: str | None = None
    host_errors: list[str] = field(default_factory=list)
    write_errors: list[str] = field(default_factory=list)

    @property
    def stderr_text(self) -> str:
        """``stderr`` decoded as UTF-8 (invalid bytes replaced)."""
        return self.stderr.decode("utf-8", errors="replace")

    @property
    def crashed(self) -> bool:
        """True when the guest trapped instead of exiting."""
        return self.trap is not None


def trap_summary(text: str) -> str:
    """The cause of a wasmtime trap/error without the backtrace (e.g. "wasm trap: call stack exhausted")."""
    if "Caused by:" in text:
        cause = text.split("Caused by:", 1)[1]
        lines = [ln.strip() for ln in cause.strip().splitlines() if ln.strip()]
        return "; ".join(ln.split(":", 1)[1].strip() if ln[:1].isdigit() and ":" in ln else ln for ln in lines)
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[0] if lines else text


def _parse_result_line(stdout: bytes) -> dict[str, Any] | None:
    for line in reversed(stdout.decode("utf-8", errors="replace").splitlines()):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


class Runtime:
    """Compiles the engine module once and runs jobs in fresh sandboxed instances.

    Args:
        module: path to the engine ``.wasm`` or its bytes. Default: ``AFMPEG_MODULE``, then an installed engine
            package (``afmpeg-engine-lgpl``, ``afmpeg-engine-gpl``, ``afmpeg-engine-lgpl-full``, …), then the
            source tree's ``build/afmpeg-engine-<variant>[-full].wasm`` (see :func:`find_module`).
        variant: which installed engine to use when no ``module`` is given and ``AFMPEG_MODULE`` is unset:
            ``"lgpl"`` or ``"gpl"`` (default ``None``: LGPL preferred, GPL if it is the only one installed). Another
            name raises :class:`~afmpeg.errors.UnknownVariant`.
        profile: likewise, ``"lean"`` (the everyday codecs: H.264, HEVC, AAC, FLAC, …) or ``"full"`` (adds Opus,
            MP3, Vorbis, VP8/VP9, WebP, AV1 decoding, drawtext and subtitle burn-in, many filters; a larger module).
            Default ``None``: lean preferred, full if it is the only one found.
        fs: the filesystem jobs see as ``/``: an fsspec filesystem, a local directory path, or an fsspec URL
            (``"s3://bucket/prefix"``, ``"memory://"``, ``"file:///srv/media"``). Default: a private in-memory
            :class:`~afmpeg.MemoryFS` (``runtime.fs``).
        root: a path prefix inside ``fs`` that the guest sees as ``/``.
        storage_options: keywords for the filesystem an ``fs`` URL names, as fsspec takes them (for S3:
            ``endpoint_url``, ``key``/``secret``/``token``, ``profile``, ``client_kwargs``...). Without them fsspec's
            configuration and the backend's defaults (e.g. AWS environment variables) apply. Only with a URL:
            given with a filesystem object, a directory path or no ``fs`` they raise ``ValueError``.
        cache_dir: where compiled code is cached (default: the user cache dir; ``False`` disables the cache).
        memory_limit: maximum guest linear memory in bytes (default 1 GiB; ``None``: no limit). A job that needs
            more ends with :class:`~afmpeg.MemoryLimitExceeded`.
        time_limit: maximum wall time of one job in seconds (default ``None``: no limit); past it the job is
            stopped with :class:`~afmpeg.JobTimeout`.
        output_limit: maximum total bytes of the files one job writes (default ``None``: no limit); a write past it
            fails and the job ends with :class:`~afmpeg.OutputLimitExceeded`.

    Every limit can be overridden per call with the same keyword (``run(job, time_limit=5)``); a call also takes
    ``cancel=`` a :class:`~afmpeg.CancelToken` (:meth:`version` and :meth:`capabilities` too). Every method that
    runs a job on a filesystem (:meth:`run`, :meth:`start`, :meth:`probe`, :meth:`frames`, :meth:`call`,
    :meth:`run_command`, the ``*_async`` twins and :meth:`RuntimePool.submit <afmpeg.RuntimePool.submit>`) also
    takes ``fs=`` / ``root=`` / ``storage_options=`` (another filesystem for that call; ``storage_options`` go with
    an ``fs`` URL, the Runtime's own are not reused) and ``devices=`` (stream devices, see :meth:`run_command`).
    Files a job writes are published to the filesystem only when the job succeeds: a failed, stopped or over-limit
    job leaves the filesystem as it found it.

    A Runtime is thread-safe: every call gets its own Store and instance, and calls in different threads run in
    parallel (wasm releases the GIL).
    """

    def __init__(
        self,
        module: str | os.PathLike[str] | bytes | None = None,
        *,
        variant: str | None = None,
        profile: str | None = None,
        fs: Any = None,
        root: str = "",
        storage_options: Mapping[str, Any] | None = None,
        cache_dir: str | os.PathLike[str] | bool | None = None,
        memory_limit: int | None = DEFAULT_MEMORY_LIMIT,
        time_limit: float | None = None,
        output_limit: int | None = None,
    ) -> None:
        if fs is None:
            _no_storage_options(storage_options, "no fs= (the default in-memory filesystem)")
            fs = MemoryFS()
        self.fs, self.root = resolve_fs(fs, root, storage_options)  # before compiling: argument mistakes fail fast
        wasm, self.module_path = find_module(module, variant=variant, profile=profile)
        config = wasmtime.Config()
        config.epoch_interruption = CONFIG_FLAGS["epoch_interruption"]
        config.wasm_exceptions = CONFIG_FLAGS["wasm_exceptions"]
        self.engine = wasmtime.Engine(config)
        try:
            self.module, info = compile_cache.load_or_compile(self.engine, wasm, CONFIG_FLAGS, cache_dir)
        except wasmtime.WasmtimeError as exc:
            raise AfmpegError(f"cannot compile engine module {self.module_path}: {exc}") from exc
        self.compile_info = info
        #: seconds spent compiling the module (0.0 when it came from the cache)
        self.compile_seconds: float = info.seconds if info.compiled else 0.0
        #: seconds spent loading compiled code from the cache (0.0 when it was compiled)
        self.load_seconds: float = 0.0 if info.compiled else info.seconds
        self.from_cache: bool = not info.compiled
        self._linker = wasmtime.Linker(self.engine)
        try:
            self.stubbed_imports = define_imports(self._linker, self.module)
            self._pre = self._linker.instantiate_pre(self.module)
        except (ValueError, wasmtime.WasmtimeError) as exc:
            raise AfmpegError(f"cannot link engine module {self.module_path}: {exc}") from exc
        self.memory_limit = memory_limit
        self.time_limit = time_limit
        self.output_limit = output_limit

    def __repr__(self) -> str:
        return f"Runtime(module={self.module_path!r}, fs={type(self.fs).__name__}, root={self.root!r})"

    @classmethod
    def from_url(
        cls,
        url: str | os.PathLike[str],
        *,
        sha256: str,
        gunzip: bool | None = None,
        cache_dir: str | os.PathLike[str] | bool | None = None,
        session: Any = None,
        max_bytes: int | None = None,
        timeout: float | tuple[float, float] | None = None,
        **runtime_options: Any,
    ) -> Runtime:
        """A Runtime for the engine module at ``url``, downloaded once, verified, and cached by its SHA-256.

        Args:
            url: an ``http(s)://`` URL of the ``.wasm`` (or ``.wasm.gz``), a ``file://`` URL or a local path (read
                with no network).
            sha256: the SHA-256 of the module itself, after any gunzip (required: a module is never compiled
                unverified).
            gunzip: ``True`` / ``False`` to force or skip decompression; ``None`` (default): gunzip when the body
                starts with the gzip magic.
            cache_dir: the cache root: the module is kept as ``<cache_dir>/modules/<sha256>.wasm`` and its compiled
                code in ``<cache_dir>/compiled``. ``None``: the default locations (``AFMPEG_CACHE_DIR`` or the user
                cache directory); ``False``: cache nothing.
            session: a ``requests.Session``-like object for the download (anything with
                ``.get(url, stream=True, timeout=…)``); default: a fresh ``requests.Session``.
            max_bytes: the largest download and the largest decompressed module accepted (default 256 MiB).
            timeout: the network timeout in seconds (default 60).
            runtime_options: any other :class:`Runtime` keyword (``fs``, ``memory_limit``, …).

        A cached module is hashed again before use; a corrupted entry is replaced by a fresh download. Only bytes
        that passed the check reach the compiler. Raises :class:`~afmpeg.errors.ChecksumMismatch` (wrong module),
        :class:`~afmpeg.errors.DownloadError` (HTTP status in ``status``; ``None`` for network errors and
        oversize bodies) — see :func:`afmpeg.fetch.fetch_module`.
        """
        from . import fetch as _fetch

        if "module" in runtime_options:
            raise TypeError("Runtime.from_url() takes the module from url=, not module=")
        fetched = _fetch.fetch_module(
            url,
            sha256=sha256,
            gunzip=gunzip,
            cache_dir=cache_dir,
            session=session,
            max_bytes=_fetch.DEFAULT_MAX_BYTES if max_bytes is None else max_bytes,
            timeout=_fetch.DEFAULT_TIMEOUT if timeout is None else timeout,
        )
        runtime = cls(fetched.data, cache_dir=_compiled_cache_dir(cache_dir), **runtime_options)
        runtime.module_path = str(fetched.path) if fetched.path is not None else fetched.url
        return runtime

    @classmethod
    def from_release(
        cls,
        tag: str,
        variant: str = "lgpl",
        *,
        profile: str = "lean",
        base_url: str | None = None,
        bundle_dir: str | os.PathLike[str] | None = None,
        trusted_keys: Any = None,
        cache_dir: str | os.PathLike[str] | bool | None = None,
        session: Any = None,
        gz: bool = True,
        max_bytes: int | None = None,
        timeout: float | tuple[float, float] | None = None,
        **runtime_options: Any,
    ) -> Runtime:
        """A Runtime for the ``variant`` module of signed release ``tag``, verified before a byte is compiled.

        Exactly one of ``base_url`` (files at ``{base_url}/{tag}/{name}``, e.g. a code host's release download
        URL) and ``bundle_dir`` (an offline directory holding the
        release's files; no network). ``checksums.txt`` must be signed (``checksums.txt.sig``, minisign format) by
        one of ``trusted_keys`` (:class:`~afmpeg.release.PublicKey` objects or minisign public key texts; default:
        the keys pinned in the package, of which there are none yet, so pass them), ``provenance.json`` must match
        its checksum, record ``tag`` and name ``afmpeg-engine-{variant}.wasm.gz`` (``.wasm`` with ``gz=False``;
        ``afmpeg-engine-{variant}-full.wasm.gz`` with ``profile="full"``) for the variant, and the module must have
        the signed SHA-256. The module is kept in the content-addressed
        cache like :meth:`from_url`'s (``cache_dir``: the cache root, ``False``: none); ``session``, ``max_bytes``
        and ``timeout`` are as for :meth:`from_url`; other keywords go to :class:`Runtime`. No switch skips
        verification.

        Raises :class:`~afmpeg.errors.SignatureInvalid`, :class:`~afmpeg.errors.ChecksumMismatch`,
        :class:`~afmpeg.errors.ProvenanceMismatch`, :class:`~afmpeg.errors.UnknownVariant` or
        :class:`~afmpeg.errors.DownloadError`; see :func:`afmpeg.release.acquire.acquire_release`.
        """
        from . import fetch as _fetch
        from .release.acquire import acquire_release

        if "module" in runtime_options:
            raise TypeError("Runtime.from_release() takes the module from the release, not module=")
        got = acquire_release(
            tag,
            variant,
            profile=profile,
            base_url=base_url,
            bundle_dir=bundle_dir,
            trusted_keys=trusted_keys,
            cache_dir=cache_dir,
            session=session,
            gz=gz,
            max_bytes=_fetch.DEFAULT_MAX_BYTES if max_bytes is None else max_bytes,
            timeout=_fetch.DEFAULT_TIMEOUT if timeout is None else timeout,
        )
        runtime = cls(got.data, cache_dir=_compiled_cache_dir(cache_dir), **runtime_options)
        runtime.module_path = str(got.path) if got.path is not None else got.source
        return runtime

    # ------------------------------------------------------------------ low level

    def run_command(
        self,
        args: Sequence[str],
        *,
        fs: Any = None,
        root: str | None = None,
        storage_options: Mapping[str, Any] | None = None,
        on_progress: Callable[[bytes], None] | None = None,
        memory_limit: int | None = UNSET,
        time_limit: float | None = UNSET,
        output_limit: int | None = UNSET,
        cancel: CancelToken | None = None,
        devices: Mapping[str, DeviceFactory] | None = None,
    ) -> CommandResult:
        """Run the module's ``_start`` with ``args`` as argv (WASI command semantics).

        Guest failures do not raise — exit code, captured output, trap text and host-side errors are all in the
        result. Files the guest wrote are published only when it exits with 0 without a trap or host error.
        A job stopped by the host raises: :class:`JobTimeout`, :class:`Cancelled`, :class:`OutputLimitExceeded`,
        :class:`MemoryLimitExceeded` (limits default to the Runtime's; see :class:`Runtime`).

        ``fs`` / ``root``: another filesystem for this call (as :class:`Runtime` takes them; without ``fs``,
        ``root`` is a path inside the Runtime's filesystem). ``storage_options``: keywords for the filesystem an
        ``fs`` URL names (``endpoint_url``, credentials...; see :func:`resolve_fs`); the Runtime's own are not
        reused, and given without an ``fs`` URL they raise ``ValueError``.

        ``devices`` adds stream devices ``/dev/afmpeg-pipe-NAME`` (``{NAME: pipe.guest_reader()}``, see
        :mod:`afmpeg.wasi.pipes`): bounded pipes to a host thread, e.g. for :func:`afmpeg.read_frames`. A device
        made by ``Pipe.guest_reader()`` / ``guest_writer()`` opens once: give each job its own.
        """
        mem_limit = self.memory_limit if memory_limit is UNSET else memory_limit
        t_limit = self.time_limit if time_limit is UNSET else time_limit
        out_limit = self.output_limit if output_limit is UNSET else output_limit
        use_fs, use_root = self._where(fs, root, storage_options)
        state = WasiCall(
            list(args),
            fs=use_fs,
            root=use_root,
            on_progress=on_progress,
            output_limit=out_limit,
            devices=dev_entries(devices),
        )
        # On the main thread Ctrl-C becomes a stop request (see afmpeg.sigint), which needs a watched job.
        on_main = threading.current_thread() is threading.main_thread()
        watch = _limits.Watch(t_limit, cancel) if (t_limit is not None or cancel is not None or on_main) else None
        if watch is not None:
            state.should_stop = lambda: watch.check() is not None
        if watch is not None and watch.check() is not None:  # cancelled before it started
            state.close(publish=False)
            raise self._stop_error(watch.reason, t_limit, args)
        sigint = SigintDeferral(lambda: setattr(watch, "interrupted", True))
        try:
            with sigint:
                return self._run_store(state, watch, args, mem_limit, t_limit, out_limit)
        finally:
            sigint.deliver()  # a Ctrl-C during the job: the previous handler runs now (KeyboardInterrupt by default)

    def _run_store(
        self,
        state: WasiCall,
        watch: _limits.Watch | None,
        args: Sequence[str],
        mem_limit: int | None,
        t_limit: float | None,
        out_limit: int | None,
    ) -> CommandResult:
        """Instantiate the module in a fresh Store, run ``_start`` and publish or drop what it wrote."""
        key = register_state(state)
        store = _raw.store_new(ctypes.addressof(self.engine.ptr().contents), key, None)
        if not store:
            unregister_state(key)
            raise AfmpegError("wasmtime could not create a store")
        trap_text: str | None = None
        trap_code: str | None = None
        watch_key = 0
        memory_size = 0
        ok = False
        try:
            ctx = _raw.store_context(store)
            if watch is not None:
                watch_key = _limits.watch_store(self.engine, store, ctx, watch)
            else:
                _raw.context_set_epoch_deadline(ctx, _NO_DEADLINE)
            if mem_limit is not None:
                _raw.store_limiter(store, int(mem_limit), -1, -1, -1, -1)
            instance = ffi.wasmtime_instance_t()
            trap = ctypes.c_void_p()
            err = _raw.instance_pre_instantiate(
                ctypes.addressof(self._pre.ptr().contents), ctx, ctypes.addressof(instance), ctypes.addressof(trap)
            )
            if err or trap.value:
                text = _raw.error_message(err) if err else _raw.trap_info(trap.value or 0)[0]
                raise AfmpegError(f"cannot instantiate engine module: {text}")
            memory = self._export(ctx, instance, b"memory")
            if memory is None or memory.kind != ffi.WASMTIME_EXTERN_MEMORY.value:
                raise AfmpegError("engine module exports no linear memory named 'memory'")
            start = self._export(ctx, instance, b"_start")
            if start is None or start.kind != ffi.WASMTIME_EXTERN_FUNC.value:
                raise AfmpegError("engine module is not a WASI command (no '_start' export)")
            mem = ffi.wasmtime_memory_t()
            ctypes.memmove(ctypes.addressof(mem), ctypes.addressof(memory.of.memory), ctypes.sizeof(mem))
            state.set_memory(mem)
            func = ffi.wasmtime_func_t()
            ctypes.memmove(ctypes.addressof(func), ctypes.addressof(start.of.func), ctypes.sizeof(func))
            trap = ctypes.c_void_p()
            err = _raw.func_call(ctx, ctypes.addressof(func), None, 0, None, 0, ctypes.addressof(trap))
            if trap.value:
                trap_text, code = _raw.trap_info(trap.value)
                trap_code = code.name if code is not None and hasattr(code, "name") else None
            elif err:
                trap_text = _raw.error_message(err)
            memory_size = _raw.memory_data_size(ctx, ctypes.addressof(mem))
            exited = state.exit_code is not None and (trap_text is None or EXIT_MARKER in trap_text)
            ok = (
                state.interrupt is None
                and not state.host_errors
                and not state.output_budget.exceeded
                and (watch is None or watch.reason is None)
                and ((exited and state.exit_code == 0) or (state.exit_code is None and trap_text is None))
            )
        finally:
            write_failures = state.close(publish=ok)
            if watch_key:
                _limits.unwatch(self.engine, watch_key)
            unregister_state(key)
            _raw.store_delete(store)

        if state.exit_code is not None:
            exit_code: int | None = state.exit_code
            if trap_text is not None and EXIT_MARKER in trap_text:
                trap_text = None
        elif trap_text is None:
            exit_code = 0
        else:
            exit_code = None
        if state.interrupt is not None:
            raise state.interrupt
        result = CommandResult(
            exit_code=exit_code,
            stdout=state.stdout.getvalue(),
            stderr=state.stderr.getvalue(),
            progress=state.progress.getvalue(),
            trap=trap_text,
            trap_code=trap_code,
            host_errors=list(state.host_errors),
            write_errors=write_failures,
        )
        if watch is not None and watch.reason is not None:
            raise self._stop_error(watch.reason, t_limit, args, result)
        if state.output_budget.exceeded:
            raise OutputLimitExceeded(
                f"the job's output grew past output_limit={out_limit} bytes",
                limit=out_limit,
                exit_code=exit_code,
                stderr=result.stderr_text,
            )
        if (
            mem_limit is not None
            and exit_code != 0
            and memory_size + _memory_margin(mem_limit) > mem_limit
            and _may_be_out_of_memory(result)
        ):
            # the limiter refuses memory.grow silently (the guest sees malloc fail); a failed job whose memory
            # reached the cap's neighbourhood ran out of it, unless the engine named another cause
            raise MemoryLimitExceeded(
                f"the job needed more than memory_limit={mem_limit} bytes of memory "
                f"(it had {memory_size} bytes when it failed)",
                limit=mem_limit,
                exit_code=exit_code,
                stderr=result.stderr_text,
            )
        return result

    def _where(self, fs: Any, root: str | None, storage_options: Mapping[str, Any] | None) -> tuple[Any, str]:
        """The ``(filesystem, root)`` a call with these ``fs`` / ``root`` / ``storage_options`` runs on."""
        if fs is None:
            _no_storage_options(storage_options, "no fs= (the Runtime's own filesystem)")
            return self.fs, (self.root if root is None else root)
        return resolve_fs(fs, root, storage_options)

    @staticmethod
    def _stop_error(
        reason: str | None, time_limit: float | None, args: Sequence[str], result: CommandResult | None = None
    ) -> AfmpegError:
        stderr = result.stderr_text if result is not None else ""
        if reason == "cancelled":
            return Cancelled("the job was cancelled", stderr=stderr)
        if reason == "interrupted":
            return Cancelled("the job was interrupted (SIGINT)", stderr=stderr)
        message = f"the job ran past time_limit={time_limit} s and was stopped"
        return JobTimeout(message, limit=time_limit, stderr=stderr)

    @staticmethod
    def _export(ctx: int, instance: Any, name: bytes) -> Any:
        ext = ffi.wasmtime_extern_t()
        ok = _raw.instance_export_get(ctx, ctypes.addressof(instance), name, len(name), ctypes.addressof(ext))
        return ext if ok else None

    def call(
        self,
        job: Mapping[str, Any],
        *,
        fs: Any = None,
        root: str | None = None,
        storage_options: Mapping[str, Any] | None = None,
        progress: Callable[[Progress], None] | None = None,
        memory_limit: int | None = UNSET,
        time_limit: float | None = UNSET,
        output_limit: int | None = UNSET,
        cancel: CancelToken | None = None,
        devices: Mapping[str, DeviceFactory] | None = None,
    ) -> dict[str, Any]:
        """Send a wire-format job dict to the engine and return its raw JSON answer.

        ``progress`` is called with a :class:`~afmpeg.Progress` for every report the engine writes (a process
        job with ``progress`` set gets ``"progress": true`` added). An exception raised by the callback does not
        disturb the job; it is re-raised here once the job has finished.

        Raises :class:`ProcessingError` / :class:`JobSpecError` / :class:`UnsupportedVocabulary` for exit codes
        1 / 2 / 3, :class:`EngineCrash` if the guest trapped, :class:`JobTimeout` / :class:`MemoryLimitExceeded` /
        :class:`OutputLimitExceeded` / :class:`Cancelled` when a limit (the Runtime's, or these keywords) or
        ``cancel`` stopped it. Output files are published only when the job succeeds. ``fs`` / ``root`` /
        ``storage_options`` and ``devices``: see :meth:`run_command`.
        """
        job_dict = dict(job)
        parser = ProgressParser(progress) if progress is not None else None
        if parser is not None and job_dict.get("op") == "process":
            job_dict["progress"] = True
        try:
            text = json.dumps(job_dict, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:  # e.g. a Path object, or NaN (which the engine sees as bad JSON)
            raise JobSpecError(f"the job cannot be sent as JSON: {exc}", job=job_dict) from exc
        argv = [ENGINE_ARGV0, text]
        limits = _limit_kw(memory_limit, time_limit, output_limit, cancel)
        try:
            res = self.run_command(
                argv,
                fs=fs,
                root=root,
                storage_options=storage_options,
                on_progress=parser.feed if parser else None,
                devices=devices,
                **limits,
            )
        except AfmpegError as exc:
            if exc.job is None:
                exc.job = job_dict
            raise
        if parser is not None and parser.error is not None:
            raise parser.error
        stderr = res.stderr_text
        answer = _parse_result_line(res.stdout)
        notes = ""
        if res.write_errors:  # the guest saw these as errors from close(); the cause is here
            notes += "; could not write output: " + "; ".join(res.write_errors)
        if res.host_errors:
            notes += "; host errors: " + " | ".join(e.strip().splitlines()[-1] for e in res.host_errors[:3])
        if res.trap is not None:
            raise EngineCrash(
                f"the engine crashed: {trap_summary(res.trap)}{notes}",
                trap_code=res.trap_code,
                stderr=stderr,
                job=job_dict,
                details={"trap": res.trap},
            )
        assert res.exit_code is not None
        if res.exit_code != 0:
            if answer is not None and "error" in answer:
                message = str(answer["error"])
            else:
                last = next((ln for ln in reversed(stderr.splitlines()) if ln.strip()), "")
                message = "the engine printed no result"
                if last:
                    message += f"; last log line: {last.strip()}"
            raise error_for_exit(
                res.exit_code,
                message + notes,
                stderr=stderr,
                job=job_dict,
                details=answer,
                memory_limit=self.memory_limit if memory_limit is UNSET else memory_limit,
            )
        if res.write_errors or res.host_errors:  # nothing (or not everything) was published
            raise ProcessingError(notes.removeprefix("; "), exit_code=0, stderr=stderr, job=job_dict)
        if answer is None:
            raise AfmpegError("the engine printed no JSON result", exit_code=0, stderr=stderr, job=job_dict)
        return answer

    # ------------------------------------------------------------------ typed API

    def version(
        self,
        *,
        memory_limit: int | None = UNSET,
        time_limit: float | None = UNSET,
        output_limit: int | None = UNSET,
        cancel: CancelToken | None = None,
    ) -> VersionInfo:
        """The engine's vocabulary and FFmpeg versions (the limit keywords and ``cancel`` as for :meth:`run`)."""
        limits = _limit_kw(memory_limit, time_limit, output_limit, cancel)
        return VersionInfo.from_dict(self.call({"op": "version"}, **limits))

    def capabilities(
        self,
        *,
        memory_limit: int | None = UNSET,
        time_limit: float | None = UNSET,
        output_limit: int | None = UNSET,
        cancel: CancelToken | None = None,
    ) -> Capabilities:
        """Every encoder, decoder, muxer, demuxer, filter, bitstream filter, protocol and parser linked into the
        engine module (read from libav's registries), and the library versions. The limit keywords and ``cancel``
        as for :meth:`run`."""
        limits = _limit_kw(memory_limit, time_limit, output_limit, cancel)
        return Capabilities.from_dict(self.call({"op": "capabilities"}, **limits))

    def probe(
        self,
        path: str | Input | Sequence[str | Input] | ProbeJob,
        *,
        fs: Any = None,
        root: str | None = None,
        storage_options: Mapping[str, Any] | None = None,
        memory_limit: int | None = UNSET,
        time_limit: float | None = UNSET,
        output_limit: int | None = UNSET,
        cancel: CancelToken | None = None,
        devices: Mapping[str, DeviceFactory] | None = None,
    ) -> ProbeResult:
        """Describe one or more inputs (format, duration, streams, chapters, tags).

        A per-input failure does not raise: that input has ``error`` set. The other keywords are those of
        :meth:`run` (an input may be a stream device: ``"/dev/afmpeg-pipe-NAME"`` with ``devices``).
        """
        job = path if isinstance(path, ProbeJob) else ProbeJob(inputs=path)  # type: ignore[arg-type]
        limits = _limit_kw(memory_limit, time_limit, output_limit, cancel)
        answer = self.call(
            job_to_dict(job), fs=fs, root=root, storage_options=storage_options, devices=devices, **limits
        )
        return ProbeResult.from_dict(answer)

    def run(
        self,
        job: ProcessJob | Mapping[str, Any],
        *,
        fs: Any = None,
        root: str | None = None,
        storage_options: Mapping[str, Any] | None = None,
        progress: Callable[[Progress], None] | None = None,
        memory_limit: int | None = UNSET,
        time_limit: float | None = UNSET,
        output_limit: int | None = UNSET,
        cancel: CancelToken | None = None,
        devices: Mapping[str, DeviceFactory] | None = None,
    ) -> ProcessResult:
        """Run a process job and return what was written.

        ``progress``: called with a :class:`~afmpeg.Progress` (frame, out_time, total_size, fraction of the known
        duration or -1, never decreasing) about every 100 ms of media time and once at the end.

        Limits (``memory_limit``, ``time_limit``, ``output_limit``) default to the Runtime's; ``cancel`` takes a
        :class:`~afmpeg.CancelToken`. The outputs are published only if the job succeeds.

        ``job`` is a :class:`ProcessJob` (validated on the Python side first, so mistakes such as a non-string
        option value fail fast with a hint) or a wire-format dict (sent as is, ``"op"`` defaulting to
        ``"process"``; the engine judges it and answers a malformed spec with :class:`JobSpecError`, exit code 2).

        ``fs`` / ``root``: another filesystem for this call; ``storage_options``: keywords for the filesystem an
        ``fs`` URL names (``run(job, fs="s3://bucket/in", storage_options={"profile": "media"})``).
        ``devices``: stream devices for the job's inputs/outputs (``{NAME: pipe.guest_writer()}`` for a job
        writing ``/dev/afmpeg-pipe-NAME``). See :meth:`run_command` for both.
        """
        wire = _typed_job_dict(job, ProcessJob, "run")
        limits = _limit_kw(memory_limit, time_limit, output_limit, cancel)
        answer = self.call(
            wire, fs=fs, root=root, storage_options=storage_options, progress=progress, devices=devices, **limits
        )
        return ProcessResult.from_dict(answer)

    def start(
        self,
        job: ProcessJob | Mapping[str, Any],
        *,
        fs: Any = None,
        root: str | None = None,
        storage_options: Mapping[str, Any] | None = None,
        progress: Callable[[Progress], None] | None = None,
        memory_limit: int | None = UNSET,
        time_limit: float | None = UNSET,
        output_limit: int | None = UNSET,
        cancel: CancelToken | None = None,
        devices: Mapping[str, DeviceFactory] | None = None,
    ) -> RunningJob[ProcessResult]:
        """Start a process job in a background thread and return at once with a :class:`~afmpeg.RunningJob`.

        ``for p in handle.progress(): ...`` follows it, ``handle.result()`` waits for the :class:`ProcessResult`
        (or raises the job's error), ``handle.cancel()`` stops it. Arguments are those of :meth:`run`
        (``storage_options``, ``devices`` and the limits included); ``progress`` is an additional callback (e.g.
        :func:`afmpeg.progress_bar`). A malformed job object, filesystem argument or device name raises here,
        before the thread starts; the job's own errors are raised by ``handle.result()``.
        """
        wire = _typed_job_dict(job, ProcessJob, "run")  # judge a malformed job object here, not in the thread
        if fs is not None:  # the filesystem arguments too (a URL is opened here, once)
            fs, root = resolve_fs(fs, root, storage_options)
        else:
            _no_storage_options(storage_options, "no fs= (the Runtime's own filesystem)")
        dev_entries(devices)  # and the device names

        def target(on_progress: Callable[[Progress], None], token: CancelToken) -> ProcessResult:
            return self.run(
                wire,
                fs=fs,
                root=root,
                progress=on_progress,
                memory_limit=memory_limit,
                time_limit=time_limit,
                output_limit=output_limit,
                cancel=token,
                devices=devices,
            )

        return RunningJob(target, progress=progress, cancel=cancel)

    def frames(
        self,
        job: FramesJob | Mapping[str, Any],
        *,
        fs: Any = None,
        root: str | None = None,
        storage_options: Mapping[str, Any] | None = None,
        memory_limit: int | None = UNSET,
        time_limit: float | None = UNSET,
        output_limit: int | None = UNSET,
        cancel: CancelToken | None = None,
        devices: Mapping[str, DeviceFactory] | None = None,
    ) -> FramesResult:
        """Write stills of one input's video (a frames job) and return the files written, in index order.

        Like :meth:`run`: a :class:`FramesJob` is validated on the Python side first; a wire dict is sent as is
        (``"op"`` defaulting to ``"frames"``) and judged by the engine. The files' parent directories must exist.
        The other keywords are those of :meth:`run` (the input may be a stream device with ``devices``; the stills
        are files).
        """
        wire = _typed_job_dict(job, FramesJob, "frames")
        limits = _limit_kw(memory_limit, time_limit, output_limit, cancel)
        answer = self.call(wire, fs=fs, root=root, storage_options=storage_options, devices=devices, **limits)
        return FramesResult.from_dict(answer)

    # ------------------------------------------------------------------ asyncio

    async def run_async(self, job: ProcessJob | Mapping[str, Any], **kwargs: Any) -> ProcessResult:
        """:meth:`run` on an executor thread, awaited without blocking the event loop.

        Takes the keywords of :meth:`run` (``fs``, ``root``, ``storage_options``, ``progress``, the limits,
        ``cancel``, ``devices``), plus ``executor`` (default: the loop's). Cancelling the awaiting task stops the job
        through a :class:`~afmpeg.CancelToken` (within about 50 ms of guest execution, or of a wait on a stream
        device) and raises ``asyncio.CancelledError`` once it has stopped. ``progress`` is called on the event
        loop's thread. The host side of a stream device must be served by another thread (its pipe calls block).
        """
        from . import aio

        return await aio.run_async(self, job, **kwargs)

    async def probe_async(self, path: str | Input | Sequence[str | Input] | ProbeJob, **kwargs: Any) -> ProbeResult:
        """:meth:`probe`, awaited; cancellable like :meth:`run_async`."""
        from . import aio

        return await aio.probe_async(self, path, **kwargs)

    async def frames_async(self, job: FramesJob | Mapping[str, Any], **kwargs: Any) -> FramesResult:
        """:meth:`frames`, awaited; cancellable like :meth:`run_async`."""
        from . import aio

        return await aio.frames_async(self, job, **kwargs)

    async def call_async(self, job: Mapping[str, Any], **kwargs: Any) -> dict[str, Any]:
        """:meth:`call`, awaited; cancellable like :meth:`run_async`."""
        from . import aio

        return await aio.call_async(self, job, **kwargs)


def _limit_kw(memory_limit: Any, time_limit: Any, output_limit: Any, cancel: Any) -> dict[str, Any]:
    return {"memory_limit": memory_limit, "time_limit": time_limit, "output_limit": output_limit, "cancel": cancel}


def _compiled_cache_dir(cache_dir: str | os.PathLike[str] | bool | None) -> str | os.PathLike[str] | bool | None:
    """The compiled-code cache for a fetched module's cache root ``cache_dir`` (``None``/``True``: the default,
    ``False``: none, a directory: its ``compiled/``), so a chosen root holds both caches."""
    if cache_dir is None or cache_dir is True:
        return None
    if cache_dir is False:
        return False
    return Path(cache_dir).expanduser() / "compiled"


def _may_be_out_of_memory(result: CommandResult) -> bool:
    """Whether a failure may come from a refused ``memory.grow``: a trap, or an engine error of kind
    ``no_memory`` or the catch-all ``processing`` (libav reports some allocation failures as plain errors).
    Bad data, a missing file, a bad spec or a missing component is that cause, however full the memory."""
    if result.trap is not None:
        return True
    answer = _parse_result_line(result.stdout)
    kind = answer.get("kind") if isinstance(answer, dict) else None
    return kind in (None, "no_memory", "processing")


def _memory_margin(limit: int) -> int:
    """How close to ``memory_limit`` a failed job's memory must be to count as having run out of it."""
    return max(min(limit // 4, 64 << 20), 4 * WASM_PAGE)


def _typed_job_dict(job: Any, cls: type[ProcessJob] | type[FramesJob], method: str) -> dict[str, Any]:
    """The wire dict for a job object of ``cls`` (validated) or a dict (sent as is, ``op`` defaulting to cls.op)."""
    if isinstance(job, Mapping):
        op = job.get("op", cls.op)
        if op != cls.op:
            raise JobSpecError(f"Runtime.{method}() takes {cls.op} jobs; use call() for op {op!r}")
        return job_to_dict({**job, "op": cls.op})
    if not isinstance(job, cls):
        raise JobSpecError(f"expected a {cls.__name__} or a dict, got {type(job).__name__}")
    return job_to_dict(job)
