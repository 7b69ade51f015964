"""``afmpeg module list | fetch | verify | info``: the engine modules this installation has, gets and trusts.

Kept apart from :mod:`afmpeg.cli` (jobs) because these commands handle module files and releases, not media.
:func:`add_module_parser` registers the subcommands; :func:`run_module_command` runs one with the CLI's context
(output streams, ``--json``, ``--quiet``); errors propagate to the CLI, which reports them as one line.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["add_module_parser", "run_module_command", "RELEASE_URL_ENV"]

#: The environment variable ``afmpeg module fetch`` reads a default ``--base-url`` from.
RELEASE_URL_ENV = "AFMPEG_RELEASE_URL"


def add_module_parser(sub: Any, common: argparse.ArgumentParser, epilog: str) -> None:
    """Add ``module`` and its actions to the CLI's subparsers ``sub``."""

    def add(parent: Any, name: str, help_text: str, description: str | None = None) -> argparse.ArgumentParser:
        return parent.add_parser(name, help=help_text, description=description or help_text, parents=[common],
                                 epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter)

    p = add(sub, "module", "engine modules: list, fetch, verify and describe them")
    msub = p.add_subparsers(dest="module_command", metavar="ACTION", required=True)

    q = add(msub, "list", "list the engine modules this installation can use, and which one Runtime() picks",
            "List every engine module afmpeg can see: AFMPEG_MODULE, installed engine packages, source-tree "
            "builds and the download cache, with variant, license, size and SHA-256. The module Runtime() "
            "picks (for no variant, lgpl, gpl) is marked.")
    _cache_option(q)

    q = add(msub, "fetch", "download a module from a signed release (or by URL and SHA-256) into the cache",
            "Download and verify an engine module into the content-addressed cache: from a signed release "
            f"(TAG with --base-url, or {RELEASE_URL_ENV}, or --bundle DIR), checked against the trusted keys, "
            "or from --url with its --sha256. Prints the cached module's path (use it as AFMPEG_MODULE or "
            "--module); Runtime.from_release / from_url find it there without downloading it again.")
    q.add_argument("tag", metavar="TAG", nargs="?", help="the release tag, e.g. v0.2.0")
    q.add_argument("--base-url", metavar="URL", help=f"where releases are published: files at URL/TAG/NAME "
                   f"(default: ${RELEASE_URL_ENV})")
    q.add_argument("--bundle", metavar="DIR", help="an offline release directory instead of a server")
    q.add_argument("--url", help="fetch one module file by URL instead of from a release (needs --sha256)")
    q.add_argument("--sha256", metavar="HEX", help="the module's SHA-256 after any gunzip (with --url)")
    _key_option(q)
    q.add_argument("--raw", action="store_true", help="fetch the raw .wasm instead of the .wasm.gz")
    _cache_option(q)

    q = add(msub, "verify", "verify a release directory offline: signature, provenance, checksums",
            "Verify a release directory with no network: checksums.txt.sig by a trusted key, provenance.json, "
            "the variant's module, and every listed file present.")
    q.add_argument("dir", metavar="DIR", help="the release directory (checksums.txt, checksums.txt.sig, "
                   "provenance.json, the modules)")
    _key_option(q)
    q.add_argument("--tag", help="the release tag provenance.json must record (default: any)")
    q.add_argument("--raw", action="store_true", help="check the raw .wasm instead of the .wasm.gz")

    q = add(msub, "info", "describe one module: provenance, size, SHA-256, versions and what it contains",
            "Describe an engine module: PATH, or the one --module / --variant / Runtime() would use. Shows its "
            "file facts and provenance, then loads it and asks the engine for its versions and components.")
    q.add_argument("path", metavar="PATH", nargs="?", help="a module file (default: the one Runtime() uses)")


def _cache_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cache-dir", metavar="DIR", help="the cache root (default: AFMPEG_CACHE_DIR or the user cache "
                   "directory)")


