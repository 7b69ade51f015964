"""Get the real ``minisign`` tool for the interoperability tests, without touching the machine's apt setup.

Order: ``AFMPEG_MINISIGN`` (a path to the binary) → ``minisign`` on ``PATH`` → Debian's ``minisign`` package,
downloaded with ``apt-get download`` under a private apt configuration (the same approach as
``engine/build.py``: the archive URI comes from the machine's own apt sources, all apt state lives in the test
cache, nothing under /etc is written) and unpacked with ``dpkg-deb -x``. The result is cached.

Run as a script to print the binary's path: ``python tests/unit/minisign_tool.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


class MinisignUnavailable(RuntimeError):
    """The machine has no way to get minisign (no apt-get / dpkg-deb: not a Debian-like system)."""


def cache_root() -> Path:
    uid = os.getuid() if hasattr(os, "getuid") else 0
    root = Path(os.environ.get("AFMPEG_TEST_CACHE", Path(tempfile.gettempdir()) / f"afmpeg-test-cache-{uid}"))
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


def _engine_build() -> Any:
    """engine/build.py, for its apt helpers (the engine build's own look-up and private configuration)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "engine"))
    try:
        import build
    finally:
        sys.path.pop(0)
    return build


def _machine_debian_source() -> tuple[str, str]:
    """The Debian archive URI and the suite this machine uses (deb822 or one-line sources)."""
    uri = _engine_build().machine_debian_uri()
    suite = ""
    os_release = Path("/etc/os-release")
    if os_release.is_file():
        for line in os_release.read_text().splitlines():
            if line.startswith("VERSION_CODENAME="):
                suite = line.split("=", 1)[1].strip().strip('"')
    return uri, suite or "stable"


def minisign_binary() -> Path:
    """The path of a working ``minisign`` binary; raises :class:`MinisignUnavailable` or ``RuntimeError``."""
    explicit = os.environ.get("AFMPEG_MINISIGN")
    if explicit:
        return Path(explicit)
    found = shutil.which("minisign")
    if found:
        return Path(found)
    root = cache_root() / "minisign"
    extracted = root / "extracted"
    binary = root / "minisign"  # a wrapper that finds the package's libsodium too, if the machine has none
    if binary.is_file() and _works(binary):
        return binary
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise MinisignUnavailable("minisign is not on PATH and this machine has no apt-get/dpkg-deb to fetch it")
    uri, suite = _machine_debian_source()
    build = _engine_build()
    env = build.private_apt_env(root / "apt", [f"deb [signed-by={build.DEBIAN_KEYRING}] {uri} {suite} main"])
    subprocess.run(["apt-get", "-q", "update"], env=env, check=False, capture_output=True)
    debs = root / "debs"
    shutil.rmtree(debs, ignore_errors=True)
    debs.mkdir(parents=True)
    packages = ["minisign", "libsodium23"]
    proc = subprocess.run(["apt-get", "-q", "download", *packages], cwd=debs, env=env, capture_output=True, text=True)
    found_debs = sorted(debs.glob("*.deb"))
    if proc.returncode != 0 or len(found_debs) != len(packages):
        raise RuntimeError(f"apt-get download {' '.join(packages)} failed:\n{proc.stdout}\n{proc.stderr}")
    shutil.rmtree(extracted, ignore_errors=True)
    for deb in found_debs:
        subprocess.run(["dpkg-deb", "-x", str(deb), str(extracted)], check=True)
    libdirs = sorted(str(p.parent) for p in extracted.glob("usr/lib/*/libsodium.so*"))
    libpath = ":".join(dict.fromkeys(libdirs))
    binary.write_text(
        "#!/bin/sh\n"
        f'LD_LIBRARY_PATH="{libpath}${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}" '
        f'exec "{extracted / "usr" / "bin" / "minisign"}" "$@"\n'
    )
    binary.chmod(0o755)
    if not (binary.is_file() and _works(binary)):
        raise RuntimeError(f"the minisign package did not give a working {binary} (is libsodium installed?)")
    return binary


def _works(binary: Path) -> bool:
    try:
        proc = subprocess.run([str(binary), "-v"], capture_output=True, text=True, timeout=30)
    except OSError:
        return False
    return proc.returncode == 0 and "minisign" in (proc.stdout + proc.stderr).lower()


if __name__ == "__main__":
    print(minisign_binary())
