"""Runtime.from_url: download, gunzip, SHA-256 check, content-addressed cache, size caps, typed errors.

A local HTTP server on 127.0.0.1 serves the real engine module raw and gzipped and counts the requests it gets.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import socket
import threading
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

import afmpeg
from afmpeg.errors import ChecksumMismatch, DownloadError, ModuleVerificationError
from afmpeg.fetch import fetch_module, module_cache_dir

from .module_cache import cache_entries, refuse_compiling

BOMB_SIZE = 64 * 1024 * 1024


class _Server:
    def __init__(self, routes: dict[str, tuple[bytes, bool]]) -> None:
        self.routes = routes  # path -> (body, send Content-Length)
        self.hits: Counter[str] = Counter()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                server.hits[self.path] += 1
                if self.path not in server.routes:
                    self.send_error(404)
                    return
                body, with_length = server.routes[self.path]
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                if with_length:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a body over its cap)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    @property
    def total(self) -> int:
        return sum(self.hits.values())

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture(scope="module")
def wasm(module_path: Path) -> bytes:
    return module_path.read_bytes()


@pytest.fixture(scope="module")
def digest(wasm: bytes) -> str:
    return hashlib.sha256(wasm).hexdigest()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return gzip.compress(bytes(BOMB_SIZE), compresslevel=9)


@pytest.fixture(scope="module")
def _shared_server(wasm: bytes, bomb: bytes) -> Iterator[_Server]:
    srv = _Server(
        {
            "/engine.wasm": (wasm, True),
            "/engine.wasm.gz": (gzip.compress(wasm, compresslevel=6), True),
            "/stream/engine.wasm": (wasm, False),  # no Content-Length: the cap must hold while streaming
            "/bomb.wasm.gz": (bomb, True),
        }
    )
    yield srv
    srv.close()


@pytest.fixture
def server(_shared_server: _Server) -> _Server:
    """The module's server with its request counts reset."""
    _shared_server.hits.clear()
    return _shared_server


# ---------------------------------------------------------------------------------------------- good downloads


def test_download_verifies_caches_and_runs(server: _Server, cache_root: Path, digest: str, wasm: bytes) -> None:
    rt = afmpeg.Runtime.from_url(server.url("/engine.wasm"), sha256=digest, cache_dir=cache_root)
    assert rt.version().vocab_version >= 9
    assert server.hits["/engine.wasm"] == 1
    entry = module_cache_dir(cache_root) / f"{digest}.wasm"
    assert entry.read_bytes() == wasm
    assert rt.module_path == str(entry)
    assert cache_entries(cache_root) == [entry]  # no temporary file left behind


def test_gzipped_module_is_decompressed_then_verified(
    server: _Server, cache_root: Path, digest: str, wasm: bytes
) -> None:
    rt = afmpeg.Runtime.from_url(server.url("/engine.wasm.gz"), sha256=digest, cache_dir=cache_root)
    assert rt.version().ffmpeg_version
    assert (module_cache_dir(cache_root) / f"{digest}.wasm").read_bytes() == wasm


def test_gunzip_flag_forces_the_choice(server: _Server, cache_root: Path, digest: str) -> None:
    # taken as is, the gzip body is not the module: the digest covers the decompressed bytes
    with pytest.raises(ChecksumMismatch):
        fetch_module(server.url("/engine.wasm.gz"), sha256=digest, gunzip=False, cache_dir=cache_root)
    with pytest.raises(ModuleVerificationError):
        fetch_module(server.url("/engine.wasm"), sha256=digest, gunzip=True, cache_dir=cache_root)
    assert cache_entries(cache_root) == []
    got = fetch_module(server.url("/engine.wasm.gz"), sha256=digest.upper(), gunzip=True, cache_dir=cache_root)
    assert got.sha256 == digest and not got.from_cache


def test_second_call_uses_the_cache_without_a_request(server: _Server, cache_root: Path, digest: str) -> None:
    afmpeg.Runtime.from_url(server.url("/engine.wasm"), sha256=digest, cache_dir=cache_root)
    assert server.total == 1
    rt = afmpeg.Runtime.from_url(server.url("/engine.wasm"), sha256=digest, cache_dir=cache_root)
    assert server.total == 1
    assert rt.version().vocab_version >= 9
    # content-addressed: another URL for the same module needs no request either
    got = fetch_module(server.url("/engine.wasm.gz"), sha256=digest, cache_dir=cache_root)
    assert got.from_cache and server.total == 1


