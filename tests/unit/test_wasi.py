"""The WASI host, exercised by the C test guest on an in-memory filesystem and on a local directory."""

from __future__ import annotations

import time

import pytest

import afmpeg

from .conftest import FsView


def out(res: afmpeg.CommandResult) -> str:
    return res.stdout.decode()


# ---------------------------------------------------------------- args, exit codes, stdio


def test_argv_reaches_the_guest(run) -> None:
    res = run("echo", "hello", "wörld with spaces", '{"op": "x"}')
    assert res.exit_code == 0
    assert out(res).splitlines() == ["hello", "wörld with spaces", '{"op": "x"}']


@pytest.mark.parametrize("code", [0, 1, 2, 3, 77])
def test_explicit_exit_codes(run, code: int) -> None:
    res = run("exit", str(code))
    assert res.exit_code == code
    assert res.trap is None
    assert out(res) == f"exiting {code}\n"  # stdio is flushed before proc_exit


@pytest.mark.parametrize("code", [0, 1, 5])
def test_return_from_main(run, code: int) -> None:
    res = run("ret", str(code))
    assert res.exit_code == code
    assert res.trap is None


def test_environment_is_empty(run) -> None:
    assert out(run("env")) == "environ 0\n"


def test_stderr_keeps_the_last_64k(run) -> None:
    res = run("stderr", str(200_000))
    assert res.exit_code == 0
    assert len(res.stderr) == 64 * 1024
    assert res.stderr.endswith(b"END\n")


def test_small_stderr_is_kept_whole(run) -> None:
    res = run("stderr", "10")
    assert res.stderr == b"abcdefghij" + b"END\n"


# ---------------------------------------------------------------- files


def test_read_a_file(run, view: FsView) -> None:
    payload = bytes(range(256)) * 300
    view.put("dir/input.bin", payload)
    res = run("cat", "/dir/input.bin")
    assert res.exit_code == 0
    assert res.stdout == payload


def test_relative_paths_resolve_against_root(run, view: FsView) -> None:
    view.put("sub/rel.txt", b"relative")
    assert run("cat", "sub/rel.txt").stdout == b"relative"
    assert run("cat", "./sub/../sub/rel.txt").stdout == b"relative"


def test_write_a_file(run, view: FsView) -> None:
    res = run("write", "/out.txt", "written by the guest")
    assert res.exit_code == 0
    assert view.get("out.txt") == b"written by the guest"


def test_overwrite_truncates(run, view: FsView) -> None:
    view.put("o.txt", b"a much longer original content")
    run("write", "o.txt", "short")
    assert view.get("o.txt") == b"short"


def test_seek_and_overwrite(run, view: FsView) -> None:
    res = run("seekwrite", "/movie.mp4")
    assert res.exit_code == 0, out(res)
    expected = b"HEADER!!Body-body-body-tail" + b"\0" * 3 + b"Z"
    assert view.get("movie.mp4") == expected
    assert res.stdout == expected + b"\n"


def test_append_mode(run, view: FsView) -> None:
    view.put("log.txt", b"first;")
    run("append", "log.txt", "second;")
    run("append", "log.txt", "third;")
    assert view.get("log.txt") == b"first;second;third;"


def test_ftruncate(run, view: FsView) -> None:
    view.put("t.bin", b"0123456789")
    assert out(run("truncate", "t.bin", "4")) == "size 4\n"
    assert view.get("t.bin") == b"0123"
    assert out(run("truncate", "t.bin", "6")) == "size 6\n"
    assert view.get("t.bin") == b"0123\0\0"


def test_o_excl(run, view: FsView) -> None:
    assert out(run("excl", "new.txt")) == "first OK\nsecond EEXIST\n"
    assert view.get("new.txt") == b"x"
    view.put("existing.txt", b"keep")
    assert out(run("excl", "existing.txt")) == "first EEXIST\nsecond EEXIST\n"
    assert view.get("existing.txt") == b"keep"


def test_missing_file_is_enoent_in_the_guest(run) -> None:
    res = run("open", "/nope.txt", "nope/deeper.txt")
    assert out(res) == "/nope.txt ENOENT\nnope/deeper.txt ENOENT\n"


def test_eof_semantics(run, view: FsView) -> None:
    view.put("e.txt", b"abcdefghijklmnopqrstu")  # 21 bytes = 3 reads of 7
    res = run("eof", "e.txt")
    assert res.exit_code == 0, out(res)
    assert out(res) == "total 21 reads 3 second c\n"


