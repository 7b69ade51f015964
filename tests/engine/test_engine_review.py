"""Regression tests for defects found reviewing the engine's C driver (engine/src)."""

from __future__ import annotations

import struct
import subprocess
import zlib

import pytest

import afmpeg

from .conftest import make_wav


def _gray_png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = (b"\0" + b"\x80" * width) * height
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def test_decoder_out_of_memory_fails_the_job(module_path, fs) -> None:
    # The middle picture needs a 64 MB frame; under a 48 MiB cap the decoder gets
    # ENOMEM. That used to count as a corrupt frame and the job "succeeded" with
    # the frame silently missing; under a memory cap it is the cap's error.
    fs.pipe("f1.png", _gray_png(64, 64))
    fs.pipe("f2.png", _gray_png(8000, 8000))
    fs.pipe("f3.png", _gray_png(64, 64))
    small = afmpeg.Runtime(module_path, memory_limit=48 << 20)
    with pytest.raises(afmpeg.MemoryLimitExceeded) as ei:
        small.call({"op": "process", "version": 9, "inputs": [{"path": "f%d.png"}],
                    "outputs": [{"path": "o.framemd5", "format": "framemd5"}]}, fs=fs)
    assert "f%d.png" in ei.value.message
    assert "memory" in ei.value.message.lower()


def test_audio_stepping_back_in_time_is_played_on(runtime, fs, native_ffmpeg, tmp_path) -> None:
    # Two MPEG-TS pieces joined byte-wise: the second one's timestamps start
    # 0.2 s before the first one ends (a typical broadcast-capture splice). The
    # muxers used to reject the encoded packets as non-monotonic.
    parts = []
    for offset, freq in (("10", 440), ("9.8", 880)):
        out = tmp_path / f"{freq}.ts"
        subprocess.run([native_ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "lavfi",
                        "-i", f"sine=d=0.5:r=16000:f={freq}", "-c:a", "aac", "-f", "mpegts",
                        "-output_ts_offset", offset, str(out)], check=True)
        parts.append(out.read_bytes())
    fs.pipe("joined.ts", b"".join(parts))
    for path, codec in (("o.m4a", "aac"), ("o.wav", "pcm_s16le")):
        runtime.call({"op": "process", "version": 9, "inputs": [{"path": "joined.ts"}],
                      "outputs": [{"path": path, "audio_codec": codec}]}, fs=fs)
        duration = runtime.call({"op": "probe", "version": 9, "inputs": [{"path": path}]},
                                fs=fs)["inputs"][0]["duration_sec"]
        assert 0.95 < duration < 1.25  # both pieces, back to back


def test_missing_decoder_error_names_the_file(runtime, fs) -> None:
    wav = bytearray(make_wav(seconds=0.1, rate=8000, channels=1))
    struct.pack_into("<H", wav, 20, 0x0022)  # WAVE_FORMAT_DSPGROUP_TRUESPEECH
    fs.pipe("speech.wav", bytes(wav))
    with pytest.raises(afmpeg.ProcessingError) as ei:
        runtime.call({"op": "process", "version": 9, "inputs": [{"path": "speech.wav"}],
                      "outputs": [{"path": "o.wav"}]}, fs=fs)
    assert ei.value.message.startswith("speech.wav: stream 0: ")
    assert "truespeech" in ei.value.message


def test_unidentified_codec_is_not_called_none(runtime, fs) -> None:
    wav = bytearray(make_wav(seconds=0.1, rate=8000, channels=1))
    struct.pack_into("<H", wav, 20, 0x7A7A)  # a format tag no codec uses
    fs.pipe("odd.wav", bytes(wav))
    with pytest.raises(afmpeg.ProcessingError) as ei:
        runtime.call({"op": "process", "version": 9, "inputs": [{"path": "odd.wav"}],
                      "outputs": [{"path": "o.wav"}]}, fs=fs)
    assert "odd.wav: stream 0" in ei.value.message
    assert '"none"' not in ei.value.message


def test_probe_seconds_are_rounded_once(runtime, fs) -> None:
    # 4.48 s is 4480000 us; multiplying by a rounded 1e-6 printed 4.4799999999999995.
    fs.pipe("t.wav", make_wav(seconds=4.48, rate=8000, channels=1))
    info = runtime.call({"op": "probe", "version": 9, "inputs": [{"path": "t.wav"}]}, fs=fs)["inputs"][0]
    assert info["duration_sec"] == 4.48
    assert info["streams"][0]["duration_sec"] == 4.48
