"""Every public name of the package carries a docstring (the API reference is read from them)."""

from __future__ import annotations

import inspect

import afmpeg


def _public_members(obj: type) -> list[tuple[str, object]]:
    members = []
    for name, value in vars(obj).items():
        if name.startswith("_"):
            continue
        if isinstance(value, staticmethod | classmethod):
            value = value.__func__
        if inspect.isfunction(value) or isinstance(value, property):
            members.append((name, value))
    return members


def test_every_exported_name_is_documented() -> None:
    missing = []
    for name in afmpeg.__all__:
        value = getattr(afmpeg, name)
        if not (inspect.isclass(value) or inspect.isfunction(value)):
            continue
        if not (value.__doc__ or "").strip():
            missing.append(name)
        if inspect.isclass(value) and value.__module__.startswith("afmpeg"):
            for member, obj in _public_members(value):
                if not (getattr(obj, "__doc__", "") or "").strip():
                    missing.append(f"{name}.{member}")
    assert not missing, f"public names without a docstring: {missing}"


def test_exports_resolve() -> None:
    assert len(afmpeg.__all__) == len(set(afmpeg.__all__))
    for name in afmpeg.__all__:
        assert hasattr(afmpeg, name), name
