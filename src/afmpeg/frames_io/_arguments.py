"""Arguments every frame I/O call takes: the runtime to use, the source (path or bytes), a frame rate."""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Any

from ..default import default_runtime
from ..memfs import MemoryFS
from ..runtime import Runtime


def _runtime(runtime: Runtime | None) -> Runtime:
    """``runtime``, or the shared :func:`~afmpeg.default_runtime`."""
    return runtime if runtime is not None else default_runtime()


def _source(src: Any, fs: Any) -> tuple[str, Any]:
    """``(path, fs)`` for a source given as a path on ``fs`` or as bytes (put in a private in-memory fs)."""
    if isinstance(src, bytes | bytearray | memoryview):
        if fs is not None:
            raise ValueError("pass either bytes or fs=, not both")
        mem = MemoryFS()
        mem.pipe("input", bytes(src))
        return "input", mem
    if isinstance(src, str | os.PathLike):
        return os.fspath(src), fs
    raise TypeError(f"src must be a path or bytes, got {type(src).__name__}")


def _rate(value: float | int | str | Fraction) -> str:
    """A frame rate as the string FFmpeg options take (``30``, ``"30000/1001"``, ``Fraction(25, 2)``, ``29.97``)."""
    if isinstance(value, bool):
        raise TypeError("fps must be a number or a string")
    if isinstance(value, Fraction):
        text = f"{value.numerator}/{value.denominator}"
    elif isinstance(value, int | float):
        if not value > 0 or value != value or value == float("inf"):
            raise ValueError(f"fps must be a positive finite number, got {value!r}")
        text = str(int(value)) if float(value).is_integer() else repr(float(value))
    elif isinstance(value, str) and value.strip():
        text = value.strip()
    else:
        raise TypeError(f"fps must be a number, a Fraction or a string, got {value!r}")
    if float(Fraction(text)) <= 0:
        raise ValueError(f"fps must be positive, got {value!r}")
    return text
