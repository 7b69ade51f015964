"""Which engine modules this installation can use, and what each one is (``afmpeg module list`` / ``info``).

Modules come from four places, the first three in the order :func:`afmpeg.runtime.find_module` searches them:

* ``AFMPEG_MODULE``: a path from the environment;
* an installed engine package (``afmpeg-engine-lgpl`` / ``afmpeg-engine-gpl``, entry point group ``afmpeg.engines``);
* a source-tree build (``build/afmpeg-engine-<variant>.wasm`` in an afmpeg checkout, after ``make engine``);
* the download cache (``<cache>/modules/<sha256>.wasm``): modules fetched with :meth:`afmpeg.Runtime.from_url`,
  :meth:`afmpeg.Runtime.from_release` or ``afmpeg module fetch``. These are used only when asked for again (by URL
  and digest, or by release), never picked by ``Runtime()`` on its own. A module acquired from a verified release
  has a *release record* (``<cache>/releases/<sha256>.json``) saying which release, variant and signer it came from.

What a module is comes from its provenance (``provenance.json`` of an installed package, the ``.provenance.json``
beside a build, or the release record); a module without one is described by its size and digest only, and
``afmpeg module info`` asks the engine itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ModuleNotFound
from .fetch import module_cache_dir

__all__ = [
    "EngineModule",
    "ORIGINS",
    "describe_module",
    "list_modules",
    "read_release_record",
    "release_record_path",
    "write_release_record",
]

#: Where a listed module was found, in :func:`list_modules`' order.
ORIGINS = ("AFMPEG_MODULE", "installed", "source build", "cache")

# the provenance fields worth showing, in this order
_FACTS = ("variant", "profile", "license", "h264_encoder", "ffmpeg_version")


@dataclass(frozen=True)
class EngineModule:
    """One engine module file and what is known about it.

    Attributes:
        path: the ``.wasm`` file.
        origin: one of :data:`ORIGINS` (or ``"given"`` for a path passed to :func:`describe_module`).
        size: its size in bytes.
        sha256: its SHA-256 (lowercase hex).
        variant: ``"lgpl"`` / ``"gpl"`` when known.
        facts: what its provenance records: ``variant``, ``profile``, ``license``, ``h264_encoder``,
            ``ffmpeg_version`` (each present only when recorded).
        package: ``"<distribution> <version>"`` for an installed engine package.
        release: for a cached module acquired from a verified release: its record (``tag``, ``variant``,
            ``signed_by``, ``source``, ``verified_at``).
        default_for: for which requests ``Runtime()`` picks this module: ``"default"`` (no variant or profile
            asked), ``"lgpl"`` / ``"gpl"`` (``variant=``), ``"full"`` (``profile="full"``), ``"lgpl-full"`` /
            ``"gpl-full"`` (both).
    """

    path: Path
    origin: str
    size: int
    sha256: str
    variant: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)
    package: str | None = None
    release: Mapping[str, Any] | None = None
    default_for: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``path`` as a string)."""
        return {
            "path": str(self.path),
            "origin": self.origin,
            "size": self.size,
            "sha256": self.sha256,
            "variant": self.variant,
            **dict(self.facts),
            "package": self.package,
            "release": dict(self.release) if self.release is not None else None,
            "default_for": list(self.default_for),
        }


