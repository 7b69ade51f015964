"""Certified acquisition: get an engine module from a signed release, verified before a byte of it is compiled.

A release is a set of files (see :mod:`afmpeg.release`): the modules of each variant (raw ``.wasm`` and
``.wasm.gz``), ``checksums.txt``, its minisign signature ``checksums.txt.sig`` and ``provenance.json``. It is read
from one of two places:

* ``base_url``: the files of release ``tag`` are at ``{base_url}/{tag}/{name}`` (the layout of a code host's
  release download URLs, and of a plain directory per release on any web server; ``file://`` URLs work too);
* ``bundle_dir``: an offline directory holding the release's files directly (``bundle_dir/checksums.txt``, …).
  Nothing touches the network.

:func:`acquire_release` runs the whole chain, and no switch skips a step:

1. the trusted public keys: the ones given, else those pinned in the package (``trusted_keys.txt`` next to this
   module); none at all is a :class:`~afmpeg.errors.SignatureInvalid` before anything is fetched;
2. ``checksums.txt``, ``checksums.txt.sig`` and ``provenance.json`` are fetched (each capped at
   :data:`METADATA_MAX_BYTES`) and checked by :func:`~afmpeg.release.verify_release`: the signature by a trusted key
   (several may be trusted at once, for a key rotation), ``provenance.json`` against its signed checksum, the
   variant present in the release and the requested file named for it;
3. the release tag ``provenance.json`` records must be the tag asked for (a signed older release served under a
   newer tag is refused);
4. the module file is fetched through :func:`afmpeg.fetch.fetch_module` with the signed digests: the ``.gz`` bytes
   must have their listed SHA-256 and the decompressed module its ``module_sha256``; the verified module is kept in
   the content-addressed cache (``<cache>/modules/<sha256>.wasm``, re-hashed on every read), so a later
   acquisition of the same release reads it from there after verifying the metadata again.

Failures are typed: :class:`~afmpeg.errors.SignatureInvalid`, :class:`~afmpeg.errors.ChecksumMismatch`,
:class:`~afmpeg.errors.ProvenanceMismatch`, :class:`~afmpeg.errors.UnknownVariant` and
:class:`~afmpeg.errors.DownloadError` (a missing file, an HTTP error, a file over its cap).
:meth:`afmpeg.Runtime.from_release` compiles the result; :func:`verify_bundle` checks a release directory in place
(``afmpeg module verify DIR``).
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import ChecksumMismatch, DownloadError, ProvenanceMismatch, SignatureInvalid, UnknownVariant
from ..fetch import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, fetch_bytes, fetch_module
from . import CHECKSUMS_NAME, PROVENANCE_NAME, SIGNATURE_NAME, VerifiedRelease, verify_release
from .checksums import is_plain_name, sha256_file
from .minisign import UNTRUSTED_PREFIX, PublicKey

__all__ = [
    "KNOWN_PROFILES",
    "KNOWN_VARIANTS",
    "METADATA_MAX_BYTES",
    "TRUSTED_KEYS_NAME",
    "AcquiredModule",
    "VerifiedBundle",
    "acquire_release",
    "module_file_name",
    "parse_trusted_keys",
    "pinned_keys",
    "verify_bundle",
]

#: The engine variants afmpeg knows: ``lgpl`` (openh264) and ``gpl`` (adds libx264).
KNOWN_VARIANTS = ("lgpl", "gpl")
#: The engine profiles afmpeg knows: ``lean`` and ``full``; a release names a full engine ``<variant>-full``.
KNOWN_PROFILES = ("lean", "full")

#: The cap on each of ``checksums.txt``, ``checksums.txt.sig`` and ``provenance.json`` (1 MiB).
METADATA_MAX_BYTES = 1 << 20

#: The package file holding the pinned release public keys (one minisign public key per line).
TRUSTED_KEYS_NAME = "trusted_keys.txt"

KeyLike = PublicKey | str | bytes


def parse_trusted_keys(text: str | bytes) -> list[PublicKey]:
    """The public keys of a trusted-keys file: one minisign public key (its base64 line) per line.

    Blank lines, lines starting with ``#`` and minisign's ``untrusted comment:`` lines are skipped, as is anything
    after a ``#`` on a key's line. A line that is not a valid key raises :class:`~afmpeg.errors.SignatureInvalid`
    naming the line: a broken pin must not be ignored quietly.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    keys: list[PublicKey] = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped.startswith(UNTRUSTED_PREFIX.strip()):
            continue
        try:
            keys.append(PublicKey.from_text(stripped.split("#", 1)[0].strip()))
        except SignatureInvalid as exc:
            raise SignatureInvalid(f"{TRUSTED_KEYS_NAME} line {number}: {exc.message}") from None
    return keys


