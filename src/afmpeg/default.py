"""The shared Runtime that helpers and frame I/O use when the caller passes none."""

from __future__ import annotations

import threading

from .runtime import Runtime

__all__ = ["default_runtime"]

_default: Runtime | None = None
_lock = threading.Lock()


def default_runtime() -> Runtime:
    """The shared :class:`~afmpeg.Runtime` that helpers and frame I/O use when no ``runtime=`` is given.

    Made on the first call (thread-safe) with the default engine module (``AFMPEG_MODULE``, then the installed or
    built one) and default limits; later calls return the same object. Its own filesystem is a private
    :class:`~afmpeg.MemoryFS`: helpers and frame I/O called without ``fs=`` or ``runtime=`` read and write local
    files instead.

    Example::

        rt = afmpeg.default_runtime()
        print(rt.version().ffmpeg_version)
    """
    global _default
    with _lock:
        if _default is None:
            _default = Runtime()
        return _default
