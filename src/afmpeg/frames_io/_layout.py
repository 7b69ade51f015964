"""Raw frame layouts: the pixel formats frame I/O handles, each frame's array shape and size, output sizes."""

from __future__ import annotations

from dataclasses import dataclass

#: Pixel formats :func:`read_frames` / :func:`write_frames` handle: name → (channels or None for one plane of
#: samples, bytes per sample). ``yuv420p`` and ``yuv444p`` are planar (see :func:`frame_layout`).
PIX_FMTS: dict[str, tuple[int | None, int]] = {
    "rgb24": (3, 1),
    "bgr24": (3, 1),
    "rgba": (4, 1),
    "bgra": (4, 1),
    "argb": (4, 1),
    "abgr": (4, 1),
    "gray": (None, 1),
    "gray16le": (None, 2),
    "rgb48le": (3, 2),
    "rgba64le": (4, 2),
    "yuv420p": (None, 1),
    "yuv444p": (None, 1),
}


@dataclass(frozen=True)
class FrameLayout:
    """How one raw frame of ``pix_fmt`` at ``width``×``height`` maps to a NumPy array."""

    pix_fmt: str
    width: int
    height: int
    shape: tuple[int, ...]
    dtype: str
    nbytes: int


def frame_layout(pix_fmt: str, width: int, height: int) -> FrameLayout:
    """The array shape, dtype and byte size of one frame.

    Packed formats are ``(height, width, channels)`` (``(height, width)`` for ``gray``/``gray16le``);
    ``yuv444p`` is ``(3, height, width)`` (Y, U, V planes); ``yuv420p`` is ``(height * 3 // 2, width)`` — the Y
    plane's rows, then U and V (each ``width/2`` × ``height/2``) packed two half-rows per row, as OpenCV's
    ``COLOR_YUV2RGB_I420`` expects — and needs an even width and height.
    """
    if pix_fmt not in PIX_FMTS:
        raise ValueError(f"unsupported pix_fmt {pix_fmt!r}; one of {', '.join(PIX_FMTS)}")
    if width <= 0 or height <= 0:
        raise ValueError(f"frame size must be positive, got {width}x{height}")
    channels, depth = PIX_FMTS[pix_fmt]
    dtype = "<u2" if depth == 2 else "u1"
    if pix_fmt == "yuv420p":
        if width % 2 or height % 2:
            raise ValueError(f"yuv420p frames need an even width and height, got {width}x{height}")
        shape: tuple[int, ...] = (height * 3 // 2, width)
    elif pix_fmt == "yuv444p":
        shape = (3, height, width)
    elif channels is None:
        shape = (height, width)
    else:
        shape = (height, width, channels)
    n = 1
    for dim in shape:
        n *= dim
    return FrameLayout(pix_fmt, width, height, shape, dtype, n * depth)


def _even_rescale(a: int, b: int, c: int) -> int:
    """``round(a * b / c)`` as ``av_rescale`` does it (half away from zero)."""
    return (2 * a * b + c) // (2 * c)


def _resolve_size(size: tuple[int, int] | None, src_w: int, src_h: int) -> tuple[int, int]:
    """The output size: the source's, or ``size`` with at most one ``-1`` (keep the aspect ratio, like ``scale``)."""
    if size is None:
        return src_w, src_h
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"size must be (width, height), got {size!r}") from None
    if w == -1 and h == -1:
        return src_w, src_h
    if w == -1:
        w = max(1, _even_rescale(h, src_w, src_h))
    elif h == -1:
        h = max(1, _even_rescale(w, src_h, src_w))
    if w <= 0 or h <= 0:
        raise ValueError(f"size must be positive (or -1 for one side), got {size!r}")
    return w, h
