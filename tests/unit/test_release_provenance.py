"""provenance.json checks and the whole verification chain: afmpeg.release.provenance, verify_release."""

from __future__ import annotations

import copy
import gzip
import json
from typing import Any

import pytest

from afmpeg.errors import ChecksumMismatch, ProvenanceMismatch, SignatureInvalid, UnknownVariant
from afmpeg.release import (
    Checksums,
    MalformedChecksums,
    check_provenance,
    generate_keypair,
    load_provenance,
    sha256_hex,
    sign,
    verify_release,
)

MODULES = {"lgpl": b"\0asm lgpl module", "gpl": b"\0asm gpl module"}


def _release() -> dict[str, bytes]:
    """The files of a small release (no signature yet)."""
    files: dict[str, bytes] = {}
    variants: dict[str, Any] = {}
    for variant, module in MODULES.items():
        name = f"afmpeg-engine-{variant}.wasm"
        files[name] = module
        files[name + ".gz"] = gzip.compress(module, mtime=0)
        files[f"afmpeg_engine_{variant}-0.2.0-py3-none-any.whl"] = b"PK wheel " + module
        variants[variant] = {
            "module": name,
            "module_sha256": sha256_hex(module),
            "module_size": len(module),
            "variant": variant,
            "license": "LGPL-2.1-or-later" if variant == "lgpl" else "GPL-2.0-or-later",
            "h264_encoder": "libopenh264" if variant == "lgpl" else "libx264",
            "files": {
                n: {"sha256": sha256_hex(files[n]), "size": len(files[n])}
                for n in files
                if f"-{variant}." in n or f"_{variant}-" in n
            },
        }
    files["provenance.json"] = json.dumps({"release": "v0.2.0", "variants": variants}, indent=2).encode()
    return files


def _checksums(files: dict[str, bytes]) -> Checksums:
    return Checksums({n: sha256_hex(d) for n, d in files.items()})


def _doc(files: dict[str, bytes]) -> dict[str, Any]:
    return json.loads(files["provenance.json"])


def _with_doc(files: dict[str, bytes], doc: dict[str, Any]) -> dict[str, bytes]:
    out = dict(files)
    out["provenance.json"] = json.dumps(doc).encode()
    return out


# ---------------------------------------------------------------- load_provenance


def test_load_provenance_checks_its_own_checksum() -> None:
    files = _release()
    sums = _checksums(files)
    assert load_provenance(files["provenance.json"], sums) == _doc(files)
    with pytest.raises(ProvenanceMismatch, match="provenance.json: SHA-256 .* does not match checksums.txt"):
        load_provenance(files["provenance.json"].replace(b"libx264", b"libx265"), sums)
    unlisted = Checksums({n: d for n, d in sums.items() if n != "provenance.json"})
    with pytest.raises(ProvenanceMismatch, match="does not list provenance.json"):
        load_provenance(files["provenance.json"], unlisted)


@pytest.mark.parametrize(("data", "words"), [(b"{not json", "not valid JSON"), (b"[1, 2]", "not a JSON object")])
def test_load_provenance_rejects_bad_json(data: bytes, words: str) -> None:
    with pytest.raises(ProvenanceMismatch, match=words):
        load_provenance(data, Checksums({"provenance.json": sha256_hex(data)}))


# ---------------------------------------------------------------- check_provenance


@pytest.mark.parametrize("variant", ["lgpl", "gpl"])
def test_check_provenance_good(variant: str) -> None:
    files = _release()
    sums = _checksums(files)
    doc = _doc(files)
    module = f"afmpeg-engine-{variant}.wasm"
    raw = check_provenance(doc, sums, variant)  # default: the variant's raw module
    assert (raw.name, raw.variant, raw.sha256, raw.module_sha256) == (
        module,
        variant,
        sha256_hex(MODULES[variant]),
        sha256_hex(MODULES[variant]),
    )
    assert raw.gzip is False and raw.size == len(MODULES[variant]) and raw.entry["variant"] == variant
    assert raw.license == doc["variants"][variant]["license"]
    gz = check_provenance(doc, sums, variant, module + ".gz")
    assert gz.gzip is True and gz.sha256 == sha256_hex(files[module + ".gz"])
    assert gz.module_sha256 == sha256_hex(MODULES[variant])  # what the gunzipped bytes must hash to


