"""Runtime.from_release: a signed release served from 127.0.0.1 (or an offline bundle), verified before compiling.

Each test writes a release directory from the real engine module (raw and gzipped, provenance.json in the release
format, checksums.txt over every file, checksums.txt.sig signed with a key made here) and a local HTTP server
serves ``/releases/<tag>/<name>`` from it, counting requests.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

import afmpeg
from afmpeg.errors import ChecksumMismatch, DownloadError, ProvenanceMismatch, SignatureInvalid, UnknownVariant
from afmpeg.fetch import module_cache_dir
from afmpeg.release import PublicKey, SecretKey, acquire, generate_keypair, sha256_hex

from .module_cache import cache_entries, refuse_compiling
from .release_files import sign_dir
from .release_server import ReleaseServer

TAG = "v0.0.0-test"
RAW = "afmpeg-engine-lgpl.wasm"
GZ = RAW + ".gz"


# ---------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def wasm(module_path: Path) -> bytes:
    return module_path.read_bytes()


@pytest.fixture(scope="module")
def wasm_gz(wasm: bytes) -> bytes:
    return gzip.compress(wasm, compresslevel=1, mtime=0)


@pytest.fixture(scope="module")
def key_a() -> tuple[SecretKey, PublicKey]:
    return generate_keypair()


@pytest.fixture(scope="module")
def key_b() -> tuple[SecretKey, PublicKey]:
    return generate_keypair()


def _provenance(files: dict[str, bytes], module: str = RAW, tag: str = TAG) -> dict[str, Any]:
    raw = files[RAW]
    return {
        "release": tag,
        "variants": {
            "lgpl": {
                "variant": "lgpl",
                "license": "LGPL-2.1-or-later",
                "h264_encoder": "libopenh264",
                "module": module,
                "module_sha256": sha256_hex(raw),
                "module_size": len(raw),
                "files": {
                    (module if n == RAW else module + ".gz"): {"sha256": sha256_hex(d), "size": len(d)}
                    for n, d in files.items()
                },
            }
        },
    }


def _write_release(
    directory: Path, files: dict[str, bytes], secret: SecretKey, doc: dict[str, Any] | None = None
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (directory / name).write_bytes(data)
    doc = _provenance(files) if doc is None else doc
    (directory / "provenance.json").write_text(json.dumps(doc, indent=2))
    sign_dir(directory, secret)
    return directory


@pytest.fixture
def release(tmp_path: Path, wasm: bytes, wasm_gz: bytes, key_a: tuple[SecretKey, PublicKey]) -> Path:
    """A good release signed with key A."""
    return _write_release(tmp_path / "release", {RAW: wasm, GZ: wasm_gz}, key_a[0])


@pytest.fixture(scope="module")
def _shared_server() -> Iterator[ReleaseServer]:
    srv = ReleaseServer()
    yield srv
    srv.close()


@pytest.fixture
def server(_shared_server: ReleaseServer, release: Path) -> ReleaseServer:
    """The server, counts reset, serving ``release`` as TAG."""
    return _shared_server.serve(TAG, release)


def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an offline bundle must not touch the network")

    monkeypatch.setattr(requests.Session, "get", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


# ---------------------------------------------------------------------------------------------- good releases


@pytest.mark.parametrize("gz", [True, False])
def test_good_release_loads_runs_and_caches(
    server: ReleaseServer, cache_root: Path, key_a: tuple[SecretKey, PublicKey], wasm: bytes, gz: bool
) -> None:
    name = GZ if gz else RAW
    rt = afmpeg.Runtime.from_release(TAG, base_url=server.base_url, trusted_keys=[key_a[1]], cache_dir=cache_root,
                                     gz=gz)
    assert rt.version().vocab_version >= 1
    for file in ("checksums.txt", "checksums.txt.sig", "provenance.json", name):
        assert server.count(file, TAG) == 1, file
    assert server.count(RAW if gz else GZ, TAG) == 0
    digest = hashlib.sha256(wasm).hexdigest()
    assert cache_entries(cache_root) == [module_cache_dir(cache_root) / f"{digest}.wasm"]
    assert rt.module_path == str(module_cache_dir(cache_root) / f"{digest}.wasm")

    # again: the metadata is verified afresh, the module comes from the cache
    got = acquire.acquire_release(TAG, base_url=server.base_url + "/", trusted_keys=key_a[1].to_text(),
                                  cache_dir=cache_root, gz=gz)
    assert got.from_cache and got.sha256 == digest and got.data == wasm
    assert server.count("checksums.txt.sig", TAG) == 2 and server.count(name, TAG) == 1
    assert got.release.signature.key_id == key_a[1].key_id_hex
    assert got.release.file.name == name and got.release.file.license == "LGPL-2.1-or-later"


def test_offline_bundle_loads_with_network_disabled(
    server: ReleaseServer, release: Path, cache_root: Path, key_a: tuple[SecretKey, PublicKey],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _no_network(monkeypatch)
    rt = afmpeg.Runtime.from_release(TAG, "lgpl", bundle_dir=release, trusted_keys=[key_a[1].to_base64()],
                                     cache_dir=cache_root)
    assert rt.version().vocab_version >= 1
    assert server.total == 0
    assert len(cache_entries(cache_root)) == 1
    # and with no cache at all
    got = acquire.acquire_release(TAG, bundle_dir=str(release), trusted_keys=key_a[1], cache_dir=False)
    assert got.path is None and got.source == str(release / GZ)
    assert server.total == 0


def test_second_trusted_key_verifies_during_rotation(
    server: ReleaseServer, release: Path, cache_root: Path, key_a: tuple[SecretKey, PublicKey],
    key_b: tuple[SecretKey, PublicKey],
) -> None:
    sign_dir(release, key_b[0])  # the new key signs this release
    rt = afmpeg.Runtime.from_release(TAG, base_url=server.base_url, trusted_keys=[key_a[1], key_b[1]],
                                     cache_dir=cache_root)
    assert rt.version().vocab_version >= 1
    with pytest.raises(SignatureInvalid, match="not a trusted key"):
        acquire.acquire_release(TAG, base_url=server.base_url, trusted_keys=[key_a[1]], cache_dir=cache_root)


def test_pinned_keys_are_the_default(
    server: ReleaseServer, cache_root: Path, key_a: tuple[SecretKey, PublicKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = f"# pinned for the test\n\nuntrusted comment: minisign public key\n{key_a[1].to_base64()}  # key A\n"
    monkeypatch.setattr(acquire, "pinned_keys", lambda: acquire.parse_trusted_keys(text))
    got = acquire.acquire_release(TAG, base_url=server.base_url, cache_dir=cache_root)
    assert got.release.signature.key_id == key_a[1].key_id_hex


def test_shipped_trusted_keys_file_parses() -> None:
    assert all(isinstance(k, PublicKey) for k in acquire.pinned_keys())
    with pytest.raises(SignatureInvalid, match="trusted_keys.txt line 2"):
        acquire.parse_trusted_keys("# ok\nnot-a-key\n")


# ---------------------------------------------------------------------------------------------- refusals


def test_no_trusted_keys_pinned_is_signature_invalid(
    server: ReleaseServer, cache_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(acquire, "pinned_keys", lambda: [])
    with pytest.raises(SignatureInvalid, match=r"no trusted release keys are pinned.*trusted_keys="):
        afmpeg.Runtime.from_release(TAG, base_url=server.base_url, cache_dir=cache_root)
    with pytest.raises(SignatureInvalid, match="trusted_keys is empty"):
        afmpeg.Runtime.from_release(TAG, base_url=server.base_url, trusted_keys=[], cache_dir=cache_root)
    assert server.total == 0  # refused before anything was fetched


@pytest.mark.parametrize("gz", [True, False])
def test_module_altered_after_signing_is_checksum_mismatch(
    server: ReleaseServer, release: Path, cache_root: Path, key_a: tuple[SecretKey, PublicKey], wasm: bytes, gz: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    altered = bytearray(wasm)
    altered[-1] ^= 0xFF
    if gz:
        (release / GZ).write_bytes(gzip.compress(bytes(altered), compresslevel=1))
    else:
        (release / RAW).write_bytes(bytes(altered))
    refuse_compiling(monkeypatch)
    with pytest.raises(ChecksumMismatch) as info:
        afmpeg.Runtime.from_release(TAG, base_url=server.base_url, trusted_keys=[key_a[1]], cache_dir=cache_root,
                                    gz=gz)
    assert info.value.actual and info.value.actual != info.value.expected
    assert cache_entries(cache_root) == []


def test_broken_gzip_after_signing_is_checksum_mismatch(
    server: ReleaseServer, release: Path, cache_root: Path, key_a: tuple[SecretKey, PublicKey], wasm_gz: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (release / GZ).write_bytes(wasm_gz[: len(wasm_gz) // 2])  # truncated: checked before any gunzip
    refuse_compiling(monkeypatch)
    with pytest.raises(ChecksumMismatch, match="gzip data"):
        afmpeg.Runtime.from_release(TAG, base_url=server.base_url, trusted_keys=[key_a[1]], cache_dir=cache_root)


def test_untrusted_signer_is_signature_invalid(
    server: ReleaseServer, release: Path, cache_root: Path, key_a: tuple[SecretKey, PublicKey],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    intruder, _ = generate_keypair()
    sign_dir(release, intruder)
    refuse_compiling(monkeypatch)
    with pytest.raises(SignatureInvalid, match="not a trusted key"):
        afmpeg.Runtime.from_release(TAG, base_url=server.base_url, trusted_keys=[key_a[1]], cache_dir=cache_root)
    assert server.count(GZ, TAG) == 0  # the module is never fetched


def test_checksums_altered_after_signing_is_signature_invalid(
    server: ReleaseServer, release: Path, cache_root: Path, key_a: tuple[SecretKey, PublicKey]
) -> None:
    sums = release / "checksums.txt"
    sums.write_text(sums.read_text() + f"{'0' * 64}  extra.bin\n")
    with pytest.raises(SignatureInvalid, match="does not verify"):
        afmpeg.Runtime.from_release(TAG, base_url=server.base_url, trusted_keys=[key_a[1]], cache_dir=cache_root)
    assert server.count(GZ, TAG) == 0


def test_provenance_naming_another_file_is_provenance_mismatch(
    server: ReleaseServer, tmp_path: Path, cache_root: Path, key_a: tuple[SecretKey, PublicKey], wasm: bytes,
    wasm_gz: bytes,
) -> None:
    files = {RAW: wasm, GZ: wasm_gz}
    other = _write_release(tmp_path / "other", files, key_a[0], _provenance(files, module="afmpeg-engine-old.wasm"))
    server.releases[TAG] = other  # checksums.txt re-signed: only provenance is wrong
    with pytest.raises(ProvenanceMismatch, match=f"does not name {GZ}"):
        afmpeg.Runtime.from_release(TAG, base_url=server.base_url, trusted_keys=[key_a[1]], cache_dir=cache_root)
    assert server.count(GZ, TAG) == 0


def test_provenance_of_another_tag_is_provenance_mismatch(
    server: ReleaseServer, tmp_path: Path, cache_root: Path, key_a: tuple[SecretKey, PublicKey], wasm: bytes,
    wasm_gz: bytes,
) -> None:
    files = {RAW: wasm, GZ: wasm_gz}
    old = _write_release(tmp_path / "old", files, key_a[0], _provenance(files, tag="v0.0.0-older"))
    server.releases[TAG] = old  # a genuinely signed older release, served under TAG
    with pytest.raises(ProvenanceMismatch, match="describes release 'v0.0.0-older'"):
        afmpeg.Runtime.from_release(TAG, base_url=server.base_url, trusted_keys=[key_a[1]], cache_dir=cache_root)


def test_provenance_altered_after_signing_is_provenance_mismatch(
    server: ReleaseServer, release: Path, cache_root: Path, key_a: tuple[SecretKey, PublicKey]
) -> None:
    prov = release / "provenance.json"
    prov.write_text(prov.read_text().replace("libopenh264", "libx264"))
    with pytest.raises(ProvenanceMismatch, match="does not match checksums.txt"):
        afmpeg.Runtime.from_release(TAG, base_url=server.base_url, trusted_keys=[key_a[1]], cache_dir=cache_root)


def test_unknown_variant(server: ReleaseServer, cache_root: Path, key_a: tuple[SecretKey, PublicKey]) -> None:
    with pytest.raises(UnknownVariant, match="unknown engine variant 'nonfree'"):
        afmpeg.Runtime.from_release(TAG, "nonfree", base_url=server.base_url, trusted_keys=[key_a[1]],
                                    cache_dir=cache_root)
    assert server.total == 0
    with pytest.raises(UnknownVariant, match="'gpl' is not in this release"):  # known, but not in this release
        afmpeg.Runtime.from_release(TAG, "gpl", base_url=server.base_url, trusted_keys=[key_a[1]],
                                    cache_dir=cache_root)


def test_tampered_cache_entry_is_downloaded_again(
    server: ReleaseServer, cache_root: Path, key_a: tuple[SecretKey, PublicKey], wasm: bytes
) -> None:
    got = acquire.acquire_release(TAG, base_url=server.base_url, trusted_keys=[key_a[1]], cache_dir=cache_root)
    assert not got.from_cache and got.path is not None
    got.path.write_bytes(b"\0asm tampered")
    rt = afmpeg.Runtime.from_release(TAG, base_url=server.base_url, trusted_keys=[key_a[1]], cache_dir=cache_root)
    assert rt.version().vocab_version >= 1
    assert server.count(GZ, TAG) == 2
    assert got.path.read_bytes() == wasm


def test_missing_file_is_download_error(
    server: ReleaseServer, release: Path, cache_root: Path, key_a: tuple[SecretKey, PublicKey]
) -> None:
    (release / "checksums.txt.sig").unlink()
    with pytest.raises(DownloadError) as info:
        afmpeg.Runtime.from_release(TAG, base_url=server.base_url, trusted_keys=[key_a[1]], cache_dir=cache_root)
    assert info.value.status == 404
    with pytest.raises(DownloadError, match="not a directory"):
        acquire.acquire_release(TAG, bundle_dir=release / "nope", trusted_keys=[key_a[1]], cache_dir=cache_root)


def test_oversized_metadata_is_download_error(
    server: ReleaseServer, release: Path, cache_root: Path, key_a: tuple[SecretKey, PublicKey]
) -> None:
    (release / "provenance.json").write_bytes(b" " * (acquire.METADATA_MAX_BYTES + 1))
    with pytest.raises(DownloadError, match="max_bytes"):
        afmpeg.Runtime.from_release(TAG, base_url=server.base_url, trusted_keys=[key_a[1]], cache_dir=cache_root)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({}, ValueError, "exactly one of base_url"),
        ({"base_url": "http://127.0.0.1:9", "bundle_dir": "."}, ValueError, "exactly one of base_url"),
        ({"bundle_dir": ".", "session": requests.Session()}, ValueError, "session= is for base_url"),
        ({"base_url": "http://127.0.0.1:9", "module": "x.wasm"}, TypeError, "not module="),
    ],
)
def test_argument_errors(kwargs: dict[str, Any], error: type[Exception], words: str,
                         key_a: tuple[SecretKey, PublicKey]) -> None:
    with pytest.raises(error, match=words):
        afmpeg.Runtime.from_release(TAG, trusted_keys=[key_a[1]], **kwargs)


@pytest.mark.parametrize("tag", ["", "..", "a/b", " v1", "v1\n"])
def test_malformed_tag(tag: str, key_a: tuple[SecretKey, PublicKey]) -> None:
    with pytest.raises(ValueError, match="not a release tag"):
        acquire.acquire_release(tag, base_url="http://127.0.0.1:9", trusted_keys=[key_a[1]])