def test_stat(run, view: FsView) -> None:
    view.put("s/file.bin", b"12345")
    res = run("stat", "s/file.bin", "s", "/", "missing", "/dev/null", "/tmp")
    assert out(res).splitlines() == [
        "s/file.bin file 5",
        "s dir 0",
        "/ dir 0",
        "missing ENOENT",
        "/dev/null chr 0",
        "/tmp dir 0",
    ]


def test_readdir(run, view: FsView) -> None:
    view.put("d/one.txt", b"1")
    view.put("d/two.txt", b"22")
    view.mkdir("d/inner")
    res = run("readdir", "d")
    assert sorted(out(res).splitlines()) == sorted(["f one.txt", "f two.txt", "d inner", "dots 2"])


def test_readdir_root_and_missing(run, view: FsView) -> None:
    view.put("top.txt", b"")
    assert "f top.txt" in out(run("readdir", "/")).splitlines()
    assert out(run("readdir", "nowhere")) == "opendir-failed ENOENT\n"


def test_directory_operations(run, view: FsView) -> None:
    res = run("dirops", "work")
    assert res.exit_code == 0, out(res)
    assert "ok" in out(res).splitlines()
    assert "unlink-dir EISDIR" in out(res)
    assert view.exists("work")
    assert view.get("work/b.txt") == b"replaced"
    assert not view.exists("work/a.txt")
    assert not view.exists("work/sub")
    assert not view.exists("work/x")
    assert view.get("work/y/f.txt") == b"moved with its directory"


def test_large_io_roundtrip(run, view: FsView) -> None:
    n = 3_000_000
    res = run("bigio", "big.bin", str(n))
    assert res.exit_code == 0, out(res)
    data = view.get("big.bin")
    assert len(data) == n
    assert data == bytes((i * 31 + 7) & 0xFF for i in range(n))


def test_reader_sees_unclosed_writer(run, view: FsView) -> None:
    res = run("readwhilewrite", "rw.bin")
    assert res.exit_code == 0, out(res)
    assert out(res) == "0123456789\n"
    assert view.get("rw.bin") == b"0123456789"


def test_files_left_open_are_written_back(run, view: FsView) -> None:
    res = run("noclose", "unclosed.txt", "still here", "0")
    assert res.exit_code == 0
    assert view.get("unclosed.txt") == b"still here"


def test_failed_call_publishes_nothing(run, view: FsView) -> None:
    view.put("unclosed.txt", b"old content")
    res = run("noclose", "unclosed.txt", "partial", "4")
    assert res.exit_code == 4
    assert view.get("unclosed.txt") == b"old content"  # untouched
    res = run("noclose", "new.txt", "partial", "4")
    assert not view.exists("new.txt")  # no partial output behind


# ---------------------------------------------------------------- sandbox


def test_confinement(run, view: FsView) -> None:
    res = run("open", "../../etc/passwd", "/etc/passwd", "/tmp/../../etc/passwd", "../outside")
    lines = dict(line.rsplit(" ", 1) for line in out(res).splitlines())
    assert lines["../../etc/passwd"] == "ENOTCAPABLE"
    assert lines["/etc/passwd"] == "ENOENT"  # "/" is the caller's filesystem, which has no /etc
    assert lines["../outside"] == "ENOTCAPABLE"
    assert lines["/tmp/../../etc/passwd"] in ("ENOTCAPABLE", "ENOENT")


def test_local_directory_confinement(runtime: afmpeg.Runtime, tmp_path) -> None:
    root = tmp_path / "jail"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("do not read")
    res = runtime.run_command(["guest", "open", "../secret.txt", "/../secret.txt", "secret.txt"], fs=str(root))
    assert "OK" not in out(res)


def test_tmp_is_private_and_discarded(runtime: afmpeg.Runtime, view: FsView) -> None:
    res = runtime.run_command(["guest", "tmp", "/tmp/scratch.bin"], fs=view.arg)
    assert res.exit_code == 0, out(res)
    assert out(res) == "ok\n"
    assert view.names() == set()  # nothing leaked onto the caller's filesystem
    # and the next call starts with an empty /tmp
    res2 = runtime.run_command(["guest", "open", "/tmp/scratch.bin"], fs=view.arg)
    assert out(res2) == "/tmp/scratch.bin ENOENT\n"


def test_devices(runtime: afmpeg.Runtime, view: FsView) -> None:
    res = runtime.run_command(["guest", "devices"], fs=view.arg)
    assert res.exit_code == 0, out(res)
    hexline, ok = out(res).splitlines()
    assert ok == "ok"
    assert len(hexline) == 128 and hexline != "0" * 128
    assert res.progress == b'{"frame":1}\n'
    assert view.names() == set()


