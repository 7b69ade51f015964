"""LAME 3.100's libmp3lame (MP3 encoder) for FFmpeg's libmp3lame wrapper.

Compiled directly from libmp3lame/ with a config.h written here: no frontend, no mpglib decoder (the
``hip_decode*`` entry points stay empty stubs, FFmpeg only encodes), no nasm/SSE code. FFmpeg finds it without
pkg-config: ``lame/lame.h`` plus ``-lmp3lame``.
"""

from __future__ import annotations

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
)

# libmp3lame_la_SOURCES of libmp3lame/Makefile.am (mpglib_interface.c compiles to stubs without HAVE_MPGLIB).
LAME_SRCS = [
    "VbrTag.c", "bitstream.c", "encoder.c", "fft.c", "gain_analysis.c", "id3tag.c", "lame.c", "newmdct.c",
    "presets.c", "psymodel.c", "quantize.c", "quantize_pvt.c", "reservoir.c", "set_get.c", "tables.c",
    "takehiro.c", "util.c", "vbrquantize.c", "version.c", "mpglib_interface.c",
]
LAME_CFLAGS = ["-DHAVE_CONFIG_H", "-Wno-everything"]


def config_h(version: str) -> str:
    # TAKEHIRO_IEEE754_HACK and USE_FAST_LOG are what configure sets on x86/x86_64/ppc: they rely only on
    # IEEE-754 float layout, which wasm guarantees (configure's generic branch leaves them off merely because it
    # does not know the CPU).
    return (
        "/* config.h for a wasm32-wasi build of libmp3lame, written by engine/libs/lame.py */\n"
        "#ifndef LAME_CONFIG_H\n#define LAME_CONFIG_H\n"
        "#define STDC_HEADERS 1\n"
        "#define HAVE_ERRNO_H 1\n"
        "#define HAVE_FCNTL_H 1\n"
        "#define HAVE_LIMITS_H 1\n"
        "#define HAVE_INTTYPES_H 1\n"
        "#define HAVE_STDINT_H 1\n"
        "#define HAVE_STDLIB_H 1\n"
        "#define HAVE_STRING_H 1\n"
        "#define HAVE_STRINGS_H 1\n"
        "#define HAVE_SYS_STAT_H 1\n"
        "#define HAVE_SYS_TYPES_H 1\n"
        "#define HAVE_UNISTD_H 1\n"
        "#define HAVE_STRTOL 1\n"
        "#define HAVE_INT8_T 1\n#define HAVE_INT16_T 1\n#define HAVE_INT32_T 1\n#define HAVE_INT64_T 1\n"
        "#define HAVE_UINT8_T 1\n#define HAVE_UINT16_T 1\n#define HAVE_UINT32_T 1\n#define HAVE_UINT64_T 1\n"
        "typedef float ieee754_float32_t;\n"
        "typedef double ieee754_float64_t;\n"
        "typedef long double ieee854_float80_t;\n"
        "#define SIZEOF_SHORT 2\n#define SIZEOF_UNSIGNED_SHORT 2\n"
        "#define SIZEOF_INT 4\n#define SIZEOF_UNSIGNED_INT 4\n"
        "#define SIZEOF_LONG 4\n#define SIZEOF_UNSIGNED_LONG 4\n"
        "#define SIZEOF_LONG_LONG 8\n#define SIZEOF_UNSIGNED_LONG_LONG 8\n"
        "#define SIZEOF_FLOAT 4\n#define SIZEOF_DOUBLE 8\n#define SIZEOF_LONG_DOUBLE 16\n"
        "#define LAME_LIBRARY_BUILD 1\n"
        "#define TAKEHIRO_IEEE754_HACK 1\n"
        "#define USE_FAST_LOG 1\n"
        '#define PACKAGE "lame"\n'
        f'#define VERSION "{version}"\n'
        "#endif\n"
    )


def build(tc: Toolchain, tarball: Path, lock: dict, cache: Path, deps: dict[str, Layer] | None = None) -> Layer:
    info = lock["sources"]["lame"]
    version = info["version"]
    cflags = BASE_CFLAGS + LAME_CFLAGS
    conf = config_h(version)
    layer = Layer(cache, "lame", digest(RECIPE_VERSION, info["files"], tc.version, cflags, conf, LAME_SRCS))
    if layer.done:
        return layer
    staging, src = layer.begin_from(tarball, info["dir"], "building lame (libmp3lame encoder)")
    for f in LAME_SRCS:
        if not (src / "libmp3lame" / f).exists():
            raise BuildError(f"lame: libmp3lame/{f} not found; the recipe needs updating for this lame version")
    gen = layer.work / "gen"
    gen.mkdir()
    (gen / "config.h").write_text(conf)
    incflags = [f"-I{gen}", f"-I{src / 'include'}", f"-I{src / 'libmp3lame'}", f"-ffile-prefix-map={src}=lame"]
    objdir = layer.work / "obj"
    objdir.mkdir()
    jobs, objs = [], []
    for f in LAME_SRCS:
        o = objdir / (f[:-2] + ".o")
        objs.append(o)
        jobs.append([tc.cc, *cflags, *incflags, "-c", str(src / "libmp3lame" / f), "-o", str(o)])
    compile_many(jobs, layer.work / "build.log")
    archive(tc, staging, "libmp3lame.a", objs)
    install_headers(src / "include", ["lame.h"], staging / "include" / "lame")
    shutil.copy(src / "COPYING", staging / "COPYING.lame")
    layer.commit(staging, {"cflags": cflags, "link": "-lmp3lame -lm"})
    return layer