def pinned_keys() -> list[PublicKey]:
    """The release public keys pinned in this afmpeg package (``afmpeg/release/trusted_keys.txt``).

    An absent file counts as no pinned keys, so verification fails closed.
    """
    try:
        text = resources.files(__package__).joinpath(TRUSTED_KEYS_NAME).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return []
    return parse_trusted_keys(text)


def module_file_name(variant: str, gz: bool = True, profile: str = "lean") -> str:
    """The release file name of a variant's module: ``afmpeg-engine-{variant}.wasm`` (``.wasm.gz`` when ``gz``);
    ``afmpeg-engine-{variant}-{profile}.wasm`` for a profile other than lean."""
    name = variant if profile == "lean" else f"{variant}-{profile}"
    return f"afmpeg-engine-{name}.wasm" + (".gz" if gz else "")


@dataclass(frozen=True)
class AcquiredModule:
    """A module obtained from a verified release.

    Attributes:
        data: the module's bytes (decompressed); their SHA-256 is ``sha256``.
        sha256: the module's verified SHA-256 (the release's ``module_sha256`` for the variant).
        tag: the release tag (checked against ``provenance.json``).
        variant: the engine variant.
        release: what verification found: the signer (``release.signature.key_id``), the checksums, the
            :class:`~afmpeg.release.ReleaseFile` fetched and the variant's provenance.
        source: the URL (or path, for a bundle directory) the module file was read from.
        path: the cache entry holding the module, or ``None`` when nothing was cached.
        from_cache: ``True`` when the module came from the cache (only the small metadata files were read).
        profile: the engine profile (``"lean"`` or ``"full"``).
    """

    data: bytes = field(repr=False)
    sha256: str
    tag: str
    variant: str
    release: VerifiedRelease = field(repr=False)
    source: str
    path: Path | None
    from_cache: bool
    profile: str = "lean"


def _check_tag(tag: str) -> str:
    if not isinstance(tag, str):
        raise TypeError(f"tag must be a string, not {type(tag).__name__}")
    if not is_plain_name(tag):  # a tag is one path segment of the release's URL or directory
        raise ValueError(f"tag {tag!r} is not a release tag (a plain name such as 'v0.2.0')")
    return tag


def _resolve_keys(trusted_keys: KeyLike | Iterable[KeyLike] | None) -> list[PublicKey]:
    if trusted_keys is None:
        keys = pinned_keys()
        if not keys:
            raise SignatureInvalid(
                "no trusted release keys are pinned in this afmpeg (afmpeg/release/trusted_keys.txt holds none), "
                "so no release can be verified; pass the release's minisign public key yourself: "
                "Runtime.from_release(tag, trusted_keys=['RW...']) (a PublicKey, a key line or a .pub file's text)"
            )
        return keys
    if isinstance(trusted_keys, PublicKey | str | bytes):
        trusted_keys = [trusted_keys]
    keys = [k if isinstance(k, PublicKey) else PublicKey.from_text(k) for k in trusted_keys]
    if not keys:
        raise SignatureInvalid("trusted_keys is empty: at least one public key must be trusted to verify a release")
    return keys


