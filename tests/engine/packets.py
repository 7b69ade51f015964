"""Packet-level oracles from native FFmpeg: what a file holds, packet by packet, and clips made natively."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from .conftest import run_native


@dataclass(frozen=True)
class Packet:
    stream: int
    dts: Fraction  # seconds
    pts: Fraction
    size: int
    md5: str


def packets(ffmpeg: str, data: bytes, tmp: Path, name: str, *args: str) -> list[Packet]:
    """Every packet of ``data`` as demuxed by native FFmpeg (``-c copy -f framemd5``), timestamps in seconds."""
    path = tmp / name
    path.write_bytes(data)
    out = run_native(ffmpeg, *args, "-i", str(path), "-map", "0", "-c", "copy", "-f", "framemd5", "-").decode()
    tbs: dict[int, Fraction] = {}
    result = []
    for line in out.splitlines():
        if line.startswith("#tb "):
            idx, tb = line[4:].split(":")
            tbs[int(idx)] = Fraction(tb.strip())
        elif line and not line.startswith("#"):
            st, dts, pts, _dur, size, md5 = (f.strip() for f in line.split(",")[:6])
            tb = tbs[int(st)]
            result.append(Packet(int(st), int(dts) * tb, int(pts) * tb, int(size), md5))
    return result


def of_stream(pkts: list[Packet], stream: int) -> list[Packet]:
    return [p for p in pkts if p.stream == stream]


def md5s(pkts: list[Packet], stream: int) -> list[str]:
    return [p.md5 for p in pkts if p.stream == stream]


def native_clip(ffmpeg: str, tmp: Path, seconds: int, *, gop: int = 60, size: str = "320x240",
                rate: int = 30, fmt: str = "mp4") -> bytes:
    """H.264 (x264, B-frames, a keyframe every ``gop`` frames) + AAC, made by native FFmpeg."""
    out = tmp / f"native_{seconds}s_{gop}.{fmt}"
    run_native(
        ffmpeg, "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
        "-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-g", str(gop), "-keyint_min", str(gop),
        "-sc_threshold", "0", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", str(out),
    )
    return out.read_bytes()
