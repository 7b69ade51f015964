"""The host never raises into wasmtime, never lets guest pointers escape linear memory, and keeps calls apart."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import wasmtime
import wasmtime._func as wasmtime_func

import afmpeg
from afmpeg.wasi import constants as c
from afmpeg.wasi import host as host_mod


class ExplodingFS(afmpeg.MemoryFS):
    """A filesystem whose ``open``/``info`` raise an arbitrary (non-OSError) exception for some paths."""

    def __init__(self, exc: BaseException, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.exc = exc

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        if "boom" in path:
            raise self.exc
        return super().info(path, **kwargs)


def test_host_exception_becomes_eio_and_is_recorded(runtime: afmpeg.Runtime) -> None:
    fs = ExplodingFS(RuntimeError("backend exploded"))
    res = runtime.run_command(["guest", "open", "boom.txt", "fine.txt"], fs=fs)
    assert res.exit_code == 0
    assert res.stdout.decode().splitlines() == ["boom.txt EIO", "fine.txt ENOENT"]
    assert len(res.host_errors) == 1
    assert "backend exploded" in res.host_errors[0]
    assert wasmtime_func.LAST_EXCEPTION is None  # nothing was parked in wasmtime-py's global


def test_oserror_maps_to_its_errno(runtime: afmpeg.Runtime) -> None:
    fs = ExplodingFS(PermissionError(13, "denied"))
    res = runtime.run_command(["guest", "open", "boom.txt"], fs=fs)
    assert res.stdout.decode() == "boom.txt EACCES\n"
    assert res.host_errors == []  # an expected filesystem error is not a host bug


def test_host_errors_are_reported_when_the_engine_fails(runtime: afmpeg.Runtime) -> None:
    fs = ExplodingFS(RuntimeError("backend exploded"))
    res = runtime.run_command(["guest", "cat", "boom.txt"], fs=fs)
    assert res.exit_code == 2 and res.stdout.decode() == "open-failed EIO\n"


def test_keyboard_interrupt_in_a_host_call_stops_the_guest(runtime: afmpeg.Runtime) -> None:
    fs = ExplodingFS(KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        runtime.run_command(["guest", "open", "boom.txt"], fs=fs)
    assert wasmtime_func.LAST_EXCEPTION is None
    assert runtime.run_command(["guest", "exit", "5"]).exit_code == 5  # and the runtime still works


class FailingWriteFS(afmpeg.MemoryFS):
    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        if "w" in mode:
            raise RuntimeError("upload failed")
        return super()._open(path, mode, **kwargs)


def test_write_back_failure_is_an_error(runtime: afmpeg.Runtime) -> None:
    res = runtime.run_command(["guest", "write", "x.txt", "data"], fs=FailingWriteFS())
    assert res.exit_code == 0  # outputs are published after the guest succeeded: the failure is the host's
    assert res.write_errors == ["x.txt: RuntimeError: upload failed"]
    assert res.host_errors == []  # reported once, as a write error, not also as a host bug


def test_write_back_failure_is_named_when_the_engine_fails(runtime: afmpeg.Runtime) -> None:
    with pytest.raises(afmpeg.ProcessingError, match="could not write output: out.txt: RuntimeError: upload failed"):
        runtime.call({"op": "process"}, fs=FailingWriteFS())


def test_write_back_failure_raises_from_call(guest_wasm: Path, compile_cache_dir: Path) -> None:
    rt = afmpeg.Runtime(guest_wasm, cache_dir=compile_cache_dir, fs=FailingWriteFS())
    with pytest.raises(afmpeg.AfmpegError, match="upload failed"):
        rt.run({"filter": "x[v]", "outputs": ["out.txt"]})


# ---------------------------------------------------------------- symlinks on a local root


@pytest.fixture
def symlinked_root(tmp_path: Path) -> tuple[Path, Path]:
    """A local root holding symlinks that lead out of it (as an unpacked upload could), and one that does not."""
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    (root / "sub").mkdir()
    (root / "sub" / "inner.txt").write_bytes(b"inner")
    (root / "out").symlink_to(outside)
    (root / "out-file").symlink_to(outside / "secret.txt")
    (root / "dangling").symlink_to(outside / "created.txt")
    (root / "in").symlink_to(root / "sub")
    return root, outside


def test_symlinks_cannot_lead_out_of_a_local_root(runtime: afmpeg.Runtime, symlinked_root: tuple[Path, Path]) -> None:
    root, outside = symlinked_root
    for fs in (str(root), f"file://{root}"):
        opened = runtime.run_command(["guest", "open", "out/secret.txt", "out-file", "out", "in/inner.txt"], fs=fs)
        assert opened.stdout.decode().splitlines() == [
            "out/secret.txt ENOTCAPABLE",
            "out-file ENOTCAPABLE",
            "out ENOTCAPABLE",
            "in/inner.txt OK",  # a link that stays inside is fine
        ]
        created = runtime.run_command(["guest", "openmode", "wc", "dangling", "out/new.txt"], fs=fs)
        assert created.stdout == b"dangling ENOTCAPABLE\nout/new.txt ENOTCAPABLE\n"
        assert (
            runtime.run_command(["guest", "mv", "sub/inner.txt", "out/moved.txt"], fs=fs).stdout == b"mv ENOTCAPABLE\n"
        )
        assert runtime.run_command(["guest", "readdir", "out"], fs=fs).stdout == b"opendir-failed ENOTCAPABLE\n"
        assert runtime.run_command(["guest", "stat", "out-file"], fs=fs).stdout == b"out-file ENOTCAPABLE\n"
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (root / "sub" / "inner.txt").read_bytes() == b"inner"


# ---------------------------------------------------------------- raw modules (WAT)

BOUNDS_WAT = """
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "sock_accept" (func $sock_accept (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (local $r i32)
    ;; iovec at 0 points far outside memory
    (i32.store (i32.const 0) (i32.const 0xFFFFFFF0))
    (i32.store (i32.const 4) (i32.const 100))
    (local.set $r (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
    ;; iovec straddling the end of memory
    (i32.store (i32.const 0) (i32.const 65530))
    (local.set $r (i32.add (i32.mul (local.get $r) (i32.const 100))
      (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16))))
    ;; result pointers out of bounds
    (local.set $r (i32.add (i32.mul (local.get $r) (i32.const 100))
      (call $args_sizes_get (i32.const 65535) (i32.const 0))))
    (local.set $r (i32.add (i32.mul (local.get $r) (i32.const 100))
      (call $random_get (i32.const 65000) (i32.const 1000))))
    ;; an unimplemented WASI function is ENOSYS
    (local.set $r (i32.add (i32.mul (local.get $r) (i32.const 100))
      (call $sock_accept (i32.const 0) (i32.const 0) (i32.const 0))))
    (call $proc_exit (local.get $r))
    unreachable)
)
"""

FOREIGN_WAT = """
(module
  (import "env" "mystery" (func $mystery (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (drop (call $mystery (i32.const 1))))
)
"""


def _wat_runtime(wat: str, cache_dir: Path) -> afmpeg.Runtime:
    return afmpeg.Runtime(wasmtime.wat2wasm(wat), cache_dir=cache_dir)


def test_guest_pointers_are_bounds_checked(compile_cache_dir: Path) -> None:
    rt = _wat_runtime(BOUNDS_WAT, compile_cache_dir)
    res = rt.run_command(["x"])
    efault, enosys = c.EFAULT, c.ENOSYS
    expected = (((efault * 100 + efault) * 100 + efault) * 100 + efault) * 100 + enosys
    assert res.exit_code == expected
    assert res.stdout == b""
    assert res.host_errors == []
    assert rt.stubbed_imports == ["sock_accept"]


def test_foreign_imports_trap_with_a_clear_message(compile_cache_dir: Path) -> None:
    rt = _wat_runtime(FOREIGN_WAT, compile_cache_dir)
    res = rt.run_command(["x"])
    assert res.exit_code is None
    assert "unsupported import env.mystery" in (res.trap or "")


# ---------------------------------------------------------------- concurrency


def test_many_threads_get_their_own_exit_codes(runtime: afmpeg.Runtime) -> None:
    """8 threads run the guest at once, each with its own exit code, many times; some of them make host
    functions fail (recorded exceptions) at the same time. Every thread must see exactly its own results."""
    rounds = 40
    errors: list[str] = []
    barrier = threading.Barrier(8)

    def worker(index: int) -> None:
        code = 10 + index
        exploding = ExplodingFS(RuntimeError(f"thread {index} exploded"))
        try:
            barrier.wait()
            for round_ in range(rounds):
                if index % 2:
                    res = runtime.run_command(["guest", "exit", str(code)])
                    if res.exit_code != code or res.stdout != f"exiting {code}\n".encode() or res.host_errors:
                        errors.append(f"thread {index} round {round_}: {res}")
                else:
                    res = runtime.run_command(["guest", "open", "boom", "x"], fs=exploding)
                    if res.exit_code != 0 or res.stdout != b"boom EIO\nx ENOENT\n":
                        errors.append(f"thread {index} round {round_}: {res}")
                    if len(res.host_errors) != 1 or f"thread {index} exploded" not in res.host_errors[0]:
                        errors.append(f"thread {index} round {round_}: foreign host errors {res.host_errors}")
                    res = runtime.run_command(["guest", "ret", str(code)])
                    if res.exit_code != code:
                        errors.append(f"thread {index} round {round_}: ret gave {res.exit_code}")
        except BaseException as exc:  # noqa: BLE001
            errors.append(f"thread {index} raised {exc!r}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert wasmtime_func.LAST_EXCEPTION is None


def test_threads_with_files_do_not_mix(runtime: afmpeg.Runtime) -> None:
    results: dict[int, bytes] = {}
    errors: list[str] = []

    def worker(index: int) -> None:
        fs = afmpeg.MemoryFS()
        for round_ in range(10):
            text = f"thread-{index}-round-{round_}"
            res = runtime.run_command(["guest", "write", "shared-name.txt", text], fs=fs)
            got = fs.cat_file("/shared-name.txt")
            if res.exit_code != 0 or got != text.encode():
                errors.append(f"{index}/{round_}: {got!r}")
        results[index] = fs.cat_file("/shared-name.txt")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == {i: f"thread-{i}-round-9".encode() for i in range(8)}


RANDOM_WAT = """
(module
  (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start") (call $proc_exit (call $random_get (i32.const 0) (i32.const 0xFFFFFFFF))))
)
"""


def test_random_get_checks_the_buffer_before_generating(
    compile_cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[int] = []

    def urandom(n: int) -> bytes:
        asked.append(n)
        return bytes(min(n, 16))  # never allocate what a hostile guest asks for

    monkeypatch.setattr(host_mod.os, "urandom", urandom)
    res = _wat_runtime(RANDOM_WAT, compile_cache_dir).run_command(["x"])
    assert res.exit_code == c.EFAULT
    assert asked == []


IOV_CAP_WAT = """
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    ;; three iovecs of 1000 bytes, all on the same buffer at 1024
    (i32.store (i32.const 0) (i32.const 1024)) (i32.store (i32.const 4) (i32.const 1000))
    (i32.store (i32.const 8) (i32.const 1024)) (i32.store (i32.const 12) (i32.const 1000))
    (i32.store (i32.const 16) (i32.const 1024)) (i32.store (i32.const 20) (i32.const 1000))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 3) (i32.const 100)))
    (call $proc_exit (i32.load (i32.const 100))))
)
"""


def test_one_write_moves_at_most_max_io(compile_cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 1024 iovecs may all alias one large buffer: without a cap one call gathers 1024 times guest memory
    monkeypatch.setattr(host_mod, "MAX_IO", 1500)
    res = _wat_runtime(IOV_CAP_WAT, compile_cache_dir).run_command(["x"])
    assert res.exit_code == 1500
    assert len(res.stdout) == 1500


OFFSETS_WAT = """
(module
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_pwrite" (func $fd_pwrite (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_pread" (func $fd_pread (param i32 i32 i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_seek" (func $fd_seek (param i32 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_filestat_set_size" (func $set_size (param i32 i64) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 200) "f")
  (func (export "_start")
    (local $fd i32) (local $r i32)
    ;; open "f" with O_CREAT, read+write+seek rights
    (drop (call $path_open (i32.const 3) (i32.const 0) (i32.const 200) (i32.const 1) (i32.const 1)
      (i64.const 0x46) (i64.const 0) (i32.const 0) (i32.const 300)))
    (local.set $fd (i32.load (i32.const 300)))
    (i32.store (i32.const 0) (i32.const 400)) (i32.store (i32.const 4) (i32.const 1))
    ;; a negative offset (the u64 has its sign bit set) is EINVAL for pwrite, pread and set_size
    (local.set $r (call $fd_pwrite (local.get $fd) (i32.const 0) (i32.const 1) (i64.const -1) (i32.const 100)))
    (local.set $r (i32.add (i32.mul (local.get $r) (i32.const 100))
      (call $fd_pread (local.get $fd) (i32.const 0) (i32.const 1) (i64.const -1) (i32.const 100))))
    (local.set $r (i32.add (i32.mul (local.get $r) (i32.const 100))
      (call $set_size (local.get $fd) (i64.const 0x8000000000000000))))
    ;; seeking to the largest offset works, one byte further overflows
    (drop (call $fd_seek (local.get $fd) (i64.const 0x7FFFFFFFFFFFFFFF) (i32.const 0) (i32.const 100)))
    (local.set $r (i32.add (i32.mul (local.get $r) (i32.const 100))
      (call $fd_seek (local.get $fd) (i64.const 1) (i32.const 1) (i32.const 100))))
    (call $proc_exit (local.get $r)))
)
"""


def test_offsets_outside_off_t_are_einval(compile_cache_dir: Path) -> None:
    res = _wat_runtime(OFFSETS_WAT, compile_cache_dir).run_command(["x"], fs=afmpeg.MemoryFS())
    einval = c.EINVAL
    assert res.exit_code == ((einval * 100 + einval) * 100 + einval) * 100 + einval
    assert res.host_errors == []
