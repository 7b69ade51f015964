"""The engine build's source handling: pinned tarballs are verified before use (no network needed)."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location("afmpeg_engine_build", REPO / "engine" / "build.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _lock(name: str, data: bytes) -> dict:
    sha = hashlib.sha256(data).hexdigest()
    return {"sources": {"demo": {"apt": "demo=1", "suite": "forky", "tarball": name, "files": {name: sha}}}}


def test_prefetched_tarballs_are_verified_and_used(build, tmp_path: Path) -> None:
    tarballs = tmp_path / "tarballs"
    tarballs.mkdir()
    (tarballs / "demo.tar.xz").write_bytes(b"pinned bytes")
    got = build.ensure_sources(_lock("demo.tar.xz", b"pinned bytes"), ["demo"], tmp_path / "cache", tarballs)
    assert got["demo"].read_bytes() == b"pinned bytes"
    assert not (tmp_path / "cache" / "apt").exists()  # the archive was not asked


def test_a_tampered_tarball_stops_the_build(build, tmp_path: Path) -> None:
    tarballs = tmp_path / "tarballs"
    tarballs.mkdir()
    (tarballs / "demo.tar.xz").write_bytes(b"tampered")
    with pytest.raises(build.BuildError, match="SHA-256"):
        build.ensure_sources(_lock("demo.tar.xz", b"pinned bytes"), ["demo"], tmp_path / "cache", tarballs)


def test_layer_keys_change_with_every_input(build) -> None:
    base = build.digest("1", {"f": "sha"}, "0.17.1", ["-O3"])
    assert base == build.digest("1", {"f": "sha"}, "0.17.1", ["-O3"])
    assert base != build.digest("1", {"f": "sha2"}, "0.17.1", ["-O3"])
    assert base != build.digest("1", {"f": "sha"}, "0.17.1", ["-O2"])


def test_lock_pins_every_source_by_sha256(build) -> None:
    import json

    lock = json.loads(build.LOCK.read_text())
    for name, src in lock["sources"].items():
        assert src["tarball"] in src["files"], name
        for sha in src["files"].values():
            assert len(sha) == 64 and int(sha, 16) >= 0
