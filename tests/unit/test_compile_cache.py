"""The compiled-code cache: private, keyed, verified, self-healing."""

from __future__ import annotations

import stat
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
    import hashlib

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
