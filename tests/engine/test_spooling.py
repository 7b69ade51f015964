"""Real engine jobs: big outputs do not pile up in host memory, and a job stalled on a remote read stops promptly.

Outputs stay pending until the job succeeds, but their content is spooled to disk (beside the target on a local
filesystem, in a private temporary directory for a remote one) rather than held in a Python buffer: host memory
stays flat however big the output grows. See also tests/unit/test_spooling.py.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from fsspec.implementations.dirfs import DirFileSystem
from fsspec.implementations.local import LocalFileSystem
from fsspec.implementations.memory import MemoryFile

import afmpeg
from afmpeg.wasi import mounts, spool

from .conftest import make_wav

MB = 1_000_000
FRAME = 640 * 480 * 3 // 2  # one yuv420p frame of the test source


def _raw_video_job(path: str, seconds: float) -> dict[str, Any]:
    return {
        "op": "process",
        "version": 9,
        "filter": f"testsrc2=size=640x480:rate=25:duration={seconds}[v]",
        "outputs": [{"path": path, "map": ["[v]"], "video_codec": "rawvideo", "format": "rawvideo"}],
    }


def hidden(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if spool.is_side_name(p.name))


def _peak_during(fn: Any) -> int:
    """Peak bytes Python allocated while ``fn()`` ran."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def warm(runtime: afmpeg.Runtime) -> afmpeg.Runtime:
    """The runtime, after one small job (one-time allocations do not count against the big one)."""
    runtime.run(_raw_video_job("warm.yuv", 0.08), fs=afmpeg.MemoryFS())
    return runtime


@pytest.mark.parametrize("form", ["path", "dirfs"])
def test_a_100_mb_output_to_local_disk_keeps_host_memory_flat(warm: afmpeg.Runtime, tmp_path: Path, form: str) -> None:
    (tmp_path / "out").mkdir()
    fs: Any = str(tmp_path) if form == "path" else DirFileSystem(str(tmp_path), LocalFileSystem())
    job = _raw_video_job("out/raw.yuv", 9)  # 225 frames: 103.7 MB
    peak = _peak_during(lambda: warm.run(job, fs=fs))
    size = (tmp_path / "out" / "raw.yuv").stat().st_size
    assert size == 225 * FRAME
    # before spooling, the whole output was a bytearray: the peak was ~106 MB here
    assert peak < 20 * MB, f"peak {peak / MB:.1f} MB for a {size / MB:.0f} MB output"
    assert hidden(tmp_path) == []


def test_a_stopped_job_leaves_no_temporary_file_and_existing_files_untouched(
    warm: afmpeg.Runtime, tmp_path: Path
) -> None:
    (tmp_path / "raw.yuv").write_bytes(b"precious")
    job = _raw_video_job("raw.yuv", 600)
    seen: list[int] = []

    def on_progress(p: Any) -> None:
        seen.append(len(hidden(tmp_path)))

    with pytest.raises(afmpeg.JobTimeout):
        warm.run(job, fs=str(tmp_path), time_limit=1.5, progress=on_progress)
    assert max(seen, default=0) == 1, "the output was not spooled to disk while the job ran"
    assert hidden(tmp_path) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["raw.yuv"]
    assert (tmp_path / "raw.yuv").read_bytes() == b"precious"
    token = afmpeg.CancelToken()
    timer = threading.Timer(0.5, token.cancel)
    timer.start()
    with pytest.raises(afmpeg.Cancelled):
        warm.run(job, fs=str(tmp_path), cancel=token)
    timer.join()
    assert hidden(tmp_path) == [] and (tmp_path / "raw.yuv").read_bytes() == b"precious"
    with pytest.raises(afmpeg.OutputLimitExceeded):
        warm.run(job, fs=str(tmp_path), output_limit=8 * MB)
    assert hidden(tmp_path) == [] and (tmp_path / "raw.yuv").read_bytes() == b"precious"


# ---------------------------------------------------------------- remote filesystems


class HashingStore(afmpeg.MemoryFS):
    """An object store (as afmpeg sees it) that keeps only a digest of each upload: its memory use stays flat."""

    protocol = ("hashingstore",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.digests: dict[str, tuple[str, int, str]] = {}

    def _digest(self, path: str, how: str, chunks: Any) -> None:
        h = hashlib.sha256()
        n = 0
        for chunk in chunks:
            h.update(chunk)
            n += len(chunk)
        self.digests[path] = (how, n, h.hexdigest())

    def pipe_file(self, path: str, value: Any, *args: Any, **kwargs: Any) -> None:
        self._digest(path, "pipe_file", [value])

    def put_file(self, lpath: str, rpath: str, *args: Any, **kwargs: Any) -> None:
        with open(lpath, "rb") as f:
            self._digest(rpath, "put_file", iter(lambda: f.read(1 << 20), b""))


class SlowFile(MemoryFile):
    """Reads block, like a stalled network fetch, until the store's gate opens."""

    def __init__(self, store: SlowStore, *args: Any) -> None:
        super().__init__(*args)
        self.store = store

    def read(self, n: int | None = -1) -> bytes:
        self.store.reading.set()
        self.store.gate.wait(30)
        return super().read(n)

    def readinto(self, b: Any) -> int:
        self.store.reading.set()
        self.store.gate.wait(30)
        return super().readinto(b)


class SlowStore(afmpeg.MemoryFS):
    protocol = ("slowstore",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gate = threading.Event()
        self.reading = threading.Event()

    def _open(self, path: str, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        f = super()._open(path, mode, *args, **kwargs)
        return SlowFile(self, None, f.path, f.getvalue()) if mode == "rb" else f


@pytest.fixture
def stores(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(mounts, "OBJECT_STORE_PROTOCOLS", mounts.OBJECT_STORE_PROTOCOLS | {"hashingstore", "slowstore"})
    spools = tmp_path / "spools"
    spools.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spools))
    return spools


def test_a_job_stalled_on_a_remote_read_stops_within_a_second(warm: afmpeg.Runtime, stores: Path) -> None:
    store = SlowStore()
    store.pipe_file("/in.wav", make_wav(seconds=0.5))
    job = {"op": "process", "version": 9, "inputs": [{"path": "in.wav"}], "outputs": [{"path": "out.wav"}]}
    try:
        token = afmpeg.CancelToken()
        threading.Thread(target=lambda: (store.reading.wait(10), time.sleep(0.2), token.cancel()), daemon=True).start()
        t0 = time.monotonic()
        with pytest.raises(afmpeg.Cancelled):
            warm.run(job, fs=store, cancel=token)
        assert store.reading.is_set() and time.monotonic() - t0 < 1.5
        t0 = time.monotonic()
        with pytest.raises(afmpeg.JobTimeout):
            warm.run(job, fs=store, time_limit=0.5)
        assert time.monotonic() - t0 < 1.5
        assert not store.exists("/out.wav")
    finally:
        store.gate.set()
    # not stalled: the same job runs, its reads going through the helper thread
    assert warm.run(job, fs=store, time_limit=60).outputs[0].path == "out.wav"
    assert store.cat_file("/out.wav")[:4] == b"RIFF"