def _key_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--key", action="append", metavar="PUBKEY", help="a trusted minisign public key: its base64 "
                   "line or a .pub file; repeat for several (default: the keys pinned in afmpeg)")


def _keys(args: argparse.Namespace, usage_error: Callable[[str], Exception]) -> list[str] | None:
    """The ``--key`` values: a public key file's text when one names a file, else the text itself (a key line)."""
    if args.key is None:
        return None
    out = []
    for text in args.key:
        path = Path(text).expanduser()
        if path.is_file():
            out.append(path.read_text(encoding="utf-8", errors="replace"))
        elif text.endswith(".pub") or ("/" in text and not text.startswith("RW")):  # a key's base64 may hold "/"
            raise usage_error(f"--key {text}: no such public key file")
        else:
            out.append(text)
    return out


def run_module_command(ctx: Any, usage_error: Callable[[str], Exception]) -> int:
    """Run ``afmpeg module <action>``; ``ctx`` is the CLI's context, ``usage_error`` makes its usage errors."""
    action = ctx.args.module_command
    if action == "list":
        return _list(ctx)
    if action == "fetch":
        return _fetch(ctx, usage_error)
    if action == "verify":
        return _verify(ctx, usage_error)
    return _info(ctx)


def _size(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB"


def _default_label(chosen: tuple[str, ...]) -> str:
    return "  <- " + ", ".join("Runtime()" if c == "default" else c for c in chosen) if chosen else ""


def _list(ctx: Any) -> int:
    from .engines import list_modules

    modules = list_modules(ctx.args.cache_dir)
    if ctx.json:
        ctx.emit_json([m.to_dict() for m in modules])
        return 0
    if not modules:
        ctx.out("no engine modules found (see 'afmpeg module fetch --help', or install an engine wheel)")
        return 0
    for m in modules:
        what = " ".join(str(x) for x in (m.variant or "?", m.facts.get("profile"), m.facts.get("license")) if x)
        where = m.package or (f"release {m.release['tag']}" if m.release else "")
        chosen = _default_label(m.default_for)
        ctx.out(f"{m.origin:<13} {what:<30} {_size(m.size):>9}  {m.sha256[:12]}  {where}{chosen}")
        ctx.out(f"{'':<14}{m.path}")
    return 0


def _fetch(ctx: Any, usage_error: Callable[[str], Exception]) -> int:
    args = ctx.args
    variant = getattr(args, "variant", None) or "lgpl"
    cache_dir = args.cache_dir
    if args.url is not None:
        if args.tag or args.base_url or args.bundle or args.key:
            raise usage_error("--url fetches one file by digest: give it with --sha256 only, not TAG, --base-url, "
                              "--bundle or --key")
        if not args.sha256:
            raise usage_error("--url needs --sha256: a module is never fetched unverified")
        from .fetch import fetch_module

        got = fetch_module(args.url, sha256=args.sha256, cache_dir=cache_dir)
        return _report_fetch(ctx, {"url": args.url, "module_sha256": got.sha256, "path": got.path,
                                   "from_cache": got.from_cache})
    if args.sha256:
        raise usage_error("--sha256 goes with --url; a release's digests come from its signed checksums")
    if not args.tag:
        raise usage_error("give the release TAG (with --base-url or --bundle), or --url with --sha256")
    base_url = args.base_url or (None if args.bundle else os.environ.get(RELEASE_URL_ENV) or None)
    if (base_url is None) == (args.bundle is None):
        raise usage_error(f"give exactly one of --base-url (or set {RELEASE_URL_ENV}) and --bundle")
    from .release.acquire import acquire_release

    keys = _keys(args, usage_error)
    got = acquire_release(args.tag, variant, profile=getattr(args, "profile", None) or "lean", base_url=base_url,
                          bundle_dir=args.bundle, trusted_keys=keys, cache_dir=cache_dir, gz=not args.raw)
    return _report_fetch(ctx, {
        "release": got.tag,
        "variant": got.variant,
        "profile": got.profile,
        "signed_by": got.release.signature.key_id,
        "file": got.release.file.name,
        "license": got.release.file.license,
        "module_sha256": got.sha256,
        "path": got.path,
        "from_cache": got.from_cache,
    })


def _report_fetch(ctx: Any, facts: dict[str, Any]) -> int:
    path = facts["path"]
    if ctx.json:
        ctx.emit_json({**facts, "path": None if path is None else str(path)})
        return 0
    if "release" in facts:
        ctx.out(f"verified release {facts['release']} (variant {facts['variant']}, profile {facts['profile']}, "
                f"{facts['license']}), signed by key {facts['signed_by']}")
    ctx.out(f"module SHA-256 {facts['module_sha256']}" + (" (already cached)" if facts["from_cache"] else ""))
    if path is None:
        ctx.out("the cache could not be written: nothing was kept")
        return 1
    ctx.out(f"cached at {path}")
    return 0


def _verify(ctx: Any, usage_error: Callable[[str], Exception]) -> int:
    from .release.acquire import verify_bundle

    args = ctx.args
    keys = _keys(args, usage_error)
    got = verify_bundle(args.dir, getattr(args, "variant", None) or "lgpl",
                        profile=getattr(args, "profile", None) or "lean", trusted_keys=keys, tag=args.tag,
                        gz=not args.raw)
    module = got.module
    signature = module.release.signature
    if ctx.json:
        ctx.emit_json({
            "verified": True,
            "release": module.tag,
            "variant": module.variant,
            "profile": module.profile,
            "signed_by": signature.key_id,
            "trusted_comment": signature.trusted_comment,
            "file": module.release.file.name,
            "file_sha256": module.release.file.sha256,
            "module_sha256": module.sha256,
            "license": module.release.file.license,
            "checked": list(got.checked),
            "missing": list(got.missing),
        })
    else:
        ctx.out(f"verified release {module.tag} (variant {module.variant}, profile {module.profile}), signed by key "
                f"{signature.key_id}")
        ctx.out(f"{module.release.file.name}: module SHA-256 {module.sha256}")
        ctx.out(f"{len(got.checked)} listed file(s) match checksums.txt"
                + (f"; not in the directory: {', '.join(got.missing)}" if got.missing else ""))
    return 0


def _info(ctx: Any) -> int:
    from .engines import describe_module
    from .results import CAPABILITY_KINDS, Capabilities

    args = ctx.args
    if args.path is not None:
        args.module = args.path
    rt = ctx.runtime()
    module = describe_module(rt.module_path, "given" if args.path else "in use")
    version = rt.call({"op": "version"})
    caps = Capabilities.from_dict(rt.call({"op": "capabilities"}))
    counts = {k: len(caps.names(k)) for k in CAPABILITY_KINDS if k != "protocols"}
    h264 = [c.name for c in caps.encoders_for("h264")]
    if ctx.json:
        ctx.emit_json({
            **module.to_dict(),
            "license_reported": caps.license,
            "engine_version": version.get("engine_version"),
            "vocab_version": version.get("vocab_version"),
            "ffmpeg_version": version.get("ffmpeg_version"),
            "h264_encoders": h264,
            "counts": counts,
            "compile": {"compiled": rt.compile_info.compiled, "seconds": round(rt.compile_info.seconds, 3)},
        })
        return 0
    ctx.out(f"module   {module.path}")
    ctx.out(f"size     {module.size:,} bytes   SHA-256 {module.sha256}")
    facts = ", ".join(f"{k} {v}" for k, v in module.facts.items()) or "no provenance beside the module"
    ctx.out(f"build    {facts}")
    ctx.out(f"engine   {version.get('engine_version')} (vocabulary {version.get('vocab_version')}), FFmpeg "
            f"{version.get('ffmpeg_version')}, {caps.license}")
    ctx.out(f"h264     {', '.join(h264) or 'no H.264 encoder'}")
    ctx.out("contains " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in counts.items()))
    return 0
