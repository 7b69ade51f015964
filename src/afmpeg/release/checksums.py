"""A release's ``checksums.txt``: SHA-256 digests in ``sha256sum`` format, one file per line.

Each line is ``<64 hex digits>  <name>`` (text mode, what ``sha256sum`` writes) or ``<64 hex digits> *<name>``
(binary mode); blank lines are ignored. Parsing is strict, because this file is what the signature vouches for:
a line in any other form, a name that is not a plain file name (empty, ``.``, ``..``, containing ``/``, ``\\``
or a control character, with leading or trailing spaces), sha256sum's backslash-escaped names, or the same name
twice raise :class:`MalformedChecksums` (a :class:`~afmpeg.errors.ModuleVerificationError` and a
:class:`ValueError`). A name that is listed but whose bytes differ raises
:class:`~afmpeg.errors.ChecksumMismatch`, as does a name that is not listed at all (nothing can vouch for it).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from ..errors import ChecksumMismatch, MalformedChecksums

__all__ = [
    "Checksums",
    "MalformedChecksums",
    "check_file_name",
    "is_plain_name",
    "sha256_hex",
    "sha256_file",
]

_LINE = re.compile(r"^([0-9a-fA-F]{64}) ([ *])(.+)$")
_HEX = re.compile(r"^[0-9a-f]{64}$")


def sha256_hex(data: bytes) -> str:
    """The lower-case hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    """The lower-case hex SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def is_plain_name(name: str) -> bool:
    """True for a plain file name: not empty, no directory part, not ``.``/``..``, no surrounding spaces or
    control characters."""
    return (
        bool(name)
        and name not in (".", "..")
        and "/" not in name
        and "\\" not in name
        and name == name.strip()
        and not any(ord(c) < 32 or ord(c) == 127 for c in name)
    )


def check_file_name(name: str) -> str:
    """``name`` if it is a plain file name (see :func:`is_plain_name`), else :class:`MalformedChecksums`."""
    if not is_plain_name(name):
        raise MalformedChecksums(f"{name!r} is not a plain file name")
    return name


class Checksums(Mapping[str, str]):
    """The digests of a release's files, by file name (lower-case hex SHA-256); a read-only mapping."""

    def __init__(self, digests: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        items = digests.items() if isinstance(digests, Mapping) else digests
        self._digests: dict[str, str] = {}
        for name, digest in items:
            check_file_name(name)
            digest = digest.lower()
            if not _HEX.match(digest):
                raise MalformedChecksums(f"{name}: {digest!r} is not a hex SHA-256 digest")
            if name in self._digests:
                raise MalformedChecksums(f"{name} is listed twice")
            self._digests[name] = digest

    @classmethod
    def parse(cls, text: str | bytes) -> Checksums:
        """Read ``checksums.txt`` (strict; see the module docs)."""
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError as e:
                raise MalformedChecksums("checksums.txt is not UTF-8 text") from e
        entries: list[tuple[str, str]] = []
        for number, line in enumerate(text.split("\n"), 1):
            line = line.removesuffix("\r")
            if not line.strip():
                continue
            match = _LINE.match(line)
            if not match:
                raise MalformedChecksums(f"checksums.txt line {number} is not '<sha256 hex>  <name>': {line[:100]!r}")
            digest, _mode, name = match.groups()
            try:
                check_file_name(name)
            except MalformedChecksums as e:
                raise MalformedChecksums(f"checksums.txt line {number}: {e}") from None
            entries.append((name, digest))
        try:
            return cls(entries)
        except MalformedChecksums as e:
            raise MalformedChecksums(f"checksums.txt: {e}") from None

    @classmethod
    def of_files(cls, paths: Iterable[str | Path]) -> Checksums:
        """The digests of files on disk, under their base names."""
        return cls((Path(p).name, sha256_file(p)) for p in paths)

    def to_text(self) -> str:
        """The ``sha256sum`` text form, sorted by name (``sha256sum -c checksums.txt`` checks it)."""
        return "".join(f"{self._digests[name]}  {name}\n" for name in sorted(self._digests))

    def digest(self, name: str) -> str:
        """The listed digest of ``name``; :class:`~afmpeg.errors.ChecksumMismatch` when it is not listed."""
        try:
            return self._digests[name]
        except KeyError:
            raise ChecksumMismatch(f"{name} is not listed in checksums.txt") from None

    def check(self, name: str, data: bytes) -> str:
        """Check ``data`` against the digest listed for ``name``; returns the digest, else ``ChecksumMismatch``."""
        expected = self.digest(name)
        actual = sha256_hex(data)
        if actual != expected:
            raise ChecksumMismatch(
                f"{name}: SHA-256 {actual} does not match checksums.txt ({expected})",
                expected=expected,
                actual=actual,
            )
        return expected

    def __getitem__(self, name: str) -> str:
        return self._digests[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._digests)

    def __len__(self) -> int:
        return len(self._digests)

    def __repr__(self) -> str:
        return f"Checksums({self._digests!r})"