def test_default_cache_root_follows_afmpeg_cache_dir(
    server: _Server, tmp_path: Path, digest: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AFMPEG_CACHE_DIR", str(tmp_path / "env-cache"))
    got = fetch_module(server.url("/engine.wasm"), sha256=digest)
    assert got.path == tmp_path / "env-cache" / "modules" / f"{digest}.wasm"
    assert fetch_module(server.url("/engine.wasm"), sha256=digest).from_cache


def test_cache_dir_false_stores_nothing(
    server: _Server, tmp_path: Path, digest: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AFMPEG_CACHE_DIR", str(tmp_path / "env-cache"))
    for _ in range(2):
        got = fetch_module(server.url("/engine.wasm"), sha256=digest, cache_dir=False)
        assert got.path is None and not got.from_cache
    assert server.total == 2
    assert not (tmp_path / "env-cache").exists()


# ------------------------------------------------------------------------------------------------ verification


def test_wrong_sha256_raises_and_caches_nothing(
    server: _Server, cache_root: Path, digest: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_compiling(monkeypatch)
    wrong = hashlib.sha256(b"another module").hexdigest()
    with pytest.raises(ChecksumMismatch) as info:
        afmpeg.Runtime.from_url(server.url("/engine.wasm"), sha256=wrong, cache_dir=cache_root)
    assert info.value.expected == wrong
    assert info.value.actual == digest
    assert isinstance(info.value, ModuleVerificationError)
    assert cache_entries(cache_root) == []


def test_sha256_is_required_and_must_be_a_digest(server: _Server, cache_root: Path) -> None:
    with pytest.raises(TypeError):
        afmpeg.Runtime.from_url(server.url("/engine.wasm"), cache_dir=cache_root)  # type: ignore[call-arg]
    for bad in ("", "abc", "z" * 64):
        with pytest.raises(ValueError):
            afmpeg.Runtime.from_url(server.url("/engine.wasm"), sha256=bad, cache_dir=cache_root)
    assert server.total == 0


def test_tampered_cache_entry_is_detected_and_downloaded_again(
    server: _Server, cache_root: Path, digest: str, wasm: bytes
) -> None:
    first = fetch_module(server.url("/engine.wasm"), sha256=digest, cache_dir=cache_root)
    assert first.path is not None and server.total == 1
    tampered = bytearray(wasm)
    tampered[len(tampered) // 2] ^= 0xFF
    first.path.write_bytes(bytes(tampered))

    rt = afmpeg.Runtime.from_url(server.url("/engine.wasm"), sha256=digest, cache_dir=cache_root)
    assert server.total == 2  # re-downloaded
    assert first.path.read_bytes() == wasm  # and the entry replaced
    assert rt.version().vocab_version >= 9

    first.path.write_bytes(wasm[:1000])  # a truncated entry too
    again = fetch_module(server.url("/engine.wasm"), sha256=digest, cache_dir=cache_root)
    assert not again.from_cache and again.data == wasm and server.total == 3


def test_cache_entry_replaced_by_another_module_is_not_loaded(server: _Server, cache_root: Path, digest: str) -> None:
    entry = module_cache_dir(cache_root) / f"{digest}.wasm"
    entry.parent.mkdir(parents=True)
    entry.write_bytes(b"\0asm\x01\0\0\0")  # a valid but different module planted under the right name
    got = fetch_module(server.url("/engine.wasm"), sha256=digest, cache_dir=cache_root)
    assert not got.from_cache and server.total == 1
    assert hashlib.sha256(entry.read_bytes()).hexdigest() == digest


# ---------------------------------------------------------------------------------------------- download errors


def test_http_404_is_a_download_error_with_the_status(
    server: _Server, cache_root: Path, digest: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_compiling(monkeypatch)
    url = server.url("/missing.wasm")
    with pytest.raises(DownloadError) as info:
        afmpeg.Runtime.from_url(url, sha256=digest, cache_dir=cache_root)
    assert info.value.status == 404
    assert info.value.url == url
    assert "404" in str(info.value)
    assert cache_entries(cache_root) == []


@pytest.mark.parametrize("path", ["/engine.wasm", "/stream/engine.wasm", "/engine.wasm.gz"])
def test_body_over_max_bytes_is_refused(
    server: _Server, cache_root: Path, digest: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse_compiling(monkeypatch)
    with pytest.raises(DownloadError) as info:
        afmpeg.Runtime.from_url(server.url(path), sha256=digest, cache_dir=cache_root, max_bytes=100_000)
    assert info.value.status is None
    assert "max_bytes" in str(info.value)
    assert cache_entries(cache_root) == []


def test_decompressed_size_is_capped_too(server: _Server, cache_root: Path, digest: str, wasm: bytes) -> None:
    # the gzip body fits, the module it expands to does not
    compressed = len(gzip.compress(wasm, compresslevel=6))
    with pytest.raises(DownloadError) as info:
        fetch_module(server.url("/engine.wasm.gz"), sha256=digest, cache_dir=cache_root, max_bytes=compressed + 10)
    assert info.value.status is None and "decompressed" in str(info.value)
    assert cache_entries(cache_root) == []


def test_gzip_bomb_is_refused(server: _Server, cache_root: Path, bomb: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_compiling(monkeypatch)
    bomb_digest = hashlib.sha256(bytes(BOMB_SIZE)).hexdigest()
    assert len(bomb) < 1024 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(DownloadError) as info:
            afmpeg.Runtime.from_url(
                server.url("/bomb.wasm.gz"), sha256=bomb_digest, cache_dir=cache_root, max_bytes=1024 * 1024
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.status is None
    assert "decompressed" in str(info.value)
    assert peak < 16 * 1024 * 1024, f"decompression used {peak} bytes: it must stop at the cap, not after"
    assert cache_entries(cache_root) == []


def test_connection_refused_is_a_download_error(cache_root: Path, digest: str) -> None:
    with socket.socket() as sock:  # bound but not listening: connecting to it is refused
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/engine.wasm"
        with pytest.raises(DownloadError) as info:
            afmpeg.Runtime.from_url(url, sha256=digest, cache_dir=cache_root, timeout=5)
    assert info.value.status is None
    assert info.value.url == url
    assert cache_entries(cache_root) == []


# --------------------------------------------------------------------------------------- sessions and local files


class _Response:
    def __init__(self, status: int, body: bytes) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}
        self.body = body
        self.closed = False

    def iter_content(self, chunk_size: int = 1) -> Iterator[bytes]:
        for i in range(0, len(self.body), chunk_size):
            yield self.body[i : i + chunk_size]

    def close(self) -> None:
        self.closed = True


class _Session:
    """Not a requests.Session: only the duck-typed interface from_url relies on."""

    def __init__(self, routes: dict[str, bytes]) -> None:
        self.routes = routes
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.responses: list[_Response] = []

    def get(self, url: str, **kwargs: Any) -> _Response:
        self.calls.append((url, kwargs))
        response = _Response(200, self.routes[url]) if url in self.routes else _Response(403, b"")
        self.responses.append(response)
        return response


def test_custom_session_is_used(cache_root: Path, digest: str, wasm: bytes) -> None:
    url = "https://modules.invalid/afmpeg-engine-lgpl.wasm.gz"  # never resolved: the session answers
    session = _Session({url: gzip.compress(wasm, compresslevel=1)})
    rt = afmpeg.Runtime.from_url(url, sha256=digest, cache_dir=cache_root, session=session, timeout=7)
    assert rt.version().vocab_version >= 9
    assert len(session.calls) == 1
    called_url, kwargs = session.calls[0]
    assert called_url == url and kwargs == {"stream": True, "timeout": 7}
    assert session.responses[0].closed

    with pytest.raises(DownloadError) as info:
        fetch_module("https://modules.invalid/other.wasm", sha256=digest, cache_dir=False, session=session)
    assert info.value.status == 403


def test_requests_session_headers_are_sent(
    server: _Server, cache_root: Path, digest: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str | None] = []
    original = server.httpd.RequestHandlerClass.do_GET  # type: ignore[attr-defined]

    def recording(handler: http.server.BaseHTTPRequestHandler) -> None:
        seen.append(handler.headers.get("X-Token"))
        original(handler)

    monkeypatch.setattr(server.httpd.RequestHandlerClass, "do_GET", recording)
    with requests.Session() as session:
        session.headers["X-Token"] = "secret-for-test"
        got = fetch_module(server.url("/engine.wasm"), sha256=digest, cache_dir=cache_root, session=session)
    assert got.sha256 == digest
    assert seen == ["secret-for-test"]


def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a local file must not touch the network")

    monkeypatch.setattr(requests.Session, "get", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def test_file_url_and_local_path_work_without_network(
    module_path: Path, tmp_path: Path, cache_root: Path, digest: str, wasm: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    gz = tmp_path / "bundle dir" / "afmpeg-engine-lgpl.wasm.gz"
    gz.parent.mkdir()
    gz.write_bytes(gzip.compress(wasm, compresslevel=1))
    _no_network(monkeypatch)

    rt = afmpeg.Runtime.from_url(module_path.resolve().as_uri(), sha256=digest, cache_dir=cache_root)
    assert rt.version().vocab_version >= 9
    assert fetch_module(gz.as_uri(), sha256=digest, cache_dir=False).data == wasm  # spaces quoted in the URL
    assert fetch_module(gz, sha256=digest, cache_dir=False).data == wasm  # a Path
    assert fetch_module(str(gz), sha256=digest, cache_dir=False).data == wasm  # a plain path string

    with pytest.raises(DownloadError) as info:
        fetch_module((tmp_path / "nope.wasm").as_uri(), sha256=digest, cache_dir=False)
    assert info.value.status is None
    with pytest.raises(ChecksumMismatch):
        fetch_module(gz, sha256=hashlib.sha256(b"x").hexdigest(), cache_dir=cache_root)
    with pytest.raises(DownloadError):
        fetch_module(gz, sha256=digest, cache_dir=False, max_bytes=1000)


def test_module_keyword_is_refused(digest: str) -> None:
    with pytest.raises(TypeError):
        afmpeg.Runtime.from_url("x.wasm", sha256=digest, module="y.wasm")
