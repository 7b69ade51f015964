"""The compiled-code cache: private, keyed, verified, self-healing."""

from __future__ import annotations

import hashlib
import stat
import subprocess
import sys
import threading
import types
from pathlib import Path

import pytest
import wasmtime

import afmpeg
from afmpeg import compile_cache


def _entries(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.cwasm"))


def test_compile_then_load(guest_wasm: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = afmpeg.Runtime(guest_wasm, cache_dir=cache)
    assert not first.from_cache
    assert first.compile_seconds > 0 and first.load_seconds == 0
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    [entry] = _entries(cache)
    assert (entry.parent / (entry.name + ".sha256")).is_file()

    second = afmpeg.Runtime(guest_wasm, cache_dir=cache)
    assert second.from_cache
    assert second.load_seconds > 0 and second.compile_seconds == 0
    assert second.run_command(["guest", "exit", "9"]).exit_code == 9


def test_tampered_entry_is_recompiled(guest_wasm: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    afmpeg.Runtime(guest_wasm, cache_dir=cache)
    [entry] = _entries(cache)
    data = bytearray(entry.read_bytes())
    data[len(data) // 2] ^= 0xFF
    entry.write_bytes(bytes(data))  # digest no longer matches: must not be loaded
    rt = afmpeg.Runtime(guest_wasm, cache_dir=cache)
    assert not rt.from_cache
    assert rt.run_command(["guest", "exit", "4"]).exit_code == 4
    rt2 = afmpeg.Runtime(guest_wasm, cache_dir=cache)
    assert rt2.from_cache  # the entry was rewritten


def test_undeserializable_entry_is_recompiled(guest_wasm: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    afmpeg.Runtime(guest_wasm, cache_dir=cache)
    [entry] = _entries(cache)
    # garbage with a *matching* digest: deserialize fails, so compile again
    entry.write_bytes(b"definitely not compiled code")
    (entry.parent / (entry.name + ".sha256")).write_text(hashlib.sha256(entry.read_bytes()).hexdigest())
    rt = afmpeg.Runtime(guest_wasm, cache_dir=cache)
    assert not rt.from_cache
    assert rt.run_command(["guest", "exit", "6"]).exit_code == 6


def test_key_covers_module_and_config(guest_wasm: Path) -> None:
    wasm_a = compile_cache.cache_key("a" * 64, {"epoch_interruption": True})
    assert wasm_a != compile_cache.cache_key("b" * 64, {"epoch_interruption": True})
    assert wasm_a != compile_cache.cache_key("a" * 64, {"epoch_interruption": False})
    assert wasm_a == compile_cache.cache_key("a" * 64, {"epoch_interruption": True})


def test_cache_disabled(guest_wasm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFMPEG_CACHE_DIR", str(tmp_path / "env-cache"))
    rt = afmpeg.Runtime(guest_wasm, cache_dir=False)
    assert not rt.from_cache
    assert not (tmp_path / "env-cache").exists()


def test_env_cache_dir(guest_wasm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AFMPEG_CACHE_DIR", str(tmp_path / "env-cache"))
    afmpeg.Runtime(guest_wasm)
    assert len(_entries(tmp_path / "env-cache")) == 1


def test_public_cache_dir_is_refused(guest_wasm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "shared"
    cache.mkdir(mode=0o777)
    cache.chmod(0o777)
    monkeypatch.setattr(compile_cache.os, "chmod", lambda *a, **k: None)  # pretend we cannot fix the mode
    rt = afmpeg.Runtime(guest_wasm, cache_dir=cache)
    assert not rt.from_cache
    assert _entries(cache) == []


def test_config_has_epoch_interruption(runtime: afmpeg.Runtime) -> None:
    assert afmpeg.runtime.CONFIG_FLAGS["epoch_interruption"] is True
    assert isinstance(runtime.engine, wasmtime.Engine)
    # a store without a deadline would trap at once with epoch interruption on: the runtime sets one
    runtime.engine.increment_epoch()
    assert runtime.run_command(["guest", "exit", "3"]).exit_code == 3


def test_garbage_digest_file_is_recompiled(guest_wasm: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    afmpeg.Runtime(guest_wasm, cache_dir=cache)
    [entry] = _entries(cache)
    (entry.parent / (entry.name + ".sha256")).write_bytes(b"\xff\xfe not even text")
    rt = afmpeg.Runtime(guest_wasm, cache_dir=cache)  # must not raise UnicodeDecodeError
    assert not rt.from_cache
    assert afmpeg.Runtime(guest_wasm, cache_dir=cache).from_cache


def test_the_bytes_checked_are_the_bytes_loaded(
    guest_wasm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry swapped on disk right after its digest was checked must not be what gets loaded."""
    cache = tmp_path / "cache"
    afmpeg.Runtime(guest_wasm, cache_dir=cache)
    [entry] = _entries(cache)
    size = entry.stat().st_size
    real_sha256 = hashlib.sha256

    class SwapAfterCheck:
        def __init__(self, data: bytes = b"") -> None:
            self.h, self.n = real_sha256(data), len(data)

        def update(self, data: bytes) -> None:
            self.h.update(data)
            self.n += len(data)

        def hexdigest(self) -> str:
            if self.n == size:  # the entry was just hashed: swap it before it is loaded
                entry.write_bytes(b"swapped in after the check")
            return self.h.hexdigest()

    monkeypatch.setattr(compile_cache, "hashlib", types.SimpleNamespace(sha256=SwapAfterCheck))
    rt = afmpeg.Runtime(guest_wasm, cache_dir=cache)
    assert rt.from_cache  # the verified bytes were loaded, not the file's new content
    assert rt.run_command(["guest", "exit", "7"]).exit_code == 7


def test_cache_dir_expands_the_home_directory(
    guest_wasm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    afmpeg.Runtime(guest_wasm, cache_dir="~/afmpeg-cache")
    assert len(_entries(tmp_path / "home" / "afmpeg-cache")) == 1
    assert not (tmp_path / "~").exists()


def test_concurrent_compiles_leave_a_valid_entry(guest_wasm: Path, tmp_path: Path) -> None:
    """Threads and processes compiling the same module into one cache at once all succeed, and the entry
    they leave verifies and loads."""
    cache = tmp_path / "cache"
    script = (
        "import sys, afmpeg; rt = afmpeg.Runtime(sys.argv[1], cache_dir=sys.argv[2]); "
        "sys.exit(rt.run_command(['guest', 'exit', '0']).exit_code)"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(guest_wasm), str(cache)], stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    errors: list[str] = []

    def worker() -> None:
        try:
            if afmpeg.Runtime(guest_wasm, cache_dir=cache).run_command(["guest", "exit", "3"]).exit_code != 3:
                errors.append("wrong exit code")
        except BaseException as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    assert errors == []
    assert len(_entries(cache)) == 1
    assert list(cache.glob("*.tmp")) == []
    rt = afmpeg.Runtime(guest_wasm, cache_dir=cache)
    assert rt.from_cache and rt.run_command(["guest", "exit", "5"]).exit_code == 5
