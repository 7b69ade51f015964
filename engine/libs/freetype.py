"""FreeType 2 for wasm32-wasi: the font loader and rasterizer behind drawtext and libass.

Built the way docs/INSTALL.ANY describes a custom build: a fixed list of sources compiled directly, a custom
``ftmodule.h`` naming the modules compiled in (TrueType/OpenType, CFF, Type 1, CID, the PostScript helpers, the
smooth and monochrome rasterizers, the auto-hinter). No zlib, bzip2, png, brotli or harfbuzz inside FreeType: no
compressed (.gz/.Z/.bz2) fonts, no WOFF/WOFF2, no PNG colour bitmaps; ordinary TTF/OTF/TTC/PFB fonts all work.

wasm32-wasi without the exception-handling proposal has no setjmp/longjmp (wasi-libc's <setjmp.h> is an #error),
and FreeType uses them in two places the build keeps. Both are rewritten (checked, exact-text patches):

* the smooth rasterizer (src/smooth/ftgrays.c) longjmps out of the outline decomposition when its cell pool is
  full, then bisects the band and retries. Here a full pool sets a flag and later cells go to the rasterizer's
  existing dumpster cell; after the decomposition the flag turns into the same ``Raster_Overflow`` error, so the
  band is bisected exactly as before (only the wasted tail of the decomposition differs).
* cmap validation (src/sfnt/ttcmap.c) reports a broken table with ``FT_INVALID_*``, which longjmps back to
  ``tt_face_build_cmaps``. Every use sits directly in a ``tt_cmapN_validate`` function returning ``FT_Error``, so
  the macro now records the error and returns from that function: the caller sees ``valid.error`` set and drops
  the sub-table, as before. (otvalid/gxvalid, whose helpers are void, are not compiled; a stray use would not
  compile.)

The installed ``ftstdlib.h`` no longer includes <setjmp.h> (consumers such as FFmpeg's drawtext include it through
ft2build.h and would otherwise hit wasi-libc's #error); ``ft_setjmp``/``ft_longjmp`` are left undefined so any
remaining use fails at compile time instead of at run time.
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

# pkg-config reports FreeType's libtool version (builds/unix/configure.raw: version_info='26:2:20').
PC_VERSION = "26.2.20"

BASE_SOURCES = [
    "base/ftsystem.c", "base/ftinit.c", "base/ftdebug.c", "base/ftbase.c",
    "base/ftbbox.c", "base/ftglyph.c", "base/ftbitmap.c", "base/ftcid.c", "base/ftfstype.c", "base/ftgasp.c",
    "base/ftmm.c", "base/ftpatent.c", "base/ftstroke.c", "base/ftsynth.c", "base/fttype1.c",
]
MODULE_SOURCES = [
    "autofit/autofit.c", "truetype/truetype.c", "type1/type1.c", "cff/cff.c", "cid/type1cid.c",
    "psaux/psaux.c", "psnames/psnames.c", "pshinter/pshinter.c", "sfnt/sfnt.c",
    "smooth/smooth.c", "raster/raster.c",
]

FTMODULE_H = """\
/* Modules compiled into the afmpeg wasm32-wasi FreeType (written by engine/libs/freetype.py). */
FT_USE_MODULE( FT_Module_Class, autofit_module_class )
FT_USE_MODULE( FT_Driver_ClassRec, tt_driver_class )
FT_USE_MODULE( FT_Driver_ClassRec, t1_driver_class )
FT_USE_MODULE( FT_Driver_ClassRec, cff_driver_class )
FT_USE_MODULE( FT_Driver_ClassRec, t1cid_driver_class )
FT_USE_MODULE( FT_Module_Class, psaux_module_class )
FT_USE_MODULE( FT_Module_Class, psnames_module_class )
FT_USE_MODULE( FT_Module_Class, pshinter_module_class )
FT_USE_MODULE( FT_Module_Class, sfnt_module_class )
FT_USE_MODULE( FT_Renderer_Class, ft_smooth_renderer_class )
FT_USE_MODULE( FT_Renderer_Class, ft_raster1_renderer_class )
"""

# ftoption.h: options switched off (compressed fonts need the gzip/lzw modules; OT-SVG needs an external renderer).
OPTIONS_OFF = ["FT_CONFIG_OPTION_USE_LZW", "FT_CONFIG_OPTION_USE_ZLIB", "FT_CONFIG_OPTION_SVG"]

NO_SETJMP_STDLIB = """\
  /* afmpeg, wasm32-wasi without exception handling: no setjmp/longjmp.   */
  /* ft_jmp_buf is a placeholder so FT_ValidatorRec keeps its shape;      */
  /* ft_setjmp/ft_longjmp are deliberately left undefined.                */
  typedef struct  FT_Wasi_Jmp_Buf_ { int  unused; }  ft_jmp_buf[1];
