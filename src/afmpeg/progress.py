"""Progress reports: the engine's NDJSON lines on ``/dev/afmpeg-progress``, turned into ``Progress`` events.

With ``"progress": true`` in a process job the engine writes one JSON object per line about every
100 ms of media time, plus a final one::

    {"frame": 120, "out_time_us": 4000000, "total_size": 183211, "duration_us": 10000000}

The parser runs inside a host call of the guest, so it must be cheap and must never raise: a
malformed line is skipped, and an exception from the user's callback is kept and re-raised by the
``Runtime`` after the job has finished (the job itself is not disturbed).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

#: a line longer than this is not a progress record; it is dropped rather than buffered forever
MAX_LINE = 4096


@dataclass(frozen=True)
class Progress:
    """One progress report of a running job.

    Attributes:
        frame: video frames written so far (0 for audio-only jobs).
        out_time: seconds of media written so far.
        total_size: bytes written to the outputs so far.
        fraction: ``out_time`` / the job's known duration, between 0 and 1 and never decreasing;
            ``-1.0`` when the duration is unknown.
        final: ``True`` for the last report of the job.
        duration: the job's known duration in seconds (what ``fraction`` is measured against), or ``None``.
    """

    frame: int
    out_time: float
    total_size: int
    fraction: float
    final: bool = False
    duration: float | None = None


class ProgressParser:
    """Feed it the bytes the guest writes; it calls ``callback`` once per complete record."""

    def __init__(self, callback: Callable[[Progress], None]) -> None:
        self._callback = callback
        self._pending = b""
        self._fraction = 0.0
        self._frame = 0
        self._out_time = 0.0
        self._size = 0
        self.error: BaseException | None = None
        self.count = 0

    def feed(self, data: bytes) -> None:
        """Take more bytes of the guest's progress stream; complete lines become callbacks."""
        self._pending += data
        *lines, self._pending = self._pending.split(b"\n")
        if len(self._pending) > MAX_LINE:
            self._pending = b""
        for line in lines:
            self._line(line)

    def _line(self, line: bytes) -> None:
        if not line.strip() or len(line) > MAX_LINE:
            return
        try:
            rec = json.loads(line)
        except ValueError:
            return
        if not isinstance(rec, dict):
            return
        # Counters never go backwards, even if the engine reports a smaller value (e.g. after a flush).
        self._frame = max(self._frame, _int(rec.get("frame")))
        self._out_time = max(self._out_time, _int(rec.get("out_time_us")) / 1e6)
        self._size = max(self._size, _int(rec.get("total_size")))
        duration = _int(rec.get("duration_us")) / 1e6
        final = bool(rec.get("final") or rec.get("end"))
        if duration > 0:
            self._fraction = max(self._fraction, min(1.0, self._out_time / duration))
            if final:
                self._fraction = 1.0
            fraction = self._fraction
        else:
            fraction = -1.0
        self.count += 1
        if self.error is not None:
            return
        try:
            self._callback(
                Progress(self._frame, self._out_time, self._size, fraction, final, duration if duration > 0 else None)
            )
        except BaseException as exc:  # noqa: BLE001 - kept and re-raised by the Runtime after the job
            self.error = exc


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    if value != value or value in (float("inf"), float("-inf")):  # NaN / inf
        return 0
    return max(0, int(value))
