"""Per-job overhead and pool throughput of the Python API, with native FFmpeg measured in the same run.

- Per-job overhead: the median of ``--runs`` calls of an empty job (the ``version`` op) and of a probe of a small
  file. Native reference: a process start of the native ffmpeg (``-version``; ``-i FILE`` for the probe), since
  that is what a subprocess-based library pays per call.
- Pool throughput: a fixed batch of small transcodes (320x240 H.264 → 160x120 MPEG-4, 2 s) through a RuntimePool
  with 1 and 2 workers, against the same transcode by native FFmpeg (one thread per process) with 1 and 2
  processes at a time. Ratios are afmpeg / native for times and native / afmpeg for throughput, so lower is better
  for times and higher is better for throughput (1.0 = native speed).

    .venv/bin/python bench/bench_api.py [--runs 200] [--batch 24] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import imageio_ffmpeg

import afmpeg

CLIP_SECONDS = 2


def median_ms(runs: int, fn: Callable[[], object]) -> float:
    """The median wall time of ``runs`` calls of ``fn``, in milliseconds (after two warm-up calls)."""
    for _ in range(2):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def best_seconds(repeat: int, fn: Callable[[], object]) -> float:
    """The best wall time of ``repeat`` calls of ``fn`` (a whole batch), in seconds."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def transcode_job(src: str, dst: str) -> dict:
    """The small transcode both sides run: decode H.264, scale to 160x120, encode MPEG-4 into Matroska."""
    return {"op": "process", "version": 9, "inputs": [{"path": src}], "filter": "[0:v]scale=160:120[v]",
            "outputs": [{"path": dst, "map": ["[v]"], "video_codec": "mpeg4"}]}


def native_transcode_args(src: Path, dst: Path) -> list[str]:
    """The same transcode for the native ffmpeg, on one thread."""
    return ["-threads", "1", "-filter_threads", "1", "-i", str(src), "-filter_complex", "[0:v]scale=160:120[v]",
            "-map", "[v]", "-c:v", "mpeg4", "-y", str(dst)]


def native(ffmpeg: str, *args: str, check: bool = True) -> None:
    """Run the native ffmpeg quietly."""
    subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", *args], check=check, capture_output=True)


def main() -> int:
    """Measure and print the markdown tables."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=200, help="calls per overhead measurement (the median is kept)")
    ap.add_argument("--batch", type=int, default=24, help="transcodes per throughput measurement")
    ap.add_argument("--repeat", type=int, default=3, help="batches per throughput measurement (the best is kept)")
    opts = ap.parse_args()

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    runtime = afmpeg.Runtime()
    fs = runtime.fs
    runtime.run({"op": "process", "version": 9,
                 "filter": f"testsrc2=size=320x240:rate=25:duration={CLIP_SECONDS}[v]",
                 "outputs": [{"path": "clip.mp4", "map": ["[v]"], "video_codec": "libopenh264"}]})
    cpus = os.cpu_count() or 1

    with tempfile.TemporaryDirectory(prefix="afmpeg-bench-") as tmp:
        work = Path(tmp)
        src = work / "clip.mp4"
        src.write_bytes(fs.cat_file("/clip.mp4"))  # the very same input for both sides

        overhead = [
            ("empty job (`version` op)", median_ms(opts.runs, runtime.version),
             median_ms(max(opts.runs // 4, 5), lambda: native(ffmpeg, "-version")), "`ffmpeg -version`"),
            ("probe of a 2 s 320x240 H.264 mp4", median_ms(opts.runs, lambda: runtime.probe("clip.mp4")),
             median_ms(max(opts.runs // 4, 5), lambda: native(ffmpeg, "-i", str(src), check=False)),
             "`ffmpeg -i FILE`"),
        ]

        def afmpeg_batch(workers: int) -> Callable[[], None]:
            jobs = [transcode_job("clip.mp4", f"out_{i}.mkv") for i in range(opts.batch)]

            def go() -> None:
                with afmpeg.RuntimePool(runtime, workers=workers) as pool:
                    for _ in pool.map(jobs):
                        pass
            return go

        def native_batch(procs: int) -> Callable[[], None]:
            def go() -> None:
                with ThreadPoolExecutor(procs) as ex:
                    list(ex.map(lambda i: native(ffmpeg, *native_transcode_args(src, work / f"n_{i}.mkv")),
                                range(opts.batch)))
            return go

        throughput = []
        for workers in (1, 2):
            wasm_s = best_seconds(opts.repeat, afmpeg_batch(workers))
            native_s = best_seconds(opts.repeat, native_batch(workers))
            throughput.append((workers, opts.batch / wasm_s, opts.batch / native_s))
        single_job_ms = median_ms(max(opts.runs // 10, 5), lambda: runtime.run(transcode_job("clip.mp4", "one.mkv")))
        single_native_ms = median_ms(max(opts.runs // 10, 5),
                                     lambda: native(ffmpeg, *native_transcode_args(src, work / "one.mkv")))

    print(f"afmpeg {afmpeg.__version__}, engine {runtime.version().ffmpeg_version}; native {ffmpeg_version(ffmpeg)}; "
          f"{cpus} CPUs; median of {opts.runs} runs; batches of {opts.batch}, best of {opts.repeat}\n")
    print("| per-job overhead | afmpeg (ms) | native (ms) | native command | afmpeg / native |")
    print("|---|---:|---:|---|---:|")
    for name, ours, theirs, command in overhead:
        print(f"| {name} | {ours:.2f} | {theirs:.2f} | {command} | {ours / theirs:.2f} |")
    print(f"| one small transcode (2 s 320x240 H.264 → 160x120 MPEG-4) | {single_job_ms:.1f} | "
          f"{single_native_ms:.1f} | ffmpeg, 1 thread | {single_job_ms / single_native_ms:.2f} |")
    print()
    base = throughput[0][1]
    print("| workers | afmpeg (jobs/s) | speed-up vs 1 worker | native, same number of processes (jobs/s) "
          "| afmpeg / native |")
    print("|---:|---:|---:|---:|---:|")
    for workers, ours, theirs in throughput:
        print(f"| {workers} | {ours:.1f} | {ours / base:.2f}x | {theirs:.1f} | {ours / theirs:.2f} |")
    return 0


def ffmpeg_version(ffmpeg: str) -> str:
    """The native ffmpeg's version string."""
    out = subprocess.run([ffmpeg, "-version"], capture_output=True, text=True, check=False).stdout
    return out.split("\n", 1)[0].removeprefix("ffmpeg version ").split(" ", 1)[0] if out else "?"


if __name__ == "__main__":
    sys.exit(main())
