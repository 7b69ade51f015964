"""dav1d (AV1 decoder) for FFmpeg's libdav1d decoder.

There is no meson in the toolchain, so the library is compiled directly: the source lists come from the
release's own src/meson.build (``libdav1d_sources``, and ``libdav1d_tmpl_sources`` once per bit depth with
-DBITDEPTH=8 / -DBITDEPTH=16, which is what meson's ``bitdepths`` option does), with the config.h and
vcs_version.h meson would generate written here (include/dav1d/version.h ships in the tarball). No asm (dav1d
has none for wasm; the C DSP functions are autovectorised through -msimd128), and the flags of an upstream
release build: NDEBUG, -ffast-math, -fvisibility=hidden (public symbols carry DAV1D_API).

Both bit depths: 16 covers 10- and 12-bit streams (AV1 Main profile allows 10-bit, a common choice), and costs
only the second compilation of the 13 template files.

Threads: dav1d references pthread mutexes, condition variables, once, attr and create/join. zig's wasi-libc
(thread-stub) defines all of them for single-threaded wasm32-wasi, so the layer needs nothing else to link
(engine/compat/pthread_stubs.c, if the final link adds it, only corrects and completes them). With one
thread context and one frame context dav1d never creates a thread or waits on a condition variable (every such
path sits behind ``n_tc > 1`` or ``n_fc > 1``); it only uses the picture pool's mutex and pthread_once.
FFmpeg passes its thread_count as n_threads, and with more than one dav1d would try to start worker threads,
fail (pthread_create returns EAGAIN) and refuse to open. So the recipe pins the thread count to one in
get_num_threads() (src/lib.c): any n_threads gives one thread context, and then one frame context.
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

BITDEPTHS = ["8", "16"]
# What meson's project arguments add for a release build (-D_GNU_SOURCE is meson's on linux; harmless here).
DAV1D_CFLAGS = ["-std=c99", "-D_GNU_SOURCE", "-DNDEBUG", "-ffast-math", "-fvisibility=hidden", "-Wno-everything"]
INCLUDE_DIRS = [".", "include/dav1d", "include"]  # as meson.build: dav1d_inc_dirs
PUBLIC_HEADERS = ["common.h", "data.h", "dav1d.h", "headers.h", "picture.h", "version.h"]


def config_h() -> str:
    """What dav1d's meson.build puts in config.h for wasm32 without asm (every ARCH_*/HAVE_AS_* is 0)."""
    on = {
        "CONFIG_8BPC": "8" in BITDEPTHS,
        "CONFIG_16BPC": "16" in BITDEPTHS,
        "CONFIG_LOG": True,  # meson's default: errors go to the logger callback (FFmpeg's av_log)
        "CONFIG_MACOS_KPERF": False,
        "HAVE_ASM": False,
        "TRIM_DSP_FUNCTIONS": True,  # release builds; only matters with asm
        "HAVE_CLOCK_GETTIME": True,
        "HAVE_POSIX_MEMALIGN": True,
        "HAVE_MEMALIGN": False,
        "HAVE_ALIGNED_ALLOC": True,
        "HAVE_DLSYM": False,
        "HAVE_SYS_TYPES_H": True,
        "HAVE_UNISTD_H": True,
        "HAVE_IO_H": False,
        "HAVE_PTHREAD_NP_H": False,
        "HAVE_GETAUXVAL": False,
        "HAVE_ELF_AUX_INFO": False,
        "HAVE_PTHREAD_GETAFFINITY_NP": False,
        "HAVE_PTHREAD_SETAFFINITY_NP": False,
        "HAVE_PTHREAD_SETNAME_NP": False,
        "HAVE_PTHREAD_SET_NAME_NP": False,
        "HAVE_C11_GENERIC": True,
        "ENDIANNESS_BIG": False,
        "HAVE_AS_FUNC": False,
        "HAVE_AS_ARCH_DIRECTIVE": False,
    }
    for ext in ("DOTPROD", "I8MM", "SVE", "SVE2"):
        on[f"HAVE_AS_ARCHEXT_{ext}_DIRECTIVE"] = False
        on[f"HAVE_{ext}"] = False
    for arch in ("AARCH64", "ARM", "X86", "X86_64", "X86_32", "PPC64LE", "RISCV", "RV32", "RV64", "LOONGARCH",
                 "LOONGARCH32", "LOONGARCH64"):
        on[f"ARCH_{arch}"] = False
    lines = ["/* config.h for a wasm32-wasi build of dav1d, written by engine/libs/dav1d.py */"]
    lines += [f"#define {k} {int(v)}" for k, v in on.items()]
    return "\n".join(lines) + "\n"


