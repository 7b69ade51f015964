"""Engine vs native FFmpeg 9.0.2, measured in one run on this machine.

Inputs are made by the native FFmpeg shipped in the `imageio-ffmpeg` wheel. Every row runs the
same work both ways and prints the ratio engine / native (lower is better, 1.0 = native speed).
Native runs use one thread; "no SIMD" adds `-cpuflags 0`, the like-for-like floor for a module
that has no hand-written SIMD.

    make bench            # or: .venv/bin/python bench/bench.py [--repeat N]
"""

from __future__ import annotations

import argparse
import math
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path

import imageio_ffmpeg

import afmpeg

REPO = Path(__file__).resolve().parents[1]


def best_of(n: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def native(ffmpeg: str, *args: str) -> None:
    subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def write_wav(path: Path, seconds: float, rate: int = 48000) -> None:
    n = int(seconds * rate)
    frames = b"".join(struct.pack("<hh", int(9000 * math.sin(i * 0.0571)), int(9000 * math.sin(i * 0.0313)))
                      for i in range(n))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; the best is kept")
    ap.add_argument("--seconds", type=int, default=10, help="length of the test clip")
    opts = ap.parse_args()
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    work = Path(tempfile.mkdtemp(prefix="afmpeg-bench-"))
    try:
        return run(ffmpeg, work, opts.repeat, opts.seconds)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(ffmpeg: str, work: Path, repeat: int, seconds: int) -> int:
    module = REPO / "build" / "afmpeg-engine-lgpl.wasm"
    print(f"module: {module.name}, {module.stat().st_size / 1e6:.2f} MB")

    # Cold compile vs cached load, in a private cache directory.
    cache = work / "code-cache"
    t0 = time.perf_counter()
    rt = afmpeg.Runtime(module, cache_dir=cache)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    rt = afmpeg.Runtime(module, cache_dir=cache)
    warm = time.perf_counter() - t0
    print(f"cold compile: {cold:.2f} s    cached load: {warm * 1000:.1f} ms\n")

    clip = work / "clip.mp4"
    native(ffmpeg, "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:duration={seconds}",
           "-c:v", "libx264", "-preset", "medium", "-pix_fmt", "yuv420p", "-threads", "1", str(clip))
    wav = work / "tone.wav"
    write_wav(wav, seconds)
    fs = afmpeg.MemoryFS()
    fs.pipe("clip.mp4", clip.read_bytes())
    fs.pipe("tone.wav", wav.read_bytes())

    def job(inputs: list[str], outputs: list[dict], filt: str | None = None,
            runtime: afmpeg.Runtime | None = None) -> Callable[[], object]:
        spec: dict = {"op": "process", "version": 9, "inputs": [{"path": p} for p in inputs], "outputs": outputs}
        if filt:
            spec["filter"] = filt
        use = runtime or rt
        return lambda: use.run(spec, fs=fs)

    one = ["-threads", "1", "-filter_threads", "1"]
    nosimd = [*one, "-cpuflags", "0"]
    cases = [
        (
            "H.264 720p decode",
            job(["clip.mp4"], [{"path": "out.null", "format": "null", "map": ["[v]"], "video_codec": "rawvideo"}],
                "[0:v]null[v]"),
            lambda extra: native(ffmpeg, *extra, "-i", str(clip), "-an", "-f", "null", "-"),
        ),
        (
            "H.264 720p -> 360p H.264",
            job(["clip.mp4"], [{"path": "small.mp4", "map": ["[v]"], "video_codec": "libopenh264"}],
                "[0:v]scale=640:360[v]"),
            lambda extra: native(ffmpeg, *extra, "-i", str(clip), "-an", "-vf", "scale=640:360",
                                 "-c:v", "libopenh264", str(work / "small.mp4")),
        ),
        (
            "WAV -> AAC 128k",
            job(["tone.wav"], [{"path": "tone.m4a", "audio_codec": "aac", "options": {"b": "128k"}}]),
            lambda extra: native(ffmpeg, *extra, "-i", str(wav), "-c:a", "aac", "-b:a", "128k",
                                 str(work / "tone.m4a")),
        ),
    ]
    full_module = REPO / "build" / "afmpeg-engine-lgpl-full.wasm"
    if full_module.is_file():  # the full profile's codecs (make engine builds it)
        full = afmpeg.Runtime(full_module)
        av1 = work / "av1.mp4"
        native(ffmpeg, "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate=30:duration={seconds}",
               "-c:v", "libaom-av1", "-cpu-used", "8", "-b:v", "500k", "-pix_fmt", "yuv420p", str(av1))
        fs.pipe("av1.mp4", av1.read_bytes())
        vp9 = {"deadline": "realtime", "cpu-used": "8", "b:v": "1M"}
        cases += [
            (
                "AV1 360p decode (dav1d)",
                job(["av1.mp4"], [{"path": "o.null", "format": "null", "map": ["[v]"], "video_codec": "rawvideo"}],
                    "[0:v]null[v]", full),
                lambda extra: native(ffmpeg, *extra, "-c:v", "libdav1d", "-i", str(av1), "-f", "null", "-"),
            ),
            (
                "H.264 720p -> 360p VP9 RT",
                job(["clip.mp4"], [{"path": "small.webm", "map": ["[v]"], "video_codec": "libvpx-vp9",
                                    "options": vp9}], "[0:v]scale=640:360[v]", full),
                lambda extra: native(ffmpeg, *extra, "-i", str(clip), "-an", "-vf", "scale=640:360",
                                     "-c:v", "libvpx-vp9", *(x for k, v in vp9.items() for x in (f"-{k}", v)),
                                     str(work / "small.webm")),
            ),
            (
                "WAV -> Opus 128k",
                job(["tone.wav"], [{"path": "tone.ogg", "audio_codec": "libopus", "options": {"b": "128k"}}],
                    None, full),
                lambda extra: native(ffmpeg, *extra, "-i", str(wav), "-c:a", "libopus", "-b:a", "128k",
                                     str(work / "tone.ogg")),
            ),
        ]
    header = f"{'work':<26} {'engine':>8} {'native 1T':>10} {'ratio':>6} {'no-SIMD 1T':>11} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    for name, ours, theirs in cases:
        ours()  # warm-up
        t_ours = best_of(repeat, ours)
        t_nat = best_of(repeat, lambda f=theirs: f(one))
        t_floor = best_of(repeat, lambda f=theirs: f(nosimd))
        print(f"{name:<26} {t_ours:>7.2f}s {t_nat:>9.2f}s {t_ours / t_nat:>5.2f}x {t_floor:>10.2f}s "
              f"{t_ours / t_floor:>5.2f}x")
    print(f"\n{seconds} s inputs, best of {repeat}; native = FFmpeg {native_version(ffmpeg)} from imageio-ffmpeg")
    return 0


def native_version(ffmpeg: str) -> str:
    out = subprocess.run([ffmpeg, "-version"], capture_output=True, text=True).stdout
    return out.split()[2] if out else "?"


if __name__ == "__main__":
    sys.exit(main())
