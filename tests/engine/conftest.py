"""Fixtures for tests that run the real engine module built by `make engine`."""

from __future__ import annotations

import io
import math
import os
import shutil
import struct
import subprocess
import wave
from pathlib import Path

import pytest

import afmpeg

REPO = Path(__file__).resolve().parents[2]
MODULE = REPO / "build" / "afmpeg-engine-lgpl.wasm"
GPL_MODULE = REPO / "build" / "afmpeg-engine-gpl.wasm"
FULL_MODULE = REPO / "build" / "afmpeg-engine-lgpl-full.wasm"
GPL_FULL_MODULE = REPO / "build" / "afmpeg-engine-gpl-full.wasm"


def _built(module: Path) -> Path:
    if not module.exists():
        pytest.fail(f"{module} is missing: run `make engine` (make test does it)")
    return module


@pytest.fixture(scope="session")
def module_path() -> Path:
    """The LGPL engine module `make engine` built."""
    return _built(MODULE)


@pytest.fixture(scope="session")
def gpl_module_path() -> Path:
    """The GPL engine module `make engine` built."""
    return _built(GPL_MODULE)


@pytest.fixture(scope="session")
def full_module_path() -> Path:
    """The LGPL engine module of the full profile."""
    return _built(FULL_MODULE)


@pytest.fixture(scope="session")
def gpl_full_module_path() -> Path:
    """The GPL engine module of the full profile."""
    return _built(GPL_FULL_MODULE)


@pytest.fixture(scope="session")
def full_runtime(full_module_path: Path) -> afmpeg.Runtime:
    return afmpeg.Runtime(full_module_path)


@pytest.fixture(scope="session")
def runtime(module_path: Path) -> afmpeg.Runtime:
    return afmpeg.Runtime(module_path)


@pytest.fixture
def fs() -> afmpeg.MemoryFS:
    return afmpeg.MemoryFS()


@pytest.fixture(scope="session")
def native_ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def run_native(ffmpeg: str, *args: str) -> bytes:
    res = subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", *args], capture_output=True, check=False)
    if res.returncode != 0:
        raise AssertionError(f"native ffmpeg failed: {res.stderr.decode(errors='replace')}")
    return res.stdout


def frame_rows(text: str, stream: int | None = None) -> list[list[str]]:
    """The data lines of framecrc/framemd5 output, split into fields (only one stream's, if given)."""
    rows = [[f.strip() for f in ln.split(",")] for ln in text.splitlines() if ln and not ln.startswith("#")]
    return rows if stream is None else [r for r in rows if int(r[0]) == stream]


def make_wav(seconds: float = 1.0, rate: int = 44100, channels: int = 2, freq: float = 440.0) -> bytes:
    """A sine tone as 16-bit PCM WAV, made without FFmpeg."""
    n = int(seconds * rate)
    frames = bytearray()
    for i in range(n):
        v = int(12000 * math.sin(2 * math.pi * freq * i / rate))
        frames += struct.pack("<h", v) * channels
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return buf.getvalue()


def make_clip_job(path: str = "clip.mp4", seconds: int = 2, size: str = "640x360", rate: int = 30) -> dict:
    """A job that makes an H.264/AAC clip from lavfi sources inside the engine."""
    return {
        "op": "process",
        "version": 9,
        "filter": f"testsrc2=size={size}:rate={rate}:duration={seconds}[v];"
        f"sine=frequency=440:sample_rate=48000:duration={seconds}[a]",
        "outputs": [{"path": path, "map": ["[v]", "[a]"], "video_codec": "libopenh264", "audio_codec": "aac"}],
    }


@pytest.fixture
def clip(runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS) -> str:
    runtime.run(make_clip_job(), fs=fs)
    return "clip.mp4"


@pytest.fixture(scope="session")
def compiled_entry(module_path: Path) -> Path | None:
    """The compiled code of the test module in the default compile cache (usually warm from other tests)."""
    return afmpeg.Runtime(module_path).compile_info.path


@pytest.fixture
def cache_root(tmp_path: Path, compiled_entry: Path | None) -> Path:
    """A fresh cache root (no modules) whose compiled/ already holds the module's code: no test recompiles."""
    root = tmp_path / "cache"
    compiled = root / "compiled"
    compiled.mkdir(parents=True, mode=0o700)
    if compiled_entry is not None and compiled_entry.exists():
        for src in (compiled_entry, compiled_entry.with_name(compiled_entry.name + ".sha256")):
            try:
                os.link(src, compiled / src.name)
            except OSError:
                shutil.copy2(src, compiled / src.name)
    return root
