"""Path confinement: guest paths are resolved lexically inside a mount and, on local disk, checked against symlinks."""

from __future__ import annotations

import os
from typing import Any

from . import constants as c
from .errors import WasiError


def resolve(base: str, path: str) -> tuple[str, bool]:
    """Join a guest path onto a directory's mount-relative ``base`` and normalise it.

    Returns ``(relative_path, must_be_dir)``; ``relative_path`` is ``""`` for the mount root and never contains
    ``.``/``..`` components, so no backend ever sees them. ``..`` is applied lexically (it cannot climb out
    through a symlink). A path that would leave the mount or an absolute path is ``ENOTCAPABLE``, like other
    WASI hosts answer; a component longer than ``NAME_MAX`` bytes is ``ENAMETOOLONG``. ``must_be_dir`` is set
    when the path ends in ``/``, ``.`` or ``..`` (POSIX then wants a directory: ``file/`` and ``file/.`` are
    ``ENOTDIR``).
    """
    if not path:
        raise WasiError(c.ENOENT)
    if "\x00" in path:
        raise WasiError(c.EINVAL)
    if path.startswith("/"):
        raise WasiError(c.ENOTCAPABLE)
    must_be_dir = path.rsplit("/", 1)[-1] in ("", ".", "..")
    parts: list[str] = [p for p in base.split("/") if p] if base else []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise WasiError(c.ENOTCAPABLE)
            parts.pop()
            continue
        if len(part.encode("utf-8")) > c.NAME_MAX:  # the same answer on every backend (S3 keys may be longer)
            raise WasiError(c.ENAMETOOLONG)
        parts.append(part)
    return "/".join(parts), must_be_dir


def parent(rel: str) -> str:
    """The mount-relative parent of ``rel`` (``""`` for top-level names)."""
    return rel.rpartition("/")[0]


class LocalRoot:
    """The real directory behind a mount whose filesystem is the local disk.

    Lexical resolution keeps ``..`` inside the mount, but the OS follows symlinks: a link inside the root that
    points outside it (placed there by whoever filled the directory, e.g. an unpacked upload) would let the guest
    read or create files anywhere. :meth:`check` refuses any path whose real location is outside the root.
    """

    def __init__(self, directory: str) -> None:
        self.real = os.path.realpath(directory)

    @classmethod
    def of(cls, fs: Any, root: str) -> LocalRoot | None:
        """The local root of ``fs`` at ``root`` (a ``LocalFileSystem``, possibly inside ``DirFileSystem`` layers)."""
        from fsspec.implementations.dirfs import DirFileSystem
        from fsspec.implementations.local import LocalFileSystem

        path = root
        while isinstance(fs, DirFileSystem):
            path = fs._join(path)  # "" joins to the layer's own directory
            fs = fs.fs
        if not isinstance(fs, LocalFileSystem):
            return None
        return cls(fs._strip_protocol(path))  # "" is the working directory, as LocalFileSystem sees it

    def check(self, rel: str) -> None:
        """Raise ``ENOTCAPABLE`` if ``rel`` (mount-relative, already lexically clean) resolves outside the root."""
        if not rel:
            return
        real = os.path.realpath(os.path.join(self.real, rel))
        if real != self.real and not real.startswith(self.real.rstrip(os.sep) + os.sep):
            raise WasiError(c.ENOTCAPABLE, f"{rel!r} leads outside the root through a symlink")
