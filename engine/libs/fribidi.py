"""GNU FriBidi for wasm32-wasi: the Unicode bidirectional algorithm (drawtext and libass lay out RTL text with it).

The library sources are compiled directly with a config.h and fribidi-config.h written here. Its Unicode tables
(``lib/*.tab.i``) and ``fribidi-unicode-version.h`` are generated files that the release tarball ships; should a
tarball lack them, the recipe builds fribidi's generator programs with the machine's own C compiler (``cc``) and
runs them on the Unicode data in ``gen.tab/unidata``, as fribidi's meson build does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
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
    log,
    run,
    write_pkgconfig,
)

SOURCES = [
    "fribidi.c", "fribidi-arabic.c", "fribidi-bidi.c", "fribidi-bidi-types.c", "fribidi-char-sets.c",
    "fribidi-char-sets-cap-rtl.c", "fribidi-char-sets-cp1255.c", "fribidi-char-sets-cp1256.c",
    "fribidi-char-sets-iso8859-6.c", "fribidi-char-sets-iso8859-8.c", "fribidi-char-sets-utf8.c",
    "fribidi-deprecated.c", "fribidi-joining.c", "fribidi-joining-types.c", "fribidi-mirroring.c",
    "fribidi-brackets.c", "fribidi-run.c", "fribidi-shape.c",
]
HEADERS = [
    "fribidi-arabic.h", "fribidi-begindecls.h", "fribidi-bidi.h", "fribidi-bidi-types.h",
    "fribidi-bidi-types-list.h", "fribidi-char-sets.h", "fribidi-char-sets-list.h", "fribidi-common.h",
    "fribidi-deprecated.h", "fribidi-enddecls.h", "fribidi-flags.h", "fribidi-joining.h", "fribidi-joining-types.h",
    "fribidi-joining-types-list.h", "fribidi-mirroring.h", "fribidi-brackets.h", "fribidi-shape.h",
    "fribidi-types.h", "fribidi-unicode.h", "fribidi.h",
    # generated
    "fribidi-config.h", "fribidi-unicode-version.h",
]
# Generated table -> inputs from gen.tab/unidata (fribidi's gen.tab/meson.build).
TABLES = {
    "bidi-type": ["UnicodeData.txt"],
    "joining-type": ["UnicodeData.txt", "ArabicShaping.txt"],
    "arabic-shaping": ["UnicodeData.txt"],
    "mirroring": ["BidiMirroring.txt"],
    "brackets": ["BidiBrackets.txt", "UnicodeData.txt"],
    "brackets-type": ["BidiBrackets.txt"],
}
TABLE_COMPRESSION = "2"
NATIVE_CFLAGS = ["-O1", "-UHAVE_CONFIG_H", "-DHAVE_STRINGIZE", "-DDONT_HAVE_FRIBIDI_CONFIG_H", "-DHAVE_STDLIB_H",
                 "-DHAVE_STRING_H", "-DHAVE_STRINGS_H", "-DSTDC_HEADERS=1"]

CONFIG_H = """\
/* fribidi config.h for wasm32-wasi (written by engine/libs/fribidi.py) */
#define HAVE_MEMMOVE 1
#define HAVE_MEMSET 1
#define HAVE_STRDUP 1
#define HAVE_STDLIB_H 1
#define HAVE_STRING_H 1
#define HAVE_MEMORY_H 0
#define HAVE_STRINGS_H 1
#define STDC_HEADERS 1
#define HAVE_STRINGIZE 1
"""

# fribidi's meson.build: interface_version = 4.
INTERFACE_VERSION = 4

CFLAGS = [*BASE_CFLAGS, "-DHAVE_CONFIG_H"]


def fribidi_config_h(version: str) -> str:
    major, minor, micro = version.split(".")
    return f"""\
/* fribidi-config.h for wasm32-wasi (written by engine/libs/fribidi.py) */
#ifndef FRIBIDI_CONFIG_H
#define FRIBIDI_CONFIG_H

#define FRIBIDI "fribidi"
#define FRIBIDI_NAME "GNU FriBidi"
#define FRIBIDI_BUGREPORT "https://github.com/fribidi/fribidi/issues/new"

#define FRIBIDI_VERSION "{version}"
#define FRIBIDI_MAJOR_VERSION {int(major)}
#define FRIBIDI_MINOR_VERSION {int(minor)}
#define FRIBIDI_MICRO_VERSION {int(micro)}
#define FRIBIDI_INTERFACE_VERSION {INTERFACE_VERSION}
#define FRIBIDI_INTERFACE_VERSION_STRING "{INTERFACE_VERSION}"

