"""WASI preview1 host implemented in Python over fsspec filesystems.

The guest sees three preopened directories: ``/`` (the caller's filesystem, fd 3), ``/tmp`` (private, in
memory, discarded after the call, fd 4) and ``/dev`` (``null``, ``zero``, ``urandom``, ``afmpeg-progress``,
fd 5). See :class:`afmpeg.wasi.host.WasiCall`.
"""

from .host import EXIT_MARKER, WasiCall, define_imports
from .vfs import WasiError

__all__ = ["EXIT_MARKER", "WasiCall", "WasiError", "define_imports"]
