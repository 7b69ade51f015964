"""Exceptions raised by afmpeg: one hierarchy rooted at :class:`Error`.

::

    Error (AfmpegError)
    ├── JobSpecError            ValueError          the job spec is malformed (exit code 2)
    ├── UnsupportedVocabulary                       the spec's vocabulary is newer than the engine (exit code 3)
    ├── ProcessingError                             the engine could not do the work (exit code 1)
    │   ├── UnsupportedFeature                      this build has no such codec / format / filter / …
    │   ├── InputNotFound       FileNotFoundError   an input file does not exist
    │   └── InvalidData                             corrupt, truncated or unrecognised media
    ├── LimitExceeded                               stopped by a limit
    │   ├── MemoryLimitExceeded MemoryError
    │   ├── JobTimeout          TimeoutError
    │   └── OutputLimitExceeded
    ├── Cancelled                                   stopped through its CancelToken
    ├── EngineCrash                                 the module trapped
    └── ModuleNotFound          FileNotFoundError   no engine module to run

The engine classifies its own failures: its error JSON carries a machine-readable ``"kind"`` (``spec``,
``version``, ``unsupported``, ``not_found``, ``invalid_data``, ``processing``) derived from libav's error codes,
so the class never depends on the wording of a message. An allocation failure (``no_memory``) under a memory limit
is that limit at work: :class:`MemoryLimitExceeded`.
"""

from __future__ import annotations

import errno
import re
from typing import Any

__all__ = [
    "Error",
    "AfmpegError",
    "ProcessingError",
    "JobSpecError",
    "UnsupportedVocabulary",
    "UnsupportedFeature",
    "InputNotFound",
    "InvalidData",
    "EngineCrash",
    "ModuleNotFound",
    "ModuleVerificationError",
    "ChecksumMismatch",
    "MalformedChecksums",
    "SignatureInvalid",
    "ProvenanceMismatch",
    "UnknownVariant",
    "DownloadError",
    "LimitExceeded",
    "MemoryLimitExceeded",
    "JobTimeout",
    "OutputLimitExceeded",
    "Cancelled",
    "error_for_exit",
    "ERROR_KINDS",
]

# How much of the engine's log an error keeps as ``ffmpeg_message`` (libav may log a line per broken packet).
_LOG_TAIL_LINES = 20


class Error(Exception):
    """Base class of every afmpeg error (``AfmpegError`` is the same class under its older name).

    Attributes:
        message: the engine's error text (or afmpeg's own, for host-side failures).
        exit_code: the engine's exit code, or ``None`` when the engine did not exit normally.
        stderr: the engine's log (libav messages), decoded as UTF-8 with replacement.
        job: the job (wire-format dict) that failed, when there was one.
        details: the full JSON error object the engine printed, if any (``error``, ``field``, ``kind``).
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

    @property
    def kind(self) -> str | None:
        """The engine's machine-readable error kind (``"not_found"``, ``"invalid_data"``, …), if it gave one."""
        value = self.details.get("kind")
        return value if isinstance(value, str) else None

    @property
    def field(self) -> str | None:
        """The job spec field the engine blamed (e.g. ``"inputs[0]"``, ``"outputs[1].video_codec"``), if any."""
        value = self.details.get("field")
        return value if isinstance(value, str) else None

    @property
    def ffmpeg_message(self) -> str:
        """FFmpeg's own words: the last lines libav logged during the job, else the engine's message."""
        lines = [ln for ln in self.stderr.splitlines() if ln.strip()]
        if lines:
            return "\n".join(lines[-_LOG_TAIL_LINES:])
        engine_words = self.details.get("error")  # the engine's text, before a helper renamed the paths in it
        return engine_words if isinstance(engine_words, str) and engine_words else self.message


#: The historical name of :class:`Error`.
AfmpegError = Error


class ProcessingError(Error):
    """The engine could not do the work (exit code 1): a codec or filter failure, a write error, …

    The subclasses :class:`UnsupportedFeature`, :class:`InputNotFound` and :class:`InvalidData` narrow the cause
    when the engine knows it.
    """


class UnsupportedFeature(ProcessingError):
    """This engine build cannot do what the job asks: no such encoder, decoder, muxer, demuxer, filter, bitstream
    filter or option, or an output format that cannot store the chosen codec.

    The message names the missing piece (e.g. ``unknown encoder "libx264"``); ``field`` names the spec field.
    """


