"""Ed25519 signatures in minisign's file format, so a release can also be checked by hand with ``minisign -V``.

The public key and signature files are byte-for-byte minisign's:

* **public key** (``.pub``)::

      untrusted comment: minisign public key <KEY ID>
      base64( "Ed" | key id (8 bytes) | Ed25519 public key (32 bytes) )

* **signature** (``.minisig``, our ``checksums.txt.sig``)::

      untrusted comment: <free text, not covered by any signature>
      base64( algorithm (2 bytes) | key id (8 bytes) | Ed25519 signature (64 bytes) )
      trusted comment: <text, covered by the global signature>
      base64( global signature (64 bytes) )

  The algorithm ``"ED"`` (minisign's default) signs the BLAKE2b-512 hash of the file; the legacy ``"Ed"`` signs
  the file itself (only accepted when verifying unless asked for). The global signature is Ed25519 over the
  64-byte file signature followed by the trusted comment's UTF-8 bytes, so the comment cannot be altered either.

The **secret key** is our own simple format, for release tooling (minisign's own secret keys are encrypted and are
not read here): the base64 of the 32-byte Ed25519 seed, on one line, optionally after one
``untrusted comment:`` line, so it fits in an environment variable. Its key id is derived from the public key
(the first 8 bytes of BLAKE2b-512 of it), so the seed alone is the whole key.

A key id is shown like minisign shows it: the 8 bytes read as a little-endian integer, in upper-case hex (16
digits here; some minisign versions drop leading zeros, the number is the same).

Every failure to verify (a malformed file, an unknown key id, a bad signature) raises
:class:`afmpeg.errors.SignatureInvalid` with a message that says which.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from ..errors import SignatureInvalid

__all__ = [
    "PublicKey",
    "SecretKey",
    "VerifiedSignature",
    "generate_keypair",
    "sign",
    "verify",
    "key_id_hex",
]

UNTRUSTED_PREFIX = "untrusted comment: "
TRUSTED_PREFIX = "trusted comment: "
KEY_ALGORITHM = b"Ed"
SIG_HASHED = b"ED"  # Ed25519 over BLAKE2b-512(file): minisign's default
SIG_LEGACY = b"Ed"  # Ed25519 over the file itself
# minisign reads a trusted comment line (prefix and newline included) into 8192 bytes, an untrusted one into 1024.
MAX_TRUSTED_COMMENT = 8192 - len(TRUSTED_PREFIX) - 2
MAX_UNTRUSTED_COMMENT = 1024 - len(UNTRUSTED_PREFIX) - 2


def key_id_hex(key_id: bytes) -> str:
    """A key id as minisign prints it (little-endian, upper-case hex, padded to 16 digits)."""
    return key_id[::-1].hex().upper()


def _b64(line: str, what: str, size: int) -> bytes:
    try:
        raw = base64.b64decode(line.strip(), validate=True)
    except (binascii.Error, ValueError) as e:
        raise SignatureInvalid(f"{what} is not valid base64") from e
    if len(raw) != size:
        raise SignatureInvalid(f"{what} is {len(raw)} bytes long, not {size}")
    return raw


def _lines(text: str | bytes, what: str, count: int) -> list[str]:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise SignatureInvalid(f"{what} is not UTF-8 text") from e
    lines = [ln.rstrip("\r") for ln in text.split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) != count:
        raise SignatureInvalid(f"{what} has {len(lines)} lines, not {count} (it is not in minisign's format)")
    return lines


def _comment(line: str, prefix: str, what: str) -> str:
    if not line.startswith(prefix):
        raise SignatureInvalid(f"{what}: the line should start with {prefix.strip()!r}")
    return line[len(prefix) :]


def _check_comment(text: str, limit: int, what: str) -> None:
    if "\n" in text or "\r" in text:
        raise ValueError(f"the {what} must be one line")
    if len(text.encode("utf-8")) > limit:
        raise ValueError(f"the {what} is longer than minisign reads ({limit} bytes)")


@dataclass(frozen=True, repr=False)
class PublicKey:
    """An Ed25519 public key with its 8-byte minisign key id."""

    key_id: bytes
    key: bytes

    def __post_init__(self) -> None:
        if len(self.key_id) != 8 or len(self.key) != 32:
            raise ValueError("a public key is an 8-byte key id and a 32-byte Ed25519 key")

    def __repr__(self) -> str:
        return f"PublicKey({self.key_id_hex}, {self.to_base64()!r})"

    @property
    def key_id_hex(self) -> str:
        """The key id as minisign prints it."""
        return key_id_hex(self.key_id)

    @classmethod
    def from_text(cls, text: str | bytes) -> PublicKey:
        """Read a minisign public key file (or just its base64 line, as ``minisign -P`` takes it)."""
        raw_text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        lines = [ln.strip() for ln in raw_text.splitlines() if ln.strip()]
        if len(lines) == 2:
            _comment(lines[0], UNTRUSTED_PREFIX, "public key file")
            lines = lines[1:]
        if len(lines) != 1:
            raise SignatureInvalid("public key file: expected an untrusted comment line and one base64 line")
        raw = _b64(lines[0], "public key", 42)
        if raw[:2] != KEY_ALGORITHM:
            raise SignatureInvalid(f"public key: unsupported algorithm {raw[:2]!r} (only Ed25519, 'Ed')")
        return cls(raw[2:10], raw[10:])

    def to_base64(self) -> str:
        """The key's base64 line (what ``minisign -P`` takes on the command line)."""
        return base64.b64encode(KEY_ALGORITHM + self.key_id + self.key).decode("ascii")

    def to_text(self) -> str:
        """The key as a minisign public key file."""
        return f"{UNTRUSTED_PREFIX}minisign public key {self.key_id_hex}\n{self.to_base64()}\n"

    def _verify(self, signature: bytes, message: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True, repr=False)
