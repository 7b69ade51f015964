"""The release pipeline (engine/release.py, `make release`) on the real outputs of `make engine`.

A release is written once per module into a temporary directory with a key made here, then loaded with
Runtime.from_release from it as an offline bundle and served from 127.0.0.1, checked with sha256sum and the real
minisign tool, and tampered (each tampering on a copy).
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

import afmpeg
from afmpeg.errors import ChecksumMismatch, ProvenanceMismatch, SignatureInvalid
from afmpeg.release import Checksums, PublicKey, SecretKey, acquire_release, generate_keypair, sha256_file, verify

from .conftest import REPO, make_clip_job
from .module_cache import cache_entries, refuse_compiling
from .release_files import sign_dir
from .release_server import ReleaseServer

SCRIPT = REPO / "engine" / "release.py"
BUILD = REPO / "build"
TAG = "v0.0.0-pipeline-test"
_spec = importlib.util.spec_from_file_location("_minisign_tool", REPO / "tests" / "unit" / "minisign_tool.py")
assert _spec is not None and _spec.loader is not None
minisign_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(minisign_tool)  # how the unit tests get the real minisign tool
ENGINES = ("lgpl", "gpl", "lgpl-full", "gpl-full")  # every module `make engine` builds; a release carries each
KEY_VARS = ("AFMPEG_RELEASE_KEY", "AFMPEG_RELEASE_KEY_FILE", "SOURCE_DATE_EPOCH")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in KEY_VARS}
    env.update(extra)
    return env


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=600)


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SecretKey, PublicKey]:
    secret, public = generate_keypair()
    path = tmp_path_factory.mktemp("key") / "release.key"
    path.write_text(secret.to_text())
    path.chmod(0o600)
    return path, secret, public


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory, key: tuple[Path, SecretKey, PublicKey]) -> Path:
    for v in ENGINES:
        if not (BUILD / f"afmpeg-engine-{v}.wasm").is_file():
            pytest.fail(f"build/afmpeg-engine-{v}.wasm is missing: run `make engine`")
    out = tmp_path_factory.mktemp("releases")
    proc = _run("--tag", TAG, "--out", str(out), env=_env(AFMPEG_RELEASE_KEY_FILE=str(key[0])))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out / TAG


def _fresh_cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def test_release_has_every_asset_and_valid_provenance(release: Path, key: tuple[Path, SecretKey, PublicKey]) -> None:
    names = sorted(p.name for p in release.iterdir())
    wheels = [n for n in names if n.endswith("-py3-none-any.whl")]
    assert sorted(w.split("-")[0] for w in wheels) == sorted(f"afmpeg_engine_{e.replace('-', '_')}" for e in ENGINES)
    expected = {"checksums.txt", "checksums.txt.sig", "provenance.json", *wheels}
    for v in ENGINES:
        expected |= {f"afmpeg-engine-{v}.wasm", f"afmpeg-engine-{v}.wasm.gz"}
    assert set(names) == expected
    # checksums.txt covers every asset, provenance.json included, and nothing else
    sums = Checksums.parse((release / "checksums.txt").read_text())
    assert set(sums) == expected - {"checksums.txt", "checksums.txt.sig"}
    assert all(sums[n] == sha256_file(release / n) for n in sums)
    # the signature: our key, a trusted comment with the timestamp and the file name
    signed = verify((release / "checksums.txt").read_bytes(), (release / "checksums.txt.sig").read_text(), key[2])
    assert signed.fields["file"] == "checksums.txt" and int(signed.fields["timestamp"]) > 1_600_000_000
    # the release-level provenance: per variant, the build's provenance plus the variant's files
    doc = json.loads((release / "provenance.json").read_text())
    assert doc["release"] == TAG and set(doc["variants"]) == set(ENGINES)
    for v, entry in doc["variants"].items():
        build = json.loads((BUILD / f"afmpeg-engine-{v}.wasm.provenance.json").read_text())
        assert {k: entry[k] for k in build} == build
        raw, gz = f"afmpeg-engine-{v}.wasm", f"afmpeg-engine-{v}.wasm.gz"
        wheel = next(w for w in wheels if w.startswith(f"afmpeg_engine_{v.replace('-', '_')}-"))
        assert set(entry["files"]) == {raw, gz, wheel}
        for name, info in entry["files"].items():
            assert info == {"sha256": sums[name], "size": (release / name).stat().st_size}
        assert entry["module_sha256"] == sha256_file(BUILD / raw) == sums[raw]
        assert wheel.split("+")[1].startswith(entry["module_sha256"][:12])
        # deterministic gzip: no mtime, no file name, and it is the module
        data = (release / gz).read_bytes()
        assert data[4:8] == b"\0\0\0\0" and not data[3] & 0x08
        assert gzip.decompress(data) == (BUILD / raw).read_bytes()
    assert doc["variants"]["lgpl"]["license"] != doc["variants"]["gpl"]["license"]


def test_lgpl_raw_module_loads_from_the_release(release: Path, key: tuple[Path, SecretKey, PublicKey],
                                                tmp_path: Path) -> None:
    rt = afmpeg.Runtime.from_release(TAG, "lgpl", bundle_dir=release, trusted_keys=[key[2]], gz=False,
                                     cache_dir=_fresh_cache(tmp_path))
    assert rt.version().vocab_version >= 1
    assert sha256_file(rt.module_path) == sha256_file(release / "afmpeg-engine-lgpl.wasm")


def test_gpl_gz_module_loads_from_the_release(release: Path, key: tuple[Path, SecretKey, PublicKey],
                                              tmp_path: Path) -> None:
    rt = afmpeg.Runtime.from_release(TAG, "gpl", bundle_dir=release, trusted_keys=[key[2].to_text()], gz=True,
                                     cache_dir=_fresh_cache(tmp_path))
    assert rt.version().vocab_version >= 1
    assert sha256_file(rt.module_path) == sha256_file(release / "afmpeg-engine-gpl.wasm")


@pytest.mark.parametrize("variant", ["lgpl", "gpl"])
def test_full_profile_modules_come_from_the_release(release: Path, key: tuple[Path, SecretKey, PublicKey],
                                                    variant: str) -> None:
    got = acquire_release(TAG, variant, profile="full", bundle_dir=release, trusted_keys=[key[2]], cache_dir=False)
    assert got.profile == "full" and got.release.file.name == f"afmpeg-engine-{variant}-full.wasm.gz"
    assert got.data == (BUILD / f"afmpeg-engine-{variant}-full.wasm").read_bytes()
    assert got.release.provenance["variants"][f"{variant}-full"]["profile"] == "full"


def test_sha256sum_checks_the_release(release: Path) -> None:
    if shutil.which("sha256sum") is None:
        pytest.skip("no sha256sum on this machine")
    proc = subprocess.run(["sha256sum", "-c", "checksums.txt"], cwd=release, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count(": OK") == len(Checksums.parse((release / "checksums.txt").read_text()))


def test_minisign_tool_verifies_the_release(release: Path, key: tuple[Path, SecretKey, PublicKey]) -> None:
    try:
        minisign = minisign_tool.minisign_binary()
    except minisign_tool.MinisignUnavailable as e:
        pytest.skip(str(e))
    proc = subprocess.run(
        [str(minisign), "-Vm", "checksums.txt", "-x", "checksums.txt.sig", "-P", key[2].to_base64()],
        cwd=release, capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Signature and comment signature verified" in proc.stdout + proc.stderr
    assert "file:checksums.txt" in proc.stdout + proc.stderr


def test_module_altered_after_signing_is_checksum_mismatch(
    release: Path, key: tuple[Path, SecretKey, PublicKey], tmp_path: Path
) -> None:
    bundle = tmp_path / TAG
    shutil.copytree(release, bundle)
    module = bundle / "afmpeg-engine-lgpl.wasm"
    data = bytearray(module.read_bytes())
    data[len(data) // 2] ^= 0xFF
    module.write_bytes(bytes(data))
    with pytest.raises(ChecksumMismatch):
        afmpeg.Runtime.from_release(TAG, "lgpl", bundle_dir=bundle, trusted_keys=[key[2]], gz=False,
                                    cache_dir=_fresh_cache(tmp_path))


def test_no_key_refuses_with_how_to_make_one(tmp_path: Path) -> None:
    proc = _run("--tag", TAG, "--out", str(tmp_path / "out"), env=_env())
    assert proc.returncode != 0
    assert "no signing key" in proc.stderr and "--new-key" in proc.stderr and "AFMPEG_RELEASE_KEY" in proc.stderr
    assert not (tmp_path / "out" / TAG).exists()


def test_new_key_writes_a_private_key_and_prints_the_public_key(tmp_path: Path) -> None:
    path = tmp_path / "new.key"
    proc = _run("--new-key", str(path), env=_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert path.stat().st_mode & 0o777 == 0o600
    public = SecretKey.from_text(path.read_text()).public_key
    assert public.to_base64() in proc.stdout
    # never overwrites a key
    before = path.read_bytes()
    assert _run("--new-key", str(path), env=_env()).returncode != 0
    assert path.read_bytes() == before


def test_release_is_deterministic_but_for_the_timestamp(
    release: Path, key: tuple[Path, SecretKey, PublicKey], tmp_path: Path
) -> None:
    # the key given as text this time; SOURCE_DATE_EPOCH pins the signature's timestamp too
    env = _env(AFMPEG_RELEASE_KEY=key[1].to_text(), SOURCE_DATE_EPOCH="1700000000")
    proc = _run("--tag", TAG, "--out", str(tmp_path), env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    again = tmp_path / TAG
    assert sorted(p.name for p in again.iterdir()) == sorted(p.name for p in release.iterdir())
    for p in release.iterdir():
        if p.name != "checksums.txt.sig":
            assert (again / p.name).read_bytes() == p.read_bytes(), p.name
    sig = (again / "checksums.txt.sig").read_text()
    assert "trusted comment: timestamp:1700000000\tfile:checksums.txt" in sig
    verify((again / "checksums.txt").read_bytes(), sig, key[2])


# ------------------------------------------------------------------------------------ served from 127.0.0.1

Key = tuple[Path, SecretKey, PublicKey]


@pytest.fixture(scope="module")
def server() -> Iterator[ReleaseServer]:
    srv = ReleaseServer()
    yield srv
    srv.close()


@pytest.fixture
def served(release: Path, server: ReleaseServer, tmp_path: Path) -> Path:
    """A copy of the pipeline's release (free to tamper with), served as TAG."""
    copy = tmp_path / "served" / TAG
    shutil.copytree(release, copy)
    server.serve(TAG, copy)
    return copy


