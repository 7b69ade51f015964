"""libwebp (encoder + decoder), libwebpmux and libsharpyuv for FFmpeg's libwebp and libwebp_anim encoders.

Compiled directly: every C file of the source directories that make up each library (what libwebp's own
Makefile.am/makefile.unix put in them), with no config.h (libwebp's headers pick sane defaults without
HAVE_CONFIG_H: near-lossless encoding on, builtin byte swaps), no threads (WEBP_USE_THREAD stays undefined, so
libwebp never touches pthreads) and no SIMD intrinsics (the SSE2/SSE4.1/NEON/MIPS files compile to nothing for
wasm32; the portable C code is autovectorised through -msimd128). NDEBUG as in libwebp's CMake release build.

Three archives, as upstream installs them: libwebp.a (decoder + encoder), libsharpyuv.a (the encoder's
sharp RGB->YUV conversion, a separate library since 1.3) and libwebpmux.a (the container muxer FFmpeg's
animated WebP encoder needs). libwebp.pc requires libsharpyuv, libwebpmux.pc requires libwebp, so
``pkg-config --static --libs libwebpmux`` gives ``-lwebpmux -lwebp -lsharpyuv -lm``.
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

# archive -> the source directories (relative to the source root) whose *.c files make it up.
LIBRARIES = {
    "libsharpyuv.a": ["sharpyuv"],
    "libwebp.a": ["src/dec", "src/enc", "src/dsp", "src/utils"],
    "libwebpmux.a": ["src/mux"],
}
# What `make install` puts under include/webp (demux.h belongs to libwebpdemux, which FFmpeg does not use),
# and the sharpyuv headers (see build() for where they go).
PUBLIC_HEADERS = ["decode.h", "encode.h", "types.h", "mux.h", "mux_types.h"]
SHARPYUV_HEADERS = ["sharpyuv.h", "sharpyuv_csp.h"]
WEBP_CFLAGS = ["-DNDEBUG", "-Wno-everything"]


def source_files(src: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for lib, dirs in LIBRARIES.items():
        files: list[str] = []
        for d in dirs:
            found = sorted(p.relative_to(src).as_posix() for p in (src / d).glob("*.c"))
            if not found:
                raise BuildError(f"libwebp: no sources in {d}; the recipe needs updating for this libwebp version")
            files += found
        out[lib] = files
    return out


def build(tc: Toolchain, tarball: Path, lock: dict, cache: Path, deps: dict[str, Layer] | None = None) -> Layer:
    info = lock["sources"]["libwebp"]
    version = info["version"]
    cflags = BASE_CFLAGS + WEBP_CFLAGS
    layer = Layer(cache, "libwebp", digest(RECIPE_VERSION, info["files"], tc.version, cflags, LIBRARIES,
                                           PUBLIC_HEADERS, SHARPYUV_HEADERS))
    if layer.done:
        return layer
    staging, src = layer.begin_from(tarball, info["dir"], "building libwebp (encoder, decoder, mux, sharpyuv)")
    libs = source_files(src)
    incflags = [f"-I{src}", f"-ffile-prefix-map={src}=libwebp"]
    objdir = layer.work / "obj"
    objdir.mkdir()
    jobs: list[list[str]] = []
    objs: dict[str, list[Path]] = {}
    for lib, files in libs.items():
        objs[lib] = []
        for f in files:
            o = objdir / (f.replace("/", "_")[:-2] + ".o")
            objs[lib].append(o)
            jobs.append([tc.cc, *cflags, *incflags, "-c", str(src / f), "-o", str(o)])
    compile_many(jobs, layer.work / "build.log")
    for lib, lib_objs in objs.items():
        archive(tc, staging, lib, lib_objs)
    install_headers(src / "src" / "webp", PUBLIC_HEADERS, staging / "include" / "webp")
    install_headers(src / "sharpyuv", SHARPYUV_HEADERS, staging / "include" / "sharpyuv")
    shutil.copy(src / "COPYING", staging / "COPYING.libwebp")
    shutil.copy(src / "PATENTS", staging / "PATENTS.libwebp")
    # Upstream installs the sharpyuv headers in include/webp/sharpyuv and points libsharpyuv.pc's Cflags at
    # include/webp, which (through libwebp.pc's Requires) would put include/webp/{encode,decode}.h on FFmpeg's
    # include path next to its own libavcodec/{encode,decode}.h. Here they go to include/sharpyuv with plain
    # -I${includedir}: `#include "sharpyuv/sharpyuv.h"` (what upstream's users and sharpyuv_csp.h write) works.
    write_pkgconfig(staging, layer, "libsharpyuv", "Library for sharp RGB to YUV conversion", version,
                    "-lsharpyuv", libs_private="-lm")
    write_pkgconfig(staging, layer, "libwebp", "Library for the WebP graphics format", version,
                    "-lwebp", libs_private="-lm", requires="libsharpyuv")
    write_pkgconfig(staging, layer, "libwebpmux", "Library for manipulating the WebP graphics format container",
                    version, "-lwebpmux", libs_private="-lm", requires="libwebp >= 0.2.0")
    layer.commit(staging, {"cflags": cflags, "sources": {k: len(v) for k, v in libs.items()}})
    return layer
