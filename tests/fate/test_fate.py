"""FFmpeg's FATE tests, reproduced through afmpeg job specs (see runner.py).

The selection runs once per session on the GPL full module (the one with every component); the report goes to
build/fate-report.json. The suite fails when:

- fewer tests pass than the floor in floor.txt;
- a test listed in expected-pass.txt does not pass (a regression);
- a test fails without being explained in known-failures.txt, or an explained one no longer fails;
- on the lean LGPL module (the default engine), a test that passes on the full one and whose components the lean
  module has does not pass there too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .runner import REPO, run

HERE = Path(__file__).resolve().parent
MODULE = REPO / "build" / "afmpeg-engine-gpl-full.wasm"
LEAN_MODULE = REPO / "build" / "afmpeg-engine-lgpl.wasm"
REPORT = REPO / "build" / "fate-report.json"


def _listed(name: str) -> dict[str, str]:
    """``name  # why`` lines of a list file: {name: why}."""
    out = {}
    for line in (HERE / name).read_text().splitlines():
        test, _, why = line.partition("#")
        if test.strip():
            out[test.strip()] = why.strip()
    return out


EXPECTED_PASS = sorted(_listed("expected-pass.txt"))
KNOWN_FAILURES = _listed("known-failures.txt")


@pytest.fixture(scope="session")
def report() -> dict[str, Any]:
    if not MODULE.is_file():
        pytest.fail(f"{MODULE} is missing: run `make engine`")
    got = run(MODULE)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(got, indent=1) + "\n")
    return got


def _status(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t["name"]: t for t in report["tests"]}


def test_pass_count_is_at_least_the_floor(report: dict[str, Any]) -> None:
    floor = int((HERE / "floor.txt").read_text().split()[0])
    assert report["counts"].get("pass", 0) >= floor, report["counts"]


@pytest.mark.parametrize("name", EXPECTED_PASS)
def test_expected_pass(report: dict[str, Any], name: str) -> None:
    outcome = _status(report).get(name)
    assert outcome is not None, f"{name} is no longer selected"
    assert outcome["status"] == "pass", outcome["reason"]


def test_every_failure_is_explained(report: dict[str, Any]) -> None:
    failing = {n for n, t in _status(report).items() if t["status"] == "fail"}
    unexplained = sorted(failing - set(KNOWN_FAILURES))
    fixed = sorted(set(KNOWN_FAILURES) - failing)
    assert not unexplained, "failures not in known-failures.txt: " + ", ".join(
        f"{n} ({_status(report)[n]['reason']})" for n in unexplained)
    assert not fixed, f"listed as failing but not failing any more (update known-failures.txt): {fixed}"


def test_not_applicable_names_what_is_missing(report: dict[str, Any]) -> None:
    for t in report["tests"]:
        if t["status"] == "not-applicable":
            assert t["reason"].startswith(("not in the module:", "engine:")), t
        if t["status"] == "untranslated":
            assert t["reason"], t


@pytest.fixture(scope="session")
def lean_report() -> dict[str, Any]:
    if not LEAN_MODULE.is_file():
        pytest.fail(f"{LEAN_MODULE} is missing: run `make engine`")
    return run(LEAN_MODULE)


def test_the_lean_module_passes_what_it_has_the_components_for(report: dict[str, Any],
                                                                lean_report: dict[str, Any]) -> None:
    lean = _status(lean_report)
    applicable = [n for n, t in _status(report).items()
                  if t["status"] == "pass" and lean[n]["status"] != "not-applicable"]
    assert len(applicable) >= 100, lean_report["counts"]  # the lean build covers a good part of the selection
    wrong = {n: lean[n] for n in applicable if lean[n]["status"] != "pass"}
    assert not wrong, wrong
