"""Write a signed engine release directory from the outputs of ``make engine`` (``make release`` runs this).

Usage (with the project venv's python, which has afmpeg installed)::

    python engine/release.py --new-key ../afmpeg-release.key   # once: a signing key, kept outside the repository
    AFMPEG_RELEASE_KEY_FILE=../afmpeg-release.key python engine/release.py [--tag v0.1.0]

The secret key comes from ``--key-file``, else ``AFMPEG_RELEASE_KEY`` (the key file's text), else
``AFMPEG_RELEASE_KEY_FILE``; without one the script refuses to run. A key file inside the repository is refused.

``<out>/<tag>/`` (default ``build/release/<tag>/``) receives, for each variant (``lgpl``, ``gpl``):

* ``afmpeg-engine-<v>.wasm`` and ``afmpeg-engine-<v>.wasm.gz`` (gzip level 9, mtime 0, no file name stored)
* the engine wheel ``afmpeg_engine_<v>-<ver>+<sha12>-py3-none-any.whl``

and, for the release:

* ``provenance.json``: ``{"release": tag, "variants": {v: <the build's provenance> + "files": {name: {"sha256",
  "size"}}}}`` (the format of :mod:`afmpeg.release.provenance`)
* ``checksums.txt``: ``sha256sum`` format over every file above, ``provenance.json`` included
* ``checksums.txt.sig``: a minisign signature of ``checksums.txt`` (trusted comment
  ``timestamp:<unix time>\\tfile:checksums.txt\\thashed``), checkable by hand with
  ``minisign -Vm checksums.txt -x checksums.txt.sig -P <public key>``

Everything is deterministic except the signature's timestamp (``SOURCE_DATE_EPOCH`` pins it too). Before the
directory replaces any previous one, the release is verified the way :meth:`afmpeg.Runtime.from_release` verifies
it, with the key's public key.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

from afmpeg.release import (
    CHECKSUMS_NAME,
    PROVENANCE_NAME,
    SIGNATURE_NAME,
    Checksums,
    SecretKey,
    generate_keypair,
    sha256_file,
    sign,
    verify_bundle,
    verify_release,
)

REPO = Path(__file__).resolve().parents[1]
VARIANTS = ("lgpl", "gpl")
#: Every engine a release may carry (variant, or variant-profile): the lean ones are required, the full ones are
#: included when `make engine` built them.
ENGINES = ("lgpl", "gpl", "lgpl-full", "gpl-full")
KEY_ENV = "AFMPEG_RELEASE_KEY"
KEY_FILE_ENV = "AFMPEG_RELEASE_KEY_FILE"

NO_KEY_MESSAGE = f"""\
release.py: no signing key. A release is signed, so give the secret key by one of:
  {KEY_ENV}=<the key file's text>   {KEY_FILE_ENV}=<path>   --key-file <path>
(kept outside the repository). To make a key:
  python engine/release.py --new-key <path outside the repository>
