"""Download an engine module by URL, verify its SHA-256 and keep it in a content-addressed cache.

:func:`fetch_module` is the one way afmpeg obtains a module from a URL: it reads the body (``http(s)://`` through a
``requests``-like session, ``file://`` URLs and plain local paths straight from disk, no network), caps its size,
gunzips it if asked (or if it starts with the gzip magic), and checks the SHA-256 of the *decompressed* bytes
against the expected digest, which is required: a module is never returned unverified. Verified modules are kept as
``<cache>/modules/<sha256>.wasm``; a cache entry is hashed again every time it is read, and one that no longer
matches its name (corrupted or tampered with on disk) is deleted and downloaded again. Entries are written under a
temporary name in the same directory and renamed into place, so a reader never sees half a file and concurrent
downloads of the same module each leave a complete one.

The cache lives in ``modules/`` under the afmpeg cache root: ``AFMPEG_CACHE_DIR`` when set (the directory that also
holds compiled code), else the user cache directory (``platformdirs.user_cache_dir("afmpeg")``, next to
``compiled/``). Nothing here knows about the Runtime; :meth:`afmpeg.Runtime.from_url` compiles the verified bytes.
"""

from __future__ import annotations

import hashlib
import os
import re
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .compile_cache import _atomic_write, _private_dir
from .errors import ChecksumMismatch, DownloadError, ModuleVerificationError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TIMEOUT",
    "FetchedModule",
    "default_cache_root",
    "module_cache_dir",
    "fetch_bytes",
    "fetch_module",
]

#: The default cap on a download, applied to the bytes received and again to the bytes after gunzip (256 MiB).
DEFAULT_MAX_BYTES = 256 * 1024 * 1024

#: The default network timeout in seconds (for connecting and between received bytes, as ``requests`` counts it).
DEFAULT_TIMEOUT = 60.0

