"""libopus (float build) for FFmpeg's libopus encoder and decoder.

Compiled directly from the source lists the release ships (``*_sources.mk``) with a config.h written here:
the float code path (SILK float encoder, CELT float, the float analysis), C99 variable-length arrays for
scratch space, no intrinsics, no asm, no run-time CPU detection, and none of the 1.5 neural extras (deep PLC,
DRED, OSCE), which are off by default upstream too.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from buildlib import (
    BASE_CFLAGS,
    RECIPE_VERSION,
    BuildError,
    Layer,
    Toolchain,
    archive,
    compile_many,
    digest,
    install_headers,
    write_pkgconfig,
)

# The make variables of the release's *_sources.mk that make up a float build without asm or intrinsics
# (what opus's own Makefile.unix picks without FIXED_POINT).
SOURCE_VARS = {
    "celt_sources.mk": ["CELT_SOURCES"],
    "silk_sources.mk": ["SILK_SOURCES", "SILK_SOURCES_FLOAT"],
    "opus_sources.mk": ["OPUS_SOURCES", "OPUS_SOURCES_FLOAT"],
}
INCLUDE_DIRS = ["include", "celt", "silk", "silk/float"]
# What `make install` puts under include/opus (opus_custom.h only with --enable-custom-modes).
PUBLIC_HEADERS = ["opus.h", "opus_defines.h", "opus_multistream.h", "opus_projection.h", "opus_types.h"]
OPUS_CFLAGS = ["-DHAVE_CONFIG_H", "-Wno-everything"]


def config_h(version: str) -> str:
    # FLOAT_APPROX: the IEEE-754 bit tricks in celt/mathops.h; configure enables them on x86/arm, and wasm
    # floats are IEEE-754 binary32/64 as well. ENABLE_HARDENING is the upstream default (a failed internal check
    # calls abort(), which traps the wasm instance). DISABLE_DEBUG_FLOAT is what configure always sets.
    return (
        "/* config.h for a wasm32-wasi float build of opus, written by engine/libs/opus.py */\n"
        "#define OPUS_BUILD 1\n"
        "#define VAR_ARRAYS 1\n"
        "#define HAVE_LRINT 1\n"
        "#define HAVE_LRINTF 1\n"
        "#define FLOAT_APPROX 1\n"
        "#define ENABLE_HARDENING 1\n"
        "#define DISABLE_DEBUG_FLOAT 1\n"
        "#define HAVE_ALLOCA_H 1\n"
        "#define HAVE_STDINT_H 1\n"
        "#define HAVE_INTTYPES_H 1\n"
        "#define HAVE_STDIO_H 1\n"
        "#define HAVE_STDLIB_H 1\n"
        "#define HAVE_STRING_H 1\n"
        "#define HAVE_STRINGS_H 1\n"
        "#define HAVE_SYS_STAT_H 1\n"
        "#define HAVE_SYS_TYPES_H 1\n"
        "#define HAVE_UNISTD_H 1\n"
        "#define STDC_HEADERS 1\n"
        '#define PACKAGE_NAME "opus"\n'
        '#define PACKAGE_TARNAME "opus"\n'
        f'#define PACKAGE_VERSION "{version}"\n'
        f'#define PACKAGE_STRING "opus {version}"\n'
    )


def make_var_lists(mk: Path) -> dict[str, list[str]]:
    """``NAME = a \\ b \\ c`` assignments of an automake fragment."""
    text = mk.read_text().replace("\\\n", " ")
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        m = re.match(r"^([A-Z0-9_]+)\s*=(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2).split()
    return out


def source_list(src: Path) -> list[str]:
    files: list[str] = []
    for mk, names in SOURCE_VARS.items():
        lists = make_var_lists(src / mk)
        for name in names:
            if name not in lists:
                raise BuildError(f"opus: {name} not found in {mk}; the recipe needs updating for this opus version")
            files += lists[name]
    for f in files:
        if not f.endswith(".c") or not (src / f).exists():
            raise BuildError(f"opus: source {f} listed in the .mk files is missing")
    return files


def build(tc: Toolchain, tarball: Path, lock: dict, cache: Path, deps: dict[str, Layer] | None = None) -> Layer:
    info = lock["sources"]["opus"]
    version = info["version"]
    cflags = BASE_CFLAGS + OPUS_CFLAGS
    conf = config_h(version)
    layer = Layer(cache, "opus", digest(RECIPE_VERSION, info["files"], tc.version, cflags, conf, SOURCE_VARS,
                                        INCLUDE_DIRS, PUBLIC_HEADERS))
    if layer.done:
        return layer
    staging, src = layer.begin_from(tarball, info["dir"], "building opus (float)")
    files = source_list(src)
    gen = layer.work / "gen"
    gen.mkdir()
    (gen / "config.h").write_text(conf)
    incflags = [f"-I{gen}", *(f"-I{src / d}" for d in INCLUDE_DIRS), f"-ffile-prefix-map={src}=opus"]
    objdir = layer.work / "obj"
    objdir.mkdir()
    jobs, objs = [], []
    for f in files:
        o = objdir / (f.replace("/", "_")[:-2] + ".o")
        objs.append(o)
        jobs.append([tc.cc, *cflags, *incflags, "-c", str(src / f), "-o", str(o)])
    compile_many(jobs, layer.work / "build.log")
    archive(tc, staging, "libopus.a", objs)
    install_headers(src / "include", PUBLIC_HEADERS, staging / "include" / "opus")
    shutil.copy(src / "COPYING", staging / "COPYING.opus")
    write_pkgconfig(staging, layer, "opus", "Opus IETF audio codec (float build)", version,
                    "-lopus", libs_private="-lm", cflags="-I${includedir}/opus")
    layer.commit(staging, {"cflags": cflags, "sources": len(files)})
    return layer
