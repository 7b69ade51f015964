"""Bounded pipes and the stream devices the guest sees them through (/dev/afmpeg-pipe-NAME)."""

from __future__ import annotations

import os
import threading
import time

import pytest

import afmpeg
from afmpeg.wasi import constants as c
from afmpeg.wasi.errors import WasiError
from afmpeg.wasi.handles import CaptureHandle
from afmpeg.wasi.host import WasiCall
from afmpeg.wasi.mounts import DevMount
from afmpeg.wasi.pipes import Pipe, PipeStopped, dev_entries, device_path

HANG = 10.0  # generous bound that only catches a hang


def _thread(target, *args) -> threading.Thread:
    t = threading.Thread(target=target, args=args, daemon=True)
    t.start()
    return t


# ---------------------------------------------------------------------------------------------------- Pipe


def test_bytes_arrive_in_order_and_the_fill_never_passes_the_capacity() -> None:
    pipe = Pipe(1000)
    data = os.urandom(200_000)

    def produce() -> None:
        pipe.write_all(data)
        pipe.close_write()

    t = _thread(produce)
    got = bytearray()
    while True:
        chunk = pipe.read_some(777)
        if not chunk:
            break
        got += chunk
        time.sleep(0.0005 if len(got) < 20_000 else 0)  # a slow consumer for a while: the writer must wait
    t.join(HANG)
    assert not t.is_alive()
    assert bytes(got) == data
    assert pipe.max_fill == pipe.capacity  # it did fill up, and never beyond
    assert (pipe.bytes_written, pipe.bytes_read) == (len(data), len(data))


def test_write_is_short_when_the_pipe_is_nearly_full() -> None:
    pipe = Pipe(10)
    assert pipe.write(b"abcdef") == 6
    assert pipe.write(b"ghijklmnop") == 4  # what fits; a POSIX-style short write
    assert pipe.buffered == 10
    with pytest.raises(TimeoutError):
        pipe.write(b"x", timeout=0.05)  # full: blocks
    assert pipe.read_some(3) == b"abc"
    assert pipe.write(b"xyz!") == 3


def test_read_exact_returns_a_short_result_only_at_eof() -> None:
    pipe = Pipe(100)
    pipe.write_all(b"0123456789")
    pipe.close_write()
    assert bytes(pipe.read_exact(4)) == b"0123"
    assert bytes(pipe.read_exact(10)) == b"456789"  # EOF inside: what there was
    assert bytes(pipe.read_exact(4)) == b""  # clean EOF
    assert pipe.read_some(5) == b""


def test_closing_the_read_end_breaks_a_blocked_writer() -> None:
    pipe = Pipe(4)
    errors: list[BaseException] = []

    def produce() -> None:
        try:
            pipe.write_all(b"x" * 100)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    t = _thread(produce)
    while pipe.buffered < 4:
        time.sleep(0.001)
    pipe.close_read()
    t.join(HANG)
    assert not t.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], BrokenPipeError)
    with pytest.raises(BrokenPipeError):
        pipe.write(b"more")


def test_should_stop_ends_a_blocked_read_and_write() -> None:
    stop = threading.Event()
    empty, full = Pipe(8), Pipe(8)
    full.write_all(b"12345678")
    results: list[object] = []

    def wait(fn) -> None:
        try:
            fn()
            results.append("returned")
        except PipeStopped:
            results.append("stopped")

    threads = [
        _thread(wait, lambda: empty.read_some(1, stop.is_set)),
        _thread(wait, lambda: full.write(b"9", stop.is_set)),
    ]
    time.sleep(0.1)
    assert results == []  # both are blocked
    stop.set()
    for t in threads:
        t.join(HANG)
        assert not t.is_alive()
    assert results == ["stopped", "stopped"]


def test_abort_is_never_a_clean_eof() -> None:
    pipe = Pipe(8)
    pipe.write_all(b"abc")
    pipe.abort()
    with pytest.raises(PipeStopped):
        pipe.read_some(3)
    with pytest.raises(PipeStopped):
        pipe.write(b"x")
    assert pipe.aborted and pipe.buffered == 0


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Pipe(0)


# ---------------------------------------------------------------------------------------------------- devices


def test_device_names_are_checked() -> None:
    assert device_path("out0") == "/dev/afmpeg-pipe-out0"
    for bad in ("", "a/b", "..", "x" * 65, "sp ace", "é"):
        with pytest.raises(ValueError):
            device_path(bad)
    pipe = Pipe(8)
    assert list(dev_entries({"in0": pipe.guest_reader()})) == ["afmpeg-pipe-in0"]
    with pytest.raises(TypeError):
        dev_entries({"in0": pipe})  # type: ignore[dict-item]


def test_pipe_handles_are_non_seekable_character_devices() -> None:
    pipe = Pipe(8)
    handle = pipe.guest_writer()(lambda: False)
    assert handle.filetype == c.FILETYPE_CHARACTER_DEVICE
    assert handle.stat().filetype == c.FILETYPE_CHARACTER_DEVICE
    for call in (lambda: handle.seek(0, c.WHENCE_SET), handle.tell, lambda: handle.pwrite(b"x", 0)):
        with pytest.raises(WasiError) as ei:
            call()
        assert ei.value.errno == c.ESPIPE
    assert handle.writable and not handle.readable
    assert handle.write(b"hello") == 5
    handle.close()
    assert pipe.write_closed and bytes(pipe.read_exact(10)) == b"hello"


