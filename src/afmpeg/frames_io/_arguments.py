"""Arguments the frame I/O calls share: a frame rate, the pipe's size in frames."""

from __future__ import annotations

from fractions import Fraction


def _buffer_frames(value: object) -> int:
    """``buffer_frames`` checked: how many frames the pipe between engine and Python holds."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"buffer_frames must be a positive integer, got {value!r}")
    return value


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
