"""Exceptions raised by afmpeg."""

from __future__ import annotations

from typing import Any

__all__ = [
    "AfmpegError",
    "ProcessingError",
    "JobSpecError",
    "UnsupportedVocabulary",
    "EngineCrash",
    "ModuleNotFound",
    "LimitExceeded",
    "MemoryLimitExceeded",
    "JobTimeout",
    "OutputLimitExceeded",
    "Cancelled",
]


class AfmpegError(Exception):
    """Base class of every afmpeg error.

    Attributes:
        message: the engine's error text (or afmpeg's own, for host-side failures).
        exit_code: the engine's exit code, or ``None`` when the engine did not exit normally.
        stderr: the tail of the engine's log (libav messages), decoded as UTF-8 with replacement.
        job: the job (wire-format dict) that failed, when there was one.
        details: the full JSON error object the engine printed, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        exit_code: int | None = None,
        stderr: str = "",
        job: dict[str, Any] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.stderr = stderr
        self.job = job
        self.details = details or {}

    def __str__(self) -> str:
        text = self.message
        if self.exit_code is not None:
            text += f" (engine exit code {self.exit_code})"
        return text


class ProcessingError(AfmpegError):
    """The engine could not do the work (exit code 1): unreadable input, codec or filter failure, …"""


class JobSpecError(AfmpegError, ValueError):
    """The job spec is malformed (exit code 2), or afmpeg rejected it before running the engine."""


class UnsupportedVocabulary(AfmpegError):
    """The job uses a spec vocabulary newer than the engine understands (exit code 3)."""


class EngineCrash(AfmpegError):
    """The guest trapped (``unreachable`` from an assertion, stack overflow, out-of-bounds access, …).

    ``trap_code`` names the wasmtime trap code when there is one (e.g. ``"UNREACHABLE_CODE_REACHED"``).
    """

    def __init__(self, message: str, *, trap_code: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.trap_code = trap_code


class ModuleNotFound(AfmpegError, FileNotFoundError):
    """No engine module could be found."""


class LimitExceeded(AfmpegError):
    """The job was stopped because it went past one of its limits (``limit`` holds the limit's value).

    The Runtime stays usable; nothing the job wrote is published.
    """

    def __init__(self, message: str, *, limit: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.limit = limit


class MemoryLimitExceeded(LimitExceeded, MemoryError):
    """The guest needed more linear memory than ``memory_limit`` bytes (a ``memory.grow`` was refused)."""


class JobTimeout(LimitExceeded, TimeoutError):
    """The job ran longer than ``time_limit`` seconds of wall time and was stopped."""


class OutputLimitExceeded(LimitExceeded):
    """The files the job wrote grew past ``output_limit`` bytes in total (the write failed with ``EFBIG``)."""


class Cancelled(AfmpegError):
    """The job was stopped through its :class:`~afmpeg.CancelToken`; nothing it wrote is published."""


def error_for_exit(
    exit_code: int,
    message: str,
    *,
    stderr: str = "",
    job: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> AfmpegError:
    """The exception matching an engine exit code."""
    cls: type[AfmpegError]
    if exit_code == 2:
        cls = JobSpecError
    elif exit_code == 3:
        cls = UnsupportedVocabulary
    else:
        cls = ProcessingError
    return cls(message, exit_code=exit_code, stderr=stderr, job=job, details=details)