def vcs_version_h(version: str) -> str:
    # meson's vcs_tag() falls back to the project version outside a git checkout (a release tarball).
    return f'/* auto-generated, do not edit */\n#define DAV1D_VERSION "{version}"\n'


# get_num_threads() in src/lib.c: the number of thread contexts, from which the frame contexts follow.
THREADS_OLD = """    *n_tc = s->n_threads ? s->n_threads :
        iclip(dav1d_num_logical_processors(c), 1, DAV1D_MAX_THREADS);
"""
THREADS_NEW = """    *n_tc = 1; /* wasm32-wasi: no threads (engine/libs/dav1d.py) */
"""


def pin_single_thread(lib_c: Path) -> None:
    text = lib_c.read_text()
    if text.count(THREADS_OLD) != 1:
        raise BuildError("dav1d src/lib.c: the thread count in get_num_threads() was not found; recipe needs updating")
    lib_c.write_text(text.replace(THREADS_OLD, THREADS_NEW))


def meson_files(meson_build: Path, var: str) -> list[str]:
    """The file names of ``<var> = files( ... )`` in a meson.build."""
    m = re.search(rf"^{var}\s*=\s*files\((.*?)\)", meson_build.read_text(), re.S | re.M)
    if not m:
        raise BuildError(f"dav1d: {var} not found in {meson_build.name}; the recipe needs updating")
    return re.findall(r"'([^']+\.c)'", m.group(1))


def build(tc: Toolchain, tarball: Path, lock: dict, cache: Path, deps: dict[str, Layer] | None = None) -> Layer:
    info = lock["sources"]["dav1d"]
    version = info["version"]
    cflags = BASE_CFLAGS + DAV1D_CFLAGS
    conf = config_h()
    vcs = vcs_version_h(version)
    layer = Layer(cache, "dav1d", digest(RECIPE_VERSION, info["files"], tc.version, cflags, conf, vcs, BITDEPTHS,
                                         INCLUDE_DIRS, PUBLIC_HEADERS, THREADS_OLD, THREADS_NEW))
    if layer.done:
        return layer
    staging, src = layer.begin_from(tarball, info["dir"], f"building dav1d ({'/'.join(BITDEPTHS)}-bit)")
    pin_single_thread(src / "src" / "lib.c")
    sources = meson_files(src / "src" / "meson.build", "libdav1d_sources")
    templates = meson_files(src / "src" / "meson.build", "libdav1d_tmpl_sources")
    for f in sources + templates:
        if not (src / "src" / f).exists():
            raise BuildError(f"dav1d: src/{f} listed in src/meson.build is missing")
    gen = layer.work / "gen"
    gen.mkdir()
    (gen / "config.h").write_text(conf)
    (gen / "vcs_version.h").write_text(vcs)
    incflags = [f"-I{gen}", *(f"-I{src / d}" for d in INCLUDE_DIRS), f"-ffile-prefix-map={src}=dav1d"]
    objdir = layer.work / "obj"
    objdir.mkdir()
    jobs, objs = [], []
    units = [(f, []) for f in sources] + [(f, [f"-DBITDEPTH={b}"]) for b in BITDEPTHS for f in templates]
    for f, extra in units:
        o = objdir / (f[:-2] + (f"-{extra[0].rsplit('=', 1)[1]}" if extra else "") + ".o")
        objs.append(o)
        jobs.append([tc.cc, *cflags, *incflags, *extra, "-c", str(src / "src" / f), "-o", str(o)])
    compile_many(jobs, layer.work / "build.log")
    archive(tc, staging, "libdav1d.a", objs)
    install_headers(src / "include" / "dav1d", PUBLIC_HEADERS, staging / "include" / "dav1d")
    shutil.copy(src / "COPYING", staging / "COPYING.dav1d")
    write_pkgconfig(staging, layer, "dav1d", "AV1 decoding library", version, "-ldav1d", libs_private="-lm")
    layer.commit(staging, {"cflags": cflags, "bitdepths": BITDEPTHS, "sources": len(units)})
    return layer