/* The size of a `int', as computed by sizeof. */
#define FRIBIDI_SIZEOF_INT 4

#undef FRIBIDI_BUILT_WITH_MSVC

#endif /* FRIBIDI_CONFIG_H */
"""


def generated_files() -> list[str]:
    return ["fribidi-unicode-version.h", *(f"{t}.tab.i" for t in TABLES)]


def generate_tables(src: Path, work: Path) -> None:
    """Run fribidi's table generators natively for any generated file the tarball lacks."""
    lib = src / "lib"
    missing = [f for f in generated_files() if not (lib / f).exists()]
    if not missing:
        return
    cc = shutil.which(os.environ.get("CC_FOR_BUILD", "cc"))
    if cc is None:
        raise BuildError(f"fribidi: the tarball lacks {missing} and no native C compiler (cc) is available "
                         "to generate them")
    log(f"fribidi: generating {', '.join(missing)} with the native compiler")
    gen = src / "gen.tab"
    data = gen / "unidata"
    bindir = work / "gen-bin"
    bindir.mkdir(exist_ok=True)
    incs = [f"-I{src}", f"-I{lib}", f"-I{gen}"]

    def gen_file(prog: str, sources: list[Path], args: list[str], out: Path) -> None:
        exe = bindir / prog
        run([cc, *NATIVE_CFLAGS, *incs, *map(str, sources), "-o", str(exe)], logfile=work / "build.log")
        res = subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=gen)
        if res.returncode != 0 or not res.stdout:
            raise BuildError(f"fribidi: {prog} failed ({res.returncode}): {res.stderr[-2000:]}")
        out.write_text(res.stdout)

    # The table generators include fribidi-unicode-version.h: make it first.
    if not (lib / "fribidi-unicode-version.h").exists():
        gen_file("gen-unicode-version", [gen / "gen-unicode-version.c"],
                 [str(data / "ReadMe.txt"), str(data / "BidiMirroring.txt"), "gen-unicode-version"],
                 lib / "fribidi-unicode-version.h")
    for table, inputs in TABLES.items():
        out = lib / f"{table}.tab.i"
        if out.exists():
            continue
        prog = f"gen-{table}-tab"
        gen_file(prog, [gen / f"{prog}.c", gen / "packtab.c"],
                 [TABLE_COMPRESSION, *(str(data / i) for i in inputs), prog], out)


def build(tc: Toolchain, tarball: Path, lock: dict, cache: Path, deps: dict[str, Layer] | None = None) -> Layer:
    entry = lock["sources"]["fribidi"]
    config_h = fribidi_config_h(entry["version"])
    key = digest(RECIPE_VERSION, entry["files"], tc.version, CFLAGS, SOURCES, HEADERS, CONFIG_H, config_h,
                 TABLES, TABLE_COMPRESSION, NATIVE_CFLAGS)
    layer = Layer(cache, "fribidi", key)
    if layer.done:
        return layer
    staging, src = layer.begin_from(tarball, entry["dir"], "building fribidi")
    generate_tables(src, layer.work)
    cfg = layer.work / "config"
    cfg.mkdir()
    (cfg / "config.h").write_text(CONFIG_H)
    (src / "lib" / "fribidi-config.h").write_text(config_h)
    objdir = layer.work / "obj"
    objdir.mkdir()
    objs = []
    jobs = []
    for name in SOURCES:
        o = objdir / (name[:-2] + ".o")
        objs.append(o)
        jobs.append([tc.cc, *CFLAGS, f"-I{cfg}", f"-I{src / 'lib'}", f"-ffile-prefix-map={src}=fribidi",
                     "-c", str(src / "lib" / name), "-o", str(o)])
    compile_many(jobs, layer.work / "build.log")
    archive(tc, staging, "libfribidi.a", objs)
    install_headers(src / "lib", HEADERS, staging / "include" / "fribidi")
    shutil.copy(src / "COPYING", staging / "COPYING.fribidi")
    write_pkgconfig(staging, layer, "fribidi", "Unicode Bidirectional Algorithm Library", entry["version"],
                    "-lfribidi", cflags="-I${includedir}/fribidi")
    layer.commit(staging, {"cflags": CFLAGS, "version": entry["version"]})
    return layer
