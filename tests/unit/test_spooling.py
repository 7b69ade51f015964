"""Pending output files are spooled to disk (not kept in host memory), and remote reads give way to a job's stop.

Local filesystems: a pending file bigger than a little memory goes to a hidden temporary file beside its target,
which publication renames into place. Remote ones: to a private temporary directory, uploaded from there. Every
POSIX behaviour the guest sees must be the same as for an in-memory spool; a job that fails leaves no temporary
file behind. Most tests here make every pending file spool to disk at once (``on_disk``), so the tiny test guest
exercises the disk path.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fsspec.implementations.dirfs import DirFileSystem
from fsspec.implementations.local import LocalFileSystem
from fsspec.implementations.memory import MemoryFile

import afmpeg
from afmpeg.wasi import constants as c
from afmpeg.wasi import mounts, spool
from afmpeg.wasi.handles import SpoolHandle
from afmpeg.wasi.mounts import FsspecMount

MIB = 1 << 20


@pytest.fixture
def on_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every pending file with content spools to disk (no memory allowance at all)."""
    monkeypatch.setattr(spool, "MEMORY_PER_FILE", 0)
    monkeypatch.setattr(spool, "MEMORY_PER_MOUNT", 0)
    monkeypatch.setattr(mounts, "MEMORY_PER_FILE", 0)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    out = tmp_path / "root"
    out.mkdir()
    return out


def hidden(root: Path) -> list[str]:
    """The temporary files of a job under ``root``."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if spool.is_side_name(p.name))


def tree(root: Path) -> dict[str, bytes | None]:
    """Everything under ``root``: files with their content, directories as ``None``."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in root.rglob("*")}


def _open(mount: FsspecMount, rel: str, *, trunc: bool = True) -> SpoolHandle:
    oflags = c.OFLAGS_CREAT | (c.OFLAGS_TRUNC if trunc else 0)
    handle = mount.open(rel, oflags=oflags, read=True, write=True, append=False, must_be_dir=False)
    assert isinstance(handle, SpoolHandle)
    return handle


# ---------------------------------------------------------------- the mount itself


@pytest.mark.parametrize("wrap", [False, True], ids=["local", "dirfs"])
def test_a_big_pending_file_lives_on_disk_beside_its_target(root: Path, wrap: bool) -> None:
    (root / "out").mkdir()
    fs: Any = DirFileSystem(str(root), LocalFileSystem()) if wrap else LocalFileSystem()
    mount = FsspecMount(fs, "" if wrap else str(root), dev=1)
    handle = _open(mount, "out/big.bin")
    chunk = bytes(range(256)) * 4096  # 1 MiB
    for _ in range(5):
        handle.write(chunk)
    # the content is on disk, hidden beside the target, not in memory
    temps = hidden(root)
    assert len(temps) == 1 and temps[0].startswith("out/.big.bin.afmpeg-") and temps[0].endswith(".tmp")
    assert (root / temps[0]).stat().st_size == 5 * MIB
    assert mount.spooler.memory == 0
    assert not (root / "out" / "big.bin").exists()
    # the guest's view: the file, and nothing else
    assert [name for name, _, _ in mount.listdir("out")] == ["big.bin"]
    assert mount.stat("out/big.bin").size == 5 * MIB
    # seek-and-overwrite, read back, holes, truncation
    assert handle.seek(0, c.WHENCE_SET) == 0
    handle.write(b"HEAD")
    assert handle.pread(8, 0) == b"HEAD" + chunk[4:8]
    handle.pwrite(b"Z", 6 * MIB)  # past the end: a zero-filled hole
    assert handle.stat().size == 6 * MIB + 1
    assert handle.pread(4, 5 * MIB) == bytes(4)
    handle.set_size(3 * MIB)
    assert handle.stat().size == 3 * MIB and mount.stat("out/big.bin").size == 3 * MIB
    view = memoryview(bytearray(8))
    handle.seek(MIB - 4, c.WHENCE_SET)
    assert handle.readinto(view) == 8 and bytes(view) == chunk[-4:] + chunk[:4]
    handle.close()
    assert mount.publish() == []
    data = (root / "out" / "big.bin").read_bytes()
    assert data == b"HEAD" + chunk[4:] + chunk * 2
    assert hidden(root) == []