class InputNotFound(ProcessingError, FileNotFoundError):
    """An input file (or a file an input names, such as a concat list entry) does not exist.

    Also a :class:`FileNotFoundError`: ``errno`` is ``ENOENT`` and ``filename`` the job's input path when the
    engine named the input.
    """

    def __init__(self, message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.errno = errno.ENOENT
        self.strerror = message
        self.filename = _input_path(self.job, self.field)


class InvalidData(ProcessingError):
    """The media is corrupt, truncated or not in a format this build recognises (libav's ``AVERROR_INVALIDDATA``)."""


class JobSpecError(Error, ValueError):
    """The job spec is malformed (exit code 2), or afmpeg rejected it before running the engine."""


class UnsupportedVocabulary(Error):
    """The job uses a spec vocabulary newer than the engine understands (exit code 3)."""


class EngineCrash(Error):
    """The guest trapped (``unreachable`` from an assertion, stack overflow, out-of-bounds access, …).

    ``trap_code`` names the wasmtime trap code when there is one (e.g. ``"UNREACHABLE_CODE_REACHED"``); the full
    trap text, backtrace included, is :attr:`trap`. The instance is discarded; the Runtime stays usable.
    """

    def __init__(self, message: str, *, trap_code: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.trap_code = trap_code

    @property
    def trap(self) -> str | None:
        """wasmtime's full trap message (with the wasm backtrace), when the guest trapped."""
        value = self.details.get("trap")
        return value if isinstance(value, str) else None


class ModuleNotFound(Error, FileNotFoundError):
    """No engine module could be found."""


class ModuleVerificationError(Error):
    """An engine module (or a release file describing one) failed verification; nothing of it was compiled."""


class ChecksumMismatch(ModuleVerificationError):
    """A file's SHA-256 is not the one expected (``expected`` / ``actual`` hex digests)."""

    def __init__(self, message: str, *, expected: str = "", actual: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.expected = expected
        self.actual = actual


class MalformedChecksums(ModuleVerificationError, ValueError):
    """A ``checksums.txt`` line (or a name or digest given to write one) is not in the strict sha256sum form."""


class SignatureInvalid(ModuleVerificationError):
    """A release's ``checksums.txt`` signature is malformed, or not made by a trusted key."""


class ProvenanceMismatch(ModuleVerificationError):
    """A release's ``provenance.json`` does not describe the file or variant asked for (or its checksum differs)."""


class UnknownVariant(Error, ValueError):
    """An engine variant name that is not known (the variants are ``lgpl`` and ``gpl``), or not in a release."""


class DownloadError(Error):
    """A download failed: an HTTP error (``status``), a network error, or a body larger than allowed."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.url = url
        self.status = status


class LimitExceeded(Error):
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


class Cancelled(Error):
    """The job was stopped through its :class:`~afmpeg.CancelToken`; nothing it wrote is published."""


#: The engine's error kinds (its error JSON's ``"kind"``) and the exception class each becomes.
ERROR_KINDS: dict[str, type[Error]] = {
    "spec": JobSpecError,
    "version": UnsupportedVocabulary,
    "unsupported": UnsupportedFeature,
    "not_found": InputNotFound,
    "invalid_data": InvalidData,
    "no_memory": ProcessingError,  # MemoryLimitExceeded when the job had a memory limit
    "processing": ProcessingError,
}

_INPUT_FIELD = re.compile(r"inputs\[(\d+)\]")


def _input_path(job: dict[str, Any] | None, field: str | None) -> str | None:
    """The path of the input a field such as ``"inputs[2].options"`` names, looked up in the job."""
    match = _INPUT_FIELD.match(field or "")
    if not match or not isinstance(job, dict):
        return None
    inputs = job.get("inputs")
    if not isinstance(inputs, list) or int(match.group(1)) >= len(inputs):
        return None
    entry = inputs[int(match.group(1))]
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and isinstance(entry.get("path"), str):
        return str(entry["path"])
    return None


def error_for_exit(
    exit_code: int,
    message: str,
    *,
    stderr: str = "",
    job: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
    memory_limit: int | None = None,
) -> Error:
    """The exception for an engine exit code and the ``kind`` in its error JSON (``details``).

    Exit code 2 is always a :class:`JobSpecError` and 3 an :class:`UnsupportedVocabulary`; for exit code 1 the
    kind picks :class:`UnsupportedFeature`, :class:`InputNotFound` or :class:`InvalidData`, falling back to
    :class:`ProcessingError` (also for an unknown kind from a newer engine). A failed allocation (``no_memory``)
    is a :class:`MemoryLimitExceeded` when the job ran with a ``memory_limit``: the limit refused the memory.
    """
    cls: type[Error]
    kind = (details or {}).get("kind")
    if exit_code == 1 and kind == "no_memory" and memory_limit is not None:
        return MemoryLimitExceeded(
            f"the job needed more than memory_limit={memory_limit} bytes of memory ({message})",
            limit=memory_limit,
            exit_code=exit_code,
            stderr=stderr,
            job=job,
            details=details,
        )
    if exit_code == 2:
        cls = JobSpecError
    elif exit_code == 3:
        cls = UnsupportedVocabulary
    else:
        found = ERROR_KINDS.get(kind) if isinstance(kind, str) else None
        # a kind never moves an error out of its exit code's family
        cls = found if found is not None and issubclass(found, ProcessingError) else ProcessingError
    return cls(message, exit_code=exit_code, stderr=stderr, job=job, details=details)