def _from_server(server: ReleaseServer, keys: list[Any], cache: Path, variant: str = "lgpl",
                 gz: bool = True) -> afmpeg.Runtime:
    return afmpeg.Runtime.from_release(TAG, variant, base_url=server.base_url, trusted_keys=keys, cache_dir=cache,
                                       gz=gz)


def test_served_release_loads_and_runs_a_job(served: Path, server: ReleaseServer, key: Key, cache_root: Path) -> None:
    rt = _from_server(server, [key[2]], cache_root)
    fs = afmpeg.MemoryFS()
    rt.run(make_clip_job(seconds=1, size="160x120"), fs=fs)
    info = rt.probe("clip.mp4", fs=fs)[0]
    assert info.video is not None and (info.video.width, info.video.height) == (160, 120)
    for name in ("checksums.txt", "checksums.txt.sig", "provenance.json", "afmpeg-engine-lgpl.wasm.gz"):
        assert server.count(name, TAG) == 1, name
    assert server.count("afmpeg-engine-lgpl.wasm", TAG) == 0
    assert [p.name for p in cache_entries(cache_root)] == [f"{sha256_file(BUILD / 'afmpeg-engine-lgpl.wasm')}.wasm"]


def test_served_gpl_variant_is_the_gpl_module(served: Path, server: ReleaseServer, key: Key, tmp_path: Path) -> None:
    rt = _from_server(server, [key[2]], _fresh_cache(tmp_path), variant="gpl", gz=False)
    assert sha256_file(rt.module_path) == sha256_file(BUILD / "afmpeg-engine-gpl.wasm")
    assert rt.capabilities().encoder("libx264") is not None
    assert server.count("afmpeg-engine-gpl.wasm", TAG) == 1 and server.count("afmpeg-engine-lgpl.wasm.gz", TAG) == 0


