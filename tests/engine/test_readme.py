"""The README's ```python blocks run as they stand, in order, in an empty folder.

Blocks fenced as ```py are illustrations that need something this machine lacks (an S3 bucket) and are
not run; the remote-filesystem tests cover that path.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import afmpeg

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.M | re.S)


def _blocks() -> list[str]:
    return BLOCK.findall(README.read_text())


def test_the_readme_has_runnable_examples() -> None:
    assert len(_blocks()) >= 6


def test_the_readme_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AFMPEG_MODULE", str(module_path))
    namespace: dict[str, object] = {"__name__": "readme"}
    for number, block in enumerate(_blocks(), 1):
        try:
            exec(compile(block, f"README.md block {number}", "exec"), namespace)
        except Exception as exc:  # name the block: the traceback alone points into exec'd text
            raise AssertionError(f"README block {number} failed: {exc!r}\n{block}") from exc
    # What the tour says it makes is there and is what it says it is.
    for name in ("small.mp4", "cut.mp4", "sound.m4a", "twice.mp4", "reel.mp4", "flipped.mp4", "ramp.mp4",
                 "again.mp4", "part0.m4a", "part2.m4a"):
        assert (tmp_path / name).stat().st_size > 0, name
    small = afmpeg.probe(str(tmp_path / "small.mp4"))
    assert (small.video.width, small.video.height) == (320, 180)
    cut = afmpeg.probe(str(tmp_path / "cut.mp4"))
    assert cut.duration == pytest.approx(2.0, abs=0.1)
    reel = afmpeg.probe(str(tmp_path / "reel.mp4"))
    assert (reel.video.codec, reel.audio.codec) == ("h264", "aac")
    assert not (tmp_path / "missing.mp4").exists()
