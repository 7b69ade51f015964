"""minisign-format Ed25519 signatures: afmpeg.release.minisign (no network, no engine)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from afmpeg.errors import ModuleVerificationError, SignatureInvalid
from afmpeg.release import PublicKey, SecretKey, generate_keypair, key_id_hex, sign, verify
from afmpeg.release.minisign import MAX_TRUSTED_COMMENT

DATA = b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef  afmpeg-engine-lgpl.wasm\n"


@pytest.fixture(scope="module")
def keys() -> tuple[SecretKey, PublicKey]:
    return generate_keypair()


def _lines(sig: str) -> list[str]:
    return sig.splitlines()


def _replace_line(sig: str, index: int, new: str) -> str:
    lines = _lines(sig)
    lines[index] = new
    return "\n".join(lines) + "\n"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _raw(sig: str, index: int) -> bytes:
    return base64.b64decode(_lines(sig)[index])


# ---------------------------------------------------------------- keys


def test_keypair_and_public_key_file_roundtrip(keys: tuple[SecretKey, PublicKey]) -> None:
    secret, public = keys
    assert secret.public_key == public
    text = public.to_text()
    first, second = text.splitlines()
    assert first == f"untrusted comment: minisign public key {public.key_id_hex}"
    raw = base64.b64decode(second)
    assert raw[:2] == b"Ed" and raw[2:10] == public.key_id and raw[10:] == public.key and len(raw) == 42
    assert PublicKey.from_text(text) == public
    assert PublicKey.from_text(text.encode()) == public
    assert PublicKey.from_text(public.to_base64()) == public  # the bare line, as `minisign -P` takes it


def test_key_id_hex_is_minisigns_little_endian_display() -> None:
    assert key_id_hex(bytes(range(1, 9))) == "0807060504030201"
    public = PublicKey(bytes.fromhex("e0de4cbef535139f"), bytes(32))
    assert public.key_id_hex == "9F1335F5BE4CDEE0"


def test_key_id_is_derived_from_the_public_key(keys: tuple[SecretKey, PublicKey]) -> None:
    secret, public = keys
    assert public.key_id == hashlib.blake2b(public.key).digest()[:8]
    assert generate_keypair()[1].key_id != public.key_id


def test_secret_key_text_roundtrip_and_bare_seed(keys: tuple[SecretKey, PublicKey]) -> None:
    secret, _ = keys
    text = secret.to_text()
    assert text.startswith("untrusted comment: ")
    assert SecretKey.from_text(text) == secret
    bare = text.splitlines()[1]  # what an environment variable holds
    assert SecretKey.from_text(bare) == secret
    assert secret.seed.hex() not in repr(secret) and _b64(secret.seed) not in repr(secret)


@pytest.mark.parametrize(
    "text",
    ["", "not base64!!", _b64(bytes(31)), _b64(bytes(64)), "untrusted comment: x\nAAAA\nAAAA\n"],
)
def test_secret_key_malformed(text: str) -> None:
    with pytest.raises(ValueError):
        SecretKey.from_text(text)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("untrusted comment: k\n!!!notbase64\n", "base64"),
        ("untrusted comment: k\n" + _b64(b"Ed" + bytes(39)) + "\n", "41 bytes long, not 42"),
        ("untrusted comment: k\n" + _b64(b"XX" + bytes(40)) + "\n", "unsupported algorithm"),
        ("hello: k\n" + _b64(b"Ed" + bytes(40)) + "\n", "untrusted comment"),
        ("", "expected an untrusted comment"),
        ("untrusted comment: k\nAAAA\nAAAA\n", "expected an untrusted comment"),
    ],
)
def test_public_key_malformed(text: str, words: str) -> None:
    with pytest.raises(SignatureInvalid, match=words):
        PublicKey.from_text(text)


# ---------------------------------------------------------------- sign / verify


def test_sign_verify_roundtrip(keys: tuple[SecretKey, PublicKey]) -> None:
    secret, public = keys
    sig = sign(DATA, secret, trusted_comment="timestamp:1700000000\tfile:checksums.txt\thashed")
    lines = _lines(sig)
    assert len(lines) == 4 and sig.endswith("\n")
    assert lines[0].startswith("untrusted comment: ")
    assert lines[2] == "trusted comment: timestamp:1700000000\tfile:checksums.txt\thashed"
    raw = _raw(sig, 1)
    assert len(raw) == 74 and raw[:2] == b"ED" and raw[2:10] == public.key_id
    assert len(_raw(sig, 3)) == 64
    result = verify(DATA, sig, [public])
    assert result.key_id == public.key_id_hex
    assert result.trusted_comment == "timestamp:1700000000\tfile:checksums.txt\thashed"
    assert result.hashed is True and result.public_key == public
    assert result.fields == {"timestamp": "1700000000", "file": "checksums.txt"}
    assert verify(DATA, sig.encode(), public).key_id == public.key_id_hex  # bytes, and a single key
    assert verify(DATA, sig, public.to_text()).key_id == public.key_id_hex  # a public key file's text
    assert verify(DATA, sig, [public.to_text().encode(), public.to_base64()]).key_id == public.key_id_hex
    assert verify(DATA, sig.replace("\n", "\r\n"), [public]).key_id == public.key_id_hex  # CRLF line ends


def test_hashed_signature_is_over_blake2b_of_the_data(keys: tuple[SecretKey, PublicKey]) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    secret, public = keys
    sig = sign(DATA, secret, trusted_comment="tc")
    signature = _raw(sig, 1)[10:]
    Ed25519PublicKey.from_public_bytes(public.key).verify(signature, hashlib.blake2b(DATA).digest())
    Ed25519PublicKey.from_public_bytes(public.key).verify(_raw(sig, 3), signature + b"tc")


def test_default_trusted_comment_has_a_timestamp(keys: tuple[SecretKey, PublicKey]) -> None:
    secret, public = keys
    assert verify(DATA, sign(DATA, secret), [public]).trusted_comment.startswith("timestamp:")


def test_legacy_ed_signature_verifies(keys: tuple[SecretKey, PublicKey]) -> None:
    secret, public = keys
    sig = sign(DATA, secret, trusted_comment="legacy", hashed=False)
    assert _raw(sig, 1)[:2] == b"Ed"
    result = verify(DATA, sig, [public])
    assert result.hashed is False and result.trusted_comment == "legacy"
    with pytest.raises(SignatureInvalid, match="does not verify"):
        verify(DATA + b"x", sig, [public])


def test_algorithm_bytes_are_bound_to_the_signature(keys: tuple[SecretKey, PublicKey]) -> None:
    """Relabelling a hashed signature as legacy (or back) must not verify."""
    secret, public = keys
    for hashed, other in ((True, b"Ed"), (False, b"ED")):
        sig = sign(DATA, secret, trusted_comment="x", hashed=hashed)
        raw = _raw(sig, 1)
        with pytest.raises(SignatureInvalid, match="does not verify"):
            verify(DATA, _replace_line(sig, 1, _b64(other + raw[2:])), [public])


def test_tampered_data(keys: tuple[SecretKey, PublicKey]) -> None:
    secret, public = keys
    sig = sign(DATA, secret)
    with pytest.raises(SignatureInvalid, match="does not verify with key"):
        verify(DATA.replace(b"lgpl", b"gpl!"), sig, [public])
    with pytest.raises(SignatureInvalid):
        verify(DATA + b"\n", sig, [public])


def test_tampered_signature_bytes(keys: tuple[SecretKey, PublicKey]) -> None:
    secret, public = keys
    sig = sign(DATA, secret)
    raw = bytearray(_raw(sig, 1))
    raw[40] ^= 1
    with pytest.raises(SignatureInvalid, match="does not verify"):
        verify(DATA, _replace_line(sig, 1, _b64(bytes(raw))), [public])


def test_tampered_trusted_comment(keys: tuple[SecretKey, PublicKey]) -> None:
    secret, public = keys
    sig = sign(DATA, secret, trusted_comment="timestamp:1\tfile:checksums.txt")
    forged = _replace_line(sig, 2, "trusted comment: timestamp:1\tfile:other.txt")
    with pytest.raises(SignatureInvalid, match="trusted comment"):
        verify(DATA, forged, [public])
    glob = bytearray(_raw(sig, 3))
    glob[0] ^= 0x80
    with pytest.raises(SignatureInvalid, match="trusted comment"):
        verify(DATA, _replace_line(sig, 3, _b64(bytes(glob))), [public])


def test_untrusted_comment_is_not_covered(keys: tuple[SecretKey, PublicKey]) -> None:
    secret, public = keys
    sig = _replace_line(sign(DATA, secret), 0, "untrusted comment: anything at all")
    assert verify(DATA, sig, [public]).key_id == public.key_id_hex


def test_signature_by_an_untrusted_key(keys: tuple[SecretKey, PublicKey]) -> None:
    secret, public = keys
    other_secret, other_public = generate_keypair()
    sig = sign(DATA, other_secret)
    with pytest.raises(SignatureInvalid, match=f"signed by key {other_public.key_id_hex}, which is not a trusted"):
        verify(DATA, sig, [public])
    with pytest.raises(SignatureInvalid, match="trusted: none"):
        verify(DATA, sig, [])


def test_same_key_id_but_another_key_does_not_verify(keys: tuple[SecretKey, PublicKey]) -> None:
    """The key is picked by id, but the id is not trusted on its own: an impostor key with our id fails."""
    secret, public = keys
    impostor_secret, impostor_public = generate_keypair()
    raw = _raw(sign(DATA, impostor_secret, trusted_comment="x"), 1)
    forged = sign(DATA, impostor_secret, trusted_comment="x")
    forged = _replace_line(forged, 1, _b64(raw[:2] + public.key_id + raw[10:]))
    with pytest.raises(SignatureInvalid, match="does not verify"):
        verify(DATA, forged, [public])


def test_key_rotation_two_trusted_keys_both_verify(keys: tuple[SecretKey, PublicKey]) -> None:
    old_secret, old_public = keys
    new_secret, new_public = generate_keypair()
    trusted = [old_public, new_public]
    assert verify(DATA, sign(DATA, old_secret), trusted).key_id == old_public.key_id_hex
    assert verify(DATA, sign(DATA, new_secret), trusted).key_id == new_public.key_id_hex
    assert verify(DATA, sign(DATA, new_secret), tuple(reversed(trusted))).public_key == new_public
    # after the old key is retired, its signatures stop verifying
    with pytest.raises(SignatureInvalid, match="not a trusted key"):
        verify(DATA, sign(DATA, old_secret), [new_public])


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda s: "", "0 lines, not 4"),
        (lambda s: "\n".join(_lines(s)[:3]) + "\n", "3 lines, not 4"),
        (lambda s: s + "extra line\n", "5 lines, not 4"),
        (lambda s: _replace_line(s, 0, "comment: x"), "line 1: the line should start with 'untrusted comment:'"),
        (lambda s: _replace_line(s, 2, "timestamp:1"), "line 3: the line should start with 'trusted comment:'"),
        (lambda s: _replace_line(s, 1, "RUT***notbase64***"), r"signature \(line 2\) is not valid base64"),
        (lambda s: _replace_line(s, 3, "%%%"), r"global signature \(line 4\) is not valid base64"),
        (lambda s: _replace_line(s, 1, _b64(_raw(s, 1)[:73])), "73 bytes long, not 74"),
        (lambda s: _replace_line(s, 1, _b64(_raw(s, 1) + b"\0")), "75 bytes long, not 74"),
        (lambda s: _replace_line(s, 3, _b64(_raw(s, 3)[:63])), "63 bytes long, not 64"),
        (lambda s: _replace_line(s, 1, _b64(b"XY" + _raw(s, 1)[2:])), "unsupported algorithm b'XY'"),
        (lambda s: _replace_line(s, 1, _b64(b"ed" + _raw(s, 1)[2:])), "unsupported algorithm b'ed'"),
    ],
)
def test_malformed_signature_files(keys: tuple[SecretKey, PublicKey], mutate, words: str) -> None:
    secret, public = keys
    with pytest.raises(SignatureInvalid, match=words) as info:
        verify(DATA, mutate(sign(DATA, secret, trusted_comment="tc")), [public])
    assert isinstance(info.value, ModuleVerificationError)


def test_signature_file_not_utf8(keys: tuple[SecretKey, PublicKey]) -> None:
    with pytest.raises(SignatureInvalid, match="not UTF-8"):
        verify(DATA, b"\xff\xfe\n", [keys[1]])


def test_trailing_blank_lines_are_accepted(keys: tuple[SecretKey, PublicKey]) -> None:
    secret, public = keys
    assert verify(DATA, sign(DATA, secret) + "\n\n", [public]).key_id == public.key_id_hex


def test_sign_rejects_comments_minisign_could_not_read(keys: tuple[SecretKey, PublicKey]) -> None:
    secret, public = keys
    with pytest.raises(ValueError, match="one line"):
        sign(DATA, secret, trusted_comment="a\nb")
    with pytest.raises(ValueError, match="one line"):
        sign(DATA, secret, untrusted_comment="a\rb")
    with pytest.raises(ValueError, match="longer"):
        sign(DATA, secret, trusted_comment="x" * (MAX_TRUSTED_COMMENT + 1))
    long_ok = "x" * MAX_TRUSTED_COMMENT
    assert verify(DATA, sign(DATA, secret, trusted_comment=long_ok), [public]).trusted_comment == long_ok


def test_unicode_trusted_comment(keys: tuple[SecretKey, PublicKey]) -> None:
    secret, public = keys
    assert verify(DATA, sign(DATA, secret, trusted_comment="版本 ✓"), [public]).trusted_comment == "版本 ✓"
