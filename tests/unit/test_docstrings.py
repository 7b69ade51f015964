"""Every public name of the package carries a docstring (the API reference is read from them)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

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


def _modules() -> list[str]:
    names = ["afmpeg"]
    for info in pkgutil.walk_packages(afmpeg.__path__, "afmpeg."):
        if not info.name.rsplit(".", 1)[-1].startswith("_") and info.name != "afmpeg.__main__":
            names.append(info.name)
    return names


def test_every_module_and_its_exports_are_documented() -> None:
    missing = []
    for module_name in _modules():
        module = importlib.import_module(module_name)
        if not (module.__doc__ or "").strip():
            missing.append(module_name)
        for name in getattr(module, "__all__", []):
            value = getattr(module, name)
            if not (inspect.isclass(value) or inspect.isfunction(value)):
                continue
            if not (value.__doc__ or "").strip():
                missing.append(f"{module_name}.{name}")
            if inspect.isclass(value) and value.__module__.startswith("afmpeg"):
                for member, obj in _public_members(value):
                    if not (getattr(obj, "__doc__", "") or "").strip():
                        missing.append(f"{module_name}.{name}.{member}")
    assert len(_modules()) > 20
    assert not missing, f"public names without a docstring: {sorted(set(missing))}"
