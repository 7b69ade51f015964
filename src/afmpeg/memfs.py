"""A private in-memory fsspec filesystem."""

from __future__ import annotations

from typing import Any

from fsspec.implementations.memory import MemoryFile, MemoryFileSystem


class MemoryFS(MemoryFileSystem):
    """An in-memory filesystem whose files belong to this instance alone.

    fsspec's :class:`~fsspec.implementations.memory.MemoryFileSystem` keeps its files in a *class* attribute
    (every instance, in every thread, sees the same files) and caches instances. ``MemoryFS`` gives each
    instance its own store and is never cached, so two runtimes (or two tests) never see each other's files.
    """

    cachable = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.store: dict[str, Any] = {}
        self.pseudo_dirs: list[str] = [""]

    def _open(self, path: str, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        f = super()._open(path, mode, *args, **kwargs)
        if mode == "rb":
            # fsspec hands every reader the one stored file object, so all readers share one position: two jobs
            # reading the same input at once would move each other's reads. Each reader gets its own object over
            # the same bytes (getvalue() shares the buffer; nothing is copied until someone writes).
            return MemoryFile(None, f.path, f.getvalue())
        return f
