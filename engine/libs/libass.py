"""libass for wasm32-wasi: the ASS/SSA subtitle renderer behind FFmpeg's ``subtitles`` and ``ass`` filters.

Compiled directly (libass/*.c) with a config.h written here: FreeType, FriBidi and HarfBuzz on; no fontconfig,
CoreText or DirectWrite (fonts come from files the caller names: the filters' ``fontsdir``, fonts attached to the
subtitle file, or a default font given to ``ass_set_fonts``); no assembly (the x86 SIMD kernels do not apply);
no iconv (FFmpeg hands libass UTF-8); no libunibreak (lines wrap at whitespace, as libass does without it).
libass uses no threads.
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

SOURCES = [
    "ass.c", "ass_bitmap.c", "ass_blur.c", "ass_cache.c", "ass_drawing.c", "ass_filesystem.c", "ass_font.c",
    "ass_fontselect.c", "ass_library.c", "ass_outline.c", "ass_parse.c", "ass_rasterizer.c", "ass_rasterizer_c.c",
    "ass_render_api.c", "ass_render.c", "ass_shaper.c", "ass_string.c", "ass_strtod.c", "ass_utils.c",
]
HEADERS = ["ass.h", "ass_types.h"]


def config_h(version: str) -> str:
    return f"""\
/* libass config.h for wasm32-wasi (written by engine/libs/libass.py) */
#define CONFIG_FREETYPE 1
#define CONFIG_FRIBIDI 1
#define CONFIG_HARFBUZZ 1
#define CONFIG_ASM 0
#define CONFIG_LARGE_TILES 0
#define CONFIG_SOURCEVERSION "tarball: {version} (afmpeg wasm32-wasi)"
#define HAVE_STRDUP 1
#define HAVE_STRNDUP 1
"""


CFLAGS = [*BASE_CFLAGS, "-std=gnu99"]


def build(tc: Toolchain, tarball: Path, lock: dict, cache: Path, deps: dict[str, Layer] | None = None) -> Layer:
    missing = [n for n in ("freetype", "fribidi", "harfbuzz") if not deps or n not in deps]
    if missing:
        raise BuildError(f"libass needs the {', '.join(missing)} layer(s) in deps")
    assert deps is not None
    entry = lock["sources"]["libass"]
    cfg_text = config_h(entry["version"])
    dep_keys = {n: deps[n].key for n in ("freetype", "fribidi", "harfbuzz")}
    key = digest(RECIPE_VERSION, entry["files"], tc.version, CFLAGS, SOURCES, HEADERS, cfg_text, dep_keys)
    layer = Layer(cache, "libass", key)
    if layer.done:
        return layer
    staging, src = layer.begin_from(tarball, entry["dir"], "building libass")
    cfg = layer.work / "config"
    cfg.mkdir()
    (cfg / "config.h").write_text(cfg_text)
    incs = [f"-I{cfg}", f"-I{src / 'libass'}",
            f"-I{deps['freetype'].prefix / 'include' / 'freetype2'}",
            f"-I{deps['fribidi'].prefix / 'include' / 'fribidi'}",
            f"-I{deps['harfbuzz'].prefix / 'include' / 'harfbuzz'}"]
    objdir = layer.work / "obj"
    objdir.mkdir()
    objs = []
    jobs = []
    for name in SOURCES:
        o = objdir / (name[:-2] + ".o")
        objs.append(o)
        jobs.append([tc.cc, *CFLAGS, *incs, f"-ffile-prefix-map={src}=libass", "-c", str(src / "libass" / name),
                     "-o", str(o)])
    compile_many(jobs, layer.work / "build.log")
    archive(tc, staging, "libass.a", objs)
    install_headers(src / "libass", HEADERS, staging / "include" / "ass")
    shutil.copy(src / "COPYING", staging / "COPYING.libass")
    write_pkgconfig(staging, layer, "libass", "LibASS is an SSA/ASS subtitles rendering library", entry["version"],
                    "-lass", libs_private="-lm", requires="harfbuzz fribidi freetype2")
    layer.commit(staging, {"cflags": CFLAGS, "version": entry["version"]})
    return layer
