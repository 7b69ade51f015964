"""The progress parser: NDJSON records from the engine become monotonic Progress events."""

from __future__ import annotations

import json

import pytest

from afmpeg.progress import MAX_LINE, Progress, ProgressParser


def _line(**rec: object) -> bytes:
    return json.dumps(rec).encode() + b"\n"


def test_records_split_across_writes_are_reassembled() -> None:
    got: list[Progress] = []
    p = ProgressParser(got.append)
    data = _line(frame=30, out_time_us=1_000_000, total_size=1000, duration_us=4_000_000)
    p.feed(data[:7])
    assert got == []
    p.feed(data[7:])
    assert got == [Progress(30, 1.0, 1000, 0.25, duration=4.0)]


def test_fraction_never_decreases_and_final_is_one() -> None:
    got: list[Progress] = []
    p = ProgressParser(got.append)
    p.feed(_line(frame=10, out_time_us=2_000_000, total_size=10, duration_us=4_000_000))
    p.feed(_line(frame=11, out_time_us=1_500_000, total_size=5, duration_us=4_000_000))
    p.feed(_line(frame=12, out_time_us=3_900_000, total_size=20, duration_us=4_000_000, final=True))
    assert [g.fraction for g in got] == [0.5, 0.5, 1.0]
    assert [g.total_size for g in got] == [10, 10, 20]
    assert got[-1].final and not got[0].final


def test_unknown_duration_is_minus_one() -> None:
    got: list[Progress] = []
    p = ProgressParser(got.append)
    p.feed(_line(frame=1, out_time_us=100, total_size=1, duration_us=0))
    p.feed(_line(frame=2, out_time_us=200, total_size=2))
    assert [g.fraction for g in got] == [-1.0, -1.0]
    assert [g.duration for g in got] == [None, None]


@pytest.mark.parametrize(
    "junk",
    [b"not json\n", b"[1,2]\n", b"\n", b'{"frame": "x", "out_time_us": NaN}\n', b"x" * (MAX_LINE + 10) + b"\n"],
)
def test_malformed_lines_are_skipped(junk: bytes) -> None:
    got: list[Progress] = []
    p = ProgressParser(got.append)
    p.feed(junk)
    p.feed(_line(frame=5, out_time_us=1_000_000, total_size=9, duration_us=2_000_000))
    assert got[-1] == Progress(5, 1.0, 9, 0.5, duration=2.0)
    assert all(g.frame >= 0 and g.out_time >= 0 for g in got)


def test_an_endless_line_is_not_buffered_forever() -> None:
    p = ProgressParser(lambda _: None)
    for _ in range(10):
        p.feed(b"y" * MAX_LINE)
    assert len(p._pending) <= MAX_LINE  # noqa: SLF001 - the bound is the point of the test


def test_callback_errors_are_kept_not_raised() -> None:
    calls = []

    def boom(pr: Progress) -> None:
        calls.append(pr)
        raise RuntimeError("user bug")

    p = ProgressParser(boom)
    p.feed(_line(frame=1, out_time_us=1, total_size=1, duration_us=10))
    p.feed(_line(frame=2, out_time_us=2, total_size=1, duration_us=10))
    assert isinstance(p.error, RuntimeError)
    assert len(calls) == 1  # after the first failure the callback is not called again
    assert p.count == 2