def test_clock(run) -> None:
    before = time.time()
    res = run("clock")
    after = time.time()
    assert res.exit_code == 0, out(res)
    lines = dict(line.split(" ") for line in out(res).splitlines())
    assert before - 1 <= int(lines["realtime"]) <= after + 1
    assert int(lines["res"]) > 0


def test_random(run) -> None:
    res = run("random")
    a, b = out(res).split()
    assert len(a) == 64 and a != b and a != "0" * 64


# ---------------------------------------------------------------- traps and memory


def test_trap_is_a_crash_not_an_exit(run) -> None:
    res = run("trap")
    assert res.exit_code is None
    assert res.crashed
    assert "unreachable" in res.trap.lower()


def test_stack_overflow_traps(run) -> None:
    res = run("stackoverflow")
    assert res.exit_code is None
    assert res.trap is not None


def test_memory_growth(run) -> None:
    res = run("malloc", "256")
    assert res.exit_code == 0
    assert out(res).startswith("allocated 256 ")


def test_memory_limit(guest_wasm, compile_cache_dir) -> None:
    rt = afmpeg.Runtime(guest_wasm, cache_dir=compile_cache_dir, memory_limit=64 * 1024 * 1024)
    with pytest.raises(afmpeg.MemoryLimitExceeded) as info:
        rt.run_command(["guest", "malloc", "256"])
    assert info.value.exit_code == 3  # malloc failed cleanly in the guest, no trap
    assert info.value.limit == 64 * 1024 * 1024
    assert rt.run_command(["guest", "malloc", "16"]).exit_code == 0  # and the runtime still works


def test_unknown_command_exit_code(run) -> None:
    res = run("no-such-command")
    assert res.exit_code == 64


# ---------------------------------------------------------------- POSIX details wasi-libc relies on


def test_iovecs_with_empty_buffers_and_partial_reads_at_eof(run, view: FsView) -> None:
    res = run("iov", "v.bin")
    assert out(res) == "ok\n"
    assert view.get("v.bin") == b"abcdef"


def test_rename_of_names_with_glob_characters(run, view: FsView) -> None:
    # fsspec's mv() expands *?[ in names: "[a].txt" matched "a.txt", "d*" swept up "d1"
    view.put("a.txt", b"plain")
    view.put("[a].txt", b"bracketed")
    assert out(run("mv", "[a].txt", "x.txt")) == "mv OK\n"
    assert view.get("x.txt") == b"bracketed" and view.get("a.txt") == b"plain"
    assert not view.exists("[a].txt")
    view.put("d1/f", b"1")
    view.put("d*/g", b"2")
    assert out(run("mv", "d*", "e")) == "mv OK\n"
    assert view.get("e/g") == b"2" and view.get("d1/f") == b"1"
    assert not view.exists("e/d1") and not view.exists("d*")


def test_rename_directory_tree(run, view: FsView) -> None:
    view.put("src/a.txt", b"A")
    view.put("src/deep/b.txt", b"B")
    view.mkdir("src/empty")
    assert out(run("mv", "src", "dst")) == "mv OK\n"
    assert view.get("dst/a.txt") == b"A" and view.get("dst/deep/b.txt") == b"B"
    assert view.exists("dst/empty") and not view.exists("src")


def test_open_errors_match_posix(run, view: FsView) -> None:
    view.put("f.txt", b"x")
    view.mkdir("d")
    res = run("openmode", "r", "f.txt/x", "f.txt/.", "f.txt/", "a" * 5000)
    assert out(res).splitlines() == [
        "f.txt/x ENOTDIR",  # a path through a file
        "f.txt/. ENOTDIR",
        "f.txt/ ENOTDIR",
        "a" * 5000 + " ENAMETOOLONG",  # the same on every backend
    ]
    assert out(run("openmode", "rc", "d", "new/")) == "d EISDIR\nnew/ EISDIR\n"
    assert out(run("openmode", "w", "d")) == "d EISDIR\n"
    assert out(run("openmode", "rd", "f.txt", "d")) == "f.txt ENOTDIR\nd OK\n"
    assert out(run("openmode", "wc", "f.txt/new")) == "f.txt/new ENOTDIR\n"


def test_a_failed_open_creates_nothing(run, view: FsView) -> None:
    res = run("emfile", "victim.txt")
    assert out(res) == "full EMFILE\ncreate EMFILE\n"
    assert not view.exists("victim.txt")


def test_sleep_waits(run) -> None:
    # poll_oneoff must honour clock subscriptions (relative and absolute), not return at once
    assert out(run("sleep", "30")) == "relative ok\nabsolute ok\n"
