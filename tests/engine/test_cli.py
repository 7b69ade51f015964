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
