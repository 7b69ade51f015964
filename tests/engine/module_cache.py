"""Helpers for tests that fetch engine modules into a content-addressed cache (by URL or from a release)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from afmpeg import compile_cache
from afmpeg.fetch import module_cache_dir


def cache_entries(root: Path) -> list[Path]:
    """The files in ``root``'s module cache."""
    directory = module_cache_dir(root)
    return sorted(directory.iterdir()) if directory.exists() else []


def refuse_compiling(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any attempt to compile a module fail the test (a module that failed verification must not get there)."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an unverified module reached the compiler")

    monkeypatch.setattr(compile_cache, "load_or_compile", refuse)