@pytest.mark.parametrize("name", ["afmpeg-engine-lgpl.wasm", "afmpeg-engine-lgpl.wasm.gz"])
def test_served_module_altered_after_signing_is_checksum_mismatch(
    served: Path, server: ReleaseServer, key: Key, cache_root: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = bytearray((BUILD / "afmpeg-engine-lgpl.wasm").read_bytes())
    module[len(module) // 2] ^= 0xFF
    data = gzip.compress(bytes(module), mtime=0) if name.endswith(".gz") else bytes(module)
    (served / name).write_bytes(data)
    refuse_compiling(monkeypatch)
    with pytest.raises(ChecksumMismatch):
        _from_server(server, [key[2]], cache_root, gz=name.endswith(".gz"))
    assert cache_entries(cache_root) == []


def test_served_release_signed_by_an_untrusted_key_is_signature_invalid(
    served: Path, server: ReleaseServer, key: Key, cache_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    intruder, _ = generate_keypair()
    sign_dir(served, intruder)
    refuse_compiling(monkeypatch)
    with pytest.raises(SignatureInvalid, match="not a trusted key"):
        _from_server(server, [key[2]], cache_root)
    assert server.count("afmpeg-engine-lgpl.wasm.gz", TAG) == 0


def test_served_provenance_naming_another_file_is_provenance_mismatch(
    served: Path, server: ReleaseServer, key: Key, cache_root: Path
) -> None:
    prov = served / "provenance.json"
    prov.write_text(prov.read_text().replace("afmpeg-engine-lgpl.wasm", "afmpeg-engine-lgpl-old.wasm"))
    sign_dir(served, key[1])  # signed by the trusted key: only the provenance is wrong
    with pytest.raises(ProvenanceMismatch, match="does not name afmpeg-engine-lgpl.wasm.gz"):
        _from_server(server, [key[2]], cache_root)
    assert server.count("afmpeg-engine-lgpl.wasm.gz", TAG) == 0


def test_served_tampered_cache_entry_is_downloaded_again(
    served: Path, server: ReleaseServer, key: Key, cache_root: Path
) -> None:
    first = acquire_release(TAG, base_url=server.base_url, trusted_keys=[key[2]], cache_dir=cache_root)
    assert first.path is not None and not first.from_cache
    first.path.write_bytes(first.data[:-1] + bytes([first.data[-1] ^ 0xFF]))
    rt = _from_server(server, [key[2]], cache_root)
    assert rt.version().vocab_version >= 1
    assert server.count("afmpeg-engine-lgpl.wasm.gz", TAG) == 2
    assert first.path.read_bytes() == (BUILD / "afmpeg-engine-lgpl.wasm").read_bytes()


def test_served_release_verifies_with_a_second_key_during_rotation(
    served: Path, server: ReleaseServer, key: Key, cache_root: Path
) -> None:
    new_secret, new_public = generate_keypair()
    sign_dir(served, new_secret)  # the next key signs; both are trusted while clients move over
    rt = _from_server(server, [key[2], new_public], cache_root)
    assert rt.version().vocab_version >= 1
    with pytest.raises(SignatureInvalid):
        _from_server(server, [key[2]], cache_root)


def test_release_bundle_loads_with_the_network_disabled(
    release: Path, key: Key, cache_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an offline bundle must not touch the network")

    monkeypatch.setattr(requests.Session, "get", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    rt = afmpeg.Runtime.from_release(TAG, bundle_dir=release, trusted_keys=[key[2]], cache_dir=cache_root)
    assert rt.version().vocab_version >= 1
