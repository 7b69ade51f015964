"""MemoryFS: per-instance storage (fsspec's MemoryFileSystem shares one class-level store)."""

from __future__ import annotations

from fsspec.implementations.memory import MemoryFileSystem

import afmpeg


def test_instances_are_isolated() -> None:
    a, b = afmpeg.MemoryFS(), afmpeg.MemoryFS()
    assert a is not b
    a.pipe_file("/x", b"1")
    assert a.cat_file("/x") == b"1"
    assert not b.exists("/x")
    assert not MemoryFileSystem().exists("/x")


def test_plain_memory_filesystem_is_shared() -> None:
    # the reason MemoryFS exists: the fsspec class shares one store between all instances
    MemoryFileSystem().pipe_file("/afmpeg-shared-probe", b"1")
    try:
        assert MemoryFileSystem(skip_instance_cache=True).exists("/afmpeg-shared-probe")
    finally:
        MemoryFileSystem().rm("/afmpeg-shared-probe")
