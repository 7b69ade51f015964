"""libogg (the Ogg bitstream library) for libvorbis.

Two C files; the only configure product is ``ogg/config_types.h``, filled in here with the <stdint.h> types
that configure picks on any C99 target.
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

OGG_SRCS = ["src/framing.c", "src/bitwise.c"]
OGG_CFLAGS = ["-Wno-everything"]
# The @VARS@ of include/ogg/config_types.h.in, as configure sets them for wasm32-wasi.
CONFIG_TYPES = {
    "INCLUDE_INTTYPES_H": "1", "INCLUDE_STDINT_H": "1", "INCLUDE_SYS_TYPES_H": "1",
    "SIZE16": "int16_t", "USIZE16": "uint16_t", "SIZE32": "int32_t", "USIZE32": "uint32_t",
    "SIZE64": "int64_t", "USIZE64": "uint64_t",
}
PUBLIC_HEADERS = ["ogg.h", "os_types.h", "config_types.h"]


def config_types_h(template: str) -> str:
    text = template
    for k, v in CONFIG_TYPES.items():
        text = text.replace(f"@{k}@", v)
    if "@" in text:
        raise BuildError("libogg: config_types.h.in has placeholders this recipe does not know; update it")
    return text


def build(tc: Toolchain, tarball: Path, lock: dict, cache: Path, deps: dict[str, Layer] | None = None) -> Layer:
    info = lock["sources"]["libogg"]
    cflags = BASE_CFLAGS + OGG_CFLAGS
    layer = Layer(cache, "libogg", digest(RECIPE_VERSION, info["files"], tc.version, cflags, CONFIG_TYPES, OGG_SRCS))
    if layer.done:
        return layer
    staging, src = layer.begin_from(tarball, info["dir"], "building libogg")
    inc = src / "include" / "ogg"
    (inc / "config_types.h").write_text(config_types_h((inc / "config_types.h.in").read_text()))
    incflags = [f"-I{src / 'include'}", f"-ffile-prefix-map={src}=libogg"]
    objdir = layer.work / "obj"
    objdir.mkdir()
    jobs, objs = [], []
    for f in OGG_SRCS:
        if not (src / f).exists():
            raise BuildError(f"libogg: {f} not found; the recipe needs updating for this libogg version")
        o = objdir / (Path(f).stem + ".o")
        objs.append(o)
        jobs.append([tc.cc, *cflags, *incflags, "-c", str(src / f), "-o", str(o)])
    compile_many(jobs, layer.work / "build.log")
    archive(tc, staging, "libogg.a", objs)
    install_headers(inc, PUBLIC_HEADERS, staging / "include" / "ogg")
    shutil.copy(src / "COPYING", staging / "COPYING.libogg")
    write_pkgconfig(staging, layer, "ogg", "Ogg bitstream library", info["version"], "-logg")
    layer.commit(staging, {"cflags": cflags})
    return layer
