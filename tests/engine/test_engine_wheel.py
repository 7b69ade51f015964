"""Engine wheels (engine/wheel.py) and how Runtime() discovers an installed engine (DESIGN §5).

The wheels are built from the real module of `make engine`, installed for real with pip (``--target`` into a
directory under tmp_path, which is then put on sys.path, the cheapest install that entry points see).
"""

from __future__ import annotations

import base64
import configparser
import csv
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import afmpeg
from afmpeg import runtime as runtime_mod
from afmpeg.errors import ModuleNotFound, UnknownVariant

REPO = Path(__file__).resolve().parents[2]
# the build's provenance of the LGPL module (per-variant file when the build writes one)
_PER_VARIANT = REPO / "build" / "afmpeg-engine-lgpl.wasm.provenance.json"
PROVENANCE = _PER_VARIANT if _PER_VARIANT.exists() else REPO / "build" / "provenance.json"


def _load_wheel_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("afmpeg_engine_wheel", REPO / "engine" / "wheel.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def wheel_script() -> ModuleType:
    return _load_wheel_script()


@pytest.fixture(scope="module")
def lgpl_provenance(module_path: Path) -> Path:
    prov = json.loads(PROVENANCE.read_text())
    sha = hashlib.sha256(module_path.read_bytes()).hexdigest()
    if prov.get("variant") != "lgpl" or prov.get("module_sha256") != sha:
        pytest.fail(f"{PROVENANCE} does not describe {module_path}: run `make engine`")
    return PROVENANCE


@pytest.fixture(scope="module")
def lgpl_wheel(wheel_script: ModuleType, module_path: Path, lgpl_provenance: Path, tmp_path_factory) -> Path:
    return wheel_script.build_wheel(module_path, lgpl_provenance, tmp_path_factory.mktemp("wheel"))


def _pip_install(wheel: Path, target: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--disable-pip-version-check",
         "--target", str(target), str(wheel)],
        check=True,
    )
    return target


@pytest.fixture(scope="module")
def lgpl_site(lgpl_wheel: Path, tmp_path_factory) -> Path:
    """A directory the LGPL engine wheel was pip-installed into."""
    return _pip_install(lgpl_wheel, tmp_path_factory.mktemp("site-lgpl"))


@pytest.fixture(scope="module")
def gpl_site(wheel_script: ModuleType, module_path: Path, tmp_path_factory) -> Path:
    """A GPL engine package for discovery tests: the LGPL module relabelled ``gpl`` (its bytes do not matter here)."""
    work = tmp_path_factory.mktemp("gpl")
    prov = json.loads(PROVENANCE.read_text())
    prov.update(variant="gpl", module="afmpeg-engine-gpl.wasm", license="GPL-2.0-or-later")
    (work / "provenance.json").write_text(json.dumps(prov))
    wheel = wheel_script.build_wheel(module_path, work / "provenance.json", work)
    assert wheel.name.startswith("afmpeg_engine_gpl-")
    return _pip_install(wheel, work / "site")


