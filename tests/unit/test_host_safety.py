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
    assert res.exit_code == 1  # the guest saw close() fail with EIO
    assert res.write_errors == ["x.txt: RuntimeError: upload failed"]


def test_write_back_failure_raises_from_call(guest_wasm: Path, compile_cache_dir: Path) -> None:
    rt = afmpeg.Runtime(guest_wasm, cache_dir=compile_cache_dir, fs=FailingWriteFS())
    with pytest.raises(afmpeg.AfmpegError, match="upload failed"):
        rt.run({"filter": "x[v]", "outputs": ["out.txt"]})


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
