"""analysis: lavfi.* frame metadata from measuring filters, de-duplicated per key, in the result."""

from __future__ import annotations

import io
import math
import struct
import wave
from collections import defaultdict

import afmpeg

from .conftest import make_wav


def tone_silence_tone(rate: int = 48000) -> bytes:
    """1.5 s of 440 Hz, 2 s of digital silence, 1.5 s of 440 Hz; mono 16-bit WAV."""
    samples = bytearray()
    for i in range(int(5 * rate)):
        t = i / rate
        v = 0 if 1.5 <= t < 3.5 else int(12000 * math.sin(2 * math.pi * 440 * t))
        samples += struct.pack("<h", v)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(samples))
    return buf.getvalue()


def measure(filter: str, inputs: list | None = None) -> dict:
    return {"op": "process", "version": 9, "inputs": inputs or [], "filter": filter,
            "outputs": [{"path": "measure", "format": "null", "map": ["[a]"]}]}


def values(result: afmpeg.ProcessResult, key: str) -> list[afmpeg.AnalysisEntry]:
    return [e for e in result.analysis if e.key == key]


def test_silencedetect_finds_the_gap(runtime, fs) -> None:
    fs.pipe("gap.wav", tone_silence_tone())
    res = runtime.run(measure("[0:a]silencedetect=noise=-50dB:d=0.5[a]", [{"path": "gap.wav"}]), fs=fs)
    start, = values(res, "lavfi.silence_start")
    end, = values(res, "lavfi.silence_end")
    dur, = values(res, "lavfi.silence_duration")
    assert abs(float(start.value) - 1.5) <= 0.05
    assert abs(float(end.value) - 3.5) <= 0.05
    assert abs(float(dur.value) - 2.0) <= 0.05
    # Entries carry the time of the frame the filter tagged: the end is reported where the sound resumes.
    assert abs(end.t - 3.5) <= 0.05 and start.t >= 1.5
    assert not res.analysis_truncated


def test_analysis_of_frames_going_to_an_encoded_output(runtime, fs) -> None:
    fs.pipe("gap.wav", tone_silence_tone())
    job = {"op": "process", "version": 9, "inputs": [{"path": "gap.wav"}],
           "filter": "[0:a]silencedetect=noise=-50dB:d=0.5[a]",
           "outputs": [{"path": "out.m4a", "map": ["[a]"], "audio_codec": "aac"}]}
    res = runtime.run(job, fs=fs)
    assert [e.key for e in res.analysis] == ["lavfi.silence_start", "lavfi.silence_end", "lavfi.silence_duration"]
    assert len(fs.cat("out.m4a")) > 1000


def test_ebur128_integrated_loudness_and_deduplication(runtime, fs) -> None:
    fs.pipe("sine.wav", make_wav(seconds=5, rate=48000, channels=1, freq=997))
    res = runtime.run(measure("[0:a]ebur128=metadata=1[a]", [{"path": "sine.wav"}]), fs=fs)
    integrated = values(res, "lavfi.r128.I")
    # A 997 Hz sine at 12000/32768 of full scale: about -8.7 dBFS peak, -11.7 dB RMS, so about -11.7 LUFS.
    assert abs(float(integrated[-1].value) - (20 * math.log10(12000 / 32768) - 3.01)) <= 0.5
    # The filter tags every frame (~470 of 512 samples in 5 s) with every key; only changes are kept.
    per_key: dict[str, list[str]] = defaultdict(list)
    for e in res.analysis:
        per_key[e.key].append(e.value)
    assert "lavfi.r128.M" in per_key and "lavfi.r128.LRA" in per_key
    for key, vals in per_key.items():
        assert all(a != b for a, b in zip(vals, vals[1:], strict=False)), key
    assert len(integrated) < 100
    times = [e.t for e in res.analysis]
    assert times == sorted(times) and 0 <= times[0] and times[-1] <= 5


def test_no_analysis_without_measuring_filters(runtime, fs) -> None:
    fs.pipe("sine.wav", make_wav(seconds=1, rate=48000))
    res = runtime.call(measure("[0:a]volume=0.5[a]", [{"path": "sine.wav"}]), fs=fs)
    assert "analysis" not in res
