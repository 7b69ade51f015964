"""A private on-disk cache of compiled (native) engine code.

Compiling the multi-megabyte engine takes seconds; loading the serialized code takes about a millisecond.
Entries live under ``platformdirs.user_cache_dir("afmpeg")/compiled`` (override: ``AFMPEG_CACHE_DIR`` or the
``cache_dir`` argument), in a directory only the current user can read or write (mode 0700), because wasmtime
runs serialized code without checking it. The key is the SHA-256 of the wasm bytes + the wasmtime version + the
platform + every engine Config flag afmpeg sets. Next to each entry sits the SHA-256 of the serialized file.
The entry is read once, its bytes are checked against the digest, and exactly those bytes are deserialized (a
file swapped between a check and a load could not slip through). A mismatch, an unreadable digest or a failing
deserialize (for example on a CPU missing a feature the code was compiled for) means: recompile and overwrite.
Writes are atomic (temp file + rename), so threads and processes compiling the same module at once each leave a
complete entry; compilation is deterministic, so they agree.
"""

from __future__ import annotations

import hashlib
import os
import platform
import stat
import tempfile
import time
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import wasmtime

__all__ = ["default_cache_dir", "cache_key", "load_or_compile", "CompileInfo"]

FORMAT_VERSION = "1"


def wasmtime_version() -> str:
    try:
        return metadata.version("wasmtime")
    except metadata.PackageNotFoundError:  # pragma: no cover - wasmtime vendored without metadata
        return "unknown"


def default_cache_dir() -> Path:
    """Where compiled engine code is kept: ``AFMPEG_CACHE_DIR``, else ``afmpeg/compiled`` in the user cache
    directory."""
    env = os.environ.get("AFMPEG_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("afmpeg")) / "compiled"


def cache_key(wasm_sha256: str, config_flags: Mapping[str, Any]) -> str:
    """The cache entry's name: a hash of the module, the wasmtime version, the host and the compile flags, so
    code compiled for anything else is never loaded."""
    parts = [
        f"format={FORMAT_VERSION}",
        f"wasm={wasm_sha256}",
        f"wasmtime={wasmtime_version()}",
        f"machine={platform.machine()}",
        f"system={platform.system()}",
    ]
    parts += [f"config.{k}={config_flags[k]!r}" for k in sorted(config_flags)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _private_dir(path: Path) -> bool:
    """Create ``path`` (mode 0700) if needed; return False if it is not safely private to this user."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = path.stat()
        if hasattr(os, "getuid"):
            if st.st_uid != os.getuid():
                return False
            if stat.S_IMODE(st.st_mode) & 0o077:
                os.chmod(path, 0o700)
                if stat.S_IMODE(path.stat().st_mode) & 0o077:
                    return False
        return True
    except OSError:
        return False


def _load_verified(engine: wasmtime.Engine, entry: Path, digest_file: Path) -> wasmtime.Module | None:
    """The cached module if the entry matches its digest and deserializes; ``None`` otherwise."""
    try:
        expected = digest_file.read_bytes().strip()
        data = entry.read_bytes()
    except OSError:
        return None
    if not expected or hashlib.sha256(data).hexdigest().encode() != expected:
        return None
    try:
        return wasmtime.Module.deserialize(engine, data)
    except wasmtime.WasmtimeError:
        return None


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class CompileInfo:
    """How the module was obtained: ``compiled`` (and in how many seconds) or loaded from ``path``."""

    def __init__(self, *, compiled: bool, seconds: float, path: Path | None, key: str | None) -> None:
        self.compiled = compiled
        self.seconds = seconds
        self.path = path
        self.key = key

    def __repr__(self) -> str:
        how = "compiled" if self.compiled else "loaded from cache"
        return f"CompileInfo({how} in {self.seconds:.3f}s, path={self.path})"


def load_or_compile(
    engine: wasmtime.Engine,
    wasm: bytes,
    config_flags: Mapping[str, Any],
    cache_dir: Path | str | None | bool = None,
) -> tuple[wasmtime.Module, CompileInfo]:
    """Load the compiled module from the cache, or compile it (and store it). ``cache_dir=False`` disables caching."""
    wasm_sha = hashlib.sha256(wasm).hexdigest()
    key = cache_key(wasm_sha, config_flags)
    directory: Path | None
    if cache_dir is False:
        directory = None
    else:
        directory = default_cache_dir() if cache_dir in (None, True) else Path(cache_dir).expanduser()  # type: ignore[arg-type]
        if not _private_dir(directory):
            directory = None

    entry = digest_file = None
    if directory is not None:
        entry = directory / f"{key}.cwasm"
        digest_file = directory / f"{key}.cwasm.sha256"
        start = time.perf_counter()
        module = _load_verified(engine, entry, digest_file)
        if module is not None:
            return module, CompileInfo(compiled=False, seconds=time.perf_counter() - start, path=entry, key=key)

    start = time.perf_counter()
    module = wasmtime.Module(engine, wasm)
    seconds = time.perf_counter() - start
    if entry is not None and digest_file is not None:
        try:
            serialized = bytes(module.serialize())
            _atomic_write(entry, serialized)
            _atomic_write(digest_file, (hashlib.sha256(serialized).hexdigest() + "\n").encode())
        except (OSError, wasmtime.WasmtimeError):
            pass  # a cache we cannot write is not an error
    return module, CompileInfo(compiled=True, seconds=seconds, path=entry, key=key)