class SecretKey:
    """An Ed25519 signing key (its 32-byte seed); the key id is derived from the public key."""

    seed: bytes

    def __post_init__(self) -> None:
        if len(self.seed) != 32:
            raise ValueError("a secret key is a 32-byte Ed25519 seed")

    def __repr__(self) -> str:  # never print the seed
        return f"SecretKey(key_id={self.public_key.key_id_hex})"

    @property
    def public_key(self) -> PublicKey:
        """The matching public key (key id: the first 8 bytes of BLAKE2b-512 of the Ed25519 public key)."""
        pub = Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return PublicKey(hashlib.blake2b(pub).digest()[:8], pub)

    @classmethod
    def from_text(cls, text: str | bytes) -> SecretKey:
        """Read a secret key: one base64 line of the 32-byte seed, optionally after an untrusted comment line."""
        raw_text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        lines = [ln.strip() for ln in raw_text.splitlines() if ln.strip()]
        if len(lines) == 2 and lines[0].startswith(UNTRUSTED_PREFIX):
            lines = lines[1:]
        if len(lines) != 1:
            raise ValueError("a secret key is one base64 line (optionally after an 'untrusted comment:' line)")
        try:
            seed = base64.b64decode(lines[0], validate=True)
        except (binascii.Error, ValueError) as e:
            raise ValueError("the secret key is not valid base64") from e
        if len(seed) != 32:
            raise ValueError(f"the secret key is {len(seed)} bytes long, not a 32-byte Ed25519 seed")
        return cls(seed)

    def to_text(self) -> str:
        """The key in our secret key file format (keep it out of the repository)."""
        b64 = base64.b64encode(self.seed).decode("ascii")
        return f"{UNTRUSTED_PREFIX}afmpeg release secret key {self.public_key.key_id_hex}\n{b64}\n"

    def _sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


@dataclass(frozen=True)
class VerifiedSignature:
    """What a good signature tells: who signed (``key_id``, as minisign prints it) and the trusted comment."""

    key_id: str
    trusted_comment: str
    hashed: bool  # True for "ED" (BLAKE2b-512 prehash), False for the legacy "Ed"
    public_key: PublicKey

    @property
    def fields(self) -> dict[str, str]:
        """The trusted comment's tab-separated ``name:value`` fields (minisign writes ``timestamp`` and ``file``)."""
        out: dict[str, str] = {}
        for part in self.trusted_comment.split("\t"):
            name, sep, value = part.partition(":")
            if sep:
                out[name] = value
        return out


