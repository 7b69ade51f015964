"""Thin raw layer over wasmtime's C API (through wasmtime-py's ``_ffi`` module).

Host functions are registered with ``wasmtime_linker_define_func_unchecked`` and one ctypes trampoline. This
path never hands a Python exception to wasmtime-py (whose ``Func`` trampoline parks exceptions in a module
global that another thread can pick up), and it is about 10x cheaper per call than ``Linker.define_func``.

Private prototypes are built from the shared library so that our ``restype``/``argtypes`` (plain ``c_void_p``
integers, which are fast) never alter the ones wasmtime-py itself uses.
"""

from __future__ import annotations

import ctypes
from ctypes import CFUNCTYPE, c_bool, c_char_p, c_size_t, c_uint64, c_void_p

from wasmtime import _ffi as ffi

_dll = ffi.dll


def _proto(name: str, restype: object, *argtypes: object) -> ctypes._CFuncPtr:  # type: ignore[name-defined]
    return CFUNCTYPE(restype, *argtypes)((name, _dll))  # type: ignore[arg-type]


caller_context = _proto("wasmtime_caller_context", c_void_p, c_void_p)
context_get_data = _proto("wasmtime_context_get_data", c_void_p, c_void_p)
memory_data = _proto("wasmtime_memory_data", c_void_p, c_void_p, c_void_p)
memory_data_size = _proto("wasmtime_memory_data_size", c_size_t, c_void_p, c_void_p)
trap_new = _proto("wasmtime_trap_new", c_void_p, c_char_p, c_size_t)
store_new = _proto("wasmtime_store_new", c_void_p, c_void_p, c_void_p, c_void_p)
store_context = _proto("wasmtime_store_context", c_void_p, c_void_p)
store_delete = _proto("wasmtime_store_delete", None, c_void_p)
context_set_epoch_deadline = _proto("wasmtime_context_set_epoch_deadline", None, c_void_p, c_uint64)
store_limiter = _proto(
    "wasmtime_store_limiter",
    None,
    c_void_p,
    ctypes.c_int64,
    ctypes.c_int64,
    ctypes.c_int64,
    ctypes.c_int64,
    ctypes.c_int64,
)
instance_pre_instantiate = _proto("wasmtime_instance_pre_instantiate", c_void_p, c_void_p, c_void_p, c_void_p, c_void_p)
instance_export_get = _proto("wasmtime_instance_export_get", c_bool, c_void_p, c_void_p, c_char_p, c_size_t, c_void_p)
func_call = _proto("wasmtime_func_call", c_void_p, c_void_p, c_void_p, c_void_p, c_size_t, c_void_p, c_size_t, c_void_p)

#: ``wasm_trap_t *cb(void *env, wasmtime_caller_t *caller, wasmtime_val_raw_t *args_and_results, size_t n)``
RAW_CALLBACK = CFUNCTYPE(c_size_t, c_void_p, c_void_p, c_void_p, c_size_t)
NULL_FINALIZER = ctypes.cast(0, CFUNCTYPE(None, c_void_p))

VAL_RAW_SIZE = ctypes.sizeof(ffi.wasmtime_val_raw_t)  # 16


def new_trap(message: str) -> int:
    """A fresh ``wasm_trap_t*`` (owned by wasmtime once returned from a host callback)."""
    raw = message.encode("utf-8")
    return trap_new(raw, len(raw)) or 0


def error_message(err_ptr: int) -> str:
    """Consume a ``wasmtime_error_t*`` and return its message."""
    from wasmtime import WasmtimeError

    return str(WasmtimeError._from_ptr(_wrap(err_ptr, ffi.wasmtime_error_t)))


def trap_info(trap_ptr: int) -> tuple[str, object | None]:
    """Consume a ``wasm_trap_t*``; return ``(message, trap_code or None)``."""
    from wasmtime import Trap

    trap = Trap._from_ptr(_wrap(trap_ptr, ffi.wasm_trap_t))
    return trap.message, trap.trap_code


def _wrap(address: int, ctype: type) -> ctypes._Pointer:  # type: ignore[type-arg]
    return ctypes.cast(c_void_p(address), ctypes.POINTER(ctype))


def define_raw_func(
    linker_ptr: object, module: str, name: str, functype_ptr: object, callback: object, env: int
) -> None:
    """``wasmtime_linker_define_func_unchecked`` with our trampoline; raises ``WasmtimeError`` on failure."""
    from wasmtime import WasmtimeError

    mod = module.encode()
    nm = name.encode()
    cb = ffi.wasmtime_func_unchecked_callback_t(ctypes.cast(callback, c_void_p).value)
    err = ffi.wasmtime_linker_define_func_unchecked(
        linker_ptr, mod, len(mod), nm, len(nm), functype_ptr, cb, env, NULL_FINALIZER
    )
    if err:
        raise WasmtimeError._from_ptr(err)

error_new = _proto("wasmtime_error_new", c_void_p, c_char_p)
store_epoch_deadline_callback = _proto(
    "wasmtime_store_epoch_deadline_callback", None, c_void_p, c_void_p, c_void_p, c_void_p
)

#: ``wasmtime_error_t *cb(wasmtime_context_t *ctx, void *env, uint64_t *delta, wasmtime_update_deadline_kind_t *kind)``
DEADLINE_CALLBACK = CFUNCTYPE(c_size_t, c_void_p, c_void_p, ctypes.POINTER(c_uint64), ctypes.POINTER(ctypes.c_uint8))
