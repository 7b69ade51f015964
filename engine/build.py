#!/usr/bin/env python3
"""Build the afmpeg engine (FFmpeg libraries + our C driver) to wasm32-wasi.

Layers, each cached under the build cache by a hash of everything that goes into it:

    sources  -> zlib -> openh264 [-> x264] -> libav (FFmpeg libraries) -> engine (link)

Two variants, each with its own libav and engine layers: ``lgpl`` (H.264 encoding via openh264) and ``gpl``
(FFmpeg configured with --enable-gpl --enable-libx264, x264 in addition to openh264). The LGPL layers do not
depend on anything GPL-only, so adding or changing the GPL variant never rebuilds them.

Run it with the interpreter of the toolchain venv (the one that has ``ziglang``).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # buildlib and libs/, also when loaded by path

from buildlib import (  # noqa: E402
    BASE_CFLAGS,
    ENGINE_DIR,
    LINK_FLAGS,
    LOCK,
    RECIPE_VERSION,
    REPO,
    WASI_EMULATION_LIBS,
    BuildError,
    Layer,
    Toolchain,
    archive,
    compile_many,
    digest,
    extract,
    install_headers,
    log,
    run,
    sha256_file,
    tree_digest,
)

# ---------------------------------------------------------------- sources


def apt_fetch(lock: dict, names: list[str], cache: Path, dest: Path) -> None:
    """Download orig tarballs with apt-get source under a private apt configuration.

    The archive URI comes from the machine's own apt sources; nothing under /etc is touched.
    """
    aptdir = cache / "apt"
    if shutil.which("apt-get") is None:
        raise BuildError(
            "apt-get is not available to fetch the pinned sources; put the tarballs named in "
            "engine/sources.lock.json in a directory and run with AFMPEG_TARBALLS=DIR"
        )
    uri = machine_debian_uri()
    suites = sorted({lock["sources"][n]["suite"] for n in names})
    env = private_apt_env(aptdir, [f"deb-src [signed-by={DEBIAN_KEYRING}] {uri} {s} main" for s in suites])
    log(f"apt-get update (private config, suites: {', '.join(suites)})")
    subprocess.run(["apt-get", "-q", "update"], env=env, check=False, stdout=subprocess.DEVNULL)
    specs = [lock["sources"][n]["apt"] for n in names]
    log(f"apt-get source --download-only {' '.join(specs)}")
    dest.mkdir(parents=True, exist_ok=True)
    # .dsc/.debian.tar.xz files are sometimes missing from the archive; only the orig
    # tarballs matter and they are verified by hash afterwards, so the exit code is not trusted.
    subprocess.run(["apt-get", "-q", "source", "--download-only", *specs], cwd=dest, env=env, check=False)


DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


def private_apt_env(aptdir: Path, source_lines: list[str]) -> dict[str, str]:
    """The environment for apt-get runs with a private configuration under ``aptdir`` whose sources are
    ``source_lines``: lists and downloads stay there, and nothing under /etc is read for sources or written."""
    (aptdir / "etc" / "sources.list.d").mkdir(parents=True, exist_ok=True)
    (aptdir / "state" / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (aptdir / "cache" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    (aptdir / "etc" / "sources.list").write_text("\n".join(source_lines) + "\n")
    conf = aptdir / "apt.conf"
    conf.write_text(
        f'Dir::Etc::sourcelist "{aptdir}/etc/sources.list";\n'
        f'Dir::Etc::sourceparts "{aptdir}/etc/sources.list.d";\n'
        f'Dir::State "{aptdir}/state";\n'
        'Dir::State::status "/var/lib/dpkg/status";\n'
        f'Dir::Cache "{aptdir}/cache";\n'
        'APT::Get::List-Cleanup "0";\n'
        'APT::Sandbox::User "root";\n'
    )
    return dict(os.environ, APT_CONFIG=str(conf))


def machine_debian_uri() -> str:
    """The Debian archive URI configured on this machine (deb822 or one-line format)."""
    candidates: list[Path] = []
    d = Path("/etc/apt/sources.list.d")
    if d.is_dir():
        candidates += sorted(d.glob("*.sources")) + sorted(d.glob("*.list"))
    candidates.append(Path("/etc/apt/sources.list"))
    for f in candidates:
        if not f.is_file():
            continue
        text = f.read_text(errors="replace")
        for line in text.splitlines():
            line = line.strip()
            if line.startswith("URIs:"):
                for uri in line.split()[1:]:
                    if uri.rstrip("/").endswith("/debian"):
                        return uri
            elif line.startswith("deb ") or line.startswith("deb-src "):
                for tok in line.split():
                    if "://" in tok and tok.rstrip("/").endswith("/debian"):
                        return tok
    raise BuildError(
        "could not find a Debian archive URI in this machine's apt sources; "
        "put the pinned tarballs (engine/sources.lock.json) in a directory and pass --tarballs DIR "
        "or set AFMPEG_TARBALLS"
    )


def ensure_sources(lock: dict, names: list[str], cache: Path, tarballs: Path | None) -> dict[str, Path]:
    store = cache / "sources"
    store.mkdir(parents=True, exist_ok=True)
    wanted = {fn: sha for n in names for fn, sha in lock["sources"][n]["files"].items()}

    def have(fn: str) -> bool:
        p = store / fn
        return p.exists() and sha256_file(p) == wanted[fn]

    if tarballs:
        for fn in wanted:
            src = tarballs / fn
            if not have(fn) and src.exists():
                if sha256_file(src) != wanted[fn]:
                    raise BuildError(f"{src}: SHA-256 does not match engine/sources.lock.json")
                shutil.copyfile(src, store / fn)
    missing = [n for n in names if not all(have(fn) for fn in lock["sources"][n]["files"])]
    if missing:
        dl = cache / "download"
        shutil.rmtree(dl, ignore_errors=True)
        apt_fetch(lock, missing, cache, dl)
        for n in missing:
            for fn, sha in lock["sources"][n]["files"].items():
                got = dl / fn
                if not got.exists():
                    raise BuildError(
                        f"{fn} ({lock['sources'][n]['apt']}) is not in Debian's source archive any more.\n"
                        f"Either update engine/sources.lock.json to a version the archive has, or put the "
                        f"pinned file in a directory and run with AFMPEG_TARBALLS=DIR (it is verified by SHA-256)."
                    )
                actual = sha256_file(got)
                if actual != sha:
                    raise BuildError(f"{fn}: SHA-256 {actual} does not match the lock ({sha}); refusing to build")
                shutil.move(str(got), store / fn)
    return {n: store / lock["sources"][n]["tarball"] for n in names}


def build_zlib(tc: Toolchain, src_tar: Path, lock: dict, cache: Path) -> Layer:
    cflags = BASE_CFLAGS
    layer = Layer(cache, "zlib", digest(RECIPE_VERSION, lock["sources"]["zlib"]["files"], tc.version, cflags))
    if layer.done:
        return layer
    staging, src = layer.begin_from(src_tar, lock["sources"]["zlib"]["dir"], "building zlib")
    names = ["adler32", "compress", "crc32", "deflate", "infback", "inffast", "inflate", "inftrees",
             "trees", "uncompr", "zutil", "gzclose", "gzlib", "gzread", "gzwrite"]
    objs = [layer.work / f"{n}.o" for n in names]
    jobs = [[tc.cc, *cflags, "-DHAVE_UNISTD_H", "-c", str(src / f"{n}.c"), "-o", str(o)]
            for n, o in zip(names, objs, strict=True)]
    compile_many(jobs, layer.work / "build.log")
    archive(tc, staging, "libz.a", objs)
    install_headers(src, ("zlib.h", "zconf.h"), staging / "include")
    shutil.copy(src / "LICENSE", staging / "LICENSE.zlib")
    layer.commit(staging, {"cflags": cflags})
    return layer


OPENH264_CXXFLAGS = ["-fno-exceptions", "-fno-rtti", "-std=c++11", "-DNDEBUG", "-Wno-everything"]


def build_openh264(tc: Toolchain, src_tar: Path, lock: dict, cache: Path) -> Layer:
    stubs = ENGINE_DIR / "compat" / "openh264_threads.cpp"
    cflags = BASE_CFLAGS + OPENH264_CXXFLAGS
    layer = Layer(
        cache, "openh264",
        digest(RECIPE_VERSION, lock["sources"]["openh264"]["files"], tc.version, cflags, sha256_file(stubs)),
    )
    if layer.done:
        return layer
    staging, src = layer.begin_from(src_tar, lock["sources"]["openh264"]["dir"], "building openh264 (encoder)")
    fix_openh264_vtable(src / "codec" / "api" / "wels" / "codec_api.h")
    dirs = ["codec/common/src", "codec/encoder/core/src", "codec/encoder/plus/src"]
    cpps = [p for d in dirs for p in sorted((src / d).glob("*.cpp"))]
    cpps += sorted((src / "codec" / "processing" / "src").glob("*/*.cpp"))
    # WelsThreadLib.cpp needs a threaded libc; compat/openh264_threads.cpp replaces it.
    cpps = [p for p in cpps if p.name not in ("DllEntry.cpp", "WelsThreadLib.cpp")]
    cpps.append(stubs)
    incs = ["codec/api", "codec/api/wels", "codec/common/inc", "codec/encoder/core/inc", "codec/encoder/plus/inc",
            "codec/processing/interface", "codec/processing/src/common"]
    incflags = [f"-I{src / i}" for i in incs]
    objdir = layer.work / "obj"
    objdir.mkdir()
    jobs = []
    objs = []
    for i, p in enumerate(cpps):
        o = objdir / f"{i:03d}_{p.stem}.o"
        objs.append(o)
        jobs.append([tc.cxx, *cflags, *incflags, "-c", str(p), "-o", str(o)])
    compile_many(jobs, layer.work / "build.log")
    (staging / "lib" / "pkgconfig").mkdir(parents=True)
    archive(tc, staging, "libopenh264.a", objs)
    api = src / "codec" / "api" / "wels"
    install_headers(api, sorted(h.name for h in api.glob("*.h")), staging / "include" / "wels")
    shutil.copy(src / "LICENSE", staging / "LICENSE.openh264")
    ver = lock["sources"]["openh264"]["version"]
    (staging / "lib" / "pkgconfig" / "openh264.pc").write_text(
        f"prefix={layer.prefix}\nlibdir=${{prefix}}/lib\nincludedir=${{prefix}}/include\n\n"
        f"Name: OpenH264\nDescription: OpenH264 encoder (wasm32-wasi)\nVersion: {ver}\n"
        "Libs: -L${libdir} -lopenh264\nLibs.private: -lc++ -lc++abi\nCflags: -I${includedir}\n"
    )
    layer.commit(staging, {"cflags": cflags})
    return layer


def fix_openh264_vtable(header: Path) -> None:
    """Make the C vtable entry agree with the C++ method: wasm traps on signature mismatch."""
    text = header.read_text()
    old = "int (*ForceIntraFrame) (ISVCEncoder*, bool bIDR);"
    new = "int (*ForceIntraFrame) (ISVCEncoder*, bool bIDR, int iLayerId);"
    if old not in text:
        raise BuildError("openh264 codec_api.h: ForceIntraFrame declaration not found; recipe needs updating")
    header.write_text(text.replace(old, new))


# Source edits made to FFmpeg before configure: (file, old text, new text, why). Part of the libav layers' key.
FFMPEG_PATCHES = [
    ("libavcodec/libopenh264enc.c", "(*s->encoder)->ForceIntraFrame(s->encoder, true);",
     "(*s->encoder)->ForceIntraFrame(s->encoder, true, -1);",
     "openh264's C vtable entry takes the extra int its C++ method has; wasm traps on the mismatch"),
    ("configure", 'simd_align_16_if_any="altivec neon sse"', 'simd_align_16_if_any="altivec neon sse simd128"',
     "the wasm simd128 HEVC SAO filters write whole 16-byte rows: picture lines must be 16-byte aligned, as for "
     "SSE (with 8-byte alignment they overwrote the next chroma line at widths that are not a multiple of 32)"),
]


def patch_ffmpeg(src: Path) -> None:
    for name, old, new, _why in FFMPEG_PATCHES:
        f = src / name
        text = f.read_text()
        if text.count(old) != 1:
            raise BuildError(f"{name}: the text to patch was not found once; the recipe needs updating")
        f.write_text(text.replace(old, new))


# x264: the encoder library only (no CLI, no asm, no threads, no OpenCL), 8-bit, every chroma format.
# x264's configure refuses an unknown system, so its two generated headers are written here instead.
X264_CONFIG_H = """\
#define HAVE_MALLOC_H 0
#define STACK_ALIGNMENT 16
#define HAVE_LOG2F 1
#define HAVE_STRTOK_R 1
#define HAVE_CLOCK_GETTIME 1
#define HAVE_MMAP 0
#define HAVE_THP 0
#define HAVE_VECTOREXT 1
#define HAVE_BITDEPTH8 1
#define HAVE_BITDEPTH10 0
#define HAVE_GPL 1
#define HAVE_INTERLACED 1
#define HAVE_ALTIVEC 0
#define HAVE_ALTIVEC_H 0
#define HAVE_MMX 0
#define HAVE_ARMV6 0
#define HAVE_ARMV6T2 0
#define HAVE_NEON 0
#define HAVE_AARCH64 0
#define HAVE_BEOSTHREAD 0
#define HAVE_POSIXTHREAD 0
#define HAVE_WIN32THREAD 0
#define HAVE_THREAD 0
#define HAVE_SWSCALE 0
#define HAVE_LAVF 0
#define HAVE_FFMS 0
#define HAVE_GPAC 0
#define HAVE_AVS 0
#define HAVE_CPU_COUNT 0
#define HAVE_OPENCL 0
#define HAVE_LSMASH 0
#define HAVE_X86_INLINE_ASM 0
#define HAVE_AS_FUNC 0
#define HAVE_INTEL_DISPATCHER 0
#define HAVE_MSA 0
#define HAVE_WINRT 0
#define HAVE_VSX 0
#define HAVE_ARM_INLINE_ASM 0
"""
X264_CFLAGS = ["-std=gnu99", "-D_GNU_SOURCE", "-ffast-math", "-Wno-everything"]
# From x264's Makefile: SRCS are built once, SRCS_X once per bit depth (here only 8).
X264_SRCS = ["common/osdep.c", "common/base.c", "common/cpu.c", "common/tables.c", "encoder/api.c"]
X264_SRCS_X = ["common/mc.c", "common/predict.c", "common/pixel.c", "common/macroblock.c", "common/frame.c",
               "common/dct.c", "common/cabac.c", "common/common.c", "common/rectangle.c", "common/set.c",
               "common/quant.c", "common/deblock.c", "common/vlc.c", "common/mvpred.c", "common/bitstream.c",
               "encoder/analyse.c", "encoder/me.c", "encoder/ratecontrol.c", "encoder/set.c",
               "encoder/macroblock.c", "encoder/cabac.c", "encoder/cavlc.c", "encoder/encoder.c",
               "encoder/lookahead.c"]


def build_x264(tc: Toolchain, src_tar: Path, lock: dict, cache: Path) -> Layer:
    info = lock["sources"]["x264"]
    cflags = BASE_CFLAGS + X264_CFLAGS
    # What x264's version.sh says for a git checkout, " r<revision> <commit>"; x264 writes it into each stream.
    revision = info["version"].rsplit(".", 1)[-1]
    commit = info["dir"].rsplit("+git", 1)[-1] if "+git" in info["dir"] else ""
    version = f"r{revision} {commit}".strip()
    layer = Layer(cache, "x264", digest(RECIPE_VERSION, info["files"], tc.version, cflags, X264_CONFIG_H,
                                        X264_SRCS, X264_SRCS_X, version))
    if layer.done:
        return layer
    staging, src = layer.begin_from(src_tar, info["dir"], "building x264 (encoder library, GPL variant)")
    for f in X264_SRCS + X264_SRCS_X:
        if not (src / f).exists():
            raise BuildError(f"x264: {f} not found; the recipe needs updating for this x264 version")
    build_num = x264_build_number(src / "x264.h")
    (src / "config.h").write_text(X264_CONFIG_H)
    (src / "x264_config.h").write_text(
        "#define X264_GPL           1\n#define X264_INTERLACED    1\n#define X264_BIT_DEPTH     8\n"
        "#define X264_CHROMA_FORMAT 0\n"
        f'#define X264_VERSION " {version}"\n#define X264_POINTVER "0.{build_num}.{version[1:]}"\n'
    )
    incflags = [f"-I{src}", f"-ffile-prefix-map={src}=x264"]
    objdir = layer.work / "obj"
    objdir.mkdir()
    jobs, objs = [], []
    for f, extra in [(f, []) for f in X264_SRCS] + [(f, ["-DHIGH_BIT_DEPTH=0", "-DBIT_DEPTH=8"]) for f in X264_SRCS_X]:
        o = objdir / (f.replace("/", "_")[:-2] + ("-8.o" if extra else ".o"))
        objs.append(o)
        jobs.append([tc.cc, *cflags, *incflags, *extra, "-c", str(src / f), "-o", str(o)])
    compile_many(jobs, layer.work / "build.log")
    (staging / "lib" / "pkgconfig").mkdir(parents=True)
    archive(tc, staging, "libx264.a", objs)
    install_headers(src, ("x264.h", "x264_config.h"), staging / "include")
    shutil.copy(src / "COPYING", staging / "COPYING.x264")
    (staging / "lib" / "pkgconfig" / "x264.pc").write_text(
        f"prefix={layer.prefix}\nlibdir=${{prefix}}/lib\nincludedir=${{prefix}}/include\n\n"
        f"Name: x264\nDescription: H.264 (MPEG4 AVC) encoder library (wasm32-wasi)\n"
        f"Version: {info['version']}\nLibs: -L${{libdir}} -lx264\nLibs.private: -lm\nCflags: -I${{includedir}}\n"
    )
    layer.commit(staging, {"cflags": cflags, "x264_build": build_num})
    return layer


def x264_build_number(header: Path) -> str:
    for line in header.read_text().splitlines():
        if line.startswith("#define X264_BUILD"):
            return line.split()[2]
    raise BuildError("x264.h: X264_BUILD not found; recipe needs updating")


# What each variant links, and the FFmpeg configure switches that go with it. The LGPL entries are part of the
# LGPL layers' inputs exactly as before the GPL variant existed.
VARIANTS = {
    "lgpl": {"license": "LGPL-2.1-or-later", "h264_encoder": "libopenh264", "sources": ["zlib", "openh264", "ffmpeg"],
             "configure": [], "libs": []},
    "gpl": {"license": "GPL-2.0-or-later", "h264_encoder": "libx264",
            "sources": ["zlib", "openh264", "x264", "ffmpeg"],
            "configure": ["--enable-gpl", "--enable-libx264"], "libs": ["-lx264"]},
}


# What each profile adds on top of the variant: the libraries of engine/libs/ (in dependency order) and their
# FFmpeg configure switches and link flags. The lean profile adds nothing, so its layer keys are as they were.
PROFILES: dict[str, dict] = {
    "lean": {"sources": [], "configure": [], "libs": []},
    "full": {
        "sources": ["opus", "lame", "libogg", "libvorbis", "libvpx", "libwebp", "dav1d", "freetype", "harfbuzz",
                    "fribidi", "libass"],
        "configure": ["--enable-libopus", "--enable-libmp3lame", "--enable-libvorbis", "--enable-libvpx",
                      "--enable-libwebp", "--enable-libdav1d", "--enable-libfreetype", "--enable-libharfbuzz",
                      "--enable-libfribidi", "--enable-libass"],
        "libs": [],  # filled in below from the layers' pkg-config files
    },
}


def module_name(variant: str, profile: str) -> str:
    """``afmpeg-engine-<variant>.wasm`` for the lean profile, ``afmpeg-engine-<variant>-<profile>.wasm`` else."""
    return f"afmpeg-engine-{variant}.wasm" if profile == "lean" else f"afmpeg-engine-{variant}-{profile}.wasm"


def load_allowlist(profile: str, variant: str = "lgpl") -> dict[str, list[str]]:
    """The profile's allowlist (with the one it ``_extends``), plus ``allowlist/variant-<variant>.json`` and
    ``allowlist/<profile>-variant-<variant>.json`` when they exist."""
    data = json.loads((ENGINE_DIR / "allowlist" / f"{profile}.json").read_text())
    base = data.get("_extends")
    allow: dict[str, list[str]] = load_allowlist(base, variant) if base else {}
    files = [data]
    for extra in (f"variant-{variant}.json", f"{profile}-variant-{variant}.json"):
        path = ENGINE_DIR / "allowlist" / extra
        if path.exists() and not (base and extra.startswith("variant-")):  # the base already added the variant's
            files.append(json.loads(path.read_text()))
    for doc in files:
        for kind, names in doc.items():
            if not kind.startswith("_"):
                allow.setdefault(kind, [])
                allow[kind] += [n for n in names if n not in allow[kind]]
    return allow


def build_libav(tc: Toolchain, src_tar: Path, lock: dict, cache: Path, deps: list[Layer], variant: str,
                profile: str) -> tuple[Layer, list[str]]:
    allow = load_allowlist(profile, variant)
    compat = ENGINE_DIR / "compat" / "wasi_compat.h"
    cflags = BASE_CFLAGS
    extra = [] if profile == "lean" else [PROFILES[profile]["configure"]]  # lean keys stay as they were
    key = digest(RECIPE_VERSION, lock["sources"]["ffmpeg"]["files"], tc.version, cflags, allow, variant,
                 [d.key for d in deps], sha256_file(compat), *extra, FFMPEG_PATCHES)
    layer = Layer(cache, f"libav-{variant}-{profile}", key)
    args = configure_args(tc, allow, layer, variant, profile)
    if layer.done:
        return layer, args
    log(f"building FFmpeg libraries ({variant}, {profile}); this takes several minutes")
    staging = layer.begin()
    t0 = time.time()
    extract(src_tar, layer.work / "src")
    src = layer.work / "src" / lock["sources"]["ffmpeg"]["dir"]
    patch_ffmpeg(src)
    build = layer.work / "build"
    build.mkdir()
    shutil.copy(compat, layer.work / "wasi_compat.h")
    pc_path = ":".join(str(d.prefix / "lib" / "pkgconfig") for d in deps)
    env = dict(os.environ, PKG_CONFIG_LIBDIR=pc_path, PKG_CONFIG_PATH="")
    extra_c = [*cflags, "-include", str(layer.work / "wasi_compat.h"), f"-ffile-prefix-map={src}=ffmpeg"]
    extra_c += [f"-I{d.prefix / 'include'}" for d in deps]
    extra_ld = [f"-L{d.prefix / 'lib'}" for d in deps]
    full = [str(src / "configure"), f"--prefix={staging}", *args,
            "--extra-cflags=" + " ".join(extra_c), "--extra-ldflags=" + " ".join(extra_ld),
            "--extra-libs=" + " ".join(WASI_EMULATION_LIBS)]
    logf = layer.work / "build.log"
    try:
        run(full, cwd=build, env=env, logfile=logf)
    except BuildError as e:
        cfg_log = build / "ffbuild" / "config.log"
        tail = cfg_log.read_text(errors="replace").splitlines()[-30:] if cfg_log.exists() else []
        raise BuildError(f"{e}\n--- config.log tail ---\n" + "\n".join(tail)) from None
    log(f"configure done in {time.time() - t0:.0f}s")
    check_config(build, allow)
    sanitize_configuration_string(build, cache)
    run(["make", f"-j{os.cpu_count() or 2}"], cwd=build, env=env, logfile=logf)
    run(["make", "install"], cwd=build, env=env, logfile=logf)
    for lic in ("LICENSE.md", "COPYING.LGPLv2.1", "COPYING.GPLv2"):
        shutil.copy(src / lic, staging / f"FFMPEG-{lic}")
    shutil.copy(build / "config.h", staging / "config.h")
    layer.commit(staging, {"configure": args, "seconds": round(time.time() - t0)})
    log(f"FFmpeg libraries built in {time.time() - t0:.0f}s")
    return layer, args


def configure_args(tc: Toolchain, allow: dict[str, list[str]], layer: Layer, variant: str,
                   profile: str = "lean") -> list[str]:
    args = [
        f"--cc={tc.cc}", f"--cxx={tc.cxx}", f"--ar={tc.ar}", f"--ranlib={tc.ranlib}",
        "--nm=true", "--strip=true",
        "--target-os=none", "--arch=wasm32", "--enable-cross-compile",
        "--disable-inline-asm", "--disable-x86asm",
        "--disable-pthreads", "--disable-w32threads", "--disable-os2threads",
        "--disable-programs", "--disable-doc", "--disable-network", "--disable-autodetect",
        "--disable-everything", "--disable-debug", "--disable-runtime-cpudetect",
        "--disable-avdevice", "--disable-iconv",
        "--enable-static", "--disable-shared",
        "--enable-zlib", "--enable-libopenh264",
        "--pkg-config=pkg-config", "--pkg-config-flags=--static",
    ]
    args += VARIANTS[variant]["configure"]
    args += PROFILES[profile]["configure"]
    for kind, names in allow.items():
        if names:
            args.append(f"--enable-{kind}={','.join(names)}")
    return args


def check_config(build: Path, allow: dict[str, list[str]]) -> None:
    """configure silently drops components whose dependencies are missing: refuse that."""
    cfg = (build / "config_components.h").read_text() if (build / "config_components.h").exists() else ""
    cfg += (build / "config.h").read_text()
    missing = []
    for kind, names in allow.items():
        for n in names:
            macro = f"#define CONFIG_{n.upper()}_{kind.upper()} 1"
            if macro not in cfg:
                missing.append(f"{n} ({kind})")
    if missing:
        raise BuildError("configure dropped allowlisted components: " + ", ".join(missing))
    if "#define HAVE_SIMD128 1" not in cfg:
        log("note: config.h does not enable HAVE_SIMD128")
    elif "#define HAVE_SIMD_ALIGN_16 1" not in cfg:
        raise BuildError("config.h enables simd128 without 16-byte picture alignment (see FFMPEG_PATCHES)")


def sanitize_configuration_string(build: Path, cache: Path) -> None:
    """Keep this machine's paths out of the module (FFmpeg embeds its configure line)."""
    for name in ("config.h",):
        p = build / name
        text = p.read_text()
        text = text.replace(str(cache), "$CACHE").replace(str(Path.home()), "$HOME")
        p.write_text(text)


