"""Interoperability with the real ``minisign`` tool (Debian's package, fetched by tests/unit/minisign_tool.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from afmpeg.errors import SignatureInvalid
from afmpeg.release import Checksums, PublicKey, generate_keypair, sha256_hex, sign, verify

from .minisign_tool import MinisignUnavailable, minisign_binary


@pytest.fixture(scope="module")
def minisign() -> Path:
    try:
        return minisign_binary()
    except MinisignUnavailable as e:  # not a Debian-like machine: nothing to fetch the tool with
        pytest.skip(str(e))


def _run(minisign: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(minisign), *args], cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL)


@pytest.fixture
def release_dir(tmp_path: Path) -> Path:
    (tmp_path / "afmpeg-engine-lgpl.wasm").write_bytes(b"\0asm\1\0\0\0" + bytes(range(256)) * 64)
    (tmp_path / "provenance.json").write_text('{"variants": {}}\n')
    sums = Checksums.of_files(sorted(tmp_path.iterdir()))
    (tmp_path / "checksums.txt").write_text(sums.to_text())
    return tmp_path


@pytest.mark.parametrize("hashed", [True, False])
def test_minisign_verifies_our_signature(minisign: Path, release_dir: Path, hashed: bool) -> None:
    secret, public = generate_keypair()
    data = (release_dir / "checksums.txt").read_bytes()
    comment = "timestamp:1700000000\tfile:checksums.txt\thashed"
    (release_dir / "checksums.txt.sig").write_text(sign(data, secret, trusted_comment=comment, hashed=hashed))
    (release_dir / "afmpeg.pub").write_text(public.to_text())
    proc = _run(minisign, "-Vm", "checksums.txt", "-x", "checksums.txt.sig", "-p", "afmpeg.pub", cwd=release_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Signature and comment signature verified" in proc.stdout + proc.stderr
    assert f"Trusted comment: {comment}" in proc.stdout + proc.stderr
    # the public key on the command line, as the docs tell people to do it
    proc = _run(minisign, "-Vm", "checksums.txt", "-x", "checksums.txt.sig", "-P", public.to_base64(), cwd=release_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # and minisign rejects what we reject: an altered file, an altered trusted comment
    (release_dir / "checksums.txt").write_bytes(data + b"\n")
    proc = _run(minisign, "-Vm", "checksums.txt", "-x", "checksums.txt.sig", "-p", "afmpeg.pub", cwd=release_dir)
    assert proc.returncode != 0
    (release_dir / "checksums.txt").write_bytes(data)
    sig = (release_dir / "checksums.txt.sig").read_text().replace("file:checksums.txt", "file:other.txt")
    (release_dir / "checksums.txt.sig").write_text(sig)
    proc = _run(minisign, "-Vm", "checksums.txt", "-x", "checksums.txt.sig", "-p", "afmpeg.pub", cwd=release_dir)
    assert proc.returncode != 0


def test_we_verify_minisigns_signatures(minisign: Path, release_dir: Path) -> None:
    proc = _run(minisign, "-G", "-W", "-p", "mini.pub", "-s", "mini.key", cwd=release_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pub_text = (release_dir / "mini.pub").read_text()
    public = PublicKey.from_text(pub_text)
    ours, theirs = public.to_text().splitlines(), pub_text.splitlines()
    assert ours[1] == theirs[1]  # the same key line, byte for byte
    # the same key id in the comment (minisign 0.11 prints it without leading zeros, later versions pad it)
    assert theirs[0].startswith("untrusted comment: minisign public key ")
    assert int(theirs[0].rsplit(" ", 1)[1], 16) == int(public.key_id_hex, 16)
    data = (release_dir / "checksums.txt").read_bytes()

    proc = _run(minisign, "-S", "-s", "mini.key", "-m", "checksums.txt", "-t", "afmpeg test", cwd=release_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = verify(data, (release_dir / "checksums.txt.minisig").read_text(), [generate_keypair()[1], public])
    assert result.key_id == public.key_id_hex and result.hashed is True
    assert result.trusted_comment == "afmpeg test"

    # minisign's default trusted comment, and its legacy (-l, not prehashed) signatures
    proc = _run(minisign, "-Sl", "-s", "mini.key", "-m", "checksums.txt", "-x", "legacy.minisig", cwd=release_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    legacy = verify(data, (release_dir / "legacy.minisig").read_text(), [public])
    assert legacy.hashed is False and legacy.fields["file"] == "checksums.txt" and "timestamp" in legacy.fields

    with pytest.raises(SignatureInvalid, match="does not verify"):
        verify(data + b"x", (release_dir / "checksums.txt.minisig").read_text(), [public])
    with pytest.raises(SignatureInvalid, match="not a trusted key"):
        verify(data, (release_dir / "checksums.txt.minisig").read_text(), [generate_keypair()[1]])


def test_sha256sum_and_minisign_by_hand(minisign: Path, release_dir: Path) -> None:
    """The documented by-hand check, command for command."""
    secret, public = generate_keypair()
    data = (release_dir / "checksums.txt").read_bytes()
    (release_dir / "checksums.txt.sig").write_text(sign(data, secret))
    proc = _run(minisign, "-Vm", "checksums.txt", "-x", "checksums.txt.sig", "-P", public.to_base64(), cwd=release_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    check = subprocess.run(["sha256sum", "-c", "--strict", "checksums.txt"], cwd=release_dir, capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr
    module = release_dir / "afmpeg-engine-lgpl.wasm"
    module.write_bytes(module.read_bytes() + b"!")
    check = subprocess.run(["sha256sum", "-c", "--strict", "checksums.txt"], cwd=release_dir, capture_output=True)
    assert check.returncode != 0 and sha256_hex(module.read_bytes()) not in data.decode()
