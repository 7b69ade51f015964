"""The afmpeg demo: make a clip inside the engine, probe it, transcode it — all in memory.

Run with `make demo`.
"""

from __future__ import annotations

import time

import afmpeg


def main() -> None:
    t0 = time.perf_counter()
    rt = afmpeg.Runtime()
    how = "compiled" if rt.compile_seconds else "loaded from the compiled-code cache"
    secs = rt.compile_seconds or rt.load_seconds
    print(f"engine: {rt.version().ffmpeg_version} ({how} in {secs * 1000:.0f} ms)")

    fs = afmpeg.MemoryFS()  # nothing below touches the host disk

    # 1. A 5-second 640x360 H.264/AAC mp4 made by the engine from lavfi sources.
    rt.run(
        {
            "op": "process",
            "version": 9,
            "filter": "testsrc2=size=640x360:rate=30:duration=5[v];"
            "sine=frequency=440:sample_rate=48000:duration=5[a]",
            "outputs": [
                {"path": "clip.mp4", "map": ["[v]", "[a]"], "video_codec": "libopenh264", "audio_codec": "aac",
                 "options": {"b": "1M"}}
            ],
        },
        fs=fs,
    )
    print(f"made clip.mp4: {fs.size('clip.mp4')} bytes")

    # 2. Probe it.
    info = rt.probe("clip.mp4", fs=fs).inputs[0]
    print(f"probe: format={info.format} duration={info.duration:.2f}s")
    for s in info.streams:
        if s.type == "video":
            print(f"  #{s.index} video {s.codec} {s.width}x{s.height} {s.pix_fmt} {s.frame_rate:g} fps")
        else:
            print(f"  #{s.index} {s.type} {s.codec} {s.sample_rate} Hz {s.channel_layout}")

    # 3. Transcode it to 320x180.
    rt.run(
        {
            "op": "process",
            "version": 9,
            "inputs": [{"path": "clip.mp4"}],
            "filter": "[0:v]scale=320:180[v];[0:a]anull[a]",
            "outputs": [
                {"path": "small.mp4", "map": ["[v]", "[a]"], "video_codec": "libopenh264", "audio_codec": "aac"}
            ],
        },
        fs=fs,
    )
    small = rt.probe("small.mp4", fs=fs).inputs[0]
    v = small.video
    print(f"transcoded small.mp4: {fs.size('small.mp4')} bytes, {v.width}x{v.height}, {small.duration:.2f}s")
    print(f"done in {time.perf_counter() - t0:.1f}s, all in memory")


if __name__ == "__main__":
    main()