def profile_libs(libav: Layer, deps: list[Layer], profile: str) -> list[str]:
    """The link flags of a profile's extra libraries, as FFmpeg's own pkg-config files list them for a static link."""
    if profile == "lean":
        return []
    pc_path = ":".join(str(d.prefix / "lib" / "pkgconfig") for d in [libav, *deps])
    env = dict(os.environ, PKG_CONFIG_LIBDIR=pc_path, PKG_CONFIG_PATH="")
    out = subprocess.run(["pkg-config", "--static", "--libs", "libavfilter", "libavformat", "libavcodec",
                          "libswresample", "libswscale", "libavutil"], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise BuildError(f"pkg-config could not list the libraries to link: {out.stderr.strip()}")
    return out.stdout.split()


def link_engine(tc: Toolchain, libav: Layer, deps: list[Layer], cache: Path, variant: str, profile: str) -> Layer:
    srcs = sorted((ENGINE_DIR / "src").glob("*.[ch]"))
    cflags = [*BASE_CFLAGS, "-std=c11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
              f"-ffile-prefix-map={ENGINE_DIR / 'src'}=engine"]
    extra_libs = profile_libs(libav, deps, profile)
    # the full profile's C libraries use pthreads: wasi-libc's single-threaded ones, with fixes (see the file)
    compat = [ENGINE_DIR / "compat" / "pthread_stubs.c"] if extra_libs else []
    key = digest(RECIPE_VERSION, libav.key, tree_digest(srcs, ENGINE_DIR), cflags, LINK_FLAGS,
                 *([extra_libs, tree_digest(compat, ENGINE_DIR)] if extra_libs else []))
    layer = Layer(cache, f"engine-{variant}-{profile}", key)
    if layer.done:
        return layer
    log(f"compiling and linking the engine ({variant}, {profile})")
    staging = layer.begin()
    incs = [f"-I{libav.prefix / 'include'}"] + [f"-I{d.prefix / 'include'}" for d in deps]
    objs = []
    jobs = []
    for c in [s for s in srcs if s.suffix == ".c"]:
        o = layer.work / (c.stem + ".o")
        objs.append(o)
        jobs.append([tc.cc, *cflags, *incs, "-c", str(c), "-o", str(o)])
    for c in compat:
        o = layer.work / (c.stem + ".o")
        objs.append(o)
        jobs.append([tc.cc, *BASE_CFLAGS, "-c", str(c), "-o", str(o)])
    compile_many(jobs, layer.work / "build.log")
    libdirs = [f"-L{libav.prefix / 'lib'}"] + [f"-L{d.prefix / 'lib'}" for d in deps]
    if extra_libs:
        libs = [*extra_libs, *WASI_EMULATION_LIBS, "-lc++", "-lc++abi", "-lm"]
    else:
        libs = ["-lavfilter", "-lavformat", "-lavcodec", "-lswresample", "-lswscale", "-lavutil",
                "-lopenh264", *VARIANTS[variant]["libs"], "-lz", *WASI_EMULATION_LIBS, "-lm"]
    out = staging / module_name(variant, profile)
    run([tc.cxx, *map(str, objs), *libdirs, *libs, *LINK_FLAGS, "-o", str(out)], logfile=layer.work / "build.log")
    layer.commit(staging, {})
    return layer


# ---------------------------------------------------------------- main


def build_profile_libs(tc: Toolchain, tars: dict[str, Path], lock: dict, cache: Path, profile: str) -> dict[str, Layer]:
    """The layers of the libraries a profile adds (engine/libs/), each built on the ones it needs."""
    if profile == "lean":
        return {}
    from libs import dav1d, freetype, fribidi, harfbuzz, lame, libass, ogg, opus, vorbis, vpx, webp  # noqa: PLC0415

    out: dict[str, Layer] = {}
    out["opus"] = opus.build(tc, tars["opus"], lock, cache)
    out["lame"] = lame.build(tc, tars["lame"], lock, cache)
    out["libogg"] = ogg.build(tc, tars["libogg"], lock, cache)
    out["libvorbis"] = vorbis.build(tc, tars["libvorbis"], lock, cache, {"libogg": out["libogg"]})
    out["libvpx"] = vpx.build(tc, tars["libvpx"], lock, cache)
    out["libwebp"] = webp.build(tc, tars["libwebp"], lock, cache)
    out["dav1d"] = dav1d.build(tc, tars["dav1d"], lock, cache)
    out["freetype"] = freetype.build(tc, tars["freetype"], lock, cache)
    out["fribidi"] = fribidi.build(tc, tars["fribidi"], lock, cache)
    out["harfbuzz"] = harfbuzz.build(tc, tars["harfbuzz"], lock, cache, {"freetype": out["freetype"]})
    out["libass"] = libass.build(tc, tars["libass"], lock, cache,
                                 {k: out[k] for k in ("freetype", "fribidi", "harfbuzz")})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--variant", action="append", choices=sorted(VARIANTS),
                    help="variant to build; repeat for several (default: lgpl and gpl)")
    ap.add_argument("--profile", action="append", choices=sorted(PROFILES),
                    help="profile to build; repeat for several (default: lean)")
    xdg = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    default_cache = Path(os.environ.get("AFMPEG_BUILD_CACHE") or xdg / "afmpeg-build")
    ap.add_argument("--cache", type=Path, default=default_cache)
    ap.add_argument("--out", type=Path, default=REPO / "build")
    tarballs = os.environ.get("AFMPEG_TARBALLS")
    ap.add_argument("--tarballs", type=Path, default=Path(tarballs) if tarballs else None,
                    help="directory of pre-fetched source tarballs (verified by the lock's hashes)")
    opts = ap.parse_args(argv)
    variants = list(dict.fromkeys(opts.variant or ["lgpl", "gpl"]))
    profiles = list(dict.fromkeys(opts.profile or ["lean"]))
    t0 = time.time()
    cache: Path = opts.cache.resolve()
    cache.mkdir(parents=True, exist_ok=True)
    os.chmod(cache, 0o700)
    lock = json.loads(LOCK.read_text())
    # One build at a time per cache: layers are built in shared work directories.
    lock_fd = os.open(cache / ".lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        log("another build is using the cache; waiting for it")
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
    try:
        tc = Toolchain(cache, lock["toolchain"]["ziglang"])
        names = [n for v in variants for n in VARIANTS[v]["sources"]]
        names += [n for p in profiles for n in PROFILES[p]["sources"]]
        tars = ensure_sources(lock, list(dict.fromkeys(names)), cache, opts.tarballs)
        for profile in profiles:
            extra = build_profile_libs(tc, tars, lock, cache, profile)
            for variant in variants:
                tv = time.time()
                libs = {"zlib": build_zlib(tc, tars["zlib"], lock, cache),
                        "openh264": build_openh264(tc, tars["openh264"], lock, cache)}
                if "x264" in VARIANTS[variant]["sources"]:
                    libs["x264"] = build_x264(tc, tars["x264"], lock, cache)
                libs.update(extra)
                deps = list(libs.values())
                libav, cfg_args = build_libav(tc, tars["ffmpeg"], lock, cache, deps, variant, profile)
                engine = link_engine(tc, libav, deps, cache, variant, profile)
                write_outputs(opts, lock, tc, variant, profile, engine, libav, libs, cfg_args, time.time() - tv)
    except BuildError as e:
        print(f"engine build failed: {e}", file=sys.stderr)
        return 1
    print(f"built in {time.time() - t0:.1f}s")
    return 0


def write_outputs(opts: argparse.Namespace, lock: dict, tc: Toolchain, variant: str, profile: str, engine: Layer,
                  libav: Layer, libs: dict[str, Layer], cfg_args: list[str], seconds: float) -> None:
    """Copy the module to the output directory and write its provenance next to it.

    Each variant gets ``<module>.provenance.json``; ``provenance.json`` is the LGPL variant's (the default module).
    """
    name = module_name(variant, profile)
    opts.out.mkdir(parents=True, exist_ok=True)
    module = opts.out / name
    tmp = opts.out / (name + ".tmp")
    shutil.copyfile(engine.prefix / name, tmp)
    tmp.replace(module)
    module_sha = sha256_file(module)
    spec = VARIANTS[variant]
    prov = {
        "module": name,
        "module_sha256": module_sha,
        "module_size": module.stat().st_size,
        "variant": variant,
        "profile": profile,
        "license": spec["license"],
        "h264_encoder": spec["h264_encoder"],
        "ffmpeg_version": lock["sources"]["ffmpeg"]["version"],
        "sources": {
            n: {"version": s["version"], "debian": s["apt"], "license": s["license"], "sha256": s["files"]}
            for n, s in lock["sources"].items() if n in spec["sources"] or n in PROFILES[profile]["sources"]
        },
        "toolchain": {"zig": tc.version, "target": "wasm32-wasi", "build_host": platform.machine()},
        "cflags": BASE_CFLAGS,
        "ldflags": LINK_FLAGS,
        "configure": [a for a in cfg_args if not a.startswith(("--cc=", "--cxx=", "--ar=", "--ranlib="))],
        "allowlist": load_allowlist(profile, variant),
        "layers": {**{n: layer.key for n, layer in libs.items()}, "libav": libav.key, "engine": engine.key},
    }
    text = json.dumps(prov, indent=2) + "\n"
    (opts.out / f"{name}.provenance.json").write_text(text)
    if variant == "lgpl" and profile == "lean":
        (opts.out / "provenance.json").write_text(text)
    size = module.stat().st_size
    shown = module.relative_to(Path.cwd()) if module.is_relative_to(Path.cwd()) else module
    print(f"module:  {shown} ({variant}, {profile}, {spec['license']}, H.264 encoder {spec['h264_encoder']})")
    print(f"size:    {size} bytes ({size / 1e6:.2f} MB)")
    print(f"sha256:  {module_sha}")
    print(f"         ready in {seconds:.1f}s")


if __name__ == "__main__":
    sys.exit(main())
