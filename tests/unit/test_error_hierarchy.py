"""The error hierarchy with the test guest: a trap is an EngineCrash that carries its job and the trap text."""

from __future__ import annotations

import pytest

import afmpeg


def test_trap_is_an_engine_crash_with_job_and_trap(runtime: afmpeg.Runtime) -> None:
    job = {"op": "crash"}
    with pytest.raises(afmpeg.Error) as info:
        runtime.call(job)
    exc = info.value
    assert type(exc) is afmpeg.EngineCrash
    assert exc.job == job
    assert exc.trap is not None and "unreachable" in exc.trap and "backtrace" in exc.trap
    assert exc.exit_code is None
    assert exc.kind is None  # the engine never printed an error object
    assert exc.ffmpeg_message  # falls back to the message when nothing was logged


def test_exit_code_1_without_a_kind_is_a_processing_error(runtime: afmpeg.Runtime) -> None:
    # the test guest prints {"error": ...} without "kind" (an older engine): the exit code decides
    with pytest.raises(afmpeg.ProcessingError) as info:
        runtime.call({"op": "fail1"})
    assert type(info.value) is afmpeg.ProcessingError
    assert info.value.exit_code == 1
    assert info.value.kind is None
    assert info.value.ffmpeg_message == "[libav] something broke"  # libav's line from the engine's log