@pytest.fixture(autouse=True)
def _fresh_engine_imports(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test imports engine packages from its own sys.path, and AFMPEG_MODULE is unset unless a test sets it."""
    monkeypatch.delenv("AFMPEG_MODULE", raising=False)

    def forget() -> None:
        for name in [n for n in sys.modules if n.startswith("afmpeg_engine_")]:
            del sys.modules[name]

    forget()
    yield
    forget()


def _only_installed_in(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *sites: Path) -> None:
    """Discovery sees exactly the engine packages installed in ``sites`` and no source-tree build."""
    for site in reversed(sites):
        monkeypatch.syspath_prepend(str(site))

    def entry_points() -> list[importlib.metadata.EntryPoint]:
        dists = importlib.metadata.distributions(path=[str(s) for s in sites])
        return [ep for d in dists for ep in d.entry_points if ep.group == "afmpeg.engines"]

    monkeypatch.setattr(runtime_mod, "_engine_entry_points", entry_points)
    monkeypatch.setattr(runtime_mod, "_repo_build_module", lambda: tmp_path / "no-build" / "afmpeg-engine-lgpl.wasm")


def _installed_path(site: Path, variant: str) -> Path:
    return site / f"afmpeg_engine_{variant}" / f"afmpeg-engine-{variant}.wasm"


# ---------------------------------------------------------------- the wheel


def test_wheel_name_and_bytes_are_deterministic(lgpl_wheel: Path, module_path: Path, lgpl_provenance: Path,
                                                tmp_path: Path) -> None:
    sha = hashlib.sha256(module_path.read_bytes()).hexdigest()
    assert lgpl_wheel.name == f"afmpeg_engine_lgpl-{afmpeg.__version__}+{sha[:12]}-py3-none-any.whl"
    # the same module again, through the CLI, from a copy with another name and modification time
    copy = tmp_path / "copy.wasm"
    shutil.copyfile(module_path, copy)
    os.utime(copy, (1_000_000_000, 1_000_000_000))
    out = tmp_path / "out"
    res = subprocess.run(
        [sys.executable, str(REPO / "engine" / "wheel.py"), "--module", str(copy), "--provenance",
         str(lgpl_provenance), "--out", str(out)],
        capture_output=True, text=True, check=False,
    )
    assert res.returncode == 0, res.stderr
    again = out / lgpl_wheel.name
    assert again.read_bytes() == lgpl_wheel.read_bytes()
    assert hashlib.sha256(again.read_bytes()).hexdigest() in res.stdout


def test_wheel_contents_and_record(lgpl_wheel: Path, module_path: Path, lgpl_provenance: Path) -> None:
    with zipfile.ZipFile(lgpl_wheel) as zf:
        names = zf.namelist()
        files = {n: zf.read(n) for n in names}
        infos = zf.infolist()
    distinfo = lgpl_wheel.name.split("-py3")[0] + ".dist-info"
    assert all(n.startswith(("afmpeg_engine_lgpl/", distinfo + "/")) for n in names)
    assert names[-1] == f"{distinfo}/RECORD"
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    # RECORD lists every other file with its urlsafe-base64 SHA-256 and size, and itself without a hash
    rows = list(csv.reader(io.StringIO(files[f"{distinfo}/RECORD"].decode())))
    assert sorted(r[0] for r in rows) == sorted(names)
    for name, digest, size in rows:
        if name.endswith("/RECORD"):
            assert digest == size == ""
            continue
        expect = base64.urlsafe_b64encode(hashlib.sha256(files[name]).digest()).rstrip(b"=").decode()
        assert digest == f"sha256={expect}", name
        assert int(size) == len(files[name]), name
    # the module, its provenance, the license texts
    assert files["afmpeg_engine_lgpl/afmpeg-engine-lgpl.wasm"] == module_path.read_bytes()
    assert files["afmpeg_engine_lgpl/provenance.json"] == lgpl_provenance.read_bytes()
    lgpl = files["afmpeg_engine_lgpl/licenses/ffmpeg/COPYING.LGPLv2.1"].decode()
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in lgpl and "Version 2.1" in lgpl
    assert b"FFmpeg" in files["afmpeg_engine_lgpl/licenses/ffmpeg/LICENSE.md"]
    assert b"Cisco Systems" in files["afmpeg_engine_lgpl/licenses/openh264/LICENSE"]
    assert b"Jean-loup Gailly and Mark Adler" in files["afmpeg_engine_lgpl/licenses/zlib/LICENSE"]
    assert "afmpeg_engine_lgpl/licenses/wasi-libc/LICENSE-MIT" in files
    assert not any("GPLv" in n and "LGPL" not in n for n in names)  # no GPL text in the LGPL wheel
    assert b"LGPL-2.1-or-later" in files["afmpeg_engine_lgpl/NOTICE.txt"]
    # metadata and the entry point
    meta = files[f"{distinfo}/METADATA"].decode()
    assert "Name: afmpeg-engine-lgpl\n" in meta and f"Version: {afmpeg.__version__}+" in meta
    assert "License-Expression: LGPL-2.1-or-later AND " in meta
    assert "License-File: ffmpeg/COPYING.LGPLv2.1" in meta
    assert f"{distinfo}/licenses/ffmpeg/COPYING.LGPLv2.1" in files
    assert "Tag: py3-none-any" in files[f"{distinfo}/WHEEL"].decode()
    eps = configparser.ConfigParser()
    eps.read_string(files[f"{distinfo}/entry_points.txt"].decode())
    assert dict(eps["afmpeg.engines"]) == {"lgpl": "afmpeg_engine_lgpl:module_path"}


def test_wheel_refuses_a_provenance_of_another_module(wheel_script: ModuleType, module_path: Path,
                                                      tmp_path: Path) -> None:
    prov = json.loads(PROVENANCE.read_text())
    prov["module_sha256"] = "0" * 64
    (tmp_path / "provenance.json").write_text(json.dumps(prov))
    with pytest.raises(wheel_script.WheelError, match="is not the module"):
        wheel_script.build_wheel(module_path, tmp_path / "provenance.json", tmp_path)
    assert not list(tmp_path.glob("*.whl"))


# ---------------------------------------------------------------- discovery


def test_runtime_uses_the_installed_engine(lgpl_site: Path, module_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(lgpl_site))  # the real entry-point scan, source tree and all
    data, where = afmpeg.find_module()
    assert Path(where) == _installed_path(lgpl_site, "lgpl")
    assert data == module_path.read_bytes()
    import afmpeg_engine_lgpl as pkg

    assert pkg.VARIANT == "lgpl" and pkg.module_path() == pkg.MODULE_PATH == _installed_path(lgpl_site, "lgpl")
    assert pkg.PROVENANCE["module_sha256"] == pkg.SHA256 == hashlib.sha256(data).hexdigest()
    rt = afmpeg.Runtime()
    assert rt.module_path == str(_installed_path(lgpl_site, "lgpl"))
    assert rt.version().ffmpeg_version == pkg.PROVENANCE["ffmpeg_version"]


def test_precedence_explicit_then_env_then_installed(lgpl_site: Path, module_path: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    _only_installed_in(monkeypatch, tmp_path, lgpl_site)
    explicit, env = tmp_path / "explicit.wasm", tmp_path / "env.wasm"
    shutil.copyfile(module_path, explicit)
    shutil.copyfile(module_path, env)
    monkeypatch.setenv("AFMPEG_MODULE", str(env))
    assert afmpeg.find_module(explicit)[1] == str(explicit)
    assert afmpeg.find_module()[1] == str(env)
    assert afmpeg.find_module(variant="gpl")[1] == str(env)  # AFMPEG_MODULE is used as given
    monkeypatch.delenv("AFMPEG_MODULE")
    assert afmpeg.find_module()[1] == str(_installed_path(lgpl_site, "lgpl"))


def test_gpl_asked_but_not_installed(lgpl_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _only_installed_in(monkeypatch, tmp_path, lgpl_site)
    assert afmpeg.find_module(variant="lgpl")[1] == str(_installed_path(lgpl_site, "lgpl"))
    with pytest.raises(ModuleNotFound) as info:
        afmpeg.find_module(variant="gpl")
    msg = str(info.value)
    assert "'gpl' variant" in msg
    assert "pip install afmpeg_engine_gpl-" in msg and "afmpeg-engine-gpl" in msg
    assert "AFMPEG_MODULE" in msg and "make engine" in msg and "build/afmpeg-engine-gpl.wasm" in msg
    assert "Runtime.from_url" in msg and "Runtime.from_release(tag, 'gpl'" in msg
    assert "lgpl" not in msg.replace("'gpl'", "")  # it names only the variant asked for
    with pytest.raises(ModuleNotFound, match="afmpeg_engine_gpl"):
        afmpeg.Runtime(variant="gpl")


def test_lgpl_preferred_gpl_when_asked_or_alone(lgpl_site: Path, gpl_site: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as m:
        _only_installed_in(m, tmp_path, gpl_site, lgpl_site)  # GPL first on the path: LGPL is still preferred
        assert afmpeg.find_module()[1] == str(_installed_path(lgpl_site, "lgpl"))
        assert afmpeg.find_module(variant="gpl")[1] == str(_installed_path(gpl_site, "gpl"))
    with monkeypatch.context() as m:
        _only_installed_in(m, tmp_path, gpl_site)  # only the GPL engine installed: used without asking
        assert afmpeg.find_module()[1] == str(_installed_path(gpl_site, "gpl"))
        with pytest.raises(ModuleNotFound, match="'lgpl' variant"):
            afmpeg.find_module(variant="lgpl")


def test_source_tree_build_per_variant(tmp_path: Path, module_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _only_installed_in(monkeypatch, tmp_path)  # nothing installed
    build = tmp_path / "no-build"
    build.mkdir()
    shutil.copyfile(module_path, build / "afmpeg-engine-gpl.wasm")
    assert afmpeg.find_module()[1] == str(build / "afmpeg-engine-gpl.wasm")
    assert afmpeg.find_module(variant="gpl")[1] == str(build / "afmpeg-engine-gpl.wasm")
    with pytest.raises(ModuleNotFound, match="make engine"):
        afmpeg.find_module(variant="lgpl")


def test_a_damaged_installed_engine_is_refused(lgpl_site: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    shutil.copytree(lgpl_site, site)
    wasm = _installed_path(site, "lgpl")
    data = bytearray(wasm.read_bytes())
    data[len(data) // 2] ^= 0xFF
    wasm.write_bytes(bytes(data))
    _only_installed_in(monkeypatch, tmp_path, site)
    with pytest.raises(ModuleNotFound, match="afmpeg-engine-lgpl.*reinstall"):
        afmpeg.find_module()


def test_unknown_variant(module_path: Path) -> None:
    for call in (lambda: afmpeg.find_module(variant="nonfree"), lambda: afmpeg.Runtime(variant="nonfree"),
                 lambda: afmpeg.Runtime(module_path, variant="LGPL")):
        with pytest.raises(UnknownVariant, match="unknown engine variant .*the variants are: lgpl, gpl") as info:
            call()
        assert isinstance(info.value, ValueError)
