"""A fixed quantiser through an output's ``options``: ``"qscale"`` works like ffmpeg's ``-q:v`` / ``-q:a``.

``qscale`` is no AVOption but the ffmpeg CLI's shorthand for the ``qscale`` codec flag plus
``global_quality = FF_QP2LAMBDA * q``; the mpegvideo encoders (mjpeg, mpeg4, …) quantise each *frame* with its
``quality``, so the engine passes ``global_quality`` on to every video frame, as ffmpeg does.
"""

from __future__ import annotations

import pytest

import afmpeg

from .conftest import run_native

SOURCE = "testsrc2=size=320x240:rate=10:duration=1"


def _encode(runtime: afmpeg.Runtime, codec: str, options: dict[str, str], path: str = "out.mkv", **output) -> bytes:
    fs = afmpeg.MemoryFS()
    runtime.run(
        {
            "op": "process",
            "version": 9,
            "filter": f"{SOURCE},format=yuvj420p[v]" if codec == "mjpeg" else f"{SOURCE}[v]",
            "outputs": [{"path": path, "map": ["[v]"], "video_codec": codec, "options": options, **output}],
        },
        fs=fs,
    )
    return fs.cat_file("/" + path)


def _packets(framemd5: str) -> list[tuple[str, str]]:
    """(size, md5) per packet of a framemd5 listing."""
    rows = []
    for line in framemd5.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        cols = [c.strip() for c in line.split(",")]
        rows.append((cols[4], cols[5]))
    return rows


def _hashes(runtime: afmpeg.Runtime, codec: str, options: dict[str, str]) -> list[tuple[str, str]]:
    return _packets(_encode(runtime, codec, options, path="out.framemd5", format="framemd5").decode())


@pytest.mark.parametrize("codec", ["mjpeg", "mpeg4"])
def test_qscale_sets_a_fixed_quantiser(runtime: afmpeg.Runtime, codec: str) -> None:
    fine = _encode(runtime, codec, {"qscale": "2"})
    coarse = _encode(runtime, codec, {"qscale": "20"})
    assert len(fine) > 2 * len(coarse)


def test_qscale_v_and_the_avoptions_spelling_encode_the_same(runtime: afmpeg.Runtime) -> None:
    coarse = _hashes(runtime, "mpeg4", {"qscale": "20"})
    assert len(coarse) == 10
    # ":v" targets the video encoder like every other option key
    assert _hashes(runtime, "mpeg4", {"qscale:v": "20"}) == coarse
    # the AVOptions spelling of -q:v 20 (20 * FF_QP2LAMBDA = 2360) reaches the frames as well
    assert _hashes(runtime, "mpeg4", {"flags": "+qscale", "global_quality": "2360"}) == coarse
    assert _hashes(runtime, "mpeg4", {"qscale": "2"}) != coarse


@pytest.mark.parametrize("q", ["2", "7.5", "20"])
def test_mjpeg_qscale_matches_native_ffmpeg_q_v(runtime: afmpeg.Runtime, native_ffmpeg: str, q: str) -> None:
    args = ["-cpuflags", "0", "-threads", "1", "-filter_complex", f"{SOURCE},format=yuvj420p", "-c:v", "mjpeg"]
    args += ["-q:v", q, "-flags", "+bitexact", "-fflags", "+bitexact", "-f", "framemd5", "-"]
    native = run_native(native_ffmpeg, *args).decode()
    bitexact = {"format": "framemd5", "format_options": {"fflags": "+bitexact"}}
    ours = _encode(runtime, "mjpeg", {"qscale": q, "flags": "+bitexact"}, path="out.framemd5", **bitexact).decode()
    expected = _packets(native)
    assert len(expected) == 10
    assert _packets(ours) == expected


def test_audio_qscale_reaches_the_encoder(runtime: afmpeg.Runtime) -> None:
    # the native AAC encoder reads global_quality (its lambda) when the qscale flag is set, like ffmpeg -q:a
    def aac(options: dict[str, str]) -> int:
        fs = afmpeg.MemoryFS()
        runtime.run(
            {
                "op": "process",
                "version": 9,
                "filter": "sine=frequency=440:sample_rate=44100:duration=2[a]",
                "outputs": [{"path": "a.m4a", "map": ["[a]"], "audio_codec": "aac", "options": options}],
            },
            fs=fs,
        )
        return len(fs.cat_file("/a.m4a"))

    sizes = [aac({"qscale:a": q}) for q in ("0.3", "2", "5")]
    assert sizes[0] * 2 < sizes[1] < sizes[2]


@pytest.mark.parametrize(
    ("options", "pattern"),
    [
        ({"qscale": "fine"}, "qscale must be a number"),
        ({"qscale": "-1"}, "qscale must be a number"),
        ({"qscale": "nan"}, "qscale must be a number"),
        ({"qscale": "1e30"}, "qscale must be a number"),
        ({"qscale": "2", "global_quality": "236"}, "both set the quality"),
    ],
)
def test_a_bad_qscale_is_a_spec_error(runtime: afmpeg.Runtime, options: dict[str, str], pattern: str) -> None:
    with pytest.raises(afmpeg.JobSpecError, match=pattern) as info:
        _encode(runtime, "mjpeg", options)
    assert info.value.field == "outputs[0].options"


def test_qscale_for_a_type_the_output_does_not_encode_is_unused(runtime: afmpeg.Runtime) -> None:
    # strict options: a key no encoder of the output takes is an error, never a silent no-op
    with pytest.raises(afmpeg.JobSpecError, match='unknown key "qscale:a"'):
        _encode(runtime, "mjpeg", {"qscale:a": "2"})
