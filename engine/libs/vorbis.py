"""libvorbis 1.3.7 (libvorbis + libvorbisenc) for FFmpeg's libvorbis encoder; needs the libogg layer.

Compiled directly from lib/ with a config.h written here and upstream's own release flags for GCC-like
compilers (``-ffast-math -fsigned-char -D_REENTRANT``; libvorbis has no NaN/Inf checks that fast-math could
break). libvorbisfile is not built: FFmpeg does not use it.
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
    write_pkgconfig,
)

# libvorbis_la_SOURCES and libvorbisenc_la_SOURCES of lib/Makefile.am.
VORBIS_SRCS = [
    "mdct.c", "smallft.c", "block.c", "envelope.c", "window.c", "lsp.c", "lpc.c", "analysis.c", "synthesis.c",
    "psy.c", "info.c", "floor1.c", "floor0.c", "res0.c", "mapping0.c", "registry.c", "codebook.c",
    "sharedbook.c", "lookup.c", "bitrate.c",
]
VORBISENC_SRCS = ["vorbisenc.c"]
VORBIS_CFLAGS = ["-DHAVE_CONFIG_H", "-ffast-math", "-fsigned-char", "-D_REENTRANT", "-Wno-everything"]
PUBLIC_HEADERS = ["codec.h", "vorbisenc.h"]


def config_h(version: str) -> str:
    return (
        "/* config.h for a wasm32-wasi build of libvorbis, written by engine/libs/vorbis.py */\n"
        "#define HAVE_ALLOCA 1\n"
        "#define HAVE_ALLOCA_H 1\n"
        "#define HAVE_INTTYPES_H 1\n"
        "#define HAVE_STDINT_H 1\n"
        "#define HAVE_STDLIB_H 1\n"
        "#define HAVE_STRING_H 1\n"
        "#define HAVE_STRINGS_H 1\n"
        "#define HAVE_SYS_STAT_H 1\n"
        "#define HAVE_SYS_TYPES_H 1\n"
        "#define HAVE_UNISTD_H 1\n"
        "#define STDC_HEADERS 1\n"
        '#define PACKAGE "libvorbis"\n'
        f'#define VERSION "{version}"\n'
        f'#define PACKAGE_VERSION "{version}"\n'
    )


def build(tc: Toolchain, tarball: Path, lock: dict, cache: Path, deps: dict[str, Layer] | None = None) -> Layer:
    info = lock["sources"]["libvorbis"]
    version = info["version"]
    if not deps or "libogg" not in deps:
        raise BuildError("libvorbis needs the libogg layer (deps['libogg'])")
    ogg = deps["libogg"]
    cflags = BASE_CFLAGS + VORBIS_CFLAGS
    conf = config_h(version)
    layer = Layer(cache, "libvorbis", digest(RECIPE_VERSION, info["files"], tc.version, cflags, conf, VORBIS_SRCS,
                                             VORBISENC_SRCS, ogg.key))
    if layer.done:
        return layer
    staging, src = layer.begin_from(tarball, info["dir"], "building libvorbis (libvorbis, libvorbisenc)")
    for f in VORBIS_SRCS + VORBISENC_SRCS:
        if not (src / "lib" / f).exists():
            raise BuildError(f"libvorbis: lib/{f} not found; the recipe needs updating for this libvorbis version")
    gen = layer.work / "gen"
    gen.mkdir()
    (gen / "config.h").write_text(conf)
    incflags = [f"-I{gen}", f"-I{src / 'include'}", f"-I{src / 'lib'}", f"-I{ogg.prefix / 'include'}",
                f"-ffile-prefix-map={src}=libvorbis"]
    objdir = layer.work / "obj"
    objdir.mkdir()
    jobs = []

    def objs_for(files: list[str]) -> list[Path]:
        out = []
        for f in files:
            o = objdir / (f[:-2] + ".o")
            out.append(o)
            jobs.append([tc.cc, *cflags, *incflags, "-c", str(src / "lib" / f), "-o", str(o)])
        return out

    vorbis_objs = objs_for(VORBIS_SRCS)
    enc_objs = objs_for(VORBISENC_SRCS)
    compile_many(jobs, layer.work / "build.log")
    archive(tc, staging, "libvorbis.a", vorbis_objs)
    archive(tc, staging, "libvorbisenc.a", enc_objs)
    install_headers(src / "include" / "vorbis", PUBLIC_HEADERS, staging / "include" / "vorbis")
    shutil.copy(src / "COPYING", staging / "COPYING.libvorbis")
    # Plain Requires (not Requires.private as upstream): the libraries are static, so a consumer that asks
    # for vorbisenc always needs -lvorbis -logg too. ogg.pc lives in the libogg layer: put both layers'
    # lib/pkgconfig on PKG_CONFIG_PATH.
    write_pkgconfig(staging, layer, "vorbis", "vorbis is the primary Ogg Vorbis library", version,
                    "-lvorbis", libs_private="-lm", requires="ogg")
    write_pkgconfig(staging, layer, "vorbisenc", "vorbisenc is a library that provides a convenient API "
                    "for setting up an encoding environment using libvorbis", version, "-lvorbisenc",
                    requires="vorbis")
    layer.commit(staging, {"cflags": cflags, "libogg": ogg.key})
    return layer
