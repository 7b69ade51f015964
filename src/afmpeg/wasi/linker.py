"""Wiring the WASI functions into a wasmtime ``Linker`` through one raw ctypes trampoline.

The trampoline

* finds the run's :class:`WasiCall` through the Store's context data (never a global "current call"), so any
  number of runs can be in flight on different threads,
* turns *every* Python exception into an errno (``EIO`` unless it maps to something better) and records it on
  that run's state: nothing is ever raised into wasmtime (wasmtime-py parks such exceptions in a module global,
  where another thread can pick them up),
* ends the guest for ``proc_exit`` (and for Ctrl-C during a host call) by returning a freshly made trap with a
  marker message, after recording the exit code on the state.
"""

from __future__ import annotations

import ctypes
import itertools
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import _raw
from . import constants as c
from .errors import WasiError
from .host import EXIT, WasiCall

__all__ = ["EXIT_MARKER", "INTERRUPT_MARKER", "define_imports", "register_state", "unregister_state"]

WASI_MODULE = "wasi_snapshot_preview1"
EXIT_MARKER = "afmpeg:proc_exit"
INTERRUPT_MARKER = "afmpeg:host-interrupt"

#: WASI functions we implement, with their wasm parameter types ("i" = i32, "I" = i64).
SIGNATURES: dict[str, str] = {
    "args_get": "ii",
    "args_sizes_get": "ii",
    "environ_get": "ii",
    "environ_sizes_get": "ii",
    "clock_res_get": "ii",
    "clock_time_get": "iIi",
    "random_get": "ii",
    "sched_yield": "",
    "proc_exit": "i",
    "proc_raise": "i",
    "poll_oneoff": "iiii",
    "fd_prestat_get": "ii",
    "fd_prestat_dir_name": "iii",
    "fd_fdstat_get": "ii",
    "fd_fdstat_set_flags": "ii",
    "fd_fdstat_set_rights": "iII",
    "fd_filestat_get": "ii",
    "fd_filestat_set_size": "iI",
    "fd_filestat_set_times": "iIIi",
    "fd_advise": "iIIi",
    "fd_allocate": "iII",
    "fd_sync": "i",
    "fd_datasync": "i",
    "fd_close": "i",
    "fd_renumber": "ii",
    "fd_read": "iiii",
    "fd_pread": "iiiIi",
    "fd_write": "iiii",
    "fd_pwrite": "iiiIi",
    "fd_seek": "iIii",
    "fd_tell": "ii",
    "fd_readdir": "iiiIi",
    "path_open": "iiiiiIIii",
    "path_filestat_get": "iiiii",
    "path_filestat_set_times": "iiiiIIi",
    "path_create_directory": "iii",
    "path_remove_directory": "iii",
    "path_unlink_file": "iii",
    "path_rename": "iiiiii",
    "path_readlink": "iiiiii",
    "path_symlink": "iiiii",
    "path_link": "iiiiiii",
}


@dataclass
class _Spec:
    """How the trampoline serves one import (found through the ``env`` value wasmtime hands back)."""

    name: str
    method: Callable[..., int] | None  # None: ENOSYS stub
    unpack: Callable[[bytes], tuple[int, ...]]
    nbytes: int
    has_result: bool
    trap_message: str | None = None  # for stubs of non-WASI imports


_SPECS: list[_Spec | None] = [None]  # env 0 is unused
_SPEC_INDEX: dict[tuple[str, str, tuple[str, ...], tuple[str, ...]], int] = {}  # one spec per distinct import
_SPECS_LOCK = threading.Lock()
_STATES: dict[int, WasiCall] = {}
_KEYS = itertools.count(1)


def register_state(state: WasiCall) -> int:
    """Make ``state`` reachable from host calls; the key goes into the Store's context data."""
    key = next(_KEYS)
    _STATES[key] = state
    return key


def unregister_state(key: int) -> None:
    """Forget the state registered under ``key`` (a host call still made with it traps)."""
    _STATES.pop(key, None)


