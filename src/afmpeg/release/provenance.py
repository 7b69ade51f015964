"""A release's ``provenance.json``: what each variant's files are, checked against ``checksums.txt``.

The release-level document holds one entry per variant, each the provenance the engine build writes for that
variant (``build/provenance.json``: ``module``, ``module_sha256``, ``module_size``, ``variant``, ``license``,
``h264_encoder``, sources, toolchain, flags, …) plus a ``files`` object naming every file of that variant in the
release with its SHA-256 and size::

    {
      "release": "v0.2.0",
      "variants": {
        "lgpl": {
          "variant": "lgpl", "license": "LGPL-2.1-or-later", "h264_encoder": "libopenh264",
          "module": "afmpeg-engine-lgpl.wasm", "module_sha256": "<hex>", "module_size": 7866566,
          "files": {
            "afmpeg-engine-lgpl.wasm":    {"sha256": "<hex>", "size": 7866566},
            "afmpeg-engine-lgpl.wasm.gz": {"sha256": "<hex of the .gz bytes>", "size": 2712345},
            "afmpeg_engine_lgpl-0.2.0-py3-none-any.whl": {"sha256": "<hex>", "size": 2790000}
          },
          ...
        },
        "gpl": { ... }
      }
    }

``module`` (with ``module_sha256``) is always one of the variant's files, even if ``files`` is left out.

The checks, in order: ``provenance.json``'s own bytes match its line in the signed ``checksums.txt``
(:func:`load_provenance`); the variant is in the release (else :class:`~afmpeg.errors.UnknownVariant`); its
entry says that variant, names the requested file, and every digest it gives for that file and for the raw module
agrees with ``checksums.txt`` (:func:`check_provenance`). Anything else raises
:class:`~afmpeg.errors.ProvenanceMismatch`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import ProvenanceMismatch, UnknownVariant
from .checksums import Checksums, sha256_hex

__all__ = ["PROVENANCE_NAME", "ReleaseFile", "load_provenance", "check_provenance"]

PROVENANCE_NAME = "provenance.json"
_HEX = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ReleaseFile:
    """A verified file of a release: the bytes to fetch and what to expect of them.

    ``sha256`` is the digest of the file as stored (the ``.gz`` bytes for a gzipped module); ``module_sha256`` the
    digest of the uncompressed module, which is what a download with ``gunzip`` must produce.
    """

    name: str
    variant: str
    sha256: str
    module_sha256: str
    size: int | None
    gzip: bool
    license: str | None
    entry: dict[str, Any] = field(repr=False, compare=False)


def load_provenance(data: bytes, checksums: Checksums, name: str = PROVENANCE_NAME) -> dict[str, Any]:
    """Parse ``provenance.json`` after checking its bytes against its line in ``checksums.txt``."""
    if name not in checksums:
        raise ProvenanceMismatch(f"checksums.txt does not list {name}, so nothing vouches for it")
    actual = sha256_hex(data)
    if actual != checksums[name]:
        raise ProvenanceMismatch(f"{name}: SHA-256 {actual} does not match checksums.txt ({checksums[name]})")
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError) as e:
        raise ProvenanceMismatch(f"{name} is not valid JSON: {e}") from None
    if not isinstance(doc, dict):
        raise ProvenanceMismatch(f"{name} is not a JSON object")
    return doc


def _digest(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _HEX.match(value.lower()):
        raise ProvenanceMismatch(f"provenance.json: {where} is not a hex SHA-256 digest")
    return value.lower()


def _named_files(entry: dict[str, Any], variant: str) -> dict[str, tuple[str, int | None]]:
    """The files a variant's entry names: {name: (sha256, size or None)}."""
    module = entry.get("module")
    if not isinstance(module, str) or not module:
        raise ProvenanceMismatch(f"provenance.json: variant {variant!r} names no module")
    module_sha = _digest(entry.get("module_sha256"), f"variants.{variant}.module_sha256")
    size = entry.get("module_size")
    named: dict[str, tuple[str, int | None]] = {module: (module_sha, size if isinstance(size, int) else None)}
    files = entry.get("files", {})
    if not isinstance(files, dict):
        raise ProvenanceMismatch(f"provenance.json: variants.{variant}.files is not an object")
    for fname, info in files.items():
        if not isinstance(info, dict):
            raise ProvenanceMismatch(f"provenance.json: variants.{variant}.files[{fname!r}] is not an object")
        sha = _digest(info.get("sha256"), f"variants.{variant}.files[{fname!r}].sha256")
        fsize = info.get("size")
        if fname in named and named[fname][0] != sha:
            raise ProvenanceMismatch(f"provenance.json gives two different SHA-256 digests for {fname}")
        named[fname] = (sha, fsize if isinstance(fsize, int) else None)
    return named


def _mentions(entry: Any, file_name: str) -> bool:
    if not isinstance(entry, dict):
        return False
    files = entry.get("files")
    return entry.get("module") == file_name or (isinstance(files, dict) and file_name in files)


def check_provenance(
    provenance: dict[str, Any], checksums: Checksums, variant: str, file_name: str | None = None
) -> ReleaseFile:
    """Check that the release's provenance names ``file_name`` for ``variant``, consistently with checksums.txt.

    ``file_name`` defaults to the variant's raw module. Returns what to fetch and expect; raises
    :class:`~afmpeg.errors.UnknownVariant` for a variant the release lacks, else
    :class:`~afmpeg.errors.ProvenanceMismatch`.
    """
    variants = provenance.get("variants")
    if not isinstance(variants, dict):
        raise ProvenanceMismatch("provenance.json has no 'variants' object")
    if variant not in variants:
        have = ", ".join(sorted(map(str, variants))) or "none"
        raise UnknownVariant(f"variant {variant!r} is not in this release (it has: {have})")
    entry = variants[variant]
    if not isinstance(entry, dict):
        raise ProvenanceMismatch(f"provenance.json: variants.{variant} is not an object")
    described = entry.get("variant", variant.split("-")[0])
    profile = entry.get("profile", "lean")
    if (described if profile == "lean" else f"{described}-{profile}") != variant:
        raise ProvenanceMismatch(
            f"provenance.json: the entry for {variant!r} describes variant {described!r}, profile {profile!r}"
        )
    named = _named_files(entry, variant)
    module = entry["module"]
    if file_name is None:
        file_name = module
    if file_name not in named:
        others = [str(v) for v, e in variants.items() if v != variant and _mentions(e, file_name)]
        hint = f" (it is a file of variant {', '.join(others)})" if others else ""
        raise ProvenanceMismatch(
            f"provenance.json does not name {file_name} as a file of variant {variant!r}{hint}; "
            f"it names: {', '.join(sorted(named))}"
        )
    for fname in (file_name, module):
        if fname not in checksums:
            if fname == file_name:
                raise ProvenanceMismatch(f"{fname} is named by provenance.json but not listed in checksums.txt")
            continue
        if named[fname][0] != checksums[fname]:
            raise ProvenanceMismatch(
                f"{fname}: provenance.json says SHA-256 {named[fname][0]}, checksums.txt says {checksums[fname]}"
            )
    sha, size = named[file_name]
    license_ = entry.get("license")
    return ReleaseFile(
        name=file_name,
        variant=variant,
        sha256=sha,
        module_sha256=named[module][0],
        size=size,
        gzip=file_name.endswith(".gz"),
        license=license_ if isinstance(license_, str) else None,
        entry=entry,
    )