def test_unknown_variant() -> None:
    files = _release()
    with pytest.raises(UnknownVariant, match="'full' is not in this release .*gpl, lgpl") as info:
        check_provenance(_doc(files), _checksums(files), "full")
    assert isinstance(info.value, ValueError)
    doc = _doc(files)
    del doc["variants"]["gpl"]
    with pytest.raises(UnknownVariant, match="it has: lgpl"):
        check_provenance(doc, _checksums(files), "gpl")


def test_provenance_naming_another_file() -> None:
    files = _release()
    sums = _checksums(files)
    with pytest.raises(ProvenanceMismatch, match="does not name afmpeg-engine-gpl.wasm .*variant 'lgpl'.*variant gpl"):
        check_provenance(_doc(files), sums, "lgpl", "afmpeg-engine-gpl.wasm")
    with pytest.raises(ProvenanceMismatch, match="does not name evil.wasm"):
        check_provenance(_doc(files), sums, "lgpl", "evil.wasm")
    # a provenance whose lgpl entry names the GPL module as its module
    doc = _doc(files)
    doc["variants"]["lgpl"]["module"] = "afmpeg-engine-gpl.wasm"
    with pytest.raises(ProvenanceMismatch, match="afmpeg-engine-gpl.wasm: provenance.json says SHA-256"):
        check_provenance(doc, sums, "lgpl")
    with pytest.raises(ProvenanceMismatch, match="does not name afmpeg-engine-lgpl.wasm"):
        doc["variants"]["lgpl"]["files"] = {}
        check_provenance(doc, sums, "lgpl", "afmpeg-engine-lgpl.wasm")


def test_entry_for_another_variant() -> None:
    files = _release()
    doc = _doc(files)
    doc["variants"]["lgpl"]["variant"] = "gpl"
    with pytest.raises(ProvenanceMismatch, match="entry for 'lgpl' describes variant 'gpl'"):
        check_provenance(doc, _checksums(files), "lgpl")


def test_provenance_digest_disagrees_with_checksums() -> None:
    files = _release()
    sums = _checksums(files)
    doc = _doc(files)
    doc["variants"]["lgpl"]["files"]["afmpeg-engine-lgpl.wasm.gz"]["sha256"] = "0" * 64
    with pytest.raises(ProvenanceMismatch, match="wasm.gz: provenance.json says SHA-256 0{64}, checksums.txt says"):
        check_provenance(doc, sums, "lgpl", "afmpeg-engine-lgpl.wasm.gz")
    doc = _doc(files)
    doc["variants"]["lgpl"]["module_sha256"] = "1" * 64  # fetching the .gz: its gunzipped digest must agree too
    with pytest.raises(ProvenanceMismatch, match="two different SHA-256 digests for afmpeg-engine-lgpl.wasm"):
        check_provenance(doc, sums, "lgpl", "afmpeg-engine-lgpl.wasm.gz")
    del doc["variants"]["lgpl"]["files"]["afmpeg-engine-lgpl.wasm"]
    with pytest.raises(ProvenanceMismatch, match="afmpeg-engine-lgpl.wasm: provenance.json says SHA-256 1{64}"):
        check_provenance(doc, sums, "lgpl", "afmpeg-engine-lgpl.wasm.gz")


