"""Verification of certified engine releases: pure functions over bytes, no network, no Runtime.

A release directory holds the engine files of each variant (raw ``.wasm``, ``.wasm.gz``, wheels), plus::

    checksums.txt       sha256sum format, one line per file of the release (provenance.json included)
    checksums.txt.sig   a minisign signature of checksums.txt (Ed25519, minisign's file format)
    provenance.json     per-variant provenance and file list (see :mod:`afmpeg.release.provenance`)

The chain of trust is: pinned public keys → ``checksums.txt.sig`` → ``checksums.txt`` → ``provenance.json`` and
every file's SHA-256. :func:`verify_release` runs the whole chain over the three small files and says which file
of which variant to fetch and with which digest; it never skips a step.

Modules:

* :mod:`afmpeg.release.minisign`: keys, :func:`sign`, :func:`verify` (raises :class:`~afmpeg.errors.SignatureInvalid`)
* :mod:`afmpeg.release.checksums`: :class:`Checksums` (raises ``MalformedChecksums`` / ``ChecksumMismatch``)
* :mod:`afmpeg.release.provenance`: :func:`load_provenance`, :func:`check_provenance`
  (raise ``ProvenanceMismatch`` / ``UnknownVariant``)
* :mod:`afmpeg.release.acquire`: :func:`acquire_release` fetches a release (``base_url`` or an offline
  ``bundle_dir``), runs the chain against the trusted keys (default: :func:`pinned_keys`) and returns the verified
  module through the content-addressed cache; :meth:`afmpeg.Runtime.from_release` compiles it
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .checksums import Checksums, MalformedChecksums, check_file_name, sha256_file, sha256_hex
from .minisign import PublicKey, SecretKey, VerifiedSignature, generate_keypair, key_id_hex, sign, verify
from .provenance import PROVENANCE_NAME, ReleaseFile, check_provenance, load_provenance

__all__ = [
    "AcquiredModule",
    "CHECKSUMS_NAME",
    "SIGNATURE_NAME",
    "PROVENANCE_NAME",
    "Checksums",
    "MalformedChecksums",
    "PublicKey",
    "ReleaseFile",
    "SecretKey",
    "VerifiedRelease",
    "VerifiedSignature",
    "VerifiedBundle",
    "acquire_release",
    "check_file_name",
    "check_provenance",
    "generate_keypair",
    "key_id_hex",
    "load_provenance",
    "parse_trusted_keys",
    "pinned_keys",
    "sha256_file",
    "sha256_hex",
    "sign",
    "verify",
    "verify_bundle",
    "verify_release",
]

CHECKSUMS_NAME = "checksums.txt"
SIGNATURE_NAME = "checksums.txt.sig"


@dataclass(frozen=True)
class VerifiedRelease:
    """The outcome of :func:`verify_release`: who signed, the verified lists, and the file to fetch."""

    signature: VerifiedSignature
    checksums: Checksums
    file: ReleaseFile
    provenance: dict[str, Any] = field(repr=False, compare=False)


def verify_release(
    checksums_data: bytes,
    signature_text: str | bytes,
    provenance_data: bytes,
    trusted_keys: PublicKey | str | bytes | Iterable[PublicKey | str | bytes],
    variant: str,
    file_name: str | None = None,
) -> VerifiedRelease:
    """Verify a release's ``checksums.txt`` (signature by a trusted key), ``provenance.json`` (its checksum) and
    that provenance names ``file_name`` (default: the variant's raw module) for ``variant``.

    Raises ``SignatureInvalid``, ``MalformedChecksums``, ``ProvenanceMismatch`` or ``UnknownVariant``; the
    returned :class:`ReleaseFile` carries the SHA-256 the fetched file must have.
    """
    signature = verify(checksums_data, signature_text, trusted_keys)
    checksums = Checksums.parse(checksums_data)
    provenance = load_provenance(provenance_data, checksums)
    release_file = check_provenance(provenance, checksums, variant, file_name)
    return VerifiedRelease(signature, checksums, release_file, provenance)


# after verify_release: acquire imports it from here
from .acquire import (  # noqa: E402
    AcquiredModule,
    VerifiedBundle,
    acquire_release,
    parse_trusted_keys,
    pinned_keys,
    verify_bundle,
)