_CHUNK = 1 << 16
_GZIP_MAGIC = b"\x1f\x8b"
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def default_cache_root() -> Path:
    """The afmpeg cache root: ``AFMPEG_CACHE_DIR`` when set, else ``platformdirs.user_cache_dir("afmpeg")``.

    Compiled code goes directly into ``AFMPEG_CACHE_DIR`` (or ``compiled/`` in the user cache directory, see
    :mod:`afmpeg.compile_cache`); downloaded modules go into ``modules/`` below this root.
    """
    env = os.environ.get("AFMPEG_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("afmpeg"))


def module_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The directory holding downloaded modules: ``<cache_dir>/modules`` (default root: :func:`default_cache_root`)."""
    root = default_cache_root() if cache_dir is None else Path(cache_dir).expanduser()
    return root / "modules"


@dataclass(frozen=True)
class FetchedModule:
    """A module that passed verification: its bytes and where they came from.

    Attributes:
        data: the module's bytes (decompressed); their SHA-256 is ``sha256``.
        sha256: the verified SHA-256 (lowercase hex).
        url: the URL (or path) it was asked for.
        path: the cache entry holding the same bytes, or ``None`` when caching was disabled or not possible.
        from_cache: ``True`` when the bytes came from the cache and nothing was downloaded.
    """

    data: bytes = field(repr=False)
    sha256: str
    url: str
    path: Path | None
    from_cache: bool


def _normalize_sha256(sha256: str) -> str:
    if not isinstance(sha256, str):
        raise TypeError(f"sha256 must be a hex string, not {type(sha256).__name__}")
    digest = sha256.strip().lower()
    if digest.startswith("sha256:"):
        digest = digest[len("sha256:") :]
    if not _SHA256_HEX.fullmatch(digest):
        raise ValueError(f"sha256 must be 64 hexadecimal digits, got {sha256!r}")
    return digest


def _local_path(url: str | os.PathLike[str]) -> Path | None:
    """The file a ``file://`` URL or a plain path names; ``None`` for anything to fetch over the network."""
    if isinstance(url, os.PathLike):
        return Path(url)
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise DownloadError(f"file URL {url!r} names a remote host", url=url)
        return Path(urllib.request.url2pathname(parsed.path))
    if "://" not in url:
        return Path(url).expanduser()
    return None


def _too_large(url: str, what: str, max_bytes: int) -> DownloadError:
    return DownloadError(f"{what} of {url} is larger than max_bytes={max_bytes}", url=url)


def _read_local(path: Path, url: str, max_bytes: int) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise DownloadError(f"cannot read {url}: {exc.strerror or exc}", url=url) from exc
    if len(data) > max_bytes:
        raise _too_large(url, "the file", max_bytes)
    return data


def _read_http(url: str, session: Any, max_bytes: int, timeout: float | tuple[float, float] | None) -> bytes:
    import requests

    own_session = session is None
    if own_session:
        session = requests.Session()
    response = None
    try:
        try:
            response = session.get(url, stream=True, timeout=timeout)
            status = int(response.status_code)
            if status >= 400:
                reason = getattr(response, "reason", "") or ""
                raise DownloadError(f"HTTP {status} {reason}".rstrip() + f" for {url}", url=url, status=status)
            length = (getattr(response, "headers", None) or {}).get("Content-Length")
            if length is not None and length.strip().isdigit() and int(length) > max_bytes:
                raise _too_large(url, "the body", max_bytes)
            if not hasattr(response, "iter_content"):
                body = bytes(response.content)
                if len(body) > max_bytes:
                    raise _too_large(url, "the body", max_bytes)
                return body
            buf = bytearray()
            for chunk in response.iter_content(chunk_size=_CHUNK):
                buf += chunk
                if len(buf) > max_bytes:
                    raise _too_large(url, "the body", max_bytes)
            return bytes(buf)
        except (requests.RequestException, OSError) as exc:
            raise DownloadError(f"cannot download {url}: {exc}", url=url) from exc
    finally:
        if response is not None and hasattr(response, "close"):
            response.close()
        if own_session:
            session.close()


def fetch_bytes(
    url: str | os.PathLike[str],
    *,
    session: Any = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float | tuple[float, float] | None = DEFAULT_TIMEOUT,
) -> bytes:
    """The body at ``url``, as received (no gunzip, no verification), at most ``max_bytes`` long.

    ``url`` is an ``http(s)://`` URL (or any URL ``session`` understands), a ``file://`` URL or a local path; local
    files are read directly, with no network. ``session`` is anything with ``.get(url, stream=True, timeout=…)``
    returning a response with ``status_code`` and ``iter_content(chunk_size=…)`` (or ``content``), e.g. a
    ``requests.Session``; default: a fresh ``requests.Session``.

    Raises :class:`~afmpeg.errors.DownloadError`: ``status`` is the HTTP status for an HTTP error, ``None`` for a
    network error, a missing local file or a body larger than ``max_bytes``.
    """
    if max_bytes <= 0:
        raise ValueError(f"max_bytes must be positive, got {max_bytes!r}")
    path = _local_path(url)
    text = os.fspath(url)
    if path is not None:
        return _read_local(path, text, max_bytes)
    return _read_http(text, session, max_bytes, timeout)


def _gunzip(data: bytes, url: str, max_bytes: int) -> bytes:
    """Decompress every gzip member of ``data``, never producing more than ``max_bytes`` (a gzip bomb stops there)."""
    out = bytearray()
    rest = data
    try:
        while True:
            d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            buf = rest
            while True:
                chunk = d.decompress(buf, max_bytes + 1 - len(out))
                out += chunk
                if len(out) > max_bytes:
                    raise _too_large(url, "the decompressed module", max_bytes)
                buf = d.unconsumed_tail
                if d.eof or (not buf and not chunk):
                    break
            if not d.eof:
                raise ModuleVerificationError(f"the gzip data of {url} is truncated")
            rest = d.unused_data
            if not rest.startswith(_GZIP_MAGIC):
                break
    except zlib.error as exc:
        raise ModuleVerificationError(f"{url} is not valid gzip data: {exc}") from exc
    if rest.strip(b"\0"):
        raise ModuleVerificationError(f"{url} has trailing data after its gzip stream")
    return bytes(out)


def _read_cached(entry: Path, digest: str) -> bytes | None:
    """The entry's bytes if they hash to ``digest``; a mismatching entry is deleted. ``None`` when absent/bad."""
    try:
        data = entry.read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() == digest:
        return data
    try:
        entry.unlink()
    except OSError:
        pass
    return None


def fetch_module(
    url: str | os.PathLike[str],
    *,
    sha256: str,
    gunzip: bool | None = None,
    cache_dir: str | os.PathLike[str] | bool | None = None,
    session: Any = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float | tuple[float, float] | None = DEFAULT_TIMEOUT,
    compressed_sha256: str | None = None,
) -> FetchedModule:
    """Get the module at ``url`` whose SHA-256 (after decompression) is ``sha256``: from the cache, else downloaded.

    Args:
        url: an ``http(s)://`` URL, a ``file://`` URL or a local path (local files need no network).
        sha256: the expected SHA-256 of the module itself (after any gunzip), 64 hex digits (a ``sha256:`` prefix
            is accepted). Required: nothing is returned or cached without passing this check.
        gunzip: ``True`` to gunzip the body, ``False`` to take it as is, ``None`` (default) to gunzip exactly when
            the body starts with the gzip magic (so a ``.gz`` URL whose server already undid a ``Content-Encoding``
            still works).
        cache_dir: the cache root; entries live in ``<cache_dir>/modules/<sha256>.wasm``. ``None``: the default
            root (:func:`default_cache_root`); ``False``: no cache (always download, store nothing).
        session: a ``requests.Session``-like object used for network URLs (see :func:`fetch_bytes`).
        max_bytes: the largest body accepted, and again the largest decompressed module (default 256 MiB).
        timeout: the network timeout passed to ``session.get``.
        compressed_sha256: when given, the SHA-256 the body must have *as received* whenever it is gunzipped,
            checked before decompressing (so altered gzip data is a ``ChecksumMismatch``, not a gzip error). A body
            that is not gunzipped (e.g. a server undid a ``Content-Encoding``) is checked against ``sha256`` only.

    A cache entry is hashed each time it is read; one that does not match (corrupted or altered on disk) is deleted
    and the module downloaded again. A verified download is written atomically (temporary file + rename). A cache
    directory that cannot be created privately or written is skipped silently: the verified bytes are still
    returned.

    Raises:
        ChecksumMismatch: the module's SHA-256 is not ``sha256`` (``expected`` / ``actual``); nothing is cached.
        DownloadError: an HTTP error (``status``), a network error or a body / module over ``max_bytes``
            (``status=None``).
        ModuleVerificationError: ``gunzip`` was asked for (or detected) but the body is not valid gzip data.
        ValueError: ``sha256`` is not a SHA-256 hex digest.
    """
    digest = _normalize_sha256(sha256)
    body_digest = None if compressed_sha256 is None else _normalize_sha256(compressed_sha256)
    text = os.fspath(url)
    directory: Path | None = None
    if cache_dir is not False:
        directory = module_cache_dir(None if cache_dir in (None, True) else cache_dir)  # type: ignore[arg-type]
    entry = directory / f"{digest}.wasm" if directory is not None else None

    if entry is not None:
        cached = _read_cached(entry, digest)
        if cached is not None:
            return FetchedModule(data=cached, sha256=digest, url=text, path=entry, from_cache=True)

    body = fetch_bytes(url, session=session, max_bytes=max_bytes, timeout=timeout)
    if gunzip is None:
        gunzip = body.startswith(_GZIP_MAGIC)
    if gunzip and body_digest is not None:
        received = hashlib.sha256(body).hexdigest()
        if received != body_digest:
            raise ChecksumMismatch(
                f"the gzip data at {text} has SHA-256 {received}, expected {body_digest}",
                expected=body_digest,
                actual=received,
            )
    data = _gunzip(body, text, max_bytes) if gunzip else body
    actual = hashlib.sha256(data).hexdigest()
    if actual != digest:
        raise ChecksumMismatch(
            f"the module at {text} has SHA-256 {actual}, expected {digest}" + (" (after gunzip)" if gunzip else ""),
            expected=digest,
            actual=actual,
        )

    stored: Path | None = None
    if entry is not None and directory is not None and _private_dir(directory):
        try:
            _atomic_write(entry, data)
            stored = entry
        except OSError:
            pass  # a cache we cannot write is not an error
    return FetchedModule(data=data, sha256=digest, url=text, path=stored, from_cache=False)
