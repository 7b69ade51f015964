"""`afmpeg module list | fetch | info` on the real engine modules (verify is in test_cli.py).

Releases are written here from the real LGPL module and signed with keys made here; `fetch` reads them from an
offline directory or from a server on 127.0.0.1, into a cache root of the test's own.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from afmpeg import engines
from afmpeg.fetch import module_cache_dir
from afmpeg.release import generate_keypair, sha256_file

from .module_cache import cache_entries
from .release_files import signed_release
from .release_server import ReleaseServer
from .test_cli import afmpeg

TAG = "v0.0.0-cli-module"


@pytest.fixture
def release(tmp_path: Path, module_path: Path) -> tuple[Path, str]:
    """A release of the real LGPL module and its public key (base64 line)."""
    directory = tmp_path / "releases" / TAG
    _, public = signed_release(directory, module_path.read_bytes(), TAG)
    return directory, public.to_base64()


@pytest.fixture(scope="module")
def server() -> Iterator[ReleaseServer]:
    srv = ReleaseServer()
    yield srv
    srv.close()


def test_fetch_from_a_bundle_caches_the_module_with_its_release_record(
    release: tuple[Path, str], cache_root: Path, module_path: Path
) -> None:
    directory, key = release
    code, out, err = afmpeg("--json", "module", "fetch", TAG, "--bundle", str(directory), "--key", key,
                            "--cache-dir", str(cache_root))
    assert code == 0, err
    got = json.loads(out)
    digest = sha256_file(module_path)
    entry = module_cache_dir(cache_root) / f"{digest}.wasm"
    assert got["path"] == str(entry) and got["module_sha256"] == digest and not got["from_cache"]
    assert got["release"] == TAG and got["variant"] == "lgpl" and got["file"] == "afmpeg-engine-lgpl.wasm.gz"
    assert entry.read_bytes() == module_path.read_bytes()
    record = engines.read_release_record(digest, cache_root)
    assert record is not None and record["tag"] == TAG and record["signed_by"] == got["signed_by"]

    # listed as a cached module of that release, and never what Runtime() picks on its own
    code, out, err = afmpeg("--json", "module", "list", "--cache-dir", str(cache_root))
    assert code == 0, err
    cached = [m for m in json.loads(out) if m["origin"] == "cache"]
    assert len(cached) == 1 and cached[0]["path"] == str(entry) and cached[0]["default_for"] == []
    assert cached[0]["release"]["tag"] == TAG and cached[0]["variant"] == "lgpl"
    assert cached[0]["license"] == "LGPL-2.1-or-later" and cached[0]["sha256"] == digest

    code, out, _ = afmpeg("module", "fetch", TAG, "--bundle", str(directory), "--key", key,
                          "--cache-dir", str(cache_root))
    assert code == 0 and "(already cached)" in out and f"cached at {entry}" in out


def test_fetch_from_a_server_named_by_the_environment(
    release: tuple[Path, str], cache_root: Path, server: ReleaseServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory, key = release
    server.serve(TAG, directory)
    monkeypatch.setenv("AFMPEG_RELEASE_URL", server.base_url)
    code, out, err = afmpeg("module", "fetch", TAG, "--key", key, "--cache-dir", str(cache_root))
    assert code == 0, err
    assert f"verified release {TAG} (variant lgpl, profile lean, LGPL-2.1-or-later)" in out
    assert server.count("afmpeg-engine-lgpl.wasm.gz", TAG) == 1 and server.count("afmpeg-engine-lgpl.wasm", TAG) == 0
    code, out, err = afmpeg("module", "fetch", TAG, "--raw", "--key", key, "--cache-dir", str(cache_root))
    assert code == 0 and "(already cached)" in out
    assert server.count("afmpeg-engine-lgpl.wasm", TAG) == 0  # same module digest: nothing downloaded


def test_fetch_refuses_an_untrusted_release_and_keeps_nothing(release: tuple[Path, str], cache_root: Path) -> None:
    directory, _ = release
    _, other = generate_keypair()
    code, out, err = afmpeg("module", "fetch", TAG, "--bundle", str(directory), "--key", other.to_base64(),
                            "--cache-dir", str(cache_root))
    assert (code, out) == (1, "") and "not a trusted key" in err
    assert cache_entries(cache_root) == []


def test_a_missing_key_file_is_a_usage_error(release: tuple[Path, str], tmp_path: Path) -> None:
    directory, _ = release
    for action in (("fetch", TAG, "--bundle", str(directory)), ("verify", str(directory))):
        code, out, err = afmpeg("module", *action, "--key", str(tmp_path / "release.pub"))
        assert (code, out) == (2, "") and "no such public key file" in err


def test_fetch_by_url_checks_the_digest(tmp_path: Path, cache_root: Path, module_path: Path) -> None:
    copy = tmp_path / "engine.wasm"
    shutil.copyfile(module_path, copy)
    digest = sha256_file(module_path)
    code, out, err = afmpeg("--json", "module", "fetch", "--url", copy.as_uri(), "--sha256", digest,
                            "--cache-dir", str(cache_root))
    assert code == 0, err
    assert json.loads(out)["path"] == str(module_cache_dir(cache_root) / f"{digest}.wasm")
    code, _, err = afmpeg("--json", "module", "fetch", "--url", copy.as_uri(), "--sha256", "0" * 64,
                          "--cache-dir", str(tmp_path / "other"))
    assert code == 1 and json.loads(err)["type"] == "ChecksumMismatch"


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        ((), "give the release TAG"),
        (("--url", "file:///x.wasm"), "--url needs --sha256"),
        (("v1", "--url", "file:///x.wasm", "--sha256", "0" * 64), "--url fetches one file by digest"),
        (("v1", "--sha256", "0" * 64, "--bundle", "."), "--sha256 goes with --url"),
        (("v1",), "exactly one of --base-url"),
        (("v1", "--bundle", ".", "--base-url", "http://127.0.0.1:9"), "exactly one of --base-url"),
    ],
)
def test_fetch_usage_errors(argv: tuple[str, ...], words: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AFMPEG_RELEASE_URL", raising=False)
    code, out, err = afmpeg("module", "fetch", *argv)
    assert (code, out) == (2, "") and words in err


def test_list_marks_what_runtime_picks(tmp_path: Path, module_path: Path, gpl_module_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "cache"
    code, out, err = afmpeg("--json", "module", "list", "--cache-dir", str(empty))
    assert code == 0, err
    listed = json.loads(out)
    picked = {v: m["path"] for m in listed for v in m["default_for"]}
    # with no AFMPEG_MODULE: the installed LGPL wheel (make test installs it) or the build, and the GPL build
    assert {"default", "lgpl", "gpl"} <= set(picked)
    assert sha256_file(picked["default"]) == sha256_file(module_path)
    assert sha256_file(picked["gpl"]) == sha256_file(gpl_module_path)
    assert {"source build"} <= {m["origin"] for m in listed}
    assert all(m["sha256"] == sha256_file(m["path"]) for m in listed)

    # AFMPEG_MODULE wins for every variant
    monkeypatch.setenv("AFMPEG_MODULE", str(gpl_module_path))
    code, out, err = afmpeg("--json", "module", "list", "--cache-dir", str(empty))
    first = json.loads(out)[0]
    assert first["origin"] == "AFMPEG_MODULE"
    assert first["default_for"] == ["default", "lgpl", "gpl", "full", "lgpl-full", "gpl-full"]
    assert first["variant"] == "gpl" and first["h264_encoder"] == "libx264"


def test_list_shows_a_corrupted_cache_entry_as_such(tmp_path: Path) -> None:
    directory = module_cache_dir(tmp_path)
    directory.mkdir(parents=True)
    (directory / f"{'a' * 64}.wasm").write_bytes(b"\0asm not what its name says")
    code, out, err = afmpeg("module", "list", "--cache-dir", str(tmp_path))
    assert code == 0, err
    assert "cache (corrupted)" in out


def test_info_describes_the_module_and_asks_the_engine(gpl_module_path: Path, module_path: Path) -> None:
    code, out, err = afmpeg("--json", "module", "info", str(gpl_module_path))
    assert code == 0, err
    data = json.loads(out)
    assert data["sha256"] == sha256_file(gpl_module_path) and data["size"] == gpl_module_path.stat().st_size
    assert data["variant"] == "gpl" and data["license"] == "GPL-2.0-or-later"
    assert "libx264" in data["h264_encoders"] and "GPL" in data["license_reported"]
    code, out, err = afmpeg("--json", "capabilities", "--module", str(gpl_module_path))
    caps = json.loads(out)
    assert data["counts"]["filters"] == len(caps["filters"]) and data["counts"]["encoders"] == len(caps["encoders"])

    code, out, err = afmpeg("module", "info", "--variant", "lgpl")
    assert code == 0, err
    assert f"SHA-256 {sha256_file(module_path)}" in out and "h264     libopenh264" in out


def test_info_of_a_missing_module_is_exit_5(tmp_path: Path) -> None:
    code, out, err = afmpeg("module", "info", str(tmp_path / "nope.wasm"))
    assert (code, out) == (5, "") and "does not exist" in err
