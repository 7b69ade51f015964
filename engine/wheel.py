#!/usr/bin/env python3
"""Package a built engine module as its own wheel: ``afmpeg_engine_<engine>-<ver>-py3-none-any.whl``.

``<engine>`` is the variant for the lean profile (``lgpl``, ``gpl``) and ``<variant>_<profile>`` for another
profile (``lgpl_full``). The wheel holds a package ``afmpeg_engine_<engine>/`` with the ``.wasm``, its
``provenance.json``, the license texts of everything linked into the module (taken from the pinned source tarballs
the build used, verified by their SHA-256, and from the pinned zig toolchain's wasi-libc), and an ``__init__.py``
exposing ``MODULE_PATH`` / ``module_path()``, ``VARIANT``, ``PROFILE``, ``SHA256`` and ``PROVENANCE``. It registers
an entry point named ``<variant>`` (lean) or ``<variant>-<profile>`` in the group ``afmpeg.engines``, which is how
``afmpeg.Runtime()`` finds an installed engine.

The version is afmpeg's version plus a local part naming the module: ``0.1.0+c8807ccb9707`` (the first 12 hex
digits of the module's SHA-256), so two different modules never share a version and the wheel says which module
it holds. The output is deterministic: the same module, provenance and license texts give the same wheel bytes
(fixed timestamps and permissions, sorted entries).

Usage::

    python engine/wheel.py --module build/afmpeg-engine-lgpl.wasm --provenance build/provenance.json --out build/

Standard library only; runs under any Python >= 3.11.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import re
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

ENGINE_DIR = Path(__file__).resolve().parent
REPO = ENGINE_DIR.parent
ENTRY_POINT_GROUP = "afmpeg.engines"
VARIANTS = ("lgpl", "gpl")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip can hold: no build time leaks into the wheel

# FFmpeg's own license files, per variant: the LGPL build is LGPL-2.1-or-later; the GPL build (with GPL parts
# such as libx264 enabled) is GPL-2.0-or-later as a whole, its libraries' files still being LGPL-2.1-or-later.
# (No --enable-version3, so the v3 texts do not apply.)
FFMPEG_LICENSE_FILES = {
    "lgpl": ["LICENSE.md", "COPYING.LGPLv2.1"],
    "gpl": ["LICENSE.md", "COPYING.GPLv2", "COPYING.LGPLv2.1"],
}
# Other sources: every top-level COPYING* / LICENSE* / LICENCE* file of the tarball.
# License texts beyond the top-level COPYING*/LICENSE* of a source: FreeType's LICENSE.TXT only points to the FTL
# (docs/FTL.TXT, the license we use it under); libvpx and libwebp come with a patent grant.
EXTRA_LICENSE_FILES = {"freetype": {"docs/FTL.TXT"}, "libvpx": {"PATENTS"}, "libwebp": {"PATENTS"}}
LICENSE_NAME = re.compile(r"^(COPYING|LICEN[CS]E)([._-].*)?$", re.IGNORECASE)
# The C library statically linked into the module: zig's bundled wasi-libc (with musl and cloudlibc parts).
WASI_LIBC_LICENSE_FILES = [
    "LICENSE",
    "LICENSE-MIT",
    "LICENSE-APACHE",
    "LICENSE-APACHE-LLVM",
    "libc-bottom-half/cloudlibc/LICENSE",
    "libc-top-half/musl/COPYRIGHT",
]


class WheelError(RuntimeError):
    pass


def default_cache() -> Path:
    """The engine build cache, chosen the way engine/build.py chooses it."""
    xdg = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return Path(os.environ.get("AFMPEG_BUILD_CACHE") or xdg / "afmpeg-build")


def afmpeg_version() -> str:
    return tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]["version"]


def wheel_version(base: str, module_sha256: str) -> str:
    return f"{base}+{module_sha256[:12]}"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


# ---------------------------------------------------------------- license texts


def _source_tarball(name: str, files: dict[str, str], dirs: list[Path]) -> tuple[Path, str]:
    tarballs = [fn for fn in files if ".tar" in fn and not fn.endswith((".asc", ".sig"))]
    if len(tarballs) != 1:
        raise WheelError(f"provenance names no single source tarball for {name!r}: {sorted(files)}")
    fn = tarballs[0]
    for d in dirs:
        path = d / fn
        if path.is_file():
            actual = sha256_bytes(path.read_bytes())
            if actual != files[fn]:
                raise WheelError(f"{path}: SHA-256 {actual} is not the one in the provenance ({files[fn]})")
            return path, fn
    where = ", ".join(str(d) for d in dirs)
    raise WheelError(
        f"source tarball {fn} ({name}) is not in {where}: run `make engine` first (it keeps the pinned sources in "
        "the build cache), or pass --cache / --tarballs"
    )


def _is_license(source: str, base: str, wanted: list[str] | None) -> bool:
    """Whether ``base`` (a path inside the source's top directory) is a license text to ship."""
    if base in EXTRA_LICENSE_FILES.get(source, ()):
        return True
    if not base or "/" in base:
        return False
    return base in wanted if wanted is not None else bool(LICENSE_NAME.match(base))


def source_licenses(provenance: dict, dirs: list[Path]) -> dict[str, bytes]:
    """``{"<source>/<file>": text}`` for every source in the provenance, read from its verified tarball."""
    variant = provenance["variant"]
    out: dict[str, bytes] = {}
    for name, info in sorted(provenance["sources"].items()):
        path, fn = _source_tarball(name, info["sha256"], dirs)
        wanted = FFMPEG_LICENSE_FILES[variant] if name == "ffmpeg" else None
        found: dict[str, bytes] = {}
        with tarfile.open(path) as tf:
            for member in tf:
                parts = member.name.split("/")
                base = "/".join(parts[1:])
                if member.isfile() and _is_license(name, base, wanted):
                    fh = tf.extractfile(member)
                    assert fh is not None
                    found[base] = fh.read()
        missing = [w for w in wanted or [] if w not in found]
        if missing or not found:
            raise WheelError(f"{fn}: no license file {', '.join(missing) or '(COPYING*/LICENSE*)'} in the tarball")
        for base, data in found.items():
            out[f"{name}/{base}"] = data
    return out


def _ziglang_dirs(zig_version: str, cache: Path) -> list[Path]:
    dirs: list[Path] = []
    try:  # the running interpreter's ziglang (the toolchain venv, or afmpeg's test extras), if the same version
        import importlib.metadata
        import importlib.util

        spec = importlib.util.find_spec("ziglang")
        if spec and spec.origin and importlib.metadata.version("ziglang") == zig_version:
            dirs.append(Path(spec.origin).parent)
    except (ImportError, importlib.metadata.PackageNotFoundError):
        pass
    dirs += sorted(cache.glob(f"toolchain-zig-{zig_version}/lib/python*/site-packages/ziglang"))
    return dirs


def toolchain_licenses(provenance: dict, cache: Path) -> dict[str, bytes]:
    """wasi-libc's license texts from the pinned zig toolchain (the C library linked into the module)."""
    zig_version = provenance["toolchain"]["zig"]
    for zig in _ziglang_dirs(zig_version, cache):
        wasi = zig / "lib" / "libc" / "wasi"
        if all((wasi / f).is_file() for f in WASI_LIBC_LICENSE_FILES) and (zig / "LICENSE").is_file():
            out = {f"wasi-libc/{f.replace('/', '-')}": (wasi / f).read_bytes() for f in WASI_LIBC_LICENSE_FILES}
            out["zig/LICENSE"] = (zig / "LICENSE").read_bytes()
            return out
    raise WheelError(
        f"the zig {zig_version} toolchain (for wasi-libc's license texts) is neither importable here nor in "
        f"{cache}: run `make engine` first, or pass --cache"
    )


def notice(provenance: dict, licenses: dict[str, bytes]) -> bytes:
    lines = [
        f"afmpeg engine module {provenance['module']} ({provenance['variant']} variant)",
        f"SHA-256: {provenance['module_sha256']}",
        f"License of the module as a whole: {provenance['license']}",
        "",
        "It is built from these sources (licenses/<source>/ holds each one's license texts):",
    ]
    for name, info in sorted(provenance["sources"].items()):
        lines.append(f"  {name} {info['version']} ({info.get('debian', '')}): {info['license']}")
    lines += [
        f"  wasi-libc as bundled with zig {provenance['toolchain']['zig']} (statically linked C library): "
        "Apache-2.0 WITH LLVM-exception OR Apache-2.0 OR MIT; musl parts MIT; cloudlibc parts BSD-2-Clause",
        "  afmpeg's engine driver (engine/src): Apache-2.0",
        "",
        "License files:",
        *(f"  licenses/{k}" for k in sorted(licenses)),
        "",
        "The exact source tarballs, their SHA-256 and the build flags are in provenance.json.",
    ]
    return ("\n".join(lines) + "\n").encode()


def license_expression(provenance: dict) -> str:
    terms = [provenance["license"]]
    for name, info in sorted(provenance["sources"].items()):
        if name == "ffmpeg":  # covered by the variant's license
            continue
        terms.append(info["license"].split(" (")[0].strip())
    terms += ["MIT", "Apache-2.0"]  # wasi-libc / zig runtime; afmpeg's driver
    seen: list[str] = []
    for t in terms:
        if t and t not in seen:
            seen.append(t)
    return " AND ".join(seen)


# ---------------------------------------------------------------- the wheel


INIT_TEMPLATE = '''"""The afmpeg engine module, {variant_upper} variant, {profile} profile ({license}), installable.

``afmpeg.Runtime()`` finds it through the ``afmpeg.engines`` entry point ``{engine}``. The license texts of
everything in the module are in ``licenses/`` next to this file (see ``NOTICE.txt``); how it was built, from which
sources, is in ``provenance.json`` (``PROVENANCE``).
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["MODULE_PATH", "SHA256", "VARIANT", "PROFILE", "PROVENANCE", "module_path"]

VARIANT = {variant!r}
PROFILE = {profile!r}
#: SHA-256 of the module (hex)
SHA256 = {sha256!r}
#: the engine ``.wasm`` inside this package
MODULE_PATH = Path(__file__).resolve().parent / {module!r}
#: the build's provenance record (sources, toolchain, flags, license)
PROVENANCE = json.loads((Path(__file__).resolve().parent / "provenance.json").read_text("utf-8"))


def module_path() -> Path:
    """The path of the engine ``.wasm`` (the ``afmpeg.engines`` entry point)."""
    return MODULE_PATH
'''


def build_wheel(module: Path, provenance_path: Path, out: Path, *, cache: Path | None = None,
                tarballs: Path | None = None, version: str | None = None) -> Path:
    """Write the engine wheel for ``module`` into ``out`` and return its path."""
    data = module.read_bytes()
    prov_bytes = provenance_path.read_bytes()
    prov = json.loads(prov_bytes)
    variant = prov.get("variant")
    if variant not in VARIANTS:
        raise WheelError(f"{provenance_path}: unknown variant {variant!r} (the variants are: {', '.join(VARIANTS)})")
    sha = sha256_bytes(data)
    if prov.get("module_sha256") != sha:
        raise WheelError(f"{module} (SHA-256 {sha}) is not the module {provenance_path} describes "
                         f"({prov.get('module_sha256')}): rebuild, or pass the matching provenance")
    profile = prov.get("profile", "lean")
    if not isinstance(profile, str) or not profile.isalnum():
        raise WheelError(f"{provenance_path}: malformed profile {profile!r}")
    engine = variant if profile == "lean" else f"{variant}-{profile}"  # the entry point's name
    module_name = prov.get("module") or f"afmpeg-engine-{engine}.wasm"
    if module_name != f"afmpeg-engine-{engine}.wasm":
        raise WheelError(f"{provenance_path}: module {module_name!r} does not match variant {variant!r}, "
                         f"profile {profile!r}")
    cache = cache or default_cache()
    dirs = [cache / "sources", *([tarballs] if tarballs else [])]
    licenses = {**source_licenses(prov, dirs), **toolchain_licenses(prov, cache)}

    pkg = f"afmpeg_engine_{engine.replace('-', '_')}"
    dist = f"afmpeg-engine-{engine}"
    ver = version or wheel_version(afmpeg_version(), sha)
    distinfo = f"{pkg}-{ver}.dist-info"
    init = INIT_TEMPLATE.format(variant=variant, variant_upper=variant.upper(), license=prov["license"],
                                sha256=sha, module=module_name, profile=profile, engine=engine)
    files: dict[str, bytes] = {
        f"{pkg}/__init__.py": init.encode(),
        f"{pkg}/{module_name}": data,
        f"{pkg}/provenance.json": prov_bytes,
        f"{pkg}/NOTICE.txt": notice(prov, licenses),
        **{f"{pkg}/licenses/{k}": v for k, v in licenses.items()},
    }
    metadata = [
        "Metadata-Version: 2.4",
        f"Name: {dist}",
        f"Version: {ver}",
        f"Summary: afmpeg's FFmpeg engine module, {variant.upper()} variant, {profile} profile (WebAssembly, WASI)",
        f"License-Expression: {license_expression(prov)}",
        *(f"License-File: {k}" for k in sorted(licenses)),
        "Requires-Python: >=3.11",
        "Classifier: Programming Language :: Python :: 3",
        "Classifier: Topic :: Multimedia :: Video :: Conversion",
        "",
        f"The FFmpeg engine of afmpeg ({prov['license']}), FFmpeg {prov.get('ffmpeg_version', '?')}, module "
        f"SHA-256 {sha}. Install it next to afmpeg and `afmpeg.Runtime()` uses it.",
        "",
    ]
    files[f"{distinfo}/METADATA"] = "\n".join(metadata).encode()
    files[f"{distinfo}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: afmpeg engine/wheel.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    files[f"{distinfo}/entry_points.txt"] = f"[{ENTRY_POINT_GROUP}]\n{engine} = {pkg}:module_path\n".encode()
    files[f"{distinfo}/top_level.txt"] = f"{pkg}\n".encode()
    for k, v in licenses.items():
        files[f"{distinfo}/licenses/{k}"] = v
    record_name = f"{distinfo}/RECORD"
    record = "".join(f"{name},{record_hash(body)},{len(body)}\n" for name, body in files.items())
    files[record_name] = (record + f"{record_name},,\n").encode()

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, body in files.items():  # package first, then .dist-info, RECORD last
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100644 << 16)
            info.create_system = 3  # unix, whatever the build host
            zf.writestr(info, body, compresslevel=6)
    out.mkdir(parents=True, exist_ok=True)
    target = out / f"{pkg}-{ver}-py3-none-any.whl"
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--module", type=Path, required=True, help="the built engine .wasm")
    ap.add_argument("--provenance", type=Path, required=True, help="its provenance.json (names the variant)")
    ap.add_argument("--out", type=Path, default=REPO / "build", help="directory for the wheel (default: build/)")
    ap.add_argument("--cache", type=Path, default=None, help="the engine build cache (default: as engine/build.py)")
    tarballs = os.environ.get("AFMPEG_TARBALLS")
    ap.add_argument("--tarballs", type=Path, default=Path(tarballs) if tarballs else None,
                    help="another directory holding the pinned source tarballs")
    opts = ap.parse_args(argv)
    try:
        path = build_wheel(opts.module, opts.provenance, opts.out, cache=opts.cache, tarballs=opts.tarballs)
    except (WheelError, OSError, KeyError, json.JSONDecodeError) as exc:
        print(f"engine wheel failed: {exc}", file=sys.stderr)
        return 1
    shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
    print(f"wheel:   {shown}")
    print(f"size:    {path.stat().st_size} bytes")
    print(f"sha256:  {sha256_bytes(path.read_bytes())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