def test_a_device_opens_once() -> None:
    factory = Pipe(8).guest_reader()
    factory(lambda: False)
    with pytest.raises(WasiError) as ei:
        factory(lambda: False)
    assert ei.value.errno == c.EBUSY


def test_guest_write_to_a_closed_reader_is_epipe() -> None:
    pipe = Pipe(8)
    handle = pipe.guest_writer()(lambda: False)
    pipe.close_read()
    with pytest.raises(WasiError) as ei:
        handle.write(b"x")
    assert ei.value.errno == c.EPIPE


def test_devmount_lists_extra_devices_and_refuses_clashes() -> None:
    pipe = Pipe(8)
    mount = DevMount(3, CaptureHandle(), {"afmpeg-pipe-a": lambda: pipe.guest_reader()(lambda: False)})
    assert mount.stat("afmpeg-pipe-a").filetype == c.FILETYPE_CHARACTER_DEVICE
    assert "afmpeg-pipe-a" in [name for name, _, _ in mount.listdir("")]
    for name in ("null", "afmpeg-progress", "a/b", ""):
        with pytest.raises(ValueError):
            DevMount(3, CaptureHandle(), {name: lambda: pipe.guest_reader()(lambda: False)})


def test_wasicall_hands_the_jobs_stop_check_to_devices() -> None:
    seen: list[object] = []

    def factory(should_stop):
        seen.append(should_stop)
        return Pipe(8).guest_reader()(should_stop)

    call = WasiCall(["x"], fs=afmpeg.MemoryFS(), devices={"afmpeg-pipe-z": factory})
    handle = call.dev_mount.open("afmpeg-pipe-z", oflags=0, read=True, write=False, append=False, must_be_dir=False)
    stop = seen[0]
    assert callable(stop) and stop() is False
    call.should_stop = lambda: True
    assert stop() is True
    with pytest.raises(WasiError) as ei:  # an empty pipe: the blocked read gives up because the job must stop
        handle.readinto(memoryview(bytearray(4)))
    assert ei.value.errno == c.EPIPE
    call.close(publish=False)


# ---------------------------------------------------------------------------------------------------- with a guest


def _out(res: afmpeg.CommandResult) -> str:
    return res.stdout.decode(errors="replace") + res.stderr_text


def test_guest_reads_a_stream_larger_than_the_pipe(runtime: afmpeg.Runtime) -> None:
    pipe = Pipe(4096)
    data = bytes(range(256)) * 1200  # 300 KiB through a 4 KiB pipe

    def produce() -> None:
        pipe.write_all(data)
        pipe.close_write()

    t = _thread(produce)
    res = runtime.run_command(["guest", "cat", device_path("in")], fs=afmpeg.MemoryFS(),
                              devices={"in": pipe.guest_reader()})
    t.join(HANG)
    assert res.exit_code == 0, _out(res)
    assert res.stdout == data
    assert 0 < pipe.max_fill <= 4096


def test_guest_writes_a_stream_the_host_reads(runtime: afmpeg.Runtime) -> None:
    pipe = Pipe(1000)
    text = "0123456789" * 5000
    got = bytearray()

    def consume() -> None:
        while chunk := pipe.read_some(333):
            got.extend(chunk)
            time.sleep(0.0002)

    t = _thread(consume)
    res = runtime.run_command(["guest", "write", device_path("out"), text], fs=afmpeg.MemoryFS(),
                              devices={"out": pipe.guest_writer()})
    t.join(HANG)
    assert res.exit_code == 0, _out(res)
    assert got.decode() == text
    assert pipe.max_fill <= 1000 and pipe.write_closed  # the guest's close() is the host's EOF


def test_guest_sees_a_character_device(runtime: afmpeg.Runtime) -> None:
    pipe = Pipe(8)
    res = runtime.run_command(["guest", "stat", device_path("s"), "/dev/afmpeg-pipe-missing"], fs=afmpeg.MemoryFS(),
                              devices={"s": pipe.guest_reader()})
    assert _out(res).splitlines() == ["/dev/afmpeg-pipe-s chr 0", "/dev/afmpeg-pipe-missing ENOENT"]


@pytest.mark.parametrize("how", ["time_limit", "cancel"])
def test_a_guest_blocked_on_an_empty_pipe_is_stopped(runtime: afmpeg.Runtime, how: str) -> None:
    pipe = Pipe(8)  # nobody ever writes: the guest's read blocks
    token = afmpeg.CancelToken()
    if how == "cancel":
        threading.Timer(0.3, token.cancel).start()
        kw: dict = {"cancel": token}
        expected: type[Exception] = afmpeg.Cancelled
    else:
        kw = {"time_limit": 0.3}
        expected = afmpeg.JobTimeout
    started = time.monotonic()
    with pytest.raises(expected):
        runtime.run_command(["guest", "cat", device_path("in")], fs=afmpeg.MemoryFS(),
                            devices={"in": pipe.guest_reader()}, **kw)
    assert time.monotonic() - started < HANG
    assert pipe.read_closed  # the guest's fd was closed with the call


def test_an_unknown_pipe_name_is_enoent_and_other_dev_names_stay(runtime: afmpeg.Runtime) -> None:
    res = runtime.run_command(["guest", "open", "/dev/afmpeg-pipe-nope", "/dev/null"], fs=afmpeg.MemoryFS())
    assert _out(res).splitlines() == ["/dev/afmpeg-pipe-nope ENOENT", "/dev/null OK"]
