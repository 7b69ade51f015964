"""WASI preview1 host implemented in Python over fsspec filesystems.

The guest sees three preopened directories: ``/`` (the caller's filesystem, fd 3), ``/tmp`` (private, in
memory, discarded after the call, fd 4) and ``/dev`` (``null``, ``zero``, ``urandom``, ``afmpeg-progress``,
fd 5).

Modules, from the bottom up: :mod:`.constants` (ABI values), :mod:`.errors` (errno mapping), :mod:`.paths`
(confinement), :mod:`.handles` (open files), :mod:`.mounts` (directory trees), :mod:`.host` (the WASI
functions, :class:`WasiCall`), :mod:`.linker` (the trampoline that wasmtime calls), :mod:`._raw` (wasmtime C API).
"""

from .errors import WasiError
from .host import WasiCall
from .linker import EXIT_MARKER, define_imports

__all__ = ["EXIT_MARKER", "WasiCall", "WasiError", "define_imports"]