which writes the secret key file (mode 0600) and prints the public key to pin in
src/afmpeg/release/trusted_keys.txt."""


class ReleaseError(Exception):
    """A release cannot be made; the message says why."""


def afmpeg_version() -> str:
    return tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]["version"]


def _inside_repo(path: Path) -> bool:
    try:
        path.resolve().relative_to(REPO)
    except ValueError:
        return False
    return True


def new_key(path: Path) -> int:
    """Write a new secret key file (0600, never overwriting) and print its public key."""
    if _inside_repo(path):
        raise ReleaseError(f"refusing to write a secret key inside the repository ({path}): keep it outside")
    secret, public = generate_keypair()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # FileExistsError: never overwrite a key
    with os.fdopen(fd, "w") as f:
        f.write(secret.to_text())
    os.chmod(path, 0o600)
    print(f"secret key written to {path} (mode 0600): keep it private and outside the repository")
    print(f"use it with: {KEY_FILE_ENV}={path} make release")
    print("public key (pin its base64 line in src/afmpeg/release/trusted_keys.txt; minisign -P takes it):")
    print(public.to_text(), end="")
    return 0


def load_key(key_file: str | None) -> SecretKey:
    """The signing key from --key-file, AFMPEG_RELEASE_KEY or AFMPEG_RELEASE_KEY_FILE; ReleaseError if none."""
    text: str | None = None
    source = ""
    path_text = key_file or (None if os.environ.get(KEY_ENV, "").strip() else os.environ.get(KEY_FILE_ENV))
    if key_file is None and os.environ.get(KEY_ENV, "").strip():
        text, source = os.environ[KEY_ENV], KEY_ENV
    elif path_text:
        path = Path(path_text).expanduser()
        if _inside_repo(path):
            raise ReleaseError(f"refusing a secret key file inside the repository ({path}): move it outside")
        try:
            text = path.read_text("utf-8")
        except OSError as e:
            raise ReleaseError(f"cannot read the secret key file {path}: {e}") from None
        if os.name == "posix" and path.stat().st_mode & 0o077:
            print(f"release.py: warning: {path} is readable by others; chmod 600 it", file=sys.stderr)
        source = str(path)
    if text is None:
        raise ReleaseError(NO_KEY_MESSAGE)
    try:
        return SecretKey.from_text(text)
    except ValueError as e:
        raise ReleaseError(f"{source} does not hold a release secret key: {e}") from None


def gzip_bytes(data: bytes) -> bytes:
    """Deterministic gzip: level 9, mtime 0, no file name in the header."""
    return gzip.compress(data, compresslevel=9, mtime=0)


def _one_wheel(build: Path, variant: str, module_sha256: str) -> Path:
    variant = variant.replace("-", "_")  # the wheel's distribution name
    wheels = sorted(build.glob(f"afmpeg_engine_{variant}-*-py3-none-any.whl"))
    if len(wheels) != 1:
        found = ", ".join(w.name for w in wheels) or "none"
        raise ReleaseError(f"expected one {variant} engine wheel in {build}, found {found}: run `make engine`")
    match = re.match(rf"afmpeg_engine_{variant}-[^-]+\+([0-9a-f]{{12}})-py3-none-any\.whl$", wheels[0].name)
    if not match or match.group(1) != module_sha256[:12]:
        raise ReleaseError(f"{wheels[0].name} is not the wheel of the module {module_sha256[:12]}…: run `make engine`")
    return wheels[0]


def _file_entry(path: Path) -> dict[str, Any]:
    return {"sha256": sha256_file(path), "size": path.stat().st_size}


def stage_variant(build: Path, variant: str, out: Path) -> dict[str, Any]:
    """Copy a variant's files into ``out``; returns its provenance entry (the build's, plus ``files``)."""
    module = build / f"afmpeg-engine-{variant}.wasm"
    prov_path = build / f"afmpeg-engine-{variant}.wasm.provenance.json"
    for p in (module, prov_path):
        if not p.is_file():
            raise ReleaseError(f"{p} is missing: run `make engine`")
    entry = json.loads(prov_path.read_text("utf-8"))
    if not isinstance(entry, dict):
        raise ReleaseError(f"{prov_path} is not a JSON object")
    data = module.read_bytes()
    sha = sha256_file(module)
    if entry.get("module_sha256") != sha or entry.get("module_size") != len(data):
        raise ReleaseError(f"{prov_path} does not describe {module} (stale build outputs?): run `make engine`")
    profile = entry.get("profile", "lean")
    described = entry.get("variant") if profile == "lean" else f"{entry.get('variant')}-{profile}"
    if described != variant or entry.get("module") != module.name:
        raise ReleaseError(f"{prov_path} describes {entry.get('module')} ({described}), not {module.name}")
    wheel = _one_wheel(build, variant, sha)
    raw = out / module.name
    raw.write_bytes(data)
    gz = out / (module.name + ".gz")
    gz.write_bytes(gzip_bytes(data))
    whl = out / wheel.name
    shutil.copyfile(wheel, whl)
    entry["files"] = {p.name: _file_entry(p) for p in (raw, gz, whl)}
    return entry


def make_release(build: Path, out_root: Path, tag: str, secret: SecretKey) -> Path:
    """Write ``out_root/tag/`` (replacing it only once the new one is complete and verified)."""
    final = out_root / tag
    out_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{tag}.", dir=out_root))
    try:
        engines = [e for e in ENGINES if e in VARIANTS or (build / f"afmpeg-engine-{e}.wasm").is_file()]
        variants = {e: stage_variant(build, e, staging) for e in engines}
        doc = {"release": tag, "variants": variants}
        (staging / PROVENANCE_NAME).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", "utf-8")
        assets = sorted(p for p in staging.iterdir() if p.name not in (CHECKSUMS_NAME, SIGNATURE_NAME))
        checksums = Checksums.of_files(assets).to_text().encode("utf-8")
        (staging / CHECKSUMS_NAME).write_bytes(checksums)
        timestamp = int(os.environ.get("SOURCE_DATE_EPOCH") or time.time())
        signature = sign(
            checksums,
            secret,
            trusted_comment=f"timestamp:{timestamp}\tfile:{CHECKSUMS_NAME}\thashed",
            untrusted_comment=f"signature from afmpeg release key {secret.public_key.key_id_hex}",
        )
        (staging / SIGNATURE_NAME).write_text(signature, "utf-8")
        self_check(staging, tag, secret)
        for p in staging.iterdir():
            p.chmod(0o644)
        staging.chmod(0o755)
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def self_check(directory: Path, tag: str, secret: SecretKey) -> None:
    """Verify the release as a user would: signature, checksums, provenance, every file of every variant."""
    public = secret.public_key
    sums = (directory / CHECKSUMS_NAME).read_bytes()
    sig = (directory / SIGNATURE_NAME).read_text("utf-8")
    prov = (directory / PROVENANCE_NAME).read_bytes()
    for engine in json.loads(prov)["variants"]:
        variant, _, profile = engine.partition("-")
        bundle = verify_bundle(directory, variant, profile=profile or "lean", trusted_keys=public, tag=tag, gz=True)
        if bundle.missing:
            raise ReleaseError(f"self-check: files listed but missing: {', '.join(bundle.missing)}")
        entry = json.loads(prov)["variants"][engine]
        for name in entry["files"]:
            verify_release(sums, sig, prov, public, engine, name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--tag", help="the release tag (default: v<afmpeg version>)")
    parser.add_argument("--build-dir", type=Path, default=REPO / "build", help="where `make engine` wrote its outputs")
    parser.add_argument("--out", type=Path, default=None, help="the releases directory (default: <build>/release)")
    parser.add_argument("--key-file", help=f"the secret key file (else ${KEY_ENV} or ${KEY_FILE_ENV})")
    parser.add_argument("--new-key", type=Path, metavar="FILE", help="write a new secret key file and exit")
    args = parser.parse_args(argv)
    try:
        if args.new_key is not None:
            return new_key(args.new_key.expanduser())
        secret = load_key(args.key_file)
        tag = args.tag or f"v{afmpeg_version()}"
        if not tag or tag in (".", "..") or "/" in tag or "\\" in tag or tag != tag.strip() or tag.startswith("."):
            raise ReleaseError(f"tag {tag!r} is not a release tag (a plain name such as 'v0.2.0')")
        out = make_release(args.build_dir, args.out or args.build_dir / "release", tag, secret)
    except (ReleaseError, FileExistsError) as e:
        print(e if isinstance(e, ReleaseError) else f"release.py: {e.filename} exists: not overwriting a key",
              file=sys.stderr)
        return 2
    print(f"release {tag} written to {out} (signed by key {secret.public_key.key_id_hex}):")
    for p in sorted(out.iterdir()):
        print(f"  {p.stat().st_size:>10}  {sha256_file(p)}  {p.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
