"""libvpx (VP8 + VP9, encoder and decoder, 8-bit) for FFmpeg's libvpx wrappers.

Built with libvpx's own configure (target ``generic-gnu``: plain C, no asm, no intrinsics beyond what clang
autovectorises with ``-msimd128``, no run-time CPU detection, no threads, no PIC) and ``make libvpx.a``, which
also generates the RTCD headers with the release's perl script. Only the library is built: no examples, tools,
tests, docs, WebM I/O, libyuv or the separate rate-control library. The decoder refuses frames above
16384x16384 (``--size-limit``, as Chromium builds it), so a forged header fails early instead of allocating
gigabytes.

libvpx reports errors with setjmp/longjmp (``vpx_internal_error``). wasm has those only through clang's SjLj
lowering onto the exception-handling proposal, so every libvpx file is compiled with ``SJLJ_CFLAGS`` (new
exnref encoding: ``try_table``; the default is still the legacy encoding, which wasmtime does not run).
zig 0.17.1's wasi-libc lacks the ``__c_longjmp`` tag and builds its ``__wasm_setjmp``/``__wasm_setjmp_test``/
``__wasm_longjmp`` only into a libc linked with ``-mexception-handling``; ``engine/compat/sjlj_runtime.c`` and
``sjlj_tag.c`` supply all four as ``lib/libsjlj_runtime.a``, which ``vpx.pc`` lists after ``-lvpx``. The
consumer needs no special compile or link flags, but the linked module uses wasm exceptions: the host must
enable them (``wasmtime.Config().wasm_exceptions = True``), or the module fails to load.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from buildlib import (
    BASE_CFLAGS,
    ENGINE_DIR,
    RECIPE_VERSION,
    BuildError,
    Layer,
    Toolchain,
    digest,
    run,
    sha256_file,
    write_pkgconfig,
)

# clang's wasm setjmp/longjmp lowering with the standard (exnref) exception-handling encoding.
SJLJ_CFLAGS = ["-mexception-handling", "-mllvm", "-wasm-enable-sjlj", "-mllvm", "-wasm-use-legacy-eh=false"]
SJLJ_SOURCES = ["sjlj_runtime.c", "sjlj_tag.c"]  # under engine/compat, archived as lib/libsjlj_runtime.a

CONFIGURE_ARGS = [
    "--target=generic-gnu",
    "--disable-pic",
    "--disable-multithread",
    "--disable-runtime-cpu-detect",
    "--disable-examples",
    "--disable-tools",
    "--disable-docs",
    "--disable-unit-tests",
    "--disable-install-bins",
    "--disable-shared",
    "--enable-static",
    "--enable-vp8",
    "--enable-vp9",
    "--disable-vp9-highbitdepth",
    "--disable-webm-io",
    "--disable-libyuv",
    "--disable-dependency-tracking",
    "--size-limit=16384x16384",
]

# What `make install` puts under include/vpx for a vp8+vp9 encoder+decoder build.
PUBLIC_HEADERS = ["vp8.h", "vp8cx.h", "vp8dx.h", "vpx_codec.h", "vpx_decoder.h", "vpx_encoder.h",
                  "vpx_ext_ratectrl.h", "vpx_frame_buffer.h", "vpx_image.h", "vpx_integer.h", "vpx_tpl.h"]


def build(tc: Toolchain, tarball: Path, lock: dict, cache: Path, deps: dict[str, Layer] | None = None) -> Layer:
    info = lock["sources"]["libvpx"]
    version = info["version"]
    cflags = BASE_CFLAGS + SJLJ_CFLAGS
    compat = [ENGINE_DIR / "compat" / n for n in SJLJ_SOURCES]
    layer = Layer(cache, "libvpx", digest(RECIPE_VERSION, info["files"], tc.version, cflags, CONFIGURE_ARGS,
                                          PUBLIC_HEADERS, {p.name: sha256_file(p) for p in compat}))
    if layer.done:
        return layer
    staging, src = layer.begin_from(tarball, info["dir"], "building libvpx (vp8 + vp9, encoder + decoder)")
    if not (src / "configure").exists():
        raise BuildError(f"libvpx: {info['dir']}/configure not found; the recipe needs updating")
    bld = layer.work / "build"
    bld.mkdir()
    logfile = layer.work / "build.log"
    env = dict(os.environ, CC=tc.cc, CXX=tc.cxx, AR=tc.ar, LD=tc.cc, RANLIB=tc.ranlib, STRIP="true", AS="true")
    for var in ("CFLAGS", "CXXFLAGS", "LDFLAGS", "CPPFLAGS"):
        env.pop(var, None)
    # Configured through a relative path, so the sources' paths (and vpx_codec_build_config()) hold no
    # absolute directory of this machine.
    rel_configure = os.path.relpath(src / "configure", bld)
    run(["sh", rel_configure, *CONFIGURE_ARGS, "--extra-cflags=" + " ".join(cflags)], cwd=bld, env=env,
        logfile=logfile)
    run(["make", f"-j{os.cpu_count() or 2}", "libvpx.a"], cwd=bld, env=env, logfile=logfile)

    objdir = layer.work / "sjlj"
    objdir.mkdir()
    objs = []
    for p in compat:
        o = objdir / (p.stem + ".o")
        run([tc.cc, *cflags, "-c", str(p), "-o", str(o)], logfile=logfile)
        objs.append(o)

    (staging / "lib").mkdir()
    (staging / "include" / "vpx").mkdir(parents=True)
    shutil.copy(bld / "libvpx.a", staging / "lib" / "libvpx.a")
    run([tc.ar, "rcs", str(staging / "lib" / "libsjlj_runtime.a"), *map(str, objs)], logfile=logfile)
    for h in PUBLIC_HEADERS:
        if not (src / "vpx" / h).exists():
            raise BuildError(f"libvpx: public header vpx/{h} not found; the recipe needs updating")
        shutil.copy(src / "vpx" / h, staging / "include" / "vpx" / h)
    shutil.copy(src / "LICENSE", staging / "LICENSE.libvpx")
    shutil.copy(src / "PATENTS", staging / "PATENTS.libvpx")
    write_pkgconfig(staging, layer, "vpx", "WebM Project VPx codec implementation (VP8, VP9)", version,
                    "-lvpx -lsjlj_runtime -lm")
    layer.commit(staging, {"cflags": cflags, "configure": CONFIGURE_ARGS})
    return layer
