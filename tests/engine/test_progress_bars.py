"""Ready progress bars: afmpeg.progress_bar("tqdm" | "rich") as a job's progress callback."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

import afmpeg

from .conftest import make_clip_job


def transcode(src: str, dst: str = "out.mp4") -> dict:
    return {"op": "process", "inputs": [{"path": src}],
            "outputs": [{"path": dst, "video_codec": "libopenh264", "audio_codec": "aac"}]}


@pytest.fixture
def five(runtime: afmpeg.Runtime, fs: afmpeg.MemoryFS) -> str:
    runtime.run(make_clip_job("five.mp4", seconds=5, size="160x120", rate=25), fs=fs)
    return "five.mp4"


def test_tqdm_bar_reaches_the_jobs_duration(runtime, fs, five) -> None:
    out = io.StringIO()
    bar = afmpeg.progress_bar("tqdm", description="five", file=out)
    assert isinstance(bar, afmpeg.TqdmProgressBar) and bar.tqdm is None  # made at the first report
    runtime.run(transcode(five), fs=fs, progress=bar)
    assert bar.closed and bar.error is None and bar.reports > 10
    assert bar.tqdm.total == bar.total and abs(bar.total - 5) <= 0.1  # total = the input's known duration
    assert bar.tqdm.n == bar.tqdm.total  # and the bar reached it
    assert bar.speed is not None and bar.speed > 0
    text = out.getvalue()
    assert "five: 100%" in text and f"{bar.total:.1f}/{bar.total:.1f} s" in text and "frame 125" in text


def test_rich_bar_reaches_the_jobs_duration(runtime, fs, five) -> None:
    console = Console(file=io.StringIO(), width=160, force_terminal=False)
    with afmpeg.progress_bar("rich", description="five", console=console) as bar:
        assert isinstance(bar, afmpeg.RichProgressBar)
        runtime.run(transcode(five), fs=fs, progress=bar)
    assert bar.closed and bar.error is None
    task = bar.progress.tasks[0]
    assert task.total == bar.total and abs(bar.total - 5) <= 0.1
    assert task.completed == task.total and task.finished
    assert not bar.progress.live.is_started  # closed cleanly: rich's refresh thread is gone
    text = console.file.getvalue()
    assert "five" in text and "100%" in text and f"{bar.total:.1f}/{bar.total:.1f} s" in text


def test_unknown_duration_counts_up_and_ends_full(runtime, fs) -> None:
    # only source filters: the engine does not know the duration until the end
    out = io.StringIO()
    bar = afmpeg.progress_bar("tqdm", file=out)
    runtime.run(make_clip_job("two.mp4", seconds=2, size="160x120", rate=25), fs=fs, progress=bar)
    assert bar.closed and abs(bar.total - 2) <= 0.05 and bar.tqdm.n == bar.tqdm.total == bar.total


def test_a_broken_bar_does_not_fail_the_job(runtime, fs, five) -> None:
    class Broken(io.StringIO):
        def write(self, s: str) -> int:
            raise OSError("terminal went away")

    bar = afmpeg.progress_bar("tqdm", file=Broken())
    result = runtime.run(transcode(five), fs=fs, progress=bar)  # no exception: the bar switched itself off
    assert result.outputs[0].path == "out.mp4" and fs.exists("out.mp4")
    assert isinstance(bar.error, OSError) and bar.closed and bar.reports == 1
    rich_bar = afmpeg.progress_bar("rich", file=Broken())
    runtime.run(transcode(five, "rich.mp4"), fs=fs, progress=rich_bar)
    assert isinstance(rich_bar.error, OSError) and rich_bar.closed and fs.exists("rich.mp4")
    # tqdm keeps a process-wide lock held when a write fails; the bar's guarded stream means the next bar still works
    again = afmpeg.progress_bar("tqdm", file=io.StringIO())
    runtime.start(transcode(five, "again.mp4"), fs=fs, progress=again).result(timeout=120)
    assert again.error is None and again.tqdm.n == again.tqdm.total


def test_rich_bar_draws_on_stderr_by_default(runtime, fs, five, capsys) -> None:
    with afmpeg.progress_bar("rich") as bar:
        runtime.run(transcode(five), fs=fs, progress=bar)
    err = capsys.readouterr().err
    assert "100%" in err and bar.error is None


def test_bar_with_a_background_job_and_a_failing_job(runtime, fs, five) -> None:
    console = Console(file=io.StringIO(), width=120)
    with afmpeg.progress_bar("rich", console=console) as bar:
        runtime.start(transcode(five), fs=fs, progress=bar).result()
    assert bar.progress.tasks[0].finished
    # a job that fails before any report: the bar never starts, and closing it is harmless
    with afmpeg.progress_bar("rich", console=console) as bar2:
        with pytest.raises(afmpeg.ProcessingError):
            runtime.run(transcode("missing.mp4"), fs=fs, progress=bar2)
    assert bar2.closed and bar2.reports == 0 and bar2.task_id is None


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match="rich, tqdm"):
        afmpeg.progress_bar("curses")
