"""Frames to raw bytes for :func:`write_frames`: NumPy arrays and PIL images to one fixed frame layout."""

from __future__ import annotations

from typing import Any

from ._layout import FrameLayout, frame_layout
from ._optional import _numpy


def _array_pix_fmt(arr: Any, np: Any) -> str:
    """The raw pixel format an array's shape and dtype imply."""
    if arr.dtype == np.uint8:
        by_channels = {1: "gray", 3: "rgb24", 4: "rgba"}
    elif arr.dtype == np.uint16:
        by_channels = {1: "gray16le", 3: "rgb48le", 4: "rgba64le"}
    else:
        raise TypeError(f"frames must be uint8 or uint16 arrays, got dtype {arr.dtype} (convert first, e.g. "
                        "(a * 255).clip(0, 255).astype('uint8'))")
    channels = 1 if arr.ndim == 2 else (arr.shape[2] if arr.ndim == 3 else 0)
    if channels not in by_channels:
        raise ValueError(f"frames must be H×W, H×W×1, H×W×3 or H×W×4 arrays, got shape {arr.shape}")
    return by_channels[channels]


class _FrameEncoder:
    """Turns each produced frame into raw bytes of one fixed layout (set by the first frame)."""

    def __init__(self, in_pix_fmt: str | None) -> None:
        self.in_pix_fmt = in_pix_fmt
        self.layout: FrameLayout | None = None
        self.count = 0

    def _pil_bytes(self, img: Any) -> tuple[bytes, str, int, int]:
        mode = img.mode
        if mode == "I;16":
            fmt = "gray16le"
        else:
            fmt = {"RGB": "rgb24", "RGBA": "rgba", "L": "gray"}.get(mode, "")
            if not fmt:
                img = img.convert("RGBA" if "A" in mode or "transparency" in img.info else "RGB")
                fmt = "rgba" if img.mode == "RGBA" else "rgb24"
        return img.tobytes(), fmt, img.width, img.height

    def encode(self, frame: Any) -> memoryview | bytes:
        index = self.count
        if hasattr(frame, "tobytes") and hasattr(frame, "mode") and hasattr(frame, "size"):  # a PIL image
            data, fmt, width, height = self._pil_bytes(frame)
            fmt = self.in_pix_fmt or fmt
            out: memoryview | bytes = data
        else:
            np = _numpy()
            arr = np.asarray(frame)
            fmt = self.in_pix_fmt or _array_pix_fmt(arr, np)
            if fmt == "yuv420p" and arr.ndim == 2:  # (H*3/2, W): Y rows, then U and V
                height, width = int(arr.shape[0]) * 2 // 3, int(arr.shape[1])
            elif fmt == "yuv444p" and arr.ndim == 3:  # (3, H, W): Y, U, V planes
                height, width = int(arr.shape[1]), int(arr.shape[2])
            elif arr.ndim in (2, 3):
                height, width = int(arr.shape[0]), int(arr.shape[1])
            else:
                raise ValueError(f"frame {index}: expected an image array, got shape {arr.shape}")
            if arr.dtype.byteorder == ">":
                arr = arr.astype(arr.dtype.newbyteorder("<"))
            out = memoryview(np.ascontiguousarray(arr)).cast("B")
        if self.layout is None:
            self.layout = frame_layout(fmt, width, height)
        lay = self.layout
        if (fmt, width, height) != (lay.pix_fmt, lay.width, lay.height) or len(out) != lay.nbytes:
            raise ValueError(
                f"frame {index} is {width}x{height} {fmt} ({len(out)} bytes); the first frame set "
                f"{lay.width}x{lay.height} {lay.pix_fmt} ({lay.nbytes} bytes)"
            )
        self.count += 1
        return out
