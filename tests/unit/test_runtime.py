"""Runtime: module discovery, typed calls, error mapping (the test guest answers like the engine)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import afmpeg
from afmpeg import runtime as runtime_mod


def test_version(runtime: afmpeg.Runtime) -> None:
    info = runtime.version()
    assert info == afmpeg.VersionInfo(9, "test-guest", "0.0-test", extra={"new_field": 1})


def test_probe_parses_everything(runtime: afmpeg.Runtime) -> None:
    fs = afmpeg.MemoryFS()
    fs.pipe_file("/input.bin", b"not really a movie")
    result = runtime.probe("input.bin", fs=fs)
    assert len(result) == 1
    inp = result[0]
    assert inp.ok and inp.error is None
    assert inp.format == "mov,mp4,m4a,3gp,3g2,mj2"
    assert inp.duration == 5.0 and inp.start == 0.0 and inp.bit_rate == 1234
    assert inp.tags == {"major_brand": "isom"}
    assert inp.chapters == [afmpeg.Chapter(0.0, 2.5, {"title": "One"})]
    assert inp.video is not None and inp.video.width == 640 and inp.video.codec == "h264"
    assert inp.video.disposition == ["default"]
    assert inp.video.frame_rate == 30.0  # "30/1" on the wire
    assert inp.video.extra == {"future_field": "x"}
    assert inp.audio is not None and inp.audio.sample_rate == 48000 and inp.audio.language == "eng"
    assert inp.subtitle is None


def test_probe_failure_is_per_input(runtime: afmpeg.Runtime) -> None:
    result = runtime.probe("input.bin", fs=afmpeg.MemoryFS())
    assert result[0].error == "No such file or directory"
    assert not result[0].ok and result[0].streams == []


def test_run_process_job(runtime: afmpeg.Runtime) -> None:
    fs = afmpeg.MemoryFS()
    job = afmpeg.ProcessJob(
        filter="testsrc2=duration=1[v]",
        outputs=[afmpeg.Output("out.txt", map=["[v]"], video_codec="libopenh264", options={"b": "1M"})],
    )
    result = runtime.run(job, fs=fs)
    assert result.outputs[0].path == "out.txt"
    assert result.outputs[0].streams[0].codec == "h264"
    assert result.analysis[0].key == "lavfi.silence_start" and result.analysis[0].t == 1.5
    # the guest wrote the job it received: it is exactly the wire form
    assert json.loads(fs.cat_file("/out.txt")) == job.to_dict()


def test_run_sends_a_dict_unchanged_and_defaults_op(runtime: afmpeg.Runtime) -> None:
    fs = afmpeg.MemoryFS()
    job = {"version": 9, "outputs": "not-a-list", "future_key": {"a": 1}}
    runtime.run(job, fs=fs)
    assert json.loads(fs.cat_file("/out.txt")) == {"op": "process", **job}


def test_default_fs_is_private_per_runtime(guest_wasm: Path, compile_cache_dir: Path) -> None:
    a = afmpeg.Runtime(guest_wasm, cache_dir=compile_cache_dir)
    b = afmpeg.Runtime(guest_wasm, cache_dir=compile_cache_dir)
    a.run({"filter": "x[v]", "outputs": ["out.txt"]})
    assert a.fs.exists("/out.txt")
    assert not b.fs.exists("/out.txt")
    assert isinstance(a.fs, afmpeg.MemoryFS)


def test_runtime_root_prefix(guest_wasm: Path, compile_cache_dir: Path) -> None:
    fs = afmpeg.MemoryFS()
    rt = afmpeg.Runtime(guest_wasm, cache_dir=compile_cache_dir, fs=fs, root="/jobs/42")
    fs.mkdir("/jobs/42", create_parents=True)
    rt.run({"filter": "x[v]", "outputs": ["out.txt"]})
    assert fs.exists("/jobs/42/out.txt") and not fs.exists("/out.txt")
    res = rt.run_command(["guest", "open", "../secret"])
    assert "ENOTCAPABLE" in res.stdout.decode()


@pytest.mark.parametrize(
    ("op", "exc", "code", "message"),
    [
        ("fail1", afmpeg.ProcessingError, 1, "processing went wrong"),
        ("fail2", afmpeg.JobSpecError, 2, "malformed spec: outputs missing"),
        ("fail3", afmpeg.UnsupportedVocabulary, 3, "vocabulary 99 is newer than 9"),
    ],
)
def test_exit_codes_map_to_exceptions(runtime: afmpeg.Runtime, op: str, exc: type, code: int, message: str) -> None:
    job = {"op": op}
    with pytest.raises(exc) as info:
        runtime.call(job)
    err = info.value
    assert isinstance(err, afmpeg.AfmpegError)
    assert err.exit_code == code
    assert err.message == message
    assert err.job == job
    if op == "fail1":
        assert "[libav] something broke" in err.stderr
        assert err.details == {"error": "processing went wrong", "input": 0}


def test_nonzero_exit_without_json_is_clear(runtime: afmpeg.Runtime) -> None:
    with pytest.raises(afmpeg.ProcessingError) as info:
        runtime.call({"op": "silent"})
    assert str(info.value).startswith("the engine printed no result; last log line: the last log line")
    assert str(info.value).endswith("(engine exit code 1)")
    assert "the last log line" in str(info.value)


def test_success_without_json(runtime: afmpeg.Runtime) -> None:
    with pytest.raises(afmpeg.AfmpegError, match="no JSON result"):
        runtime.call({"op": "nojson"})


def test_trap_is_engine_crash(runtime: afmpeg.Runtime) -> None:
    with pytest.raises(afmpeg.EngineCrash) as info:
        runtime.call({"op": "crash"})
    assert "unreachable" in info.value.message
    assert "backtrace" not in info.value.message  # concise; the full text is in details
    assert "backtrace" in info.value.details["trap"]
    assert info.value.exit_code is None
    assert info.value.trap_code == "UNREACHABLE"


def test_runtime_is_usable_after_a_crash(runtime: afmpeg.Runtime) -> None:
    with pytest.raises(afmpeg.EngineCrash):
        runtime.call({"op": "crash"})
    assert runtime.version().ffmpeg_version == "test-guest"


def test_validation_happens_before_the_engine(runtime: afmpeg.Runtime) -> None:
    fs = afmpeg.MemoryFS()
    with pytest.raises(afmpeg.JobSpecError, match="must be strings"):
        runtime.run(afmpeg.ProcessJob(filter="x", outputs=[afmpeg.Output("o.txt", options={"crf": 23})]), fs=fs)  # type: ignore[dict-item]
    assert not fs.exists("/out.txt")


def test_run_rejects_other_ops(runtime: afmpeg.Runtime) -> None:
    with pytest.raises(afmpeg.JobSpecError, match="call"):
        runtime.run({"op": "probe", "inputs": []})


# ---------------------------------------------------------------- module discovery


def test_find_module_explicit_missing(tmp_path: Path) -> None:
    with pytest.raises(afmpeg.ModuleNotFound):
        afmpeg.Runtime(tmp_path / "nope.wasm")


def test_find_module_env(monkeypatch: pytest.MonkeyPatch, guest_wasm: Path, compile_cache_dir: Path) -> None:
    monkeypatch.setenv("AFMPEG_MODULE", str(guest_wasm))
    rt = afmpeg.Runtime(cache_dir=compile_cache_dir)
    assert rt.module_path == str(guest_wasm)
    assert rt.version().ffmpeg_version == "test-guest"


def test_find_module_env_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AFMPEG_MODULE", str(tmp_path / "gone.wasm"))
    with pytest.raises(afmpeg.ModuleNotFound, match="AFMPEG_MODULE"):
        afmpeg.find_module()


def test_find_module_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AFMPEG_MODULE", raising=False)
    monkeypatch.setattr(runtime_mod, "_repo_build_module", lambda: tmp_path / "missing.wasm")
    monkeypatch.setattr(runtime_mod, "_engine_entry_points", lambda: [])  # an engine wheel may be installed
    with pytest.raises(afmpeg.ModuleNotFound, match="make engine") as info:
        afmpeg.find_module()
    assert isinstance(info.value, FileNotFoundError)


def test_find_module_bytes(guest_wasm: Path) -> None:
    data, where = afmpeg.find_module(guest_wasm.read_bytes())
    assert where == "<bytes>" and data[:4] == b"\0asm"


def test_fs_argument_forms(runtime: afmpeg.Runtime, tmp_path: Path) -> None:
    (tmp_path / "input.bin").write_bytes(b"x")
    assert runtime.probe("input.bin", fs=tmp_path)[0].ok  # a pathlib.Path
    assert runtime.probe("input.bin", fs=f"file://{tmp_path}")[0].ok  # an fsspec URL
    with pytest.raises(FileNotFoundError):
        runtime.probe("input.bin", fs=tmp_path / "not-a-dir")


def test_bare_local_filesystem_needs_a_root(runtime: afmpeg.Runtime, tmp_path: Path) -> None:
    from fsspec.implementations.local import LocalFileSystem

    with pytest.raises(ValueError, match="root"):
        runtime.probe("input.bin", fs=LocalFileSystem())
    (tmp_path / "input.bin").write_bytes(b"x")
    assert runtime.probe("input.bin", fs=LocalFileSystem(), root=str(tmp_path))[0].ok


def test_probe_accepts_path_objects(runtime: afmpeg.Runtime) -> None:
    from pathlib import PurePosixPath

    fs = afmpeg.MemoryFS()
    fs.pipe_file("/input.bin", b"x")
    assert runtime.probe(PurePosixPath("input.bin"), fs=fs)[0].ok


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (float("nan"), "Out of range float"),
        (float("inf"), "Out of range float"),
        (Path("a.wav"), "PosixPath|WindowsPath"),
    ],
)
def test_jobs_that_are_not_json_fail_clearly(runtime: afmpeg.Runtime, value: object, problem: str) -> None:
    job = {"op": "process", "inputs": [{"path": "a.wav", "seek": {"start": value}}], "outputs": ["o.wav"]}
    with pytest.raises(afmpeg.JobSpecError, match=f"cannot be sent as JSON: .*({problem})") as info:
        runtime.call(job)
    assert info.value.job == job


def test_progress_callback_gets_monotonic_reports(runtime: afmpeg.Runtime) -> None:
    seen: list[afmpeg.Progress] = []
    job = {"op": "process", "version": 9, "outputs": [{"path": "out.txt"}]}
    runtime.run(job, fs=afmpeg.MemoryFS(), progress=seen.append)
    assert [p.frame for p in seen] == [30, 60, 90]
    assert [round(p.fraction, 3) for p in seen] == [0.333, 0.667, 1.0]
    assert seen[-1].final and seen[-1].out_time == 3.0 and seen[-1].total_size == 300
    assert "progress" not in job  # the caller's dict is not modified


def test_no_progress_requested_means_none_sent(runtime: afmpeg.Runtime) -> None:
    fs = afmpeg.MemoryFS()
    runtime.run({"op": "process", "version": 9, "outputs": [{"path": "out.txt"}]}, fs=fs)
    assert b'"progress"' not in fs.cat_file("/out.txt")


def test_progress_callback_errors_surface_after_the_job(runtime: afmpeg.Runtime) -> None:
    fs = afmpeg.MemoryFS()

    def bad(p: afmpeg.Progress) -> None:
        raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        runtime.run({"op": "process", "version": 9, "outputs": [{"path": "out.txt"}]}, fs=fs, progress=bad)
    assert fs.exists("/out.txt")  # the job itself ran to the end