def release_record_path(sha256: str, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where the release record of cached module ``sha256`` lives: ``<cache>/releases/<sha256>.json``."""
    return module_cache_dir(cache_dir).parent / "releases" / f"{sha256}.json"


def write_release_record(
    sha256: str, record: Mapping[str, Any], cache_dir: str | os.PathLike[str] | None = None
) -> None:
    """Remember which verified release a cached module came from (best effort: an unwritable cache is skipped)."""
    path = release_record_path(sha256, cache_dir)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({**record, "verified_at": int(time.time())}, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, path)
    except OSError:
        pass


def read_release_record(sha256: str, cache_dir: str | os.PathLike[str] | None = None) -> dict[str, Any] | None:
    """The release record of cached module ``sha256``, or ``None`` (none written, or unreadable)."""
    try:
        data = json.loads(release_record_path(sha256, cache_dir).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _facts(provenance: Any) -> dict[str, Any]:
    if not isinstance(provenance, Mapping):
        return {}
    return {k: provenance[k] for k in _FACTS if isinstance(provenance.get(k), str)}


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


def _module(path: Path, origin: str, provenance: Any = None, variant: str | None = None, **extra: Any) -> EngineModule:
    facts = _facts(provenance)
    return EngineModule(
        path=path,
        origin=origin,
        size=path.stat().st_size,
        sha256=extra.pop("sha256", None) or _sha256(path),
        variant=variant or facts.get("variant"),
        facts=facts,
        **extra,
    )


def describe_module(path: str | os.PathLike[str], origin: str = "given") -> EngineModule:
    """Describe one module file: its size, SHA-256 and whatever provenance lies beside it
    (``<module>.provenance.json``, or the ``provenance.json`` of the package directory holding it).

    Raises :class:`~afmpeg.errors.ModuleNotFound` when ``path`` is not a file.
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise ModuleNotFound(f"engine module {str(p)!r} does not exist")
    provenance = _read_json(p.with_name(p.name + ".provenance.json"))
    if provenance is None:
        provenance = _read_json(p.with_name("provenance.json"))
    return _module(p, origin, provenance)


def _installed() -> Iterable[EngineModule]:
    from .runtime import _installed_engines, _installed_path

    for name, ep in _installed_engines().items():
        try:
            path = _installed_path(ep)
            package = __import__(ep.module, fromlist=["PROVENANCE"])
        except (ModuleNotFound, ImportError):  # a broken install is listed by find_module's error, not here
            continue
        dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist is not None else ep.module
        yield _module(path, "installed", getattr(package, "PROVENANCE", None), name, package=dist)


def _source_builds() -> Iterable[EngineModule]:
    from .runtime import ENGINE_PROFILES, ENGINE_VARIANTS, _repo_build_module, engine_name

    for v in ENGINE_VARIANTS:
        for p in ENGINE_PROFILES:
            path = _repo_build_module().with_name(f"afmpeg-engine-{engine_name(v, p)}.wasm")
            if path.is_file():
                yield describe_module(path, "source build")


def _cached(cache_dir: str | os.PathLike[str] | None) -> Iterable[EngineModule]:
    directory = module_cache_dir(cache_dir)
    if not directory.is_dir():
        return
    for path in sorted(directory.glob("*.wasm")):
        actual = _sha256(path)
        if actual != path.stem:  # altered on disk: it is fetched again when next asked for, and says nothing
            yield _module(path, "cache (corrupted)", sha256=actual)
            continue
        record = read_release_record(actual, cache_dir)
        yield _module(path, "cache", record, sha256=actual, release=record)


def _defaults() -> dict[str, list[str]]:
    """module path → the requests (see :attr:`EngineModule.default_for`) for which ``Runtime()`` picks it."""
    from .runtime import ENGINE_VARIANTS, locate_module

    picks: dict[str, list[str]] = {}
    for p in (None, "full"):
        for v in (None, *ENGINE_VARIANTS):
            try:
                where, _ = locate_module(v, p)
            except ModuleNotFound:
                continue
            label = "-".join(x for x in (v, p) if x) or "default"
            picks.setdefault(str(where.resolve()), []).append(label)
    return picks


def list_modules(cache_dir: str | os.PathLike[str] | None = None) -> list[EngineModule]:
    """Every engine module this installation can see, in :data:`ORIGINS` order, each marked with the requests
    ``Runtime()`` would pick it for (``default_for``).

    ``cache_dir`` is the cache root whose downloaded modules to list (default: ``AFMPEG_CACHE_DIR`` or the user
    cache directory, as :func:`afmpeg.fetch.default_cache_root`).
    """
    found: list[EngineModule] = []
    env = os.environ.get("AFMPEG_MODULE")
    if env and Path(env).expanduser().is_file():
        found.append(describe_module(env, "AFMPEG_MODULE"))
    found += _installed()
    found += _source_builds()
    found += _cached(cache_dir)
    picks = _defaults()
    out = []
    for m in found:
        chosen = tuple(picks.pop(str(m.path.resolve()), ()))  # pop: a path listed twice is marked once
        out.append(m if not chosen else EngineModule(**{**m.__dict__, "default_for": chosen}))
    return out

