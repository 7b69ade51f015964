"""What every layer recipe of the engine build shares: paths, flags, the zig toolchain, cached layers, helpers.

engine/build.py orchestrates; the recipes of the libraries the full profile adds live in engine/libs/ and use
only this module, so each can be read (and changed) on its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ENGINE_DIR = Path(__file__).resolve().parent
REPO = ENGINE_DIR.parent
LOCK = ENGINE_DIR / "sources.lock.json"

# Bump to invalidate every cached layer when the layer recipes below change meaningfully.
RECIPE_VERSION = "1"

BASE_CFLAGS = [
    "-O3",
    "-msimd128",
    "-g0",
    "-D_WASI_EMULATED_SIGNAL",
    "-D_WASI_EMULATED_MMAN",
    "-D_WASI_EMULATED_PROCESS_CLOCKS",
]
WASI_EMULATION_LIBS = ["-lwasi-emulated-signal", "-lwasi-emulated-mman", "-lwasi-emulated-process-clocks"]
# zig's wasm linker places the stack first in memory by itself (checked by
# tests/engine/test_module_layout.py), so a stack overflow traps instead of corrupting data.
LINK_FLAGS = [
    "-Wl,-z,stack-size=8388608",
    "-Wl,--strip-all",
    "-Wl,--gc-sections",
]


class BuildError(RuntimeError):
    pass


def log(msg: str) -> None:
    print(f"[engine] {msg}", flush=True)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]


def tree_digest(paths: list[Path], root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(str(p.relative_to(root)).encode() + b"\0")
        h.update(p.read_bytes() + b"\0")
    return h.hexdigest()


def run(cmd: list[str], cwd: Path | None = None, env: dict | None = None, logfile: Path | None = None) -> None:
    if logfile is None:
        res = subprocess.run(cmd, cwd=cwd, env=env)
        if res.returncode != 0:
            raise BuildError(f"command failed ({res.returncode}): {' '.join(cmd[:6])} ...")
        return
    with open(logfile, "ab") as lf:
        lf.write(("$ " + " ".join(cmd) + "\n").encode())
        lf.flush()
        res = subprocess.run(cmd, cwd=cwd, env=env, stdout=lf, stderr=subprocess.STDOUT)
    if res.returncode != 0:
        tail = logfile.read_text(errors="replace").splitlines()[-40:]
        raise BuildError(
            f"command failed ({res.returncode}): {' '.join(cmd[:6])} ...\n"
            f"--- last lines of {logfile.name} ---\n" + "\n".join(tail)
        )


# ---------------------------------------------------------------- toolchain


class Toolchain:
    """Thin wrappers around ``zig`` so that configure scripts see ordinary tool names."""

    def __init__(self, cache: Path, pinned: str) -> None:
        try:
            import ziglang  # noqa: PLC0415
        except ImportError as e:  # pragma: no cover - depends on the venv
            raise BuildError("ziglang is not installed in this interpreter; run `make engine`") from e
        self.zig = Path(ziglang.__file__).parent / "zig"
        out = subprocess.run([str(self.zig), "version"], capture_output=True, text=True, check=True)
        self.version = out.stdout.strip()
        if self.version != pinned:
            raise BuildError(f"zig {self.version} found, but engine/sources.lock.json pins ziglang {pinned}")
        self.bindir = cache / f"bin-zig-{self.version}"
        self.bindir.mkdir(parents=True, exist_ok=True)
        tools = {
            "wasm-cc": f'exec "{self.zig}" cc -target wasm32-wasi "$@"',
            "wasm-cxx": f'exec "{self.zig}" c++ -target wasm32-wasi "$@"',
            "wasm-ar": f'exec "{self.zig}" ar "$@"',
            "wasm-ranlib": f'exec "{self.zig}" ranlib "$@"',
        }
        for name, body in tools.items():
            p = self.bindir / name
            text = f"#!/bin/sh\n{body}\n"
            if not p.exists() or p.read_text() != text:
                p.write_text(text)
                p.chmod(0o755)
        self.cc = str(self.bindir / "wasm-cc")
        self.cxx = str(self.bindir / "wasm-cxx")
        self.ar = str(self.bindir / "wasm-ar")
        self.ranlib = str(self.bindir / "wasm-ranlib")


def extract(tarball: Path, into: Path) -> None:
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    with tarfile.open(tarball) as tf:
        tf.extractall(into, filter="data")


# ---------------------------------------------------------------- layers


class Layer:
    """A cached build product: ``cache/layers/<name>-<key>`` appears atomically when complete."""

    def __init__(self, cache: Path, name: str, key: str) -> None:
        self.name = name
        self.key = key
        self.prefix = cache / "layers" / f"{name}-{key}"
        self.work = cache / "work" / f"{name}-{key}"

    @property
    def done(self) -> bool:
        return (self.prefix / ".done").exists()

    def begin(self) -> Path:
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        staging = self.work / "prefix"
        staging.mkdir()
        return staging

    def begin_from(self, tarball: Path, src_dir: str, message: str) -> tuple[Path, Path]:
        """Begin building from a source tarball: say what is built, unpack it into the work directory.
        Returns (staging directory, the unpacked source directory)."""
        log(message)
        staging = self.begin()
        extract(tarball, self.work / "src")
        return staging, self.work / "src" / src_dir

    def commit(self, staging: Path, meta: dict) -> None:
        (staging / ".done").write_text(json.dumps(meta, indent=1))
        shutil.rmtree(self.prefix, ignore_errors=True)
        self.prefix.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(self.prefix)
        shutil.rmtree(self.work, ignore_errors=True)


def compile_many(jobs: list[list[str]], logfile: Path) -> None:
    def one(cmd: list[str]) -> None:
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            raise BuildError(f"compile failed: {' '.join(cmd)}\n{res.stderr[-4000:]}")

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        list(ex.map(one, jobs))
    with open(logfile, "a") as lf:
        lf.write(f"compiled {len(jobs)} files\n")


def archive(tc: Toolchain, staging: Path, name: str, objs: list[Path]) -> None:
    """The objects as the static library ``staging/lib/<name>``."""
    (staging / "lib").mkdir(exist_ok=True)
    run([tc.ar, "rcs", str(staging / "lib" / name), *map(str, objs)])


def install_headers(src_dir: Path, names: list[str] | tuple[str, ...], dest: Path) -> None:
    """Copy the headers ``names`` from ``src_dir`` into ``dest`` (made if missing)."""
    dest.mkdir(parents=True, exist_ok=True)
    for h in names:
        shutil.copy(src_dir / h, dest / h)


def write_pkgconfig(staging: Path, layer: Layer, name: str, description: str, version: str, libs: str,
                    libs_private: str = "", requires: str = "", cflags: str = "-I${includedir}") -> None:
    """Write ``lib/pkgconfig/<name>.pc`` for a layer (FFmpeg's configure finds external libraries this way).

    ``prefix`` is the layer's final location (the staging directory is renamed to it on commit).
    """
    d = staging / "lib" / "pkgconfig"
    d.mkdir(parents=True, exist_ok=True)
    (d / f"{name}.pc").write_text(
        f"prefix={layer.prefix}\nlibdir=${{prefix}}/lib\nincludedir=${{prefix}}/include\n\n"
        f"Name: {name}\nDescription: {description} (wasm32-wasi)\nVersion: {version}\n"
        + (f"Requires: {requires}\n" if requires else "")
        + f"Libs: -L${{libdir}} {libs}\n"
        + (f"Libs.private: {libs_private}\n" if libs_private else "")
        + f"Cflags: {cflags}\n"
    )