def acquire_release(
    tag: str,
    variant: str = "lgpl",
    *,
    profile: str = "lean",
    base_url: str | None = None,
    bundle_dir: str | os.PathLike[str] | None = None,
    trusted_keys: KeyLike | Iterable[KeyLike] | None = None,
    cache_dir: str | os.PathLike[str] | bool | None = None,
    session: Any = None,
    gz: bool = True,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float | tuple[float, float] | None = DEFAULT_TIMEOUT,
) -> AcquiredModule:
    """Verify release ``tag`` and return the ``variant``'s module from it (see the module docs for the chain).

    Args:
        tag: the release tag, e.g. ``"v0.2.0"`` (a plain name; it must match ``provenance.json``'s ``release``).
        variant: ``"lgpl"`` (default) or ``"gpl"``.
        profile: ``"lean"`` (default) or ``"full"`` (the release's ``afmpeg-engine-{variant}-full.wasm.gz``).
        base_url: where releases are published; the files are read from ``{base_url}/{tag}/{name}``.
        bundle_dir: an offline directory holding the release's files; no network is used. Give exactly one of
            ``base_url`` and ``bundle_dir``.
        trusted_keys: the public keys trusted to sign releases: :class:`~afmpeg.release.PublicKey` objects or
            minisign public key texts (a ``.pub`` file or its base64 line), one or several. Default: the keys
            pinned in the package (:func:`pinned_keys`).
        cache_dir: the cache root (the module is kept as ``<cache_dir>/modules/<sha256>.wasm``); ``None``: the
            default root; ``False``: cache nothing.
        session: a ``requests.Session``-like object for ``base_url`` downloads (not with ``bundle_dir``).
        gz: fetch ``afmpeg-engine-{variant}.wasm.gz`` (default) rather than the raw ``.wasm``.
        max_bytes: the largest module file and decompressed module accepted (default 256 MiB).
        timeout: the network timeout in seconds.

    Raises:
        SignatureInvalid: no trusted keys, a malformed signature, a signer that is not trusted, or
            ``checksums.txt`` altered after signing.
        ChecksumMismatch: the module file (or the module inside it) is not the one the release signed.
        ProvenanceMismatch: ``provenance.json`` does not match its checksum, records another tag, or does not name
            the requested file for the variant.
        UnknownVariant: a variant afmpeg does not know, or one the release does not have.
        DownloadError: a file is missing, an HTTP or network error, or a file over its cap.
        ValueError: neither or both of ``base_url`` and ``bundle_dir``, a malformed tag, or ``session`` with
            ``bundle_dir``.
    """
    return _acquire(
        _check_tag(tag),
        variant,
        profile=profile,
        base_url=base_url,
        bundle_dir=bundle_dir,
        trusted_keys=trusted_keys,
        cache_dir=cache_dir,
        session=session,
        gz=gz,
        max_bytes=max_bytes,
        timeout=timeout,
    )


