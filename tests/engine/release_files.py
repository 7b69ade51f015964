"""A minimal signed release written by tests: one variant's module (raw and gzipped), provenance, checksums."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from afmpeg.release import Checksums, PublicKey, SecretKey, generate_keypair, sha256_hex, sign


def signed_release(directory: Path, module: bytes, tag: str = "v0.0.0-cli") -> tuple[SecretKey, PublicKey]:
    """A one-variant (lgpl) release of ``module`` in ``directory``, signed with a fresh key; returns the key pair."""
    secret, public = generate_keypair()
    directory.mkdir(parents=True)
    files = {"afmpeg-engine-lgpl.wasm": module, "afmpeg-engine-lgpl.wasm.gz": gzip.compress(module, mtime=0)}
    for name, data in files.items():
        (directory / name).write_bytes(data)
    doc = {"release": tag, "variants": {"lgpl": {
        "variant": "lgpl", "profile": "lean", "license": "LGPL-2.1-or-later", "module": "afmpeg-engine-lgpl.wasm",
        "module_sha256": sha256_hex(module), "module_size": len(module),
        "files": {n: {"sha256": sha256_hex(d), "size": len(d)} for n, d in files.items()}}}}
    (directory / "provenance.json").write_text(json.dumps(doc))
    sign_dir(directory, secret)
    return secret, public


def sign_dir(directory: Path, secret: SecretKey) -> None:
    """(Re)write checksums.txt over every other file of the directory and sign it, as the release pipeline does."""
    names = sorted(p for p in directory.iterdir() if p.name not in ("checksums.txt", "checksums.txt.sig"))
    text = Checksums.of_files(names).to_text()
    (directory / "checksums.txt").write_text(text)
    (directory / "checksums.txt.sig").write_text(sign(text.encode(), secret, trusted_comment="file:checksums.txt"))