def test_small_pending_files_stay_in_memory(root: Path) -> None:
    mount = FsspecMount(LocalFileSystem(), str(root), dev=1)
    handle = _open(mount, "small.txt")
    handle.write(b"x" * 1000)
    assert hidden(root) == [] and mount.spooler.memory == 1000
    handle.close()
    assert mount.publish() == []
    assert tree(root) == {"small.txt": b"x" * 1000}


def test_many_small_files_share_a_memory_allowance(root: Path) -> None:
    mount = FsspecMount(LocalFileSystem(), str(root), dev=1)
    block = b"s" * (spool.MEMORY_PER_FILE // 2)
    n = 2 * spool.MEMORY_PER_MOUNT // len(block)
    for i in range(n):
        handle = _open(mount, f"seg{i:03}.ts")
        handle.write(block)
        handle.close()
        assert mount.spooler.memory <= spool.MEMORY_PER_MOUNT
    assert len(hidden(root)) >= n // 2  # the rest went to disk
    assert len(mount.spooler.open_files) == 0  # no host file held open for closed fds
    assert mount.publish() == []
    assert sorted(tree(root)) == [f"seg{i:03}.ts" for i in range(n)] and hidden(root) == []


def test_a_file_in_directories_the_job_creates_spools_to_the_nearest_existing_one(root: Path) -> None:
    mount = FsspecMount(LocalFileSystem(), str(root), dev=1)
    mount.mkdir("new")
    mount.mkdir("new/deeper")
    handle = _open(mount, "new/deeper/f.bin")
    handle.write(b"d" * (2 * MIB))
    assert [t.startswith(".f.bin.afmpeg-") for t in hidden(root)] == [True]  # in the root: nothing else exists
    assert not (root / "new").exists()  # directories are still made at publication only
    handle.close()
    assert mount.publish() == []
    assert tree(root) == {"new": None, "new/deeper": None, "new/deeper/f.bin": b"d" * (2 * MIB)}


def test_opening_a_big_existing_file_for_update_copies_it_to_disk(root: Path) -> None:
    (root / "log.bin").write_bytes(b"o" * (3 * MIB))
    mount = FsspecMount(LocalFileSystem(), str(root), dev=1)
    handle = _open(mount, "log.bin", trunc=False)
    assert len(hidden(root)) == 1 and mount.spooler.memory == 0
    assert mount.budget.used == 3 * MIB  # the copy counts against the output budget, as it did in memory
    handle.pwrite(b"NEW", 0)
    assert (root / "log.bin").read_bytes()[:3] == b"ooo"  # nothing published yet
    handle.close()
    mount.discard()
    assert tree(root) == {"log.bin": b"o" * (3 * MIB)}  # discarded: untouched, no temporary file


def test_unlinked_pending_files_free_their_disk_space(root: Path) -> None:
    mount = FsspecMount(LocalFileSystem(), str(root), dev=1)
    handle = _open(mount, "gone.bin")
    handle.write(b"g" * (2 * MIB))
    mount.unlink("gone.bin")
    assert len(hidden(root)) == 1  # an fd still refers to it: readable as on POSIX
    assert handle.pread(1, 0) == b"g"
    handle.close()
    assert hidden(root) == []
    assert mount.publish() == [] and tree(root) == {}


def test_spool_files_are_removed_when_the_mount_is_forgotten(root: Path) -> None:
    # the last resort: a mount dropped without publish or discard (which the host never does) cleans up on GC
    mount = FsspecMount(LocalFileSystem(), str(root), dev=1)
    handle = _open(mount, "x.bin")
    handle.write(b"x" * (2 * MIB))
    assert len(hidden(root)) == 1
    del handle, mount
    import gc

    gc.collect()
    assert hidden(root) == []


# ---------------------------------------------------------------- the guest's view of spooled files

_DATA = b"hello world, a file that exists before the job"


@pytest.mark.parametrize(
    "args",
    [
        ["seekwrite", "f.bin"],
        ["append", "old.txt", "-appended"],
        ["truncate", "old.txt", "5"],
        ["truncate", "old.txt", "70"],
        ["readwhilewrite", "r.txt"],
        ["bigio", "big.bin", "300000"],
        ["iov", "iov.bin"],
        ["eof", "old.txt"],
        ["excl", "x.txt"],
        ["noclose", "nc.txt", "written-but-never-closed"],
        ["fsops", "write", "a.txt", "A", "mv", "a.txt", "b.txt", "cat", "b.txt", "stat", "b.txt", "ls", "/"],
        ["fsops", "write", "a.txt", "A", "unlink", "a.txt", "stat", "a.txt", "mv", "old.txt", "moved.txt"],
        ["fsops", "mkdir", "d", "write", "d/f.txt", "F", "mv", "d", "e", "cat", "e/f.txt", "ls", "e"],
    ],
    ids=lambda a: "-".join(a[:3]),
)
def test_spooled_files_behave_like_in_memory_ones(runtime: afmpeg.Runtime, root: Path, on_disk: None, args) -> None:
    memfs = afmpeg.MemoryFS()
    memfs.pipe_file("/old.txt", _DATA)
    (root / "old.txt").write_bytes(_DATA)
    expected = runtime.run_command(["guest", *args], fs=memfs)
    got = runtime.run_command(["guest", *args], fs=str(root))
    assert not got.host_errors and not got.write_errors, (got.host_errors, got.write_errors)
    assert (got.exit_code, got.stdout) == (expected.exit_code, expected.stdout)
    assert got.exit_code == 0, got.stdout
    in_memory = {p.lstrip("/"): memfs.cat_file(p) for p in memfs.find("/")}
    assert {k: v for k, v in tree(root).items() if v is not None} == in_memory
    assert hidden(root) == []


def test_a_failed_job_leaves_no_temporary_file_and_existing_files_untouched(
    runtime: afmpeg.Runtime, root: Path, on_disk: None
) -> None:
    (root / "a.txt").write_bytes(b"precious")
    before = tree(root)
    res = runtime.run_command(
        ["guest", "fsops", "write", "a.txt", "A", "mkdir", "d", "write", "d/b.txt", "B", "write", "c.txt", "C",
         "exit", "3"],
        fs=str(root),
    )  # fmt: skip
    assert res.exit_code == 3
    assert tree(root) == before and hidden(root) == []
    res = runtime.run_command(["guest", "noclose", "a.txt", "replaced", "4"], fs=str(root))  # an fd still open
    assert res.exit_code == 4
    assert tree(root) == before and hidden(root) == []


def test_output_limit_counts_spooled_files(runtime: afmpeg.Runtime, root: Path) -> None:
    with pytest.raises(afmpeg.OutputLimitExceeded):
        runtime.run_command(["guest", "bigio", "big.bin", str(3 * MIB)], fs=str(root), output_limit=2 * MIB)
    assert tree(root) == {}
    res = runtime.run_command(["guest", "bigio", "big.bin", str(3 * MIB)], fs=str(root), output_limit=4 * MIB)
    assert res.exit_code == 0 and (root / "big.bin").stat().st_size == 3 * MIB and hidden(root) == []


def test_the_guest_never_sees_or_makes_temporary_names(runtime: afmpeg.Runtime, root: Path, on_disk: None) -> None:
    stale = ".x.afmpeg-0123456789ab.tmp"  # as a crashed process would leave it
    (root / stale).write_bytes(b"stale")
    (root / "a.txt").write_bytes(b"a")
    res = runtime.run_command(
        ["guest", "fsops",
         "write", "big.txt", "spooled to a hidden file",
         "ls", "/",
         "stat", stale,
         "write", ".y.afmpeg-0123456789ab.tmp", "no",
         "mkdir", ".z.afmpeg-0123456789ab.old",
         "mv", "a.txt", ".w.afmpeg-0123456789ab.tmp"],
        fs=str(root),
    )  # fmt: skip
    assert res.stdout.decode().splitlines() == [
        "write big.txt OK",
        "ls / a.txt big.txt",
        f"stat {stale} ENOENT",
        "write .y.afmpeg-0123456789ab.tmp EACCES",
        "mkdir .z.afmpeg-0123456789ab.old EACCES",
        "mv a.txt .w.afmpeg-0123456789ab.tmp EACCES",
    ]
    assert tree(root) == {stale: b"stale", "a.txt": b"a", "big.txt": b"spooled to a hidden file"}


def test_a_directory_moved_out_of_the_way_takes_its_spool_files_along(
    runtime: afmpeg.Runtime, root: Path, on_disk: None
) -> None:
    # y.txt's content is spooled inside d/; publication moves d aside (a file named d takes its place) before it
    # renames y.txt into place
    (root / "d").mkdir()
    (root / "d" / "old.txt").write_bytes(b"old")
    res = runtime.run_command(
        ["guest", "fsops", "write", "d/x.txt", "hello", "mv", "d/x.txt", "y.txt", "unlink", "d/old.txt",
         "rmdir", "d", "write", "d", "a file now"],
        fs=str(root),
    )  # fmt: skip
    assert res.exit_code == 0 and res.write_errors == [], res.stdout
    assert tree(root) == {"y.txt": b"hello", "d": b"a file now"}


class _OsWithFailingReplace:
    """``os`` as the mounts module sees it, except that renaming onto ``victim`` fails."""

    def __init__(self, victim: str) -> None:
        self.victim = victim

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def replace(self, src: str, dst: str) -> None:
        if dst.endswith(self.victim):
            raise OSError(28, "No space left on device")
        os.replace(src, dst)


@pytest.mark.parametrize("disk", [False, True], ids=["memory-spool", "disk-spool"])
def test_a_failed_rename_takes_back_replaced_files_too(
    runtime: afmpeg.Runtime, root: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, disk: bool
) -> None:
    if disk:
        request.getfixturevalue("on_disk")
    (root / "a.txt").write_bytes(b"old a")
    (root / "c.txt").write_bytes(b"old c")
    monkeypatch.setattr(mounts, "os", _OsWithFailingReplace("c.txt"))
    res = runtime.run_command(
        ["guest", "fsops", "write", "a.txt", "A", "write", "b.txt", "B", "write", "c.txt", "C"], fs=str(root)
    )
    assert res.exit_code == 0 and len(res.write_errors) == 1 and "c.txt" in res.write_errors[0]
    # a.txt and b.txt were in place already: b.txt (new) was removed, a.txt got its old content back
    assert tree(root) == {"a.txt": b"old a", "c.txt": b"old c"}


def test_many_spooled_files_do_not_hold_many_host_files(
    runtime: afmpeg.Runtime, root: Path, on_disk: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spool, "MAX_OPEN_FILES", 2)
    steps = [x for i in range(40) for x in ("write", f"f{i:02}.txt", f"content {i}")]
    res = runtime.run_command(["guest", "fsops", *steps], fs=str(root))
    assert res.exit_code == 0 and res.write_errors == []
    assert tree(root) == {f"f{i:02}.txt": f"content {i}".encode() for i in range(40)}


# ---------------------------------------------------------------- remote filesystems


class FakeStore(afmpeg.MemoryFS):
    """An in-memory filesystem that afmpeg takes for a remote object store; records how files were uploaded."""

    protocol = ("fakestore",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.uploads: list[tuple[str, str]] = []

    def pipe_file(self, path: str, value: Any, *args: Any, **kwargs: Any) -> None:
        self.uploads.append(("pipe_file", path))
        super().pipe_file(path, value, *args, **kwargs)

    def put_file(self, lpath: str, rpath: str, *args: Any, **kwargs: Any) -> None:
        self.uploads.append(("put_file", rpath))
        assert spool.is_side_name(os.path.basename(lpath))
        with open(lpath, "rb") as f:
            super().pipe_file(rpath, f.read())


@pytest.fixture
def object_stores(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """``FakeStore`` and ``SlowStore`` count as object stores; returns the temporary directory spools go to."""
    monkeypatch.setattr(mounts, "OBJECT_STORE_PROTOCOLS", mounts.OBJECT_STORE_PROTOCOLS | {"fakestore", "slowstore"})
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return tmp


def test_remote_outputs_stay_in_memory_and_upload_once(runtime: afmpeg.Runtime, object_stores: Path) -> None:
    # remote outputs are spooled in memory (no temporary files on the host) and uploaded in one call each
    store = FakeStore()
    assert mounts.is_remote(store) and mounts.is_object_store(store)
    res = runtime.run_command(["guest", "bigio", "out/big.bin", str(3 * MIB)], fs=store)
    assert res.exit_code == 0 and res.write_errors == []
    assert store.uploads == [("pipe_file", "out/big.bin")]
    assert len(store.cat_file("/out/big.bin")) == 3 * MIB
    assert list(object_stores.iterdir()) == []  # nothing went to the temporary directory
    store.uploads.clear()
    res = runtime.run_command(["guest", "fsops", "write", "a.txt", "A", "exit", "3"], fs=store)
    assert res.exit_code == 3 and store.uploads == []


# ---------------------------------------------------------------- stopping a job blocked in a remote read


class SlowFile(MemoryFile):
    """A file whose reads block (like a stalled network fetch) until the store's gate opens."""

    def __init__(self, store: SlowStore, *args: Any) -> None:
        super().__init__(*args)
        self.store = store

    def _stall(self) -> None:
        if self.store.stall:
            self.store.reading.set()
            self.store.gate.wait(30)

    def read(self, n: int | None = -1) -> bytes:
        self._stall()
        return super().read(n)

    def readinto(self, b: Any) -> int:
        self._stall()
        return super().readinto(b)

    def close(self) -> None:
        self.store.closed.set()
        super().close()


class SlowStore(afmpeg.MemoryFS):
    """An object store (as afmpeg sees it) whose reads stall while ``stall`` is set."""

    protocol = ("slowstore",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stall = True
        self.gate = threading.Event()
        self.reading = threading.Event()
        self.closed = threading.Event()

    def _open(self, path: str, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        f = super()._open(path, mode, *args, **kwargs)
        if mode == "rb":
            return SlowFile(self, None, f.path, f.getvalue())
        return f


@pytest.fixture
def slow_store(object_stores: Path) -> Any:
    store = SlowStore()
    store.pipe_file("/in.bin", b"0123456789" * 1000)
    yield store
    store.gate.set()  # let the stalled helper threads finish


def test_cancel_stops_a_job_blocked_in_a_remote_read(runtime: afmpeg.Runtime, slow_store: SlowStore) -> None:
    token = afmpeg.CancelToken()
    threading.Thread(target=lambda: (slow_store.reading.wait(10), time.sleep(0.2), token.cancel()), daemon=True).start()
    t0 = time.monotonic()
    with pytest.raises(afmpeg.Cancelled):
        runtime.run_command(["guest", "cat", "in.bin"], fs=slow_store, cancel=token)
    assert slow_store.reading.is_set()
    assert time.monotonic() - t0 < 1.5
    # the file object is still busy in the helper thread: it is closed once the read given up on is over
    assert not slow_store.closed.is_set()
    slow_store.gate.set()
    assert slow_store.closed.wait(5)


def test_time_limit_stops_a_job_blocked_in_a_remote_read(runtime: afmpeg.Runtime, slow_store: SlowStore) -> None:
    t0 = time.monotonic()
    with pytest.raises(afmpeg.JobTimeout):
        runtime.run_command(["guest", "cat", "in.bin"], fs=slow_store, time_limit=0.3)
    assert slow_store.reading.is_set()
    assert time.monotonic() - t0 < 1.5


def test_remote_reads_with_a_stop_condition_read_the_same_bytes(runtime: afmpeg.Runtime, slow_store: SlowStore) -> None:
    slow_store.stall = False
    data = slow_store.cat_file("/in.bin")
    token = afmpeg.CancelToken()
    for kwargs in ({}, {"cancel": token}, {"time_limit": 30.0}):  # direct, and through the helper thread
        res = runtime.run_command(["guest", "cat", "in.bin"], fs=slow_store, **kwargs)
        assert res.exit_code == 0 and res.stdout == data
