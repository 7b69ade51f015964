"""Ready progress bars (rich or tqdm) to pass as a job's ``progress=`` callback.

::

    with afmpeg.progress_bar("rich") as bar:          # or "tqdm" (pip install afmpeg[tqdm])
        runtime.run(job, progress=bar)

The bar measures seconds of media written against the job's known duration (a counter when the duration is
unknown) and shows the speed (media seconds per wall second). It is best effort and never slows the job: a
report does constant, bounded work (the bar is redrawn at most every ``min_interval`` seconds, rich draws from its
own thread), and an error inside the bar (a closed terminal, a broken pipe) switches the bar off and is kept in
:attr:`ProgressBar.error` instead of failing the job. The bar closes itself after the job's final report; use it
as a context manager so that it also closes when the job fails.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import IO, Any

from .progress import Progress

__all__ = ["progress_bar", "ProgressBar", "RichProgressBar", "TqdmProgressBar", "BAR_KINDS"]

#: the kinds :func:`progress_bar` makes
BAR_KINDS = ("rich", "tqdm")


class _GuardedFile:
    """A text stream that never raises: the first failing write is recorded and later writes are dropped.

    tqdm leaves its process-wide lock held when a write fails inside ``refresh()``, which would hang every later
    tqdm bar (and the job thread reporting to it); rich's refresh thread would die with a traceback. Guarding the
    stream keeps a broken terminal or pipe from doing either.
    """

    def __init__(self, stream: Any = None) -> None:
        self._target = stream  # None: whatever sys.stderr is at the time of each write
        self.error: Exception | None = None

    @property
    def _stream(self) -> Any:
        return self._target if self._target is not None else sys.stderr

    def write(self, text: str) -> int:
        if self.error is None:
            try:
                self._stream.write(text)
            except Exception as exc:  # noqa: BLE001
                self.error = exc
        return len(text)

    def flush(self) -> None:
        if self.error is None:
            try:
                self._stream.flush()
            except Exception as exc:  # noqa: BLE001
                self.error = exc

    def __getattr__(self, name: str) -> Any:  # isatty, fileno, encoding, ... for terminal detection
        return getattr(self._stream, name)


class ProgressBar:
    """Base of the ready progress bars: a callable taking :class:`~afmpeg.Progress` reports.

    Attributes:
        description: the label in front of the bar.
        total: the job's duration in seconds once known (``None`` before the first report or when unknown).
        n: seconds of media written so far.
        speed: media seconds per wall-clock second since the bar was made (``None`` before the first report).
        reports: how many reports the bar received.
        error: the exception that switched the bar off, if one did.
    """

    def __init__(self, description: str = "afmpeg", *, min_interval: float = 0.1) -> None:
        self.description = description
        self.min_interval = min_interval
        self.total: float | None = None
        self.n = 0.0
        self.speed: float | None = None
        self.reports = 0
        self.error: Exception | None = None
        self._t0 = time.monotonic()
        self._last_draw = float("-inf")
        self._lock = threading.Lock()
        self._started = False
        self._closed = False
        self._guard: _GuardedFile | None = None  # set by a backend that draws through a guarded stream

    def __call__(self, p: Progress) -> None:
        """Take one report (this is what makes the bar a ``progress=`` callback). Never raises."""
        with self._lock:
            if self._closed or self.error is not None:
                return
            self.reports += 1
            now = time.monotonic()
            self.n = p.out_time
            if p.duration is not None:
                self.total = p.duration
            elapsed = now - self._t0
            self.speed = p.out_time / elapsed if elapsed > 0 else None
            try:
                if not self._started:
                    self._started = True
                    self._start(p)
                if p.final:
                    if self.total is None or p.fraction >= 1.0:
                        # the job is done: the bar ends full even if the last frame ends short of the duration
                        self.total = self.total if self.total is not None else p.out_time
                        self.n = self.total
                    self._draw(p, final=True)
                    self._close()
                    self._closed = True
                elif now - self._last_draw >= self.min_interval:
                    self._last_draw = now
                    self._draw(p, final=False)
                if self._guard is not None and self._guard.error is not None:
                    raise self._guard.error
            except Exception as exc:  # noqa: BLE001 - a broken bar must not fail the job
                self.error = exc
                self._safe_close()

    def close(self) -> None:
        """Close the bar (idempotent); a bar that never got a report leaves no trace."""
        with self._lock:
            self._safe_close()

    @property
    def closed(self) -> bool:
        """Whether the bar has been closed."""
        return self._closed

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # the drawing backend

    def _safe_close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._started:
            try:
                self._close()
            except Exception as exc:  # noqa: BLE001
                self.error = self.error or exc

    def _postfix(self, p: Progress) -> str:
        parts = []
        if self.speed is not None:
            parts.append(f"{self.speed:.2g}x")
        if p.frame:
            parts.append(f"frame {p.frame}")
        if p.total_size:
            parts.append(_size(p.total_size))
        return ", ".join(parts)

    def _start(self, p: Progress) -> None:
        raise NotImplementedError

    def _draw(self, p: Progress, *, final: bool) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError


class RichProgressBar(ProgressBar):
    """A :mod:`rich` progress bar (rich is a dependency of afmpeg).

    ``console``: the :class:`rich.console.Console` to draw on; or ``file``: the stream for a new console (default
    stderr; its write errors switch the bar off instead of reaching rich's refresh thread). ``transient``: remove
    the bar when done. The underlying :class:`rich.progress.Progress` is :attr:`progress` and the job's task id
    :attr:`task_id` once the first report arrived.
    """

    def __init__(
        self,
        description: str = "afmpeg",
        *,
        console: Any = None,
        file: IO[str] | None = None,
        transient: bool = False,
        min_interval: float = 0.1,
        refresh_per_second: float = 5,
    ) -> None:
        super().__init__(description, min_interval=min_interval)
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

        if console is None:
            self._guard = _GuardedFile(file)
            console = Console(file=self._guard)  # type: ignore[arg-type]
        self.console = console
        self.progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[seconds]}"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[postfix]}"),
            console=self.console,
            transient=transient,
            refresh_per_second=refresh_per_second,  # rich redraws from its own thread, not the job's
        )
        self.task_id: Any = None

    def _seconds(self) -> str:
        return f"{self.n:.1f}/{self.total:.1f} s" if self.total else f"{self.n:.1f} s"

    def _start(self, p: Progress) -> None:
        self.progress.start()
        self.task_id = self.progress.add_task(
            self.description, total=self.total, seconds=self._seconds(), postfix=self._postfix(p)
        )

    def _draw(self, p: Progress, *, final: bool) -> None:
        self.progress.update(
            self.task_id, total=self.total, completed=self.n, seconds=self._seconds(), postfix=self._postfix(p)
        )

    def _close(self) -> None:
        self.progress.stop()


class TqdmProgressBar(ProgressBar):
    """A :mod:`tqdm` progress bar (``pip install afmpeg[tqdm]``).

    ``file``: where to draw (default stderr); ``leave``: keep the bar when done; ``tqdm_kwargs``: more
    arguments for :class:`tqdm.tqdm`. The underlying bar is :attr:`tqdm` once the first report arrived (it is
    made then, when the job's duration is known).
    """

    def __init__(
        self,
        description: str = "afmpeg",
        *,
        file: IO[str] | None = None,
        leave: bool = True,
        min_interval: float = 0.1,
        **tqdm_kwargs: Any,
    ) -> None:
        super().__init__(description, min_interval=min_interval)
        import tqdm as _tqdm  # fail here, at construction, when tqdm is missing

        self._tqdm_cls = _tqdm.tqdm
        self._guard = _GuardedFile(file)
        self._leave = leave
        self._kwargs = tqdm_kwargs
        self.tqdm: Any = None

    def _start(self, p: Progress) -> None:
        if self.total:
            fmt = "{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} s [{elapsed}<{remaining}{postfix}]"
        else:
            fmt = "{desc}: {n:.1f} s [{elapsed}{postfix}]"
        kwargs = {"bar_format": fmt, "mininterval": self.min_interval, "dynamic_ncols": True, **self._kwargs}
        self.tqdm = self._tqdm_cls(total=self.total, desc=self.description, file=self._guard, leave=self._leave,
                                   **kwargs)

    def _draw(self, p: Progress, *, final: bool) -> None:
        bar = self.tqdm
        if self.total is not None and bar.total != self.total:
            bar.total = self.total
        bar.set_postfix_str(self._postfix(p), refresh=False)
        bar.n = self.n  # absolute, so the bar cannot drift from the job
        if final:
            bar.refresh()
        else:
            bar.update(0)  # tqdm draws only if mininterval has passed

    def _close(self) -> None:
        self.tqdm.close()


def progress_bar(kind: str = "rich", description: str = "afmpeg", **options: Any) -> ProgressBar:
    """A progress bar to pass as ``progress=`` (to ``Runtime.run``/``start``, or the helpers).

    ``kind`` is ``"rich"`` (default; see :class:`RichProgressBar` for ``console=``, ``transient=``) or ``"tqdm"``
    (see :class:`TqdmProgressBar` for ``file=``, ``leave=``). Use it as a context manager so it closes even when
    the job fails::

        with afmpeg.progress_bar() as bar:
            runtime.run(job, progress=bar)
    """
    if kind == "rich":
        return RichProgressBar(description, **options)
    if kind == "tqdm":
        return TqdmProgressBar(description, **options)
    raise ValueError(f"unknown progress bar kind {kind!r}; one of {', '.join(BAR_KINDS)}")


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB"):
        if value < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"
