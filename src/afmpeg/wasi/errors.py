"""The errno side of the WASI host: expected failures, and how host exceptions map to WASI errno values."""

from __future__ import annotations

from . import constants as c


class WasiError(Exception):
    """An expected failure that the guest sees as a WASI errno (never leaves the host layer)."""

    def __init__(self, errno: int, detail: str = "") -> None:
        super().__init__(errno, detail)
        self.errno = errno
        self.detail = detail

    def __str__(self) -> str:
        name = c.ERRNO_NAMES.get(self.errno, f"errno {self.errno}")
        return f"{name}: {self.detail}" if self.detail else name


def errno_for(exc: BaseException) -> int | None:
    """The WASI errno for an exception a filesystem may legitimately raise, or ``None`` for anything else."""
    if isinstance(exc, WasiError):
        return exc.errno
    if isinstance(exc, OSError) and not isinstance(exc, BlockingIOError):
        if exc.errno in c.HOST_TO_WASI_ERRNO:
            return c.HOST_TO_WASI_ERRNO[exc.errno]
        for cls, errno in _OSERROR_CLASSES:
            if isinstance(exc, cls):
                return errno
    return None


# fsspec backends often raise these without an errno attribute
_OSERROR_CLASSES: tuple[tuple[type[OSError], int], ...] = (
    (FileNotFoundError, c.ENOENT),
    (FileExistsError, c.EEXIST),
    (IsADirectoryError, c.EISDIR),
    (NotADirectoryError, c.ENOTDIR),
    (PermissionError, c.EACCES),
)
