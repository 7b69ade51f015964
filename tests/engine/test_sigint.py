"""Ctrl-C while a job runs on the main thread stops that job and raises KeyboardInterrupt, without crashing.

A SIGINT handled inside one of the ctypes callbacks wasmtime makes (WASI calls, the epoch check) used to escape
the callback and crash the process (a segfault or a heap-corruption abort). The signal is a real one, sent to a
child process running the job on its main thread.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent(
    """
    import sys
    import afmpeg

    module, root, how = sys.argv[1:4]
    rt = afmpeg.Runtime(module, fs=root)
    job = {"op": "process", "version": 9, "filter": "testsrc2=size=640x360:rate=30[v]",
           "outputs": [{"path": "out.mp4", "map": ["[v]"], "video_codec": "libopenh264", "duration": 3600}]}
    said = []

    def progress(p):
        if not said:
            said.append(1)
            print("RUNNING", flush=True)

    try:
        if how == "plain":
            rt.run(job, progress=progress)
        elif how == "time_limit":
            rt.run(job, progress=progress, time_limit=3600)
        elif how == "token":
            rt.run(job, progress=progress, cancel=afmpeg.CancelToken())
        elif how == "builder":
            afmpeg.job().filter(job["filter"]).output("out.mp4", map=["[v]"], video_codec="libopenh264",
                                                      duration=3600).run(rt, progress=progress)
    except KeyboardInterrupt as exc:
        print("INTERRUPTED", type(exc.__context__).__name__, flush=True)
        print(rt.version().vocab_version, flush=True)  # the Runtime is still usable
        sys.exit(0)
    print("FINISHED", flush=True)
    """
)


@pytest.mark.parametrize("how", ["plain", "time_limit", "token", "builder"])
def test_sigint_stops_the_job_and_raises_keyboard_interrupt(module_path: Path, tmp_path: Path, how: str) -> None:
    root = tmp_path / "root"
    root.mkdir()
    child = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(module_path), str(root), how],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        first = child.stdout.readline()
        assert first.strip() == "RUNNING", first + child.stderr.read() if child.stderr else first
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, f"exit {child.returncode}\n{out}\n{err}"
    lines = out.split()
    assert lines[:2] == ["INTERRUPTED", "Cancelled"], out
    assert lines[2] == "9", out
    assert list(root.iterdir()) == []  # nothing the stopped job wrote was published