def _acquire(
    tag: str | None,
    variant: str,
    *,
    profile: str = "lean",
    base_url: str | None,
    bundle_dir: str | os.PathLike[str] | None,
    trusted_keys: KeyLike | Iterable[KeyLike] | None,
    cache_dir: str | os.PathLike[str] | bool | None,
    session: Any,
    gz: bool,
    max_bytes: int,
    timeout: float | tuple[float, float] | None,
) -> AcquiredModule:
    """:func:`acquire_release`; ``tag=None`` (a bundle checked as it is) takes the tag its verified provenance
    records, which must be a string."""
    if variant not in KNOWN_VARIANTS:
        raise UnknownVariant(f"unknown engine variant {variant!r} (the variants are: {', '.join(KNOWN_VARIANTS)})")
    if profile not in KNOWN_PROFILES:
        raise UnknownVariant(f"unknown engine profile {profile!r} (the profiles are: {', '.join(KNOWN_PROFILES)})")
    engine = variant if profile == "lean" else f"{variant}-{profile}"  # the release's name for it
    if (base_url is None) == (bundle_dir is None):
        raise ValueError("give exactly one of base_url= (a release server) and bundle_dir= (an offline directory)")
    keys = _resolve_keys(trusted_keys)

    def location(name: str) -> str | Path:
        if bundle_dir is not None:
            return Path(bundle_dir).expanduser() / name
        assert base_url is not None and tag is not None
        return f"{base_url.rstrip('/')}/{urllib.parse.quote(tag, safe='')}/{urllib.parse.quote(name)}"

    if bundle_dir is not None:
        if session is not None:
            raise ValueError("session= is for base_url= downloads; a bundle_dir is read with no network")
        if not Path(bundle_dir).expanduser().is_dir():
            raise DownloadError(f"bundle_dir {os.fspath(bundle_dir)} is not a directory", url=os.fspath(bundle_dir))

    def small(name: str) -> bytes:
        return fetch_bytes(location(name), session=session, max_bytes=METADATA_MAX_BYTES, timeout=timeout)

    checksums_data = small(CHECKSUMS_NAME)
    signature_data = small(SIGNATURE_NAME)
    provenance_data = small(PROVENANCE_NAME)
    file_name = module_file_name(variant, gz, profile)
    release = verify_release(checksums_data, signature_data, provenance_data, keys, engine, file_name)
    recorded = release.provenance.get("release")
    if not isinstance(recorded, str) or not recorded:
        raise ProvenanceMismatch(f"{PROVENANCE_NAME} records no release tag")
    if tag is None:
        tag = recorded
    elif recorded != tag:
        raise ProvenanceMismatch(
            f"{PROVENANCE_NAME} describes release {recorded!r}, not {tag!r} (a release served under another tag)"
        )

    where = location(file_name)
    fetched = fetch_module(
        where,
        sha256=release.file.module_sha256,
        gunzip=None if release.file.gzip else False,  # None: a server may have undone a Content-Encoding
        compressed_sha256=release.file.sha256 if release.file.gzip else None,
        cache_dir=cache_dir,
        session=session,
        max_bytes=max_bytes,
        timeout=timeout,
    )
    if fetched.path is not None:
        from ..engines import write_release_record

        entry = release.provenance["variants"][engine]
        write_release_record(
            fetched.sha256,
            {
                "tag": tag,
                "variant": variant,
                "profile": profile,
                "signed_by": release.signature.key_id,
                "source": os.fspath(where),
                **{k: entry[k] for k in ("license", "h264_encoder", "ffmpeg_version") if k in entry},
            },
            None if cache_dir in (None, True) else cache_dir,  # type: ignore[arg-type]
        )
    return AcquiredModule(
        data=fetched.data,
        sha256=fetched.sha256,
        tag=tag,
        variant=variant,
        release=release,
        source=os.fspath(where),
        path=fetched.path,
        from_cache=fetched.from_cache,
        profile=profile,
    )


@dataclass(frozen=True)
class VerifiedBundle:
    """The outcome of :func:`verify_bundle`.

    Attributes:
        module: the variant's verified module (as :func:`acquire_release` returns it; nothing cached).
        checked: every file listed in ``checksums.txt`` that is in the directory and matched its digest.
        missing: the listed files the directory does not hold (a bundle may carry only some of a release).
    """

    module: AcquiredModule
    checked: tuple[str, ...]
    missing: tuple[str, ...]


def verify_bundle(
    bundle_dir: str | os.PathLike[str],
    variant: str = "lgpl",
    *,
    profile: str = "lean",
    trusted_keys: KeyLike | Iterable[KeyLike] | None = None,
    tag: str | None = None,
    gz: bool = True,
) -> VerifiedBundle:
    """Verify a release directory in place, with no network and no cache (``afmpeg module verify DIR``).

    Runs :func:`acquire_release`'s whole chain for ``variant`` (the tag defaults to the one the verified
    ``provenance.json`` records; given, it must match), then checks every other file ``checksums.txt`` lists that
    is present, like ``sha256sum -c`` would. Raises what :func:`acquire_release` raises, and
    :class:`~afmpeg.errors.ChecksumMismatch` for any present file whose bytes differ.
    """
    module = _acquire(
        None if tag is None else _check_tag(tag),
        variant,
        profile=profile,
        base_url=None,
        bundle_dir=bundle_dir,
        trusted_keys=trusted_keys,
        cache_dir=False,
        session=None,
        gz=gz,
        max_bytes=DEFAULT_MAX_BYTES,
        timeout=None,
    )
    directory = Path(bundle_dir).expanduser()
    checked: list[str] = []
    missing: list[str] = []
    for name in sorted(module.release.checksums):
        path = directory / name
        if not path.is_file():
            missing.append(name)
            continue
        actual = sha256_file(path)
        expected = module.release.checksums[name]
        if actual != expected:
            raise ChecksumMismatch(
                f"{name}: SHA-256 {actual} does not match checksums.txt ({expected})", expected=expected, actual=actual
            )
        checked.append(name)
    return VerifiedBundle(module, tuple(checked), tuple(missing))
