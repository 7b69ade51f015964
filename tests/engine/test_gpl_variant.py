"""The GPL engine variant (afmpeg-engine-gpl.wasm): libx264 in addition to openh264, and the LGPL module's refusal.

Both modules are built by `make engine`; each has its provenance next to it (``<module>.provenance.json``).
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path

import pytest

import afmpeg

from .conftest import run_native
from .test_capabilities import expected


@pytest.fixture(scope="session")
def gpl_runtime(gpl_module_path: Path) -> afmpeg.Runtime:
    return afmpeg.Runtime(gpl_module_path)


def _provenance(module: Path) -> dict:
    return json.loads(module.with_name(module.name + ".provenance.json").read_text())


def _x264_job(path: str = "x264.mp4", frames: int = 30) -> dict:
    return {
        "op": "process",
        "version": 9,
        "filter": f"testsrc2=size=320x240:rate=30,trim=end_frame={frames}[v]",
        "outputs": [{"path": path, "map": ["[v]"], "video_codec": "libx264",
                     "options": {"preset": "veryfast", "crf": "23"}}],
    }


def _decode_job(path: str, out: str) -> dict:
    """Decode every frame of ``path`` and hash it (the framemd5 muxer, raw video)."""
    return {
        "op": "process",
        "version": 9,
        "inputs": [{"path": path}],
        "filter": "[0:v]null[v]",
        "outputs": [{"path": out, "format": "framemd5", "map": ["[v]"], "video_codec": "rawvideo"}],
    }


def _frame_hashes(framemd5: str) -> list[tuple[str, str]]:
    return [tuple(ln.split(",")[-2:]) for ln in framemd5.splitlines() if ln and not ln.startswith("#")]


def test_libx264_encodes_h264_that_decodes_back(gpl_runtime, fs, native_ffmpeg) -> None:
    gpl_runtime.run(_x264_job("x264.mp4", frames=30), fs=fs)
    info = gpl_runtime.probe("x264.mp4", fs=fs).inputs[0]
    assert info.error is None
    v = info.video
    assert (v.codec, v.width, v.height, v.pix_fmt) == ("h264", 320, 240, "yuv420p")
    assert v.nb_frames == 30

    # The engine decodes it back, frame for frame as native FFmpeg decodes the same bytes.
    gpl_runtime.run(_decode_job("x264.mp4", "decoded.framemd5"), fs=fs)
    ours = _frame_hashes(fs.cat_file("decoded.framemd5").decode())
    assert len(ours) == 30
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "x264.mp4"
        src.write_bytes(fs.cat_file("x264.mp4"))
        native = run_native(native_ffmpeg, "-i", str(src), "-f", "framemd5", "-").decode()
    assert ours == _frame_hashes(native)


def test_gpl_module_still_has_openh264(gpl_runtime, fs) -> None:
    job = _x264_job("oh264.mp4", frames=10)
    job["outputs"][0].update(video_codec="libopenh264", options={})
    gpl_runtime.run(job, fs=fs)
    assert gpl_runtime.probe("oh264.mp4", fs=fs).inputs[0].video.codec == "h264"


def test_lgpl_module_refuses_libx264_naming_the_gpl_variant(runtime, fs) -> None:
    job = _x264_job()
    with pytest.raises(afmpeg.UnsupportedFeature) as ei:
        runtime.run(job, fs=fs)
    err = ei.value
    assert err.kind == "unsupported" and err.exit_code == 1
    assert err.field == "outputs[0].video_codec"
    assert "libx264 is only in the GPL engine variant (afmpeg-engine-gpl.wasm)" in err.message
    assert not fs.exists("x264.mp4")


def test_gpl_capabilities_list_libx264_and_the_license(gpl_runtime, gpl_module_path) -> None:
    caps = gpl_runtime.capabilities()
    assert caps.has_encoder("libx264") and caps.has_encoder("libopenh264")
    assert caps.encoder("libx264").codec == "h264"
    assert caps.license == "GPL version 2 or later"
    # exactly the profile's allowlist plus libx264, as recorded in the GPL provenance
    allow = _provenance(gpl_module_path)["allowlist"]
    assert "libx264" in allow["encoder"]
    assert Counter(caps.names("encoders")) == expected(allow, "encoders")


def test_lgpl_capabilities_have_no_libx264(runtime) -> None:
    caps = runtime.capabilities()
    assert not caps.has_encoder("libx264")
    assert caps.license.startswith("LGPL")


def test_provenance_records_license_and_h264_encoder_per_variant(module_path, gpl_module_path) -> None:
    lgpl, gpl = _provenance(module_path), _provenance(gpl_module_path)
    assert (lgpl["variant"], lgpl["license"], lgpl["h264_encoder"]) == ("lgpl", "LGPL-2.1-or-later", "libopenh264")
    assert (gpl["variant"], gpl["license"], gpl["h264_encoder"]) == ("gpl", "GPL-2.0-or-later", "libx264")
    assert "x264" not in lgpl["sources"] and "x264" in gpl["sources"]
    assert "--enable-gpl" in gpl["configure"] and "--enable-libx264" in gpl["configure"]
    assert not any(a in lgpl["configure"] for a in ("--enable-gpl", "--enable-libx264"))
    assert gpl["module"] == gpl_module_path.name and lgpl["module"] == module_path.name
    # provenance.json (the default module's) is the LGPL variant's
    assert json.loads((module_path.parent / "provenance.json").read_text()) == lgpl
    # the two variants share the non-GPL layers: the GPL variant never rebuilds the LGPL ones
    for name in ("zlib", "openh264"):
        assert gpl["layers"][name] == lgpl["layers"][name]
