"""The helpers' argument checks, run before the engine: run options, seconds, sizes, rates, bit rates, quality."""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

from ..errors import JobSpecError
from ..job import MAX_SECONDS


def _limits(run_options: dict[str, Any]) -> dict[str, Any]:
    """The keywords a probe takes from a helper's run options (its limits and cancel token)."""
    allowed = ("memory_limit", "time_limit", "output_limit", "cancel")
    unknown = sorted(set(run_options) - set(allowed))
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(unknown)}")
    return dict(run_options)


def _seconds(value: Any, name: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise JobSpecError(f"{name} must be a number of seconds, got {value!r}")
    if value < 0 or (positive and value == 0) or value > MAX_SECONDS:
        bound = "greater than 0" if positive else "0 or more"
        raise JobSpecError(f"{name} must be {bound} (and at most {MAX_SECONDS:g}), got {value!r}")
    return value


def _scale_args(size: Any, width: Any, height: Any, *, even: bool) -> str | None:
    """The ``scale`` filter's ``W:H`` for ``size=(w, h)``/``"WxH"`` or ``width=``/``height=`` (-1: keep the aspect
    ratio; rounded to an even number when ``even``, as 4:2:0 encoders need)."""
    if size is not None and (width is not None or height is not None):
        raise JobSpecError("give size=(width, height) or width=/height=, not both")
    if size is None:
        if width is None and height is None:
            return None
        size = (-1 if width is None else width, -1 if height is None else height)
    if isinstance(size, str):
        parts = re.fullmatch(r"\s*(-?\d+)\s*[x:]\s*(-?\d+)\s*", size)
        if not parts:
            raise JobSpecError(f"size must be (width, height) or 'WxH', got {size!r}")
        size = (int(parts.group(1)), int(parts.group(2)))
    try:
        w, h = size
    except (TypeError, ValueError):
        raise JobSpecError(f"size must be (width, height), got {size!r}") from None
    for name, v in (("width", w), ("height", h)):
        if isinstance(v, bool) or not isinstance(v, int) or (v <= 0 and v != -1):
            raise JobSpecError(f"{name} must be a positive whole number of pixels or -1 (keep the aspect), got {v!r}")
    if w == -1 and h == -1:
        return None
    keep = "-2" if even else "-1"
    return f"{keep if w == -1 else w}:{keep if h == -1 else h}"


def _fps_text(value: Any, name: str = "fps") -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | Fraction):
        raise JobSpecError(f"{name} must be a number, a Fraction or a string such as '30000/1001', got {value!r}")
    try:
        rate = Fraction(value) if not isinstance(value, float) else Fraction(value).limit_denominator(1001)
    except (ValueError, ZeroDivisionError):
        raise JobSpecError(f"{name} must be a number or 'num/den', got {value!r}") from None
    if not rate > 0 or rate > 1000:
        raise JobSpecError(f"{name} must be above 0 and at most 1000, got {value!r}")
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


def _positive_int(value: Any, name: str, *, low: int = 1, high: int | None = None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        limit = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise JobSpecError(f"{name} must be a whole number {limit}, got {value!r}")
    return value


def _bitrate(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?[kKmMgG]?", value.strip()):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
        return str(int(value))
    raise JobSpecError(f"{name} must be bits per second, e.g. 128000 or '128k', got {value!r}")


def _layout(channels: int | None) -> str | None:
    if channels is None:
        return None
    return {1: "mono", 2: "stereo", 6: "5.1", 8: "7.1"}.get(channels, f"{channels}c")


# encoders whose quantiser the ``quality`` keyword sets, and its range
_QUALITY_RANGES = {"libopenh264": (1, 51), "mpeg4": (1, 31), "mjpeg": (1, 31), "h263": (1, 31)}


def _quality_options(quality: Any, codec: str | None) -> dict[str, str]:
    if quality is None:
        return {}
    if codec not in _QUALITY_RANGES:
        names = ", ".join(_QUALITY_RANGES)
        raise JobSpecError(f"quality= sets the quantiser of {names}; the video codec here is {codec or 'unset'!r}")
    low, high = _QUALITY_RANGES[codec]
    q = _positive_int(quality, f"quality for {codec}", low=low, high=high)
    if codec == "libopenh264":  # no qscale mode: its rate control is held between qmin and qmax
        return {"qmin:v": str(q), "qmax:v": str(q)}
    return {"qscale:v": str(q)}  # ffmpeg's -q:v


def _string_options(value: Any, name: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise JobSpecError(f"{name} must be a dict of strings (as on the ffmpeg command line), got {value!r}")
    return dict(value)
