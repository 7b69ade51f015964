"""FATE's inputs: the tests/ tree of the pinned FFmpeg tarball, and the files FATE's own generators make.

The tarball is the one the engine build fetched and verified (engine/sources.lock.json); its ``tests/`` directory
(the .mak files, the references, ``audiogen.c``/``videogen.c``) is unpacked once into the build cache. The
generators are compiled natively with zig (the ``ziglang`` test dependency, so no system compiler is needed) and
write exactly what FATE's Makefile has them write: ``tests/data/asynth-<rate>-<channels>.wav``,
``tests/data/asynth1.sw``, ``tests/vsynth1/%02d.pgm`` and ``tests/data/vsynth1.yuv``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from . import makefiles

REPO = Path(__file__).resolve().parents[2]
LOCK = REPO / "engine" / "sources.lock.json"


def build_cache() -> Path:
    """The engine build cache, chosen as engine/build.py chooses it."""
    env = os.environ.get("AFMPEG_BUILD_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "afmpeg-build"


def ffmpeg_tarball() -> tuple[Path, str]:
    """The pinned FFmpeg tarball in the build cache (verified) and its directory name inside."""
    info = json.loads(LOCK.read_text())["sources"]["ffmpeg"]
    path = build_cache() / "sources" / info["tarball"]
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `make engine` (it fetches the pinned FFmpeg sources)")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != info["files"][info["tarball"]]:
        raise RuntimeError(f"{path}: SHA-256 {digest} is not the pinned one")
    return path, info["dir"]


def _zig_cc(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "ziglang", "cc", "-O2", *args], check=True, capture_output=True)


def prepare() -> Path:
    """The FATE work directory, ready: ``<it>/tests/...`` as in an FFmpeg build tree, inputs generated."""
    tarball, top = ffmpeg_tarball()
    work = build_cache() / f"fate-{hashlib.sha256(tarball.name.encode()).hexdigest()[:12]}"
    done = work / ".ready-7"
    if done.exists():
        return work
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    with tarfile.open(tarball) as tf:
        wanted = (f"{top}/tests/", f"{top}/libavutil/", f"{top}/compat/")  # libavutil: tiny_psnr's headers
        members = [m for m in tf.getmembers() if m.name.startswith(wanted)]
        tf.extractall(work / "src", members=members, filter="data")
    src = work / "src" / top / "tests"
    tests = work / "tests"
    (tests / "data" / "filtergraphs").mkdir(parents=True)
    (tests / "vsynth1").mkdir()
    shutil.copytree(src / "filtergraphs", tests / "data" / "filtergraphs", dirs_exist_ok=True)
    shutil.copytree(src / "maps", tests / "data" / "maps")
    gen = work / "bin"
    gen.mkdir()
    _zig_cc(str(src / "audiogen.c"), "-o", str(gen / "audiogen"), "-lm")
    _zig_cc(str(src / "videogen.c"), "-o", str(gen / "videogen"), "-lm")
    # tiny_psnr (FATE's comparison of decoded output with its source) needs two generated headers: empty
    # config.h, and avconfig.h for a little-endian host
    (gen / "include" / "libavutil").mkdir(parents=True)
    (gen / "include" / "config.h").write_text("")
    (gen / "include" / "libavutil" / "avconfig.h").write_text(
        "#define AV_HAVE_BIGENDIAN 0\n#define AV_HAVE_FAST_UNALIGNED 1\n")
    _zig_cc(f"-I{gen / 'include'}", f"-I{src.parent}", str(src / "tiny_psnr.c"), "-o", str(gen / "tiny_psnr"), "-lm")
    run = {"cwd": work, "check": True, "capture_output": True}
    # every tests/data/asynth-<rate>-<channels>.wav a test names (after make's expansion: the swresample tests
    # name theirs through CROSS_TEST)
    texts = [" ".join([t.cmd, t.src or "", *t.vars.values()]) for t in makefiles.parse(src / "fate").values()]
    named = {m for text in texts for m in re.findall(r"asynth-(\d+)-(\d+)\.wav", text)}
    for rate, channels in sorted(named):
        subprocess.run([str(gen / "audiogen"), f"tests/data/asynth-{rate}-{channels}.wav", str(rate), str(channels)],
                       **run)  # type: ignore[arg-type]
    subprocess.run([str(gen / "audiogen"), "tests/data/asynth1.sw"], **run)  # type: ignore[arg-type]
    subprocess.run([str(gen / "videogen"), "tests/vsynth1/"], **run)  # type: ignore[arg-type]
    subprocess.run([str(gen / "videogen"), "tests/data/vsynth1.yuv"], **run)  # type: ignore[arg-type]
    done.write_text("ok\n")
    return work


def tiny_psnr(work: Path, reference: Path, decoded: Path, unit: str, shift: str) -> str:
    """FATE's comparison line for a decoded file (``stddev: ... PSNR: ... MAXDIFF: ... bytes: ...``)."""
    out = subprocess.run([str(work / "bin" / "tiny_psnr"), str(reference), str(decoded), unit, shift],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def fate_sources(work: Path) -> Path:
    """The unpacked ``tests/`` directory of the FFmpeg sources (the .mak files and references)."""
    _, top = ffmpeg_tarball()
    return work / "src" / top / "tests"