def generate_keypair() -> tuple[SecretKey, PublicKey]:
    """A new random signing key and its public key."""
    seed = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    secret = SecretKey(seed)
    return secret, secret.public_key


def sign(
    data: bytes,
    secret_key: SecretKey,
    *,
    trusted_comment: str | None = None,
    untrusted_comment: str = "signature from afmpeg release key",
    hashed: bool = True,
) -> str:
    """Sign ``data``; returns the text of a minisign signature file.

    ``trusted_comment`` defaults to ``timestamp:<unix time>`` (minisign adds ``\\tfile:<name>`` itself; pass your
    own to record the file name). ``hashed=False`` makes a legacy ``"Ed"`` signature over the raw data.
    """
    if trusted_comment is None:
        trusted_comment = f"timestamp:{int(time.time())}"
    _check_comment(trusted_comment, MAX_TRUSTED_COMMENT, "trusted comment")
    _check_comment(untrusted_comment, MAX_UNTRUSTED_COMMENT, "untrusted comment")
    algorithm = SIG_HASHED if hashed else SIG_LEGACY
    message = hashlib.blake2b(data).digest() if hashed else data
    signature = secret_key._sign(message)
    global_signature = secret_key._sign(signature + trusted_comment.encode("utf-8"))
    key_id = secret_key.public_key.key_id
    return (
        f"{UNTRUSTED_PREFIX}{untrusted_comment}\n"
        f"{base64.b64encode(algorithm + key_id + signature).decode('ascii')}\n"
        f"{TRUSTED_PREFIX}{trusted_comment}\n"
        f"{base64.b64encode(global_signature).decode('ascii')}\n"
    )


def verify(
    data: bytes,
    signature_text: str | bytes,
    trusted_keys: PublicKey | str | bytes | Iterable[PublicKey | str | bytes],
) -> VerifiedSignature:
    """Check a minisign signature of ``data`` against the trusted public keys (the key is picked by key id).

    ``trusted_keys`` is one key or several (during a key rotation), as :class:`PublicKey` objects or public key
    file texts.

    Both signatures are checked: the one over the data and the global one over the trusted comment.
    Raises :class:`~afmpeg.errors.SignatureInvalid` for a malformed file, a key id no trusted key has, or a
    signature that does not verify.
    """
    if isinstance(trusted_keys, PublicKey | str | bytes):
        trusted_keys = [trusted_keys]
    keys = [k if isinstance(k, PublicKey) else PublicKey.from_text(k) for k in trusted_keys]
    untrusted, sig_line, trusted_line, global_line = _lines(signature_text, "signature file", 4)
    _comment(untrusted, UNTRUSTED_PREFIX, "signature file, line 1")
    raw = _b64(sig_line, "signature (line 2)", 74)
    trusted_comment = _comment(trusted_line, TRUSTED_PREFIX, "signature file, line 3")
    global_signature = _b64(global_line, "global signature (line 4)", 64)
    algorithm, key_id, signature = raw[:2], raw[2:10], raw[10:]
    if algorithm == SIG_HASHED:
        message = hashlib.blake2b(data).digest()
    elif algorithm == SIG_LEGACY:
        message = data
    else:
        raise SignatureInvalid(f"signature: unsupported algorithm {algorithm!r} (expected 'ED' or legacy 'Ed')")
    candidates = [k for k in keys if k.key_id == key_id]
    if not candidates:
        trusted = ", ".join(k.key_id_hex for k in keys) or "none"
        raise SignatureInvalid(f"signed by key {key_id_hex(key_id)}, which is not a trusted key (trusted: {trusted})")
    for key in candidates:
        if key._verify(signature, message):
            if not key._verify(global_signature, signature + trusted_comment.encode("utf-8")):
                raise SignatureInvalid(
                    f"the trusted comment's signature does not verify with key {key.key_id_hex} "
                    "(the trusted comment was altered)"
                )
            return VerifiedSignature(key.key_id_hex, trusted_comment, algorithm == SIG_HASHED, key)
    raise SignatureInvalid(
        f"the signature does not verify with key {key_id_hex(key_id)} (the signed file was altered, "
        "or the signature was made by another key with the same key id)"
    )
