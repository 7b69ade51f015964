"""The afmpeg command line: in-process through cli.main() (fast), and as `python -m afmpeg` / the `afmpeg` script."""

from __future__ import annotations

import _thread
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from afmpeg import cli

from .conftest import make_clip_job
from .release_files import signed_release

PYTHON = Path(sys.executable)
SCRIPT = PYTHON.parent / "afmpeg"


def afmpeg(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def long_job(path: str = "long.mkv") -> dict:
    # an hour of 640x360 video: far longer than any test waits
    return {"op": "process", "filter": "testsrc2=size=640x360:rate=25:duration=3600[v]",
            "outputs": [{"path": path, "map": ["[v]"], "video_codec": "mpeg4"}]}


@pytest.fixture
def root(tmp_path: Path, module_path: Path) -> Path:
    """A root directory holding a 2 s H.264/AAC clip, made through the CLI."""
    (tmp_path / "make.json").write_text(json.dumps(make_clip_job("clip.mp4", seconds=2, size="320x240", rate=25)))
    code, out, err = afmpeg("run", str(tmp_path / "make.json"), "--root", str(tmp_path))
    assert code == 0, err
    assert "wrote clip.mp4 (video h264, audio aac)" in out
    return tmp_path


def test_run_writes_the_output_and_json_parses(root: Path) -> None:
    job = {"op": "process", "inputs": [{"path": "clip.mp4"}], "filter": "[0:v]scale=160:-2[v]",
           "outputs": [{"path": "sub/out.mkv", "map": ["[v]"], "video_codec": "mpeg4"}]}
    (root / "sub").mkdir()
    (root / "job.json").write_text(json.dumps(job))
    code, out, err = afmpeg("--json", "run", str(root / "job.json"), "--root", str(root))
    assert code == 0, err
    result = json.loads(out)
    assert result["outputs"][0]["path"] == "sub/out.mkv" and result["outputs"][0]["streams"][0]["codec"] == "mpeg4"
    assert (root / "sub" / "out.mkv").stat().st_size > 1000
    assert err == ""  # no bar: stderr is not a terminal and --progress was not given


def test_run_reads_stdin_and_other_ops(root: Path) -> None:
    code, out, _ = afmpeg("run", "-", "--root", str(root), "--json", stdin=json.dumps({"op": "probe",
                          "inputs": [{"path": "clip.mp4"}]}))
    assert code == 0 and json.loads(out)["inputs"][0]["streams"][0]["width"] == 320
    code, out, _ = afmpeg("run", "-", "--root", str(root), stdin='{"op": "version"}', )
    assert code == 0 and '"vocab_version": 9' in out


def test_run_root_defaults_to_the_working_directory(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(root)
    (root / "j.json").write_text(json.dumps({"op": "process", "inputs": [{"path": "clip.mp4"}],
                                             "outputs": [{"path": "copy.mkv", "map": ["0:a"]}]}))
    code, out, err = afmpeg("run", "j.json")
    assert code == 0, err
    assert (root / "copy.mkv").exists() and "wrote copy.mkv" in out


def test_probe_json_and_text(root: Path) -> None:
    code, out, err = afmpeg("probe", "clip.mp4", "--root", str(root), "--json")
    assert code == 0, err
    info = json.loads(out)["inputs"][0]
    assert info["format"].startswith("mov") and [s["codec"] for s in info["streams"]] == ["h264", "aac"]
    code, out, _ = afmpeg("probe", "clip.mp4", "--root", str(root))
    assert code == 0 and "#0 video h264" in out and "320x240" in out and "#1 audio aac" in out


def test_missing_input_is_exit_1_with_a_message(root: Path) -> None:
    code, out, err = afmpeg("probe", "nope.mp4", "--root", str(root))
    assert code == 1 and out == "" and "nope.mp4" in err and "No such file" in err
    code, out, err = afmpeg("--json", "probe", "nope.mp4", "--root", str(root))
    assert code == 1 and out == ""
    data = json.loads(err)
    assert data["exit_code"] == 1 and "nope.mp4" in data["error"]
    (root / "j.json").write_text(json.dumps({"op": "process", "inputs": [{"path": "nope.mp4"}],
                                             "outputs": [{"path": "x.mp4"}]}))
    code, _, err = afmpeg("run", str(root / "j.json"), "--root", str(root), "--json")
    data = json.loads(err)
    assert code == 1 and data["exit_code"] == 1 and "nope.mp4" in data["error"] and data["field"] == "inputs[0]"
    assert not (root / "x.mp4").exists()


def test_bad_job_json_is_exit_2(root: Path) -> None:
    (root / "bad.json").write_text('{"op": "process",')
    code, out, err = afmpeg("run", str(root / "bad.json"), "--root", str(root))
    assert code == 2 and out == "" and "bad.json is not valid JSON" in err
    code, _, err = afmpeg("run", "-", "--root", str(root), stdin="[1, 2]")
    assert code == 2 and "must hold a JSON object" in err
    code, _, err = afmpeg("run", str(root / "absent.json"), "--root", str(root))
    assert code == 2 and "cannot read the job file" in err and "absent.json" in err
    # the engine rejects a malformed spec: exit 2, the field named in the JSON error
    (root / "spec.json").write_text(json.dumps({"op": "process", "outputs": [{"path": "a.mp4", "pathh": 1}]}))
    code, _, err = afmpeg("--json", "run", str(root / "spec.json"), "--root", str(root))
    data = json.loads(err)
    assert code == 2 and data["type"] == "JobSpecError" and "pathh" in data["error"]


def test_newer_vocabulary_is_exit_3(root: Path) -> None:
    code, _, err = afmpeg("run", "-", "--root", str(root), stdin='{"op": "probe", "version": 99, "inputs": []}')
    assert code == 3 and "newer than this engine" in err


def test_usage_errors_are_exit_2(root: Path) -> None:
    assert afmpeg()[0] == 2  # no command
    code, _, err = afmpeg("frobnicate")
    assert code == 2 and "invalid choice" in err
    code, _, err = afmpeg("--json", "probe")
    assert code == 2 and "required" in json.loads(err)["error"]
    code, _, err = afmpeg("--memory-limit", "lots", "version")
    assert code == 2 and "512M" in err
    code, _, err = afmpeg("probe", "clip.mp4", "--root", str(root / "nowhere"))
    assert code == 2 and "is not a directory" in err


def test_transcode(root: Path) -> None:
    code, out, err = afmpeg("transcode", "clip.mp4", "small.mkv", "--root", str(root), "--size", "160x-1",
                            "--vcodec", "mpeg4", "--fps", "10", "--ab", "64k", "--duration", "1", "--json")
    assert code == 0, err
    assert json.loads(out)["outputs"][0]["path"] == "small.mkv"
    code, out, _ = afmpeg("probe", "small.mkv", "--root", str(root), "--json")
    video, audio = json.loads(out)["inputs"][0]["streams"]
    assert (video["codec"], video["width"], video["height"], video["frame_rate"]) == ("mpeg4", 160, 120, 10)
    assert audio["codec"] == "aac"


def test_transcode_without_root_uses_local_paths(root: Path, tmp_path_factory, monkeypatch) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    monkeypatch.chdir(elsewhere)
    code, out, err = afmpeg("transcode", str(root / "clip.mp4"), "audio.m4a", "--no-video")
    assert code == 0, err
    assert "wrote audio.m4a (audio aac)" in out
    assert (elsewhere / "audio.m4a").stat().st_size > 1000


def test_frames(root: Path) -> None:
    code, out, err = afmpeg("frames", "clip.mp4", "thumbs/f_%02d.png", "--every", "0.5", "--scale", "80:-2",
                            "--root", str(root), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["count"] == 4 and [f["path"] for f in result["frames"]] == [f"thumbs/f_0{i}.png" for i in range(1, 5)]
    assert (root / "thumbs" / "f_01.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, out, _ = afmpeg("frames", "clip.mp4", "at_%d.jpg", "--at", "1.5", "0.2", "--root", str(root))
    assert code == 0 and "wrote at_1.jpg at 1.520 s" in out and (root / "at_2.jpg").exists()
    code, _, err = afmpeg("frames", "clip.mp4", "one.png", "--every", "0.5", "--root", str(root))
    assert code == 2 and "frame number" in err  # judged before the engine runs


def test_capabilities(module_path: Path) -> None:
    code, out, _ = afmpeg("capabilities", "--json")
    caps = json.loads(out)
    assert code == 0 and any(e["name"] == "libopenh264" for e in caps["encoders"]) and caps["protocols"]["input"]
    code, out, _ = afmpeg("capabilities", "--kind", "filters", "--json")
    assert code == 0 and list(json.loads(out)) == ["filters"]
    code, out, _ = afmpeg("capabilities", "--kind", "encoders")
    line = next(ln for ln in out.splitlines() if ln.startswith("libopenh264"))
    assert "video" in line and "OpenH264" in line
    code, out, _ = afmpeg("capabilities")
    assert code == 0 and "filters (" in out and "protocols: input file; output file" in out


def test_limits_are_exit_4(root: Path) -> None:
    (root / "long.json").write_text(json.dumps(long_job()))
    job = str(root / "long.json")
    code, _, err = afmpeg("--json", "--time-limit", "0.5", "run", job, "--root", str(root))
    assert code == 4 and json.loads(err)["type"] == "JobTimeout" and not (root / "long.mkv").exists()
    big = {"op": "process", "filter": "testsrc2=size=3840x2160:rate=1:duration=1[v]",
           "outputs": [{"path": "big.png", "map": ["[v]"], "video_codec": "png", "format": "image2"}]}
    (root / "big.json").write_text(json.dumps(big))
    code, _, err = afmpeg("run", str(root / "big.json"), "--root", str(root), "--memory-limit", "24M")
    assert code == 4 and "memory_limit" in err


def test_missing_module_is_exit_5(tmp_path: Path) -> None:
    code, _, err = afmpeg("version", "--module", str(tmp_path / "none.wasm"))
    assert code == 5 and "none.wasm" in err


def test_progress_bar_on_request_and_quiet(root: Path) -> None:
    job = {"op": "process", "inputs": [{"path": "clip.mp4"}],
           "outputs": [{"path": "p.mkv", "video_codec": "mpeg4", "audio_codec": "aac"}]}
    (root / "p.json").write_text(json.dumps(job))
    code, out, err = afmpeg("run", str(root / "p.json"), "--root", str(root), "--progress")
    assert code == 0, err
    assert "p.json" in err and "100%" in err and "2.0/2.0 s" in err
    code, out, err = afmpeg("run", str(root / "p.json"), "--root", str(root), "--progress", "--quiet")
    assert code == 0 and out == "" and err == ""


def test_ctrl_c_cancels_in_process(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class InterruptAtFirstReport:
        def __init__(self) -> None:
            self.reports = 0

        def __call__(self, p) -> None:
            self.reports += 1
            if self.reports == 1:
                _thread.interrupt_main()  # what Ctrl-C does: KeyboardInterrupt in the main thread

        def close(self) -> None:
            pass

    bar = InterruptAtFirstReport()
    monkeypatch.setattr(cli, "_make_bar", lambda ctx, description: bar)
    (root / "long.json").write_text(json.dumps(long_job()))
    code, _, err = afmpeg("run", str(root / "long.json"), "--root", str(root))
    assert code == 130 and "interrupted" in err and bar.reports >= 1
    assert not (root / "long.mkv").exists()


def test_ctrl_c_cancels_the_subprocess(root: Path) -> None:
    (root / "long.json").write_text(json.dumps(long_job()))
    env = dict(os.environ, TTY_COMPATIBLE="1")  # rich draws live on the pipe, so the first bytes mean "running"
    argv = [str(PYTHON), "-m", "afmpeg", "run", str(root / "long.json"), "--progress", "--root", str(root)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert proc.stderr is not None and proc.stderr.read1(1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130 and b"interrupted" in err
    assert not (root / "long.mkv").exists()


def test_python_m_and_console_script(root: Path) -> None:
    res = subprocess.run([str(PYTHON), "-m", "afmpeg", "--json", "version"], capture_output=True, text=True,
                         check=False)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["vocab_version"] == 9 and data["ffmpeg_version"] and data["afmpeg"]
    res = subprocess.run([str(SCRIPT), "probe", "clip.mp4", "--root", str(root)], capture_output=True, text=True,
                         check=False)
    assert res.returncode == 0 and "video h264" in res.stdout
    res = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, check=False)
    assert res.returncode == 0 and "exit codes:" in res.stdout and "130" in res.stdout
    res = subprocess.run([str(SCRIPT), "run", "-", "--root", str(root)], input="{", capture_output=True, text=True,
                         check=False)
    assert res.returncode == 2 and "not valid JSON" in res.stderr


# ------------------------------------------------------------------------------------------------ paths and errors


def no_leak(err: str) -> None:
    """One clear line: no traceback, no raw errno text."""
    assert "Traceback" not in err and "Capabilities insufficient" not in err and "[Errno" not in err, err
    assert "_UsageError" not in err


def test_probe_without_root_takes_local_paths(root: Path, tmp_path_factory, monkeypatch) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "sub").mkdir()
    monkeypatch.chdir(elsewhere / "sub")
    code, out, err = afmpeg("probe", str(root / "clip.mp4"))  # an absolute path
    assert code == 0, err
    assert out.startswith(f"{root / 'clip.mp4'}: mov") and "#0 video h264" in out
    rel = os.path.relpath(root / "clip.mp4")  # ../../<root>/clip.mp4
    assert rel.startswith("..")
    code, out, err = afmpeg("probe", rel, "--json")
    assert code == 0, err
    info = json.loads(out)["inputs"][0]
    assert info["path"] == rel and [s["codec"] for s in info["streams"]] == ["h264", "aac"]
    monkeypatch.chdir(root)  # a file in the working directory, named by its absolute path
    code, _, err = afmpeg("probe", str(root / "clip.mp4"))
    assert code == 0, err


def test_probe_missing_file_json_is_input_not_found(root: Path, tmp_path_factory, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    for argv in (["probe", "nope.mp4", "--root", str(root)], ["probe", str(root / "nope.mp4")],
                 ["probe", "../nope.mp4"]):
        code, out, err = afmpeg("--json", *argv)
        data = json.loads(err)
        assert code == 1 and out == "", argv
        assert data["type"] == "InputNotFound" and data["kind"] == "not_found" and data["exit_code"] == 1, data
        assert data["field"] == "inputs[0]" and data["error"] == f"{argv[1]}: No such file or directory", data


def test_paths_outside_root_are_usage_errors(root: Path, tmp_path_factory, monkeypatch) -> None:
    media = root / "media"
    media.mkdir()
    (media / "clip.mp4").write_bytes((root / "clip.mp4").read_bytes())
    monkeypatch.chdir(root)
    cases = {  # the command → the path that leaves the root
        ("probe", "../clip.mp4"): "../clip.mp4",
        ("probe", str(root / "clip.mp4")): str(root / "clip.mp4"),
        ("probe", "a/../../clip.mp4"): "a/../../clip.mp4",
        ("frames", "../clip.mp4", "f.png"): "../clip.mp4",
        ("frames", "clip.mp4", "../f.png"): "../f.png",
        ("frames", "clip.mp4", "/elsewhere/f.png"): "/elsewhere/f.png",
        ("transcode", "../clip.mp4", "x.mkv"): "../clip.mp4",
        ("transcode", "clip.mp4", str(root / "x.mkv")): str(root / "x.mkv"),
    }
    for argv, bad in cases.items():
        code, out, err = afmpeg(*argv, "--root", "media")
        no_leak(err)
        assert code == 2 and out == "" and f"{bad} is outside --root media" in err, (argv, err)
        code, _, err = afmpeg("--json", *argv, "--root", "media")
        data = json.loads(err)
        assert code == 2 and data["type"] == "UsageError" and data["exit_code"] == 2
        assert f"{bad} is outside --root media" == data["error"]
    assert not (root / "f.png").exists() and not (root / "x.mkv").exists()
    # inside the root, an absolute path (or one with ..) is fine
    code, out, err = afmpeg("probe", str(media / "clip.mp4"), "--root", "media")
    assert code == 0 and "video h264" in out, err
    code, out, err = afmpeg("frames", "x/../clip.mp4", str(media / "t" / "f.png"), "--root", "media")
    assert code == 0 and f"wrote {media / 't' / 'f.png'}" in out, err
    assert (media / "t" / "f.png").exists()


def test_url_root_paths(root: Path) -> None:
    import fsspec

    mem = fsspec.filesystem("memory")
    mem.pipe_file("/cli-test/clip.mp4", (root / "clip.mp4").read_bytes())
    try:
        for name in ("clip.mp4", "/clip.mp4", "memory://cli-test/clip.mp4"):
            code, out, err = afmpeg("probe", name, "--root", "memory://cli-test")
            assert code == 0 and out.startswith(f"{name}: mov"), (name, err)
        for name in ("../clip.mp4", "/../clip.mp4", "memory://elsewhere/clip.mp4"):
            code, _, err = afmpeg("probe", name, "--root", "memory://cli-test")
            assert code == 2 and f"{name} is outside --root memory://cli-test" in err, (name, err)
        code, out, err = afmpeg("frames", "clip.mp4", "t/f_%d.png", "--every", "1", "--root", "memory://cli-test")
        assert code == 0 and "wrote t/f_2.png" in out, err
        assert mem.cat_file("/cli-test/t/f_1.png")[:4] == b"\x89PNG"
        # without --root, a URL is a file of its own filesystem
        code, out, err = afmpeg("probe", "memory://cli-test/clip.mp4")
        assert code == 0 and "video h264" in out, err
    finally:
        mem.rm("/cli-test", recursive=True)


def test_a_symlink_out_of_the_root_is_a_clear_error(root: Path) -> None:
    media = root / "media"
    media.mkdir()
    (media / "up.mp4").symlink_to(root / "clip.mp4")
    code, _, err = afmpeg("probe", "up.mp4", "--root", str(media))
    no_leak(err)
    assert code == 2 and f"up.mp4 is outside --root {media}" in err and "symbolic link" in err
    # inside a job: the sandbox refuses it; the CLI says so in the user's terms (exit 2, like a ../ path)
    (root / "j.json").write_text(json.dumps({"op": "process", "inputs": [{"path": "up.mp4"}],
                                             "outputs": [{"path": "o.mkv", "map": ["0:a"]}]}))
    code, out, err = afmpeg("--json", "run", str(root / "j.json"), "--root", str(media))
    no_leak(err)
    data = json.loads(err)
    assert code == 2 and out == "" and data["type"] == "JobSpecError" and data["kind"] == "spec"
    assert data["error"] == f'inputs[0].path: "up.mp4" leads outside --root {media}'
    assert data["field"] == "inputs[0].path"
    # a probe job is refused as a whole, like a ../ path
    code, _, err = afmpeg("run", "-", "--root", str(media), stdin='{"op": "probe", "inputs": [{"path": "up.mp4"}]}')
    no_leak(err)
    assert code == 2 and err.strip() == f'afmpeg: error: inputs[0].path: "up.mp4" leads outside --root {media}'
    code, out, err = afmpeg("--json", "run", "-", "--root", str(media),
                            stdin='{"op": "probe", "inputs": [{"path": "up.mp4"}]}')
    no_leak(err)
    data = json.loads(err)
    assert code == 2 and out == "" and data["kind"] == "spec" and "leads outside --root" in data["error"]


def test_run_names_the_root_a_job_path_leaves(root: Path, monkeypatch) -> None:
    media = root / "media"
    media.mkdir()
    job = {"op": "process", "inputs": [{"path": "../clip.mp4"}], "outputs": [{"path": "o.mkv", "map": ["0:a"]}]}
    (root / "j.json").write_text(json.dumps(job))
    code, _, err = afmpeg("run", str(root / "j.json"), "--root", str(media))
    assert code == 2 and f'"../clip.mp4" is outside --root {media}' in err
    monkeypatch.chdir(media)
    code, _, err = afmpeg("run", str(root / "j.json"))
    assert code == 2 and "outside the working directory" in err


def test_run_json_probe_with_an_unreadable_input_fails(root: Path) -> None:
    code, out, _ = afmpeg("--json", "run", "-", "--root", str(root),
                          stdin='{"op": "probe", "inputs": [{"path": "clip.mp4"}, {"path": "nope.mp4"}]}')
    inputs = json.loads(out)["inputs"]
    assert code == 1 and inputs[0]["streams"] and "No such file" in inputs[1]["error"]


def test_frames_without_root_takes_local_paths(root: Path, tmp_path_factory, monkeypatch) -> None:
    work = root / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    code, out, err = afmpeg("frames", "../clip.mp4", "thumbs/f_%d.png", "--every", "1", "--json")
    assert code == 0, err
    assert [f["path"] for f in json.loads(out)["frames"]] == ["thumbs/f_1.png", "thumbs/f_2.png"]
    assert (work / "thumbs" / "f_2.png").read_bytes()[:4] == b"\x89PNG"
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    code, out, err = afmpeg("frames", str(root / "clip.mp4"), str(elsewhere / "a" / "b.png"), "--at", "1")
    assert code == 0 and f"wrote {elsewhere / 'a' / 'b.png'} at" in out, err
    assert (elsewhere / "a" / "b.png").exists()
    # files with no common directory short of / : the input is copied into memory, the frames copied out
    monkeypatch.setattr(cli, "_deep", lambda directory, mod: False)
    code, out, err = afmpeg("frames", "../clip.mp4", str(elsewhere / "c_%d.jpg"), "--every", "1")
    assert code == 0 and f"wrote {elsewhere / 'c_2.jpg'} at 1.000 s" in out, err
    assert (elsewhere / "c_1.jpg").read_bytes()[:2] == b"\xff\xd8"


def test_bad_root_urls_are_usage_errors(root: Path) -> None:
    for argv in (["probe", "x.mp4"], ["frames", "x.mp4", "f.png"], ["transcode", "x.mp4", "y.mkv"],
                 ["run", str(root / "absent.json")]):
        if argv[0] == "run":
            (root / "absent.json").write_text('{"op": "version"}')
        code, _, err = afmpeg("--json", *argv, "--root", "nosuchproto://x")
        data = json.loads(err)
        assert code == 2 and data["type"] == "UsageError" and "nosuchproto" in data["error"], err
    code, _, err = afmpeg("probe", "x.mp4", "--root", f"file://{root}/nowhere")
    no_leak(err)
    assert code == 2 and "is not a directory" in err


def test_usage_errors_have_a_public_type(root: Path) -> None:
    code, _, err = afmpeg("--json", "run", "-", stdin="[1, 2]")
    assert code == 2 and json.loads(err)["type"] == "UsageError"
    code, _, err = afmpeg("--json", "probe")
    assert code == 2 and json.loads(err)["type"] == "UsageError"


def test_directory_as_input_is_exit_1(root: Path, monkeypatch) -> None:
    (root / "d").mkdir()
    monkeypatch.chdir(root)
    for argv in (["probe", "d"], ["frames", "d", "f.png"], ["transcode", "d", "x.mkv"],
                 ["probe", "d", "--root", "."], ["transcode", "d", "x.mkv", "--root", "."]):
        code, out, err = afmpeg("--json", *argv)
        no_leak(err)
        data = json.loads(err)
        assert code == 1 and out == "" and data["error"] == "d: Is a directory", (argv, data)
        assert data["type"] == "ProcessingError" and data["kind"] == "processing", (argv, data)


def test_outputs_that_cannot_be_written(root: Path, monkeypatch) -> None:
    monkeypatch.chdir(root)
    cases = {
        ("transcode", "clip.mp4", "nodir/x.mkv", "--no-video"): "nodir/x.mkv: cannot create the file: its directory "
                                                                "does not exist",
        ("transcode", "clip.mp4", "clip.mp4/x.mkv", "--no-video"): "clip.mp4/x.mkv: Not a directory",
        ("transcode", "clip.mp4", str(root), "--no-video"): f"{root}: Is a directory",
        ("frames", "clip.mp4", "clip.mp4/f.png"): "cannot create the directory clip.mp4: File exists",
        ("frames", "clip.mp4", "clip.mp4/f.png", "--root", "."): "cannot create the directory clip.mp4: File exists",
    }
    for argv, message in cases.items():
        code, out, err = afmpeg(*argv)
        no_leak(err)
        assert code == 1 and out == "" and message in err and len(err.splitlines()) == 1, (argv, err)
    assert not (root / "nodir").exists()


def test_engine_log_in_json_errors(root: Path) -> None:
    (root / "cut.mp4").write_bytes((root / "clip.mp4").read_bytes()[:3000])  # no moov atom
    code, _, err = afmpeg("--json", "frames", "cut.mp4", "f.png", "--root", str(root))
    data = json.loads(err)
    assert code == 1 and data["type"] == "InvalidData" and data["kind"] == "invalid_data", data
    assert "moov atom not found" in data["ffmpeg_message"] and data["field"] == "inputs[0]"


def test_unexpected_errors_are_one_line(root: Path, monkeypatch) -> None:
    def broken(ctx) -> int:
        raise RuntimeError("something broke")

    monkeypatch.setitem(cli._COMMANDS, "version", broken)
    code, out, err = afmpeg("version")
    assert code == 1 and out == "" and err == "afmpeg: error: unexpected RuntimeError: something broke\n"
    code, _, err = afmpeg("--json", "version")
    assert code == 1 and json.loads(err)["type"] == "RuntimeError"


# ---------------------------------------------------------------------------------------------- module verify


def test_module_verify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from afmpeg.release import acquire, generate_keypair

    release = tmp_path / "release"
    _, public = signed_release(release, b"\0asm\x01\0\0\0 not a real engine")
    key_file = tmp_path / "release.pub"
    key_file.write_text(public.to_text())

    code, out, err = afmpeg("module", "verify", str(release), "--key", public.to_base64())
    assert code == 0, err
    assert f"verified release v0.0.0-cli (variant lgpl, profile lean), signed by key {public.key_id_hex}" in out
    assert "3 listed file(s) match checksums.txt" in out

    code, out, err = afmpeg("--json", "module", "verify", str(release), "--key", str(key_file), "--raw",
                            "--tag", "v0.0.0-cli")
    assert code == 0, err
    data = json.loads(out)
    assert data["verified"] and data["file"] == "afmpeg-engine-lgpl.wasm" and data["missing"] == []

    _, other = generate_keypair()
    code, out, err = afmpeg("module", "verify", str(release), "--key", other.to_base64())
    assert (code, out) == (1, "") and "not a trusted key" in err

    monkeypatch.setattr(acquire, "pinned_keys", lambda: [])
    code, _, err = afmpeg("module", "verify", str(release))
    assert code == 1 and "no trusted release keys are pinned" in err

    code, _, err = afmpeg("module", "verify", str(release), "--key", public.to_base64(), "--variant", "gpl")
    assert code == 1 and "'gpl' is not in this release" in err

    code, _, err = afmpeg("module", "verify", str(release), "--key", public.to_base64(), "--tag", "v9")
    assert code == 1 and "describes release 'v0.0.0-cli', not 'v9'" in err

    (release / "afmpeg-engine-lgpl.wasm").write_bytes(b"\0asm altered")  # the .gz still verifies; the raw does not
    code, _, err = afmpeg("--json", "module", "verify", str(release), "--key", public.to_base64())
    assert code == 1
    assert json.loads(err)["type"] == "ChecksumMismatch"
