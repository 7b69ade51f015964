"""Job-spec pieces of frame I/O: the source's probe, its input entry, the time window, the run keywords."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import error_for_exit
from ..results import ProbeResult
from ..runtime import Runtime


def _probe(runtime: Runtime, path: str, fs: Any, root: str | None, entry: dict[str, Any], kw: dict[str, Any]) -> Any:
    """The probed input (raising its error, classified like a job's, when it cannot be opened)."""
    job = {"op": "probe", "version": 9, "inputs": [entry]}
    info = ProbeResult.from_dict(runtime.call(job, fs=fs, root=root, **kw)).inputs[0]
    if info.error is not None:  # the engine's message names the path
        kind = getattr(info, "error_kind", None) or info.extra.get("error_kind")
        details = {"error": info.error, "kind": kind, "field": "inputs[0]"}
        raise error_for_exit(1, info.error, job=job, details=details)
    return info


def _input_entry(path: str, input_format: str | None, input_options: Mapping[str, str] | None) -> dict[str, Any]:
    entry: dict[str, Any] = {"path": path}
    if input_format is not None:
        entry["format"] = input_format
    if input_options:
        entry["options"] = dict(input_options)
    return entry


def _window(job: dict[str, Any], start: float | None, duration: float | None, accurate: bool) -> None:
    if start is not None:
        job["inputs"][0]["seek"] = {"start": float(start), "mode": "accurate" if accurate else "fast"}
    if duration is not None:
        job["outputs"][0]["duration"] = float(duration)


def _run_kw(fs: Any, root: str | None, memory_limit: Any, time_limit: Any, progress: Any) -> dict[str, Any]:
    return {"fs": fs, "root": root, "memory_limit": memory_limit, "time_limit": time_limit, "progress": progress}