"""

# (file relative to the source root, exact old text, new text): each must match exactly once.
PATCHES = [
    ("include/freetype/config/ftstdlib.h",
     "#include <setjmp.h>\n\n"
     "#define ft_jmp_buf     jmp_buf  /* note: this cannot be a typedef since  */\n"
     "                                /*       `jmp_buf` is defined as a macro */\n"
     "                                /*       on certain platforms            */\n\n"
     "#define ft_longjmp     longjmp\n"
     "#define ft_setjmp( b ) setjmp( *(ft_jmp_buf*) &(b) ) /* same thing here */\n",
     NO_SETJMP_STDLIB),
    ("include/freetype/internal/ftvalid.h",
     "#define FT_INVALID_( _error ) \\\n          ft_validator_error( valid, FT_THROW( _error ) )\n",
     "#define FT_INVALID_( _error )                                  \\\n"
     "          do                                                     \\\n"
     "          {                                                      \\\n"
     "            ft_validator_error( valid, FT_THROW( _error ) );     \\\n"
     "            return valid->error;  /* afmpeg: no longjmp */       \\\n"
     "          } while ( 0 )\n"),
    ("src/base/ftobjs.c",
     "    ft_longjmp( *(ft_jmp_buf*) jump_buffer, 1 );\n",
     "    (void)jump_buffer;  /* afmpeg: FT_INVALID_ returns from the validator */\n"),
    ("src/sfnt/ttcmap.c",
     "            if ( ft_setjmp( FT_VALIDATOR( &valid )->jump_buffer) == 0 )\n",
     "            /* afmpeg: FT_INVALID_ returns, no setjmp */\n"),
    ("src/smooth/ftgrays.c",
     "    ft_jmp_buf  jump_buffer;\n",
     "    int         overflow;  /* afmpeg: set instead of longjmp on a full cell pool */\n"),
    ("src/smooth/ftgrays.c",
     "      cell = ras.cell_free++;\n"
     "      if ( cell >= ras.cell_null )\n"
     "        ft_longjmp( ras.jump_buffer, 1 );\n",
     "      if ( ras.cell_free >= ras.cell_null )\n"
     "      {\n"
     "        ras.overflow = 1;\n"
     "        ras.cell     = ras.cell_null;\n"
     "        return;\n"
     "      }\n"
     "      cell = ras.cell_free++;\n"),
    ("src/smooth/ftgrays.c",
     "    if ( ft_setjmp( ras.jump_buffer ) == 0 )\n    {\n",
     "    ras.overflow = 0;\n    {\n"),
    ("src/smooth/ftgrays.c",
     "    }\n    else\n    {\n      error = FT_THROW( Raster_Overflow );\n",
     "    }\n    if ( ras.overflow )\n    {\n      error = FT_THROW( Raster_Overflow );\n"),
]

CFLAGS = [*BASE_CFLAGS, "-DFT2_BUILD_LIBRARY"]


def patch_text(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    if text.count(old) != 1:
        raise BuildError(f"freetype: expected text not found exactly once in {path.name}; recipe needs updating")
    path.write_text(text.replace(old, new))


def configure_tree(src: Path) -> None:
    (src / "include" / "freetype" / "config" / "ftmodule.h").write_text(FTMODULE_H)
    opt = src / "include" / "freetype" / "config" / "ftoption.h"
    text = opt.read_text()
    for name in OPTIONS_OFF:
        text, n = re.subn(rf"^#define {name}$", f"/* #define {name} */  /* afmpeg: off */", text, flags=re.M)
        if n != 1:
            raise BuildError(f"freetype: ftoption.h has no '#define {name}'; recipe needs updating")
    opt.write_text(text)
    for rel, old, new in PATCHES:
        patch_text(src / rel, old, new)
    # Belt and braces (an undefined macro would also fail the compile): no call may be left in the modules built.
    # pngshim.c is compiled out (no FT_CONFIG_OPTION_USE_PNG).
    dirs = {Path(s).parent.name for s in BASE_SOURCES + MODULE_SOURCES}
    leftovers = [p.name for p in (src / "src").rglob("*.c")
                 if p.parent.name in dirs and p.name != "pngshim.c"
                 and re.search(r"\bft_(setjmp|longjmp)\s*\(", p.read_text(errors="replace"))]
    if leftovers:
        raise BuildError(f"freetype: setjmp still used in {leftovers}; recipe needs updating")


def build(tc: Toolchain, tarball: Path, lock: dict, cache: Path, deps: dict[str, Layer] | None = None) -> Layer:
    entry = lock["sources"]["freetype"]
    key = digest(RECIPE_VERSION, entry["files"], tc.version, CFLAGS, BASE_SOURCES, MODULE_SOURCES, FTMODULE_H,
                 OPTIONS_OFF, PATCHES)
    layer = Layer(cache, "freetype", key)
    if layer.done:
        return layer
    staging, src = layer.begin_from(tarball, entry["dir"], "building freetype")
    configure_tree(src)
    objdir = layer.work / "obj"
    objdir.mkdir()
    objs = []
    jobs = []
    for rel in BASE_SOURCES + MODULE_SOURCES:
        o = objdir / (rel.replace("/", "_")[:-2] + ".o")
        objs.append(o)
        jobs.append([tc.cc, *CFLAGS, f"-I{src / 'include'}", f"-ffile-prefix-map={src}=freetype",
                     "-c", str(src / "src" / rel), "-o", str(o)])
    compile_many(jobs, layer.work / "build.log")
    archive(tc, staging, "libfreetype.a", objs)
    inc = staging / "include" / "freetype2"
    install_headers(src / "include", ["ft2build.h"], inc)
    shutil.copytree(src / "include" / "freetype", inc / "freetype", ignore=shutil.ignore_patterns("internal"))
    shutil.copy(src / "LICENSE.TXT", staging / "LICENSE.freetype")
    shutil.copy(src / "docs" / "FTL.TXT", staging / "FTL.freetype.TXT")
    write_pkgconfig(staging, layer, "freetype2", "A free, high-quality, and portable font engine", PC_VERSION,
                    "-lfreetype", cflags="-I${includedir}/freetype2")
    layer.commit(staging, {"cflags": CFLAGS, "version": entry["version"]})
    return layer