def test_file_named_by_provenance_but_not_in_checksums() -> None:
    files = _release()
    sums = Checksums({n: d for n, d in _checksums(files).items() if not n.endswith(".gz")})
    with pytest.raises(ProvenanceMismatch, match="wasm.gz is named by provenance.json but not listed in checksums"):
        check_provenance(_doc(files), sums, "lgpl", "afmpeg-engine-lgpl.wasm.gz")


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda d: d.pop("variants"), "no 'variants' object"),
        (lambda d: d.update(variants=["lgpl"]), "no 'variants' object"),
        (lambda d: d["variants"].update(lgpl="x"), "variants.lgpl is not an object"),
        (lambda d: d["variants"]["lgpl"].pop("module"), "names no module"),
        (lambda d: d["variants"]["lgpl"].update(module_sha256="abc"), "module_sha256 is not a hex SHA-256"),
        (lambda d: d["variants"]["lgpl"].update(files=[]), "files is not an object"),
        (lambda d: d["variants"]["lgpl"]["files"].update({"x.whl": "abc"}), r"files\['x.whl'\] is not an object"),
        (lambda d: d["variants"]["lgpl"]["files"].update({"x.whl": {}}), r"files\['x.whl'\].sha256 is not a hex"),
    ],
)
def test_malformed_provenance(mutate, words: str) -> None:
    files = _release()
    doc = copy.deepcopy(_doc(files))
    mutate(doc)
    with pytest.raises(ProvenanceMismatch, match=words):
        check_provenance(doc, _checksums(files), "lgpl")


# ---------------------------------------------------------------- verify_release: the whole chain


def _signed(files: dict[str, bytes], secret) -> tuple[bytes, str]:
    checksums = _checksums(files).to_text().encode()
    return checksums, sign(checksums, secret, trusted_comment="timestamp:1700000000\tfile:checksums.txt\thashed")


def test_verify_release_good_and_rotation() -> None:
    old_secret, old_public = generate_keypair()
    new_secret, new_public = generate_keypair()
    files = _release()
    for secret, public in ((old_secret, old_public), (new_secret, new_public)):
        checksums, sig = _signed(files, secret)
        result = verify_release(checksums, sig, files["provenance.json"], [old_public, new_public], "gpl")
        assert result.signature.key_id == public.key_id_hex
        assert result.file.name == "afmpeg-engine-gpl.wasm" and result.file.license == "GPL-2.0-or-later"
        assert result.checksums.check(result.file.name, files[result.file.name]) == result.file.sha256
        assert result.provenance["release"] == "v0.2.0"
        gz = verify_release(checksums, sig, files["provenance.json"], [public], "lgpl", "afmpeg-engine-lgpl.wasm.gz")
        assert gz.file.gzip and gz.file.module_sha256 == sha256_hex(MODULES["lgpl"])


def test_verify_release_failures() -> None:
    secret, public = generate_keypair()
    _, stranger = generate_keypair()
    files = _release()
    checksums, sig = _signed(files, secret)
    prov = files["provenance.json"]
    with pytest.raises(SignatureInvalid, match="not a trusted key"):
        verify_release(checksums, sig, prov, [stranger], "lgpl")
    with pytest.raises(SignatureInvalid, match="does not verify"):  # checksums.txt altered after signing
        verify_release(checksums.replace(b"  afmpeg-engine-gpl.wasm\n", b"  x.wasm\n"), sig, prov, [public], "lgpl")
    with pytest.raises(ProvenanceMismatch, match="provenance.json: SHA-256"):
        verify_release(checksums, sig, prov + b" ", [public], "lgpl")
    with pytest.raises(UnknownVariant):
        verify_release(checksums, sig, prov, [public], "LGPL")
    with pytest.raises(ProvenanceMismatch, match="does not name"):
        verify_release(checksums, sig, prov, [public], "lgpl", "afmpeg-engine-gpl.wasm.gz")
    # a module altered after signing is caught when its bytes are checked against the verified list
    result = verify_release(checksums, sig, prov, [public], "lgpl")
    with pytest.raises(ChecksumMismatch):
        result.checksums.check(result.file.name, MODULES["lgpl"] + b"!")
    # a correctly signed but malformed checksums.txt
    bad = b"not a checksum line\n"
    with pytest.raises(MalformedChecksums):
        verify_release(bad, sign(bad, secret), prov, [public], "lgpl")
