"""HarfBuzz for wasm32-wasi: OpenType text shaping for drawtext (``--enable-libharfbuzz``) and libass.

Built from the amalgamated ``src/harfbuzz.cc`` (C++11, no exceptions, no RTTI, no thread-safe statics, as
harfbuzz's own build does) with a config.h written here: FreeType integration on (``hb-ft``, the API FFmpeg's
drawtext uses), the built-in Unicode data (``hb-ucd``, what ``hb_unicode_funcs_get_default`` returns; libass uses
it), no glib/ICU/graphite/cairo/wasm shapers. No threads: ``HB_NO_MT`` makes harfbuzz's atomics and mutexes plain
operations, so nothing needs pthread symbols. No mmap: ``hb_blob_create_from_file`` reads files with stdio.
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
    digest,
    install_headers,
    run,
    write_pkgconfig,
)

CONFIG_H = """\
/* harfbuzz config.h for wasm32-wasi (written by engine/libs/harfbuzz.py) */
#define HAVE_FREETYPE 1
#define HAVE_FT_GET_VAR_BLEND_COORDINATES 1
#define HAVE_FT_SET_VAR_BLEND_COORDINATES 1
#define HAVE_FT_DONE_MM_VAR 1
#define HAVE_FT_GET_TRANSFORM 1
#define HAVE_UNISTD_H 1
#define HAVE_STDBOOL_H 1
/* single-threaded: plain atomics, no-op mutexes */
#define HB_NO_MT 1
#define PACKAGE_NAME "HarfBuzz"
"""

CXXFLAGS = [*BASE_CFLAGS, "-std=c++11", "-fno-exceptions", "-fno-rtti", "-fno-threadsafe-statics",
            "-DHAVE_CONFIG_H", "-DNDEBUG"]

# src/meson.build: hb_base_headers + hb_version_h + hb_ft_headers.
HEADERS = [
    "hb-aat-layout.h", "hb-aat.h", "hb-blob.h", "hb-buffer.h", "hb-common.h", "hb-cplusplus.hh", "hb-deprecated.h",
    "hb-draw.h", "hb-paint.h", "hb-face.h", "hb-font.h", "hb-map.h", "hb-ot-color.h", "hb-ot-deprecated.h",
    "hb-ot-font.h", "hb-ot-layout.h", "hb-ot-math.h", "hb-ot-meta.h", "hb-ot-metrics.h", "hb-ot-name.h",
    "hb-ot-shape.h", "hb-ot-var.h", "hb-ot.h", "hb-set.h", "hb-shape-plan.h", "hb-shape.h", "hb-style.h",
    "hb-unicode.h", "hb.h", "hb-version.h", "hb-ft.h",
]


def build(tc: Toolchain, tarball: Path, lock: dict, cache: Path, deps: dict[str, Layer] | None = None) -> Layer:
    if not deps or "freetype" not in deps:
        raise BuildError("harfbuzz needs the freetype layer (deps['freetype'])")
    freetype = deps["freetype"]
    entry = lock["sources"]["harfbuzz"]
    key = digest(RECIPE_VERSION, entry["files"], tc.version, CXXFLAGS, CONFIG_H, HEADERS, freetype.key)
    layer = Layer(cache, "harfbuzz", key)
    if layer.done:
        return layer
    staging, src = layer.begin_from(tarball, entry["dir"],
                                    "building harfbuzz (one large C++ translation unit: a minute or two)")
    cfg = layer.work / "config"
    cfg.mkdir()
    (cfg / "config.h").write_text(CONFIG_H)
    obj = layer.work / "harfbuzz.o"
    run([tc.cxx, *CXXFLAGS, f"-I{cfg}", f"-I{src / 'src'}", f"-I{freetype.prefix / 'include' / 'freetype2'}",
         f"-ffile-prefix-map={src}=harfbuzz", "-c", str(src / "src" / "harfbuzz.cc"), "-o", str(obj)],
        logfile=layer.work / "build.log")
    archive(tc, staging, "libharfbuzz.a", [obj])
    install_headers(src / "src", HEADERS, staging / "include" / "harfbuzz")
    shutil.copy(src / "COPYING", staging / "COPYING.harfbuzz")
    write_pkgconfig(staging, layer, "harfbuzz", "HarfBuzz text shaping library", entry["version"],
                    "-lharfbuzz", libs_private="-lc++ -lc++abi -lm", requires="freetype2",
                    cflags="-I${includedir}/harfbuzz")
    layer.commit(staging, {"cxxflags": CXXFLAGS, "version": entry["version"]})
    return layer
