"""Job-spec pieces of frame I/O: the source's input entry, the time window, the run keywords."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _input_entry(path: str, input_format: str | None, input_options: Mapping[str, str] | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"path": path}
    if input_format is not None:
        entry["format"] = input_format
    if input_options:
        entry["options"] = dict(input_options)
    return entry


def _probe_keys(input_format: str | None, input_options: Mapping[str, str] | None) -> dict[str, Any]:
    """The demuxer keywords of the source's probe (those of :class:`~afmpeg.Input`)."""
    return {"format": input_format, "options": dict(input_options) if input_options else None}


def _window(job: dict[str, Any], start: float | None, duration: float | None, accurate: bool) -> None:
    if start is not None:
        job["inputs"][0]["seek"] = {"start": float(start), "mode": "accurate" if accurate else "fast"}
    if duration is not None:
        job["outputs"][0]["duration"] = float(duration)


def _run_kw(memory_limit: Any, time_limit: Any, progress: Any) -> dict[str, Any]:
    """The keywords of the job's run (its filesystem comes from the call's :class:`~afmpeg.sources.Files`)."""
    return {"memory_limit": memory_limit, "time_limit": time_limit, "progress": progress}
