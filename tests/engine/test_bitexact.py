"""Our H.264 decoder produces frames bit-identical to native FFmpeg 9.0.2's."""

from __future__ import annotations

from .conftest import run_native


def _frame_hashes(framemd5: str) -> list[tuple[str, str]]:
    """(size, md5) per frame of a framemd5 listing; timestamps are left out on purpose."""
    rows = []
    for line in framemd5.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        cols = [c.strip() for c in line.split(",")]
        rows.append((cols[4], cols[5]))
    return rows


def test_h264_decode_matches_native(runtime, fs, native_ffmpeg, tmp_path) -> None:
    src = tmp_path / "native.mp4"
    run_native(native_ffmpeg, "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=2",
               "-c:v", "libx264", "-preset", "medium", "-bf", "3", "-pix_fmt", "yuv420p", "-threads", "1",
               str(src))
    native = run_native(native_ffmpeg, "-threads", "1", "-i", str(src), "-map", "0:v", "-c:v", "rawvideo",
                        "-f", "framemd5", "-").decode()
    fs.pipe("native.mp4", src.read_bytes())
    runtime.run({"op": "process", "version": 9, "inputs": [{"path": "native.mp4"}],
                 "filter": "[0:v]null[v]",
                 "outputs": [{"path": "ours.framemd5", "format": "framemd5", "map": ["[v]"],
                              "video_codec": "rawvideo"}]}, fs=fs)
    ours = fs.cat("ours.framemd5").decode()
    expected = _frame_hashes(native)
    assert len(expected) == 50
    assert _frame_hashes(ours) == expected
