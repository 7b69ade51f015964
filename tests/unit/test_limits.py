"""Limits (memory, wall time, output bytes), cancellation and publish-on-success, with the test guest."""

from __future__ import annotations

import threading
import time

import pytest

import afmpeg

from .conftest import FsView


def test_limit_errors_are_afmpeg_errors() -> None:
    for cls in (afmpeg.MemoryLimitExceeded, afmpeg.JobTimeout, afmpeg.OutputLimitExceeded, afmpeg.Cancelled):
        assert issubclass(cls, afmpeg.AfmpegError)


def test_default_limits(runtime: afmpeg.Runtime) -> None:
    assert runtime.memory_limit == 1 << 30
    assert runtime.time_limit is None and runtime.output_limit is None


def test_time_limit_stops_a_busy_job_and_the_runtime_stays_usable(runtime: afmpeg.Runtime) -> None:
    t0 = time.monotonic()
    with pytest.raises(afmpeg.JobTimeout) as info:
        runtime.run_command(["guest", "busy"], time_limit=0.5)
    assert time.monotonic() - t0 < 10
    assert info.value.limit == 0.5
    assert runtime.run_command(["guest", "echo", "hi"]).stdout == b"hi\n"


def test_time_limit_from_the_runtime(guest_wasm, compile_cache_dir) -> None:
    rt = afmpeg.Runtime(guest_wasm, cache_dir=compile_cache_dir, time_limit=0.3)
    with pytest.raises(afmpeg.JobTimeout):
        rt.run_command(["guest", "busy"])
    assert rt.run_command(["guest", "echo", "x"]).exit_code == 0  # a quick job is not affected


def test_cancel_stops_only_the_cancelled_job(runtime: afmpeg.Runtime) -> None:
    tokens = {"a": afmpeg.CancelToken(), "b": afmpeg.CancelToken()}
    outcome: dict[str, BaseException | None] = {}
    ended: dict[str, float] = {}

    def job(name: str, time_limit: float | None) -> None:
        try:
            runtime.run_command(["guest", "busy"], cancel=tokens[name], time_limit=time_limit)
            outcome[name] = None
        except BaseException as exc:  # noqa: BLE001
            outcome[name] = exc
        ended[name] = time.monotonic()

    threads = {
        "a": threading.Thread(target=job, args=("a", None)),
        "b": threading.Thread(target=job, args=("b", 3.0)),
    }
    for t in threads.values():
        t.start()
    time.sleep(0.3)
    cancelled_at = time.monotonic()
    tokens["a"].cancel()
    threads["a"].join(10)
    assert not threads["a"].is_alive()
    assert ended["a"] - cancelled_at < 5
    assert threads["b"].is_alive()  # the other job keeps running
    threads["b"].join(20)
    assert isinstance(outcome["a"], afmpeg.Cancelled)
    assert isinstance(outcome["b"], afmpeg.JobTimeout)  # it ended on its own limit, not on a's token
    assert runtime.run_command(["guest", "echo", "ok"]).exit_code == 0


def test_cancelled_token_stops_before_start(runtime: afmpeg.Runtime, view: FsView) -> None:
    token = afmpeg.CancelToken()
    token.cancel()
    assert token.cancelled
    with pytest.raises(afmpeg.Cancelled):
        runtime.run_command(["guest", "write", "x.txt", "data"], fs=view.arg, cancel=token)
    assert not view.exists("x.txt")


def test_parallel_job_finishes_while_another_is_cancelled(runtime: afmpeg.Runtime, view: FsView) -> None:
    token = afmpeg.CancelToken()
    errors: list[BaseException] = []

    def busy() -> None:
        try:
            runtime.run_command(["guest", "busy"], cancel=token)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    t = threading.Thread(target=busy)
    t.start()
    res = runtime.run_command(["guest", "bigio", "big.bin", "300000"], fs=view.arg, cancel=afmpeg.CancelToken())
    assert res.exit_code == 0 and view.exists("big.bin")
    token.cancel()
    t.join(10)
    assert not t.is_alive() and len(errors) == 1 and isinstance(errors[0], afmpeg.Cancelled)


def test_output_limit(runtime: afmpeg.Runtime, view: FsView) -> None:
    view.put("big.bin", b"previous")
    with pytest.raises(afmpeg.OutputLimitExceeded) as info:
        runtime.run_command(["guest", "bigio", "big.bin", "100000"], fs=view.arg, output_limit=10000)
    assert info.value.limit == 10000
    assert view.get("big.bin") == b"previous"  # nothing published
    res = runtime.run_command(["guest", "bigio", "big.bin", "100000"], fs=view.arg, output_limit=100000)
    assert res.exit_code == 0 and len(view.get("big.bin")) == 100000


