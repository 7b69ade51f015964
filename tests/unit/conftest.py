"""Fixtures for the WASI host tests: a tiny C guest built with zig, cached by source hash."""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

import afmpeg

GUEST_SRC = Path(__file__).resolve().parent.parent / "guest" / "guest.c"
GUEST_FLAGS = ["-target", "wasm32-wasi", "-O2", "-s", "-Wno-infinite-recursion"]


def _zig() -> Path:
    # A hard import: a missing zig must fail the bridge suite (make test installs it), not skip it.
    import ziglang

    return Path(ziglang.__file__).parent / "zig"


def _cache_root() -> Path:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    root = Path(os.environ.get("AFMPEG_TEST_CACHE", Path(tempfile.gettempdir()) / f"afmpeg-test-cache-{uid}"))
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


@pytest.fixture(scope="session")
def guest_wasm() -> Path:
    """The test guest module, rebuilt only when guest.c or the flags change."""
    zig = _zig()
    src = GUEST_SRC.read_bytes()
    key = hashlib.sha256(src + "\0".join(GUEST_FLAGS).encode() + str(zig.parent.name).encode()).hexdigest()[:24]
    out = _cache_root() / f"guest-{key}.wasm"
    if not out.is_file():
        tmp = out.with_suffix(f".{os.getpid()}.tmp")
        env = dict(os.environ)
        env.setdefault("ZIG_GLOBAL_CACHE_DIR", str(_cache_root() / "zig-global"))
        env.setdefault("ZIG_LOCAL_CACHE_DIR", str(_cache_root() / "zig-local"))
        proc = subprocess.run(
            [str(zig), "cc", *GUEST_FLAGS, "-o", str(tmp), str(GUEST_SRC)],
            capture_output=True,
            text=True,
            env=env,
        )
        if proc.returncode != 0:
            pytest.fail(f"building the test guest failed:\n{proc.stderr}")
        os.replace(tmp, out)
    return out


@pytest.fixture(scope="session")
def compile_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("compiled")


@pytest.fixture(scope="session")
def runtime(guest_wasm: Path, compile_cache_dir: Path) -> afmpeg.Runtime:
    """A Runtime over the test guest (shared; every call passes its own filesystem)."""
    return afmpeg.Runtime(guest_wasm, cache_dir=compile_cache_dir)


class FsView:
    """One filesystem the guest runs against, plus an independent way for the test to look at it."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind = kind
        if kind == "memory":
            self.fs = afmpeg.MemoryFS()
            self.arg: object = self.fs
            self.dir = None
        else:
            self.dir = tmp_path / "root"
            self.dir.mkdir()
            self.fs = None
            self.arg = str(self.dir)  # exercises the local-directory form of the fs argument

    def put(self, path: str, data: bytes) -> None:
        if self.fs is not None:
            self.fs.pipe_file("/" + path.lstrip("/"), data)
        else:
            assert self.dir is not None
            target = self.dir / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)

    def mkdir(self, path: str) -> None:
        if self.fs is not None:
            self.fs.mkdir("/" + path.lstrip("/"))
        else:
            assert self.dir is not None
            (self.dir / path.lstrip("/")).mkdir(parents=True)

    def get(self, path: str) -> bytes:
        if self.fs is not None:
            return self.fs.cat_file("/" + path.lstrip("/"))
        assert self.dir is not None
        return (self.dir / path.lstrip("/")).read_bytes()

    def exists(self, path: str) -> bool:
        if self.fs is not None:
            return self.fs.exists("/" + path.lstrip("/"))
        assert self.dir is not None
        return (self.dir / path.lstrip("/")).exists()

    def names(self) -> set[str]:
        """Every path (files and directories) on the filesystem, relative, without a leading slash."""
        if self.fs is not None:
            out = set()
            for path in self.fs.find("/", withdirs=True):
                out.add(path.lstrip("/"))
            return out
        assert self.dir is not None
        return {str(p.relative_to(self.dir)) for p in self.dir.rglob("*")}


@pytest.fixture(params=["memory", "local"])
def view(request: pytest.FixtureRequest, tmp_path: Path) -> FsView:
    return FsView(request.param, tmp_path)


@pytest.fixture
def run(runtime: afmpeg.Runtime, view: FsView):
    """Run the guest against ``view``: ``run("cat", "a.txt") -> CommandResult``."""

    def _run(*args: str) -> afmpeg.CommandResult:
        res = runtime.run_command(["guest", *args], fs=view.arg)
        assert not res.host_errors, res.host_errors
        return res

    return _run