def _trampoline(env: int, caller: int, args: int, nargs: int) -> int:
    state: WasiCall | None = None
    try:
        spec = _SPECS[env]
        assert spec is not None
        ctx = _raw.caller_context(caller)
        state = _STATES.get(_raw.context_get_data(ctx) or 0)
        if state is None:
            return _raw.new_trap("afmpeg: WASI call without an active call state")
        if spec.trap_message is not None:
            return _raw.new_trap(spec.trap_message)
        state.begin_host_call(ctx)
        if spec.method is None:
            result = c.ENOSYS
        else:
            values = spec.unpack(ctypes.string_at(args, spec.nbytes)) if spec.nbytes else ()
            try:
                result = spec.method(state, *values)
            except WasiError as exc:
                result = exc.errno
            except (KeyboardInterrupt, SystemExit) as exc:
                state.interrupt = exc
                return _raw.new_trap(INTERRUPT_MARKER)
            except BaseException as exc:  # noqa: BLE001 - never raise into wasmtime
                result = state.record(exc)
            if result == EXIT:
                return _raw.new_trap(EXIT_MARKER)
        if spec.has_result:
            ctypes.c_uint32.from_address(args).value = result  # the result replaces the first argument slot
        return 0
    except BaseException as exc:  # noqa: BLE001 - last line of defence: never raise into wasmtime
        try:
            if state is not None:
                if isinstance(exc, KeyboardInterrupt | SystemExit):
                    state.interrupt = exc
                else:
                    state.record(exc)
            return _raw.new_trap("afmpeg: internal error in WASI host function")
        except BaseException:  # noqa: BLE001
            return 0


_TRAMPOLINE = _raw.RAW_CALLBACK(_trampoline)


def _make_spec(name: str, params: list[str], results: list[str], method: Callable[..., int] | None) -> _Spec:
    # every argument sits in a 16-byte wasmtime_val_raw_t; i32 are read unsigned
    packer = struct.Struct("<" + "".join("I12x" if kind == "i32" else "Q8x" for kind in params))
    return _Spec(name, method, packer.unpack, packer.size, bool(results))


def define_imports(linker: Any, module: Any) -> list[str]:
    """Define every import of ``module`` on ``linker`` (a ``wasmtime.Linker``) through the raw trampoline.

    Known WASI functions get their implementation; unknown ``wasi_snapshot_preview1`` functions return ENOSYS;
    function imports from other modules trap with a clear message when called. Returns the names of stubs.
    Raises ``ValueError`` for a non-function import.
    """
    import wasmtime

    stubs: list[str] = []
    for imp in module.imports:
        ty = imp.type
        name = imp.name or ""
        if not isinstance(ty, wasmtime.FuncType):
            raise ValueError(f"module imports a non-function {imp.module}.{name}; afmpeg cannot provide it")
        params = [str(p) for p in ty.params]
        results = [str(r) for r in ty.results]
        method: Callable[..., int] | None = None
        trap_message = None
        if imp.module == WASI_MODULE:
            actual = "".join({"i32": "i", "i64": "I"}.get(p, "?") for p in params)
            if SIGNATURES.get(name) == actual and results in ([], ["i32"]):
                method = getattr(WasiCall, name)
            else:
                stubs.append(name)
                if results not in ([], ["i32"]) or "?" in actual:
                    trap_message = f"afmpeg: unsupported WASI import {name}"
        else:
            stubs.append(f"{imp.module}.{name}")
            trap_message = f"afmpeg: called unsupported import {imp.module}.{name}"
        ident = (imp.module, name, tuple(params), tuple(results))
        with _SPECS_LOCK:
            env = _SPEC_INDEX.get(ident, 0)
            if not env:
                spec = _make_spec(name, params, results, method)
                spec.trap_message = trap_message
                _SPECS.append(spec)
                env = _SPEC_INDEX[ident] = len(_SPECS) - 1
        _raw.define_raw_func(linker.ptr(), imp.module, name, ty.ptr(), _TRAMPOLINE, env)
    return stubs