def test_memory_limit_per_call(runtime: afmpeg.Runtime) -> None:
    with pytest.raises(afmpeg.MemoryLimitExceeded):
        runtime.run_command(["guest", "malloc", "256"], memory_limit=32 << 20)
    assert runtime.run_command(["guest", "malloc", "64"]).exit_code == 0  # the runtime's 1 GiB default


def test_failed_job_publishes_nothing_and_keeps_existing_files(run, view: FsView) -> None:
    view.put("keep.txt", b"old")
    assert run("noclose", "keep.txt", "new", "1").exit_code == 1
    assert view.get("keep.txt") == b"old"
    assert run("trap").trap is not None
    assert run("noclose", "fresh.txt", "new", "3").exit_code == 3
    assert not view.exists("fresh.txt")
    assert not any(".afmpeg-" in name for name in view.names())  # no temporary files left behind


def test_success_publishes_and_leaves_no_temporaries(run, view: FsView) -> None:
    view.put("out.txt", b"old content that is longer")
    assert run("write", "out.txt", "new").exit_code == 0
    assert view.get("out.txt") == b"new"
    assert not any(".afmpeg-" in name for name in view.names())


def test_pending_file_is_seen_when_reopened(run, view: FsView) -> None:
    # bigio closes its output and re-opens it for reading within the same call
    res = run("bigio", "b.bin", "5000")
    assert res.exit_code == 0 and len(view.get("b.bin")) == 5000
    assert out_text(run("readwhilewrite", "rw.bin")) != ""


def test_rename_acts_on_pending_files(run, view: FsView) -> None:
    view.put("dst.txt", b"old")
    view.put("src.txt", b"moved")
    assert out_text(run("mv", "src.txt", "dst.txt")) == "mv OK\n"
    assert view.get("dst.txt") == b"moved" and not view.exists("src.txt")


def out_text(res: afmpeg.CommandResult) -> str:
    return res.stdout.decode()


def test_time_limit_ends_a_long_sleep(runtime: afmpeg.Runtime) -> None:
    t0 = time.monotonic()
    with pytest.raises(afmpeg.JobTimeout):
        runtime.run_command(["guest", "sleep", "60000"], time_limit=0.5)
    assert time.monotonic() - t0 < 10


def test_many_threads_each_get_their_own_outcome(runtime: afmpeg.Runtime) -> None:
    results: dict[int, object] = {}

    def job(i: int) -> None:
        token = afmpeg.CancelToken()
        try:
            if i % 3 == 0:
                threading.Timer(0.2, token.cancel).start()
                runtime.run_command(["guest", "busy"], cancel=token)
            elif i % 3 == 1:
                runtime.run_command(["guest", "busy"], time_limit=0.3)
            else:
                results[i] = runtime.run_command(["guest", "echo", str(i)], cancel=token).stdout
                return
        except afmpeg.AfmpegError as exc:
            results[i] = type(exc)

    threads = [threading.Thread(target=job, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for i in range(12):
        expected = (afmpeg.Cancelled, afmpeg.JobTimeout, f"{i}\n".encode())[i % 3]
        assert results[i] == expected, i


def test_local_outputs_are_renamed_into_place(runtime: afmpeg.Runtime, tmp_path, monkeypatch) -> None:
    import os

    moves: list[tuple[str, str]] = []
    real_replace = os.replace

    def move(src, dst, *args, **kwargs):
        moves.append((str(src), str(dst)))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", move)
    assert runtime.run_command(["guest", "write", "o.txt", "data"], fs=str(tmp_path)).exit_code == 0
    assert (tmp_path / "o.txt").read_bytes() == b"data"
    assert len(moves) == 1 and ".afmpeg-" in moves[0][0] and moves[0][1].endswith("/o.txt")
    assert [p.name for p in tmp_path.iterdir()] == ["o.txt"]


def test_the_epoch_ticker_runs_only_while_watched_jobs_do(runtime: afmpeg.Runtime) -> None:
    def tickers() -> int:
        return sum(t.name == "afmpeg-epoch" and t.is_alive() for t in threading.enumerate())

    with pytest.raises(afmpeg.JobTimeout):
        runtime.run_command(["guest", "busy"], time_limit=0.2)
    end = time.monotonic() + 5
    while tickers() and time.monotonic() < end:
        time.sleep(0.02)
    assert tickers() == 0  # an idle Runtime costs no wake-ups
    with pytest.raises(afmpeg.JobTimeout):  # and the next watched job starts a ticker again
        runtime.run_command(["guest", "busy"], time_limit=0.2)
