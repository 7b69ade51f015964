"""checksums.txt in sha256sum format: afmpeg.release.checksums."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from afmpeg.errors import ChecksumMismatch, ModuleVerificationError
from afmpeg.release import Checksums, MalformedChecksums, check_file_name, sha256_file, sha256_hex

A = hashlib.sha256(b"a").hexdigest()
B = hashlib.sha256(b"b").hexdigest()


def test_parse_text_and_binary_mode_lines() -> None:
    text = f"{A}  afmpeg-engine-lgpl.wasm\n{B.upper()} *afmpeg-engine-lgpl.wasm.gz\n\n"
    sums = Checksums.parse(text)
    assert dict(sums) == {"afmpeg-engine-lgpl.wasm": A, "afmpeg-engine-lgpl.wasm.gz": B}
    assert sums.digest("afmpeg-engine-lgpl.wasm.gz") == B  # upper-case hex is normalised
    assert len(sums) == 2 and "afmpeg-engine-lgpl.wasm" in sums
    assert Checksums.parse(text.encode()) == sums
    assert Checksums.parse(text.replace("\n", "\r\n")) == sums
    assert Checksums.parse("") == Checksums()


def test_write_is_sorted_sha256sum_text_and_roundtrips() -> None:
    sums = Checksums({"z.wasm": A, "provenance.json": B, "a file.whl": A.upper()})
    text = sums.to_text()
    assert text == f"{A}  a file.whl\n{B}  provenance.json\n{A}  z.wasm\n"
    assert Checksums.parse(text) == sums


def test_sha256sum_checks_what_we_write(tmp_path: Path) -> None:
    if shutil.which("sha256sum") is None:
        pytest.fail("sha256sum (coreutils) is missing")
    (tmp_path / "one.wasm").write_bytes(b"one")
    (tmp_path / "provenance.json").write_bytes(b"{}")
    sums = Checksums.of_files(sorted(tmp_path.iterdir()))
    assert sums["one.wasm"] == sha256_hex(b"one") == sha256_file(tmp_path / "one.wasm")
    (tmp_path / "checksums.txt").write_text(sums.to_text())
    proc = subprocess.run(["sha256sum", "-c", "--strict", "checksums.txt"], cwd=tmp_path, capture_output=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    native = subprocess.run(["sha256sum", "one.wasm", "provenance.json"], cwd=tmp_path, capture_output=True, text=True)
    assert Checksums.parse(native.stdout) == sums
    binary = subprocess.run(["sha256sum", "-b", "one.wasm"], cwd=tmp_path, capture_output=True, text=True)
    assert Checksums.parse(binary.stdout)["one.wasm"] == sums["one.wasm"]


def test_lookup_and_check() -> None:
    sums = Checksums({"m.wasm": sha256_hex(b"module")})
    assert sums.check("m.wasm", b"module") == sha256_hex(b"module")
    with pytest.raises(ChecksumMismatch, match="does not match checksums.txt") as info:
        sums.check("m.wasm", b"module, altered")
    assert info.value.expected == sha256_hex(b"module") and info.value.actual == sha256_hex(b"module, altered")
    with pytest.raises(ChecksumMismatch, match="other.wasm is not listed"):
        sums.digest("other.wasm")
    with pytest.raises(ChecksumMismatch, match="not listed"):
        sums.check("other.wasm", b"module")
    with pytest.raises(KeyError):
        sums["other.wasm"]


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (f"{A} m.wasm", "line 2 is not"),  # one space: neither text nor binary mode
        (f"{A}\tm.wasm", "line 2 is not"),
        (f"{A[:63]}  m.wasm", "line 2 is not"),
        (f"{A}0  m.wasm", "line 2 is not"),
        (f"{A[:-1]}g  m.wasm", "line 2 is not"),
        (f"{A}  ", "line 2 is not"),
        ("just some words", "line 2 is not"),
        (f"\\{A}  a\\nb.wasm", "line 2 is not"),  # sha256sum's escaped-name form
        (f"{A}  dir/m.wasm", "not a plain file name"),
        (f"{A}  ../m.wasm", "not a plain file name"),
        (f"{A}  ..", "not a plain file name"),
        (f"{A}  .", "not a plain file name"),
        (f"{A}  /etc/passwd", "not a plain file name"),
        (f"{A}  a\\b.wasm", "not a plain file name"),
        (f"{A}   m.wasm", "not a plain file name"),  # a leading space in the name
        (f"{A}  m.wasm ", "not a plain file name"),
        (f"{A}  m\x00.wasm", "not a plain file name"),
        (f"{B}  first.wasm", "first.wasm is listed twice"),
        (f"{A}  first.wasm", "first.wasm is listed twice"),
    ],
)
def test_malformed_lines(line: str, words: str) -> None:
    with pytest.raises(MalformedChecksums, match=words) as info:
        Checksums.parse(f"{A}  first.wasm\n{line}\n")
    assert isinstance(info.value, ModuleVerificationError) and isinstance(info.value, ValueError)


def test_not_utf8() -> None:
    with pytest.raises(MalformedChecksums, match="UTF-8"):
        Checksums.parse(A.encode() + b"  \xff.wasm\n")


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a\\b", " a", "a\n", "a\x7f"])
def test_writing_refuses_names_that_are_not_plain(name: str) -> None:
    with pytest.raises(MalformedChecksums):
        check_file_name(name)
    with pytest.raises(MalformedChecksums):
        Checksums({name: A})


def test_writing_refuses_bad_digests() -> None:
    with pytest.raises(MalformedChecksums, match="not a hex SHA-256"):
        Checksums({"m.wasm": "abc"})
    with pytest.raises(MalformedChecksums, match="listed twice"):
        Checksums([("m.wasm", A), ("m.wasm", A)])
