"""NumPy and Pillow, the optional dependencies of frame I/O, imported on first use with an install hint."""

from __future__ import annotations

from typing import Any


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:
        raise ImportError("afmpeg frame I/O needs NumPy: pip install 'afmpeg[numpy]'") from None
    return numpy


def _pil_image() -> Any:
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("afmpeg frame I/O with PIL images needs Pillow: pip install 'afmpeg[pil]'") from None
    return Image
