"""Directory changes are pending like file writes: visible inside the call, applied only when it succeeds.

Run by the C test guest's ``fsops`` command (each step prints the errno it got) on an in-memory filesystem and on a
local directory; publishing is checked to be all-or-nothing where the backend allows it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import afmpeg
from afmpeg.wasi import mounts

from .conftest import FsView


def steps(res: afmpeg.CommandResult) -> list[str]:
    return res.stdout.decode().splitlines()


def on_disk(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_directories_a_failed_call_made_are_not_left_behind(run, view: FsView) -> None:
    res = run("fsops", "mkdir", "d", "mkdir", "d/e", "write", "d/e/f.txt", "x", "mkdir", "empty", "exit", "3")
    assert res.exit_code == 3
    assert steps(res) == ["mkdir d OK", "mkdir d/e OK", "write d/e/f.txt OK", "mkdir empty OK"]
    assert view.names() == set()


def test_new_directories_behave_as_directories_inside_the_call(run, view: FsView) -> None:
    view.put("top.txt", b"t")
    res = run(
        "fsops",
        "mkdir", "d",
        "stat", "d",
        "ls", "/",
        "ls", "d",
        "mkdir", "d",  # EEXIST
        "mkdir", "d/e",
        "write", "d/e/f.txt", "hello",
        "ls", "d",
        "ls", "d/e",
        "stat", "d/e/f.txt",
        "cat", "d/e/f.txt",
        "rmdir", "d",  # not empty
        "write", "d", "x",  # a directory
        "mkdir", "nope/deeper",  # no parent
        "mkdir", "top.txt/sub",  # a file in the way
        "mkdir", "gone",
        "rmdir", "gone",
        "stat", "gone",
    )  # fmt: skip
    assert res.exit_code == 0
    assert steps(res) == [
        "mkdir d OK",
        "stat d dir 0",
        "ls / d/ top.txt",
        "ls d",
        "mkdir d EEXIST",
        "mkdir d/e OK",
        "write d/e/f.txt OK",
        "ls d e/",
        "ls d/e f.txt",
        "stat d/e/f.txt file 5",
        "cat d/e/f.txt hello",
        "rmdir d ENOTEMPTY",
        "write d EISDIR",
        "mkdir nope/deeper ENOENT",
        "mkdir top.txt/sub ENOTDIR",
        "mkdir gone OK",
        "rmdir gone OK",
        "stat gone ENOENT",
    ]
    assert view.names() == {"top.txt", "d", "d/e", "d/e/f.txt"}  # "gone" came and went within the call
    assert view.get("d/e/f.txt") == b"hello"


@pytest.mark.parametrize("code", ["1", "0"])
def test_rmdir_is_applied_only_when_the_call_succeeds(run, view: FsView, code: str) -> None:
    view.mkdir("old/inner")
    view.put("keep.txt", b"k")
    res = run("fsops", "rmdir", "old/inner", "rmdir", "old", "stat", "old", "ls", "/", "exit", code)
    assert steps(res) == ["rmdir old/inner OK", "rmdir old OK", "stat old ENOENT", "ls / keep.txt"]
    if code == "0":
        assert view.names() == {"keep.txt"}
    else:
        assert view.names() == {"keep.txt", "old", "old/inner"}


def test_emptied_directory_can_be_removed_and_made_again(run, view: FsView) -> None:
    view.put("d/old.txt", b"o")
    res = run(
        "fsops", "unlink", "d/old.txt", "rmdir", "d", "ls", "/", "mkdir", "d", "ls", "d", "write", "d/new.txt", "n"
    )
    assert steps(res) == ["unlink d/old.txt OK", "rmdir d OK", "ls /", "mkdir d OK", "ls d", "write d/new.txt OK"]
    assert view.names() == {"d", "d/new.txt"}


@pytest.mark.parametrize("code", ["2", "0"])
def test_directory_rename_is_deferred(run, view: FsView, code: str) -> None:
    view.put("src/a.txt", b"A")
    view.put("src/deep/b.txt", b"B")
    res = run("fsops", "mv", "src", "dst", "ls", "/", "ls", "dst", "cat", "dst/deep/b.txt", "stat", "src", "exit", code)
    assert steps(res) == ["mv src dst OK", "ls / dst/", "ls dst a.txt deep/", "cat dst/deep/b.txt B", "stat src ENOENT"]
    if code == "0":
        assert view.names() == {"dst", "dst/a.txt", "dst/deep", "dst/deep/b.txt"}
    else:
        assert view.names() == {"src", "src/a.txt", "src/deep", "src/deep/b.txt"}


def test_a_path_may_change_from_file_to_directory_and_back(run, view: FsView) -> None:
    view.put("x", b"a file")
    view.put("y/f.txt", b"in a directory")
    res = run(
        "fsops",
        "unlink", "x", "mkdir", "x", "write", "x/inner.txt", "now inside",
        "unlink", "y/f.txt", "rmdir", "y", "write", "y", "now a file",
        "stat", "x", "stat", "y",
    )  # fmt: skip
    assert steps(res)[-2:] == ["stat x dir 0", "stat y file 10"]
    assert view.names() == {"x", "x/inner.txt", "y"}  # and no temporary names left behind
    assert view.get("x/inner.txt") == b"now inside"
    assert view.get("y") == b"now a file"


def test_failed_call_leaves_renamed_and_deleted_files_alone(run, view: FsView) -> None:
    view.put("a.txt", b"A")
    view.put("b.txt", b"B")
    res = run("fsops", "mv", "a.txt", "c.txt", "unlink", "b.txt", "ls", "/", "exit", "4")
    assert steps(res) == ["mv a.txt c.txt OK", "unlink b.txt OK", "ls / c.txt"]
    assert view.names() == {"a.txt", "b.txt"}


# ---------------------------------------------------------------- publishing: all or nothing


class _OsWithFailingReplace:
    """``os`` as the mounts module sees it, except that renaming a staged file onto ``victim`` fails."""

    def __init__(self, victim: str) -> None:
        self.victim = victim

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def replace(self, src: str, dst: str) -> None:
        if dst.endswith(self.victim):
            raise OSError(28, "No space left on device")
        os.replace(src, dst)


def _local_job(runtime: afmpeg.Runtime, root: Path) -> afmpeg.CommandResult:
    return runtime.run_command(
        [
            "guest", "fsops",
            "mkdir", "new", "write", "new/n.txt", "n",
            "write", "a.txt", "A", "write", "b.txt", "B", "write", "c.txt", "C",
            "unlink", "gone.txt",
        ],
        fs=str(root),
    )  # fmt: skip


@pytest.fixture
def local_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    root.mkdir()
    (root / "b.txt").write_bytes(b"old b")
    (root / "gone.txt").write_bytes(b"g")
    return root


def test_local_publish_undoes_itself_when_moving_into_place_fails(
    runtime: afmpeg.Runtime, local_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mounts, "os", _OsWithFailingReplace("b.txt"))
    res = _local_job(runtime, local_root)
    assert res.exit_code == 0
    assert len(res.write_errors) == 1 and "No space left on device" in res.write_errors[0]
    # a.txt had been moved into place already: being new, it was taken back; nothing was deleted
    assert on_disk(local_root) == {"b.txt", "gone.txt"}
    assert (local_root / "b.txt").read_bytes() == b"old b"


def test_local_publish_writes_nothing_when_writing_aside_fails(
    runtime: afmpeg.Runtime, local_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = open

    def failing_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if "c.txt" in os.fspath(file):
            raise OSError(28, "No space left on device")
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(mounts, "open", failing_open, raising=False)
    res = _local_job(runtime, local_root)
    assert res.write_errors and "c.txt" in res.write_errors[0]
    assert on_disk(local_root) == {"b.txt", "gone.txt"}  # no new directory, no temporary file
    assert (local_root / "b.txt").read_bytes() == b"old b"


def test_local_publish_applies_everything(runtime: afmpeg.Runtime, local_root: Path) -> None:
    res = _local_job(runtime, local_root)
    assert res.exit_code == 0 and res.write_errors == []
    assert on_disk(local_root) == {"a.txt", "b.txt", "c.txt", "new", "new/n.txt"}
    assert (local_root / "b.txt").read_bytes() == b"B"


class _FailingUploadFS(afmpeg.MemoryFS):
    """A filesystem whose uploads of one name fail (like a remote store refusing one object)."""

    def pipe_file(self, path: str, value: Any, *args: Any, **kwargs: Any) -> None:
        if path.endswith("b.txt"):
            raise ConnectionError("connection reset while uploading")
        super().pipe_file(path, value, *args, **kwargs)


def test_remote_publish_takes_back_what_it_created_when_an_upload_fails(runtime: afmpeg.Runtime) -> None:
    fs = _FailingUploadFS()
    fs.pipe_file("/keep.txt", b"k")
    res = runtime.run_command(
        ["guest", "fsops", "mkdir", "d", "write", "a.txt", "A", "write", "b.txt", "B", "unlink", "keep.txt"], fs=fs
    )
    assert res.write_errors == ["b.txt: ConnectionError: connection reset while uploading"]
    assert fs.find("/", withdirs=True) == ["/keep.txt"]  # a.txt was uploaded, then deleted again; d was removed
