"""capabilities: the engine lists what is linked, read from libav's registries — and that is exactly the allowlist
the build was given (nothing silently dropped by configure, nothing unexplained added)."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import afmpeg

REPO = Path(__file__).resolve().parents[2]

# Configure names (the allowlist) vs registry names (what libav reports at run time). Most are equal; these are
# the ones FFmpeg names differently in its registry (checked against the FFmpeg 9.0.2 sources).
CODEC_RENAMES = {
    "movtext": "mov_text",  # ff_movtext_{en,de}coder are registered as "mov_text"
    "libvpx_vp8": "libvpx",  # ff_libvpx_vp8_encoder is "libvpx", as on ffmpeg's command line
    "libvpx_vp9": "libvpx-vp9",
    "msmpeg4v3": "msmpeg4",  # ff_msmpeg4v3_{en,de}coder are "msmpeg4"
}
DEMUXER_RENAMES = {
    "mov": "mov,mp4,m4a,3gp,3g2,mj2",  # one demuxer answering to every ISO-BMFF flavour
    "matroska": "matroska,webm",
    "mpegps": "mpeg",  # ff_mpegps_demuxer is "mpeg"
}
MUXER_RENAMES = {"matroska_audio": "matroska",  # ff_matroska_audio_muxer's name is "matroska" (extension .mka)
                 "mpeg1system": "mpeg", "mpeg2vob": "vob"}
# Parsers have no public name: each is identified by the codec ids it handles.
PARSER_CODECS = {"mpeg4video": ["mpeg4"], "mpegaudio": ["mp1", "mp2", "mp3", "mp3adu"], "mjpeg": ["mjpeg", "jpegls"],
                 "ac3": ["ac3", "eac3"], "mpegvideo": ["mpeg1video", "mpeg2video"], "dvdsub": ["dvd_subtitle"],
                 "dvbsub": ["dvb_subtitle"]}

# What configure enables on its own, beyond the allowlist, with the line of FFmpeg's configure that does it.
AUTO_ENABLED: dict[str, list[object]] = {
    "encoders": ["h263"],  # mpeg4_encoder_select="h263_encoder ..."
    "decoders": ["h263"],  # mpeg4_decoder_select="h263_decoder ..."
    "muxers": ["latm"],  # mpegts_muxer_select="ac3_parser adts_muxer latm_muxer ..."
    "demuxers": [],
    # always appended to filter_list.c by configure: the endpoints of every graph the engine builds
    "filters": ["buffer", "abuffer", "buffersink", "abuffersink"],
    "bitstream_filters": [
        "pgs_frame_merge",  # matroska_muxer_select="... pgs_frame_merge_bsf ..."
        "vvc_mp4toannexb",  # mpegts_muxer_select="... vvc_mp4toannexb_bsf"
    ],
    "parsers": [("ac3", "eac3")],  # mov_muxer_select / mpegts_muxer_select="ac3_parser ..."
    "protocols": [],
}
# What configure enables on its own in the full profile, on top of AUTO_ENABLED.
AUTO_ENABLED_FULL: dict[str, list[object]] = {
    "encoders": [],
    "decoders": ["vp3",  # theora_decoder_select="vp3_decoder"
                 "sp5x"],  # amv_decoder_select="sp5x_decoder"
    "muxers": [],
    "demuxers": [],
    "filters": [],
    "bitstream_filters": [
        "pcm_rechunk",  # mxf_muxer_select="iso_writer pcm_rechunk_bsf rangecoder" (gxf_muxer_select too)
        "eia608_to_smpte436m",  # mxf_muxer_suggest="eia608_to_smpte436m_bsf"
    ],
    "parsers": [],
    "protocols": [],
}
ENGINES = ("lgpl", "gpl", "lgpl-full", "gpl-full")


def _engine_build() -> object:
    spec = importlib.util.spec_from_file_location("afmpeg_engine_build_caps", REPO / "engine" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _registry_name(kind: str, name: str) -> str:
    if kind in ("encoder", "decoder"):
        return CODEC_RENAMES.get(name, name)
    if kind == "demuxer":
        if name in DEMUXER_RENAMES:
            return DEMUXER_RENAMES[name]
        if m := re.fullmatch(r"image_(\w+)_pipe", name):  # image_png_pipe -> png_pipe
            return f"{m[1]}_pipe"
        return name.removeprefix("pcm_")  # raw PCM formats register as "s16le", "f32le", "u8", ...
    if kind == "muxer":
        return MUXER_RENAMES.get(name, name.removeprefix("pcm_"))
    return name


@pytest.fixture(scope="module")
def allowlist(module_path: Path) -> dict[str, list[str]]:
    """The allowlist the module was built from (recorded in its provenance next to it), which must be one of ours."""
    prov = json.loads((module_path.parent / "provenance.json").read_text())
    allow = prov["allowlist"]
    ours = json.loads((REPO / "engine" / "allowlist" / f"{prov['profile']}.json").read_text())
    assert allow == {k: v for k, v in ours.items() if not k.startswith("_")}
    return allow


@pytest.fixture(scope="module")
def caps(runtime: afmpeg.Runtime) -> afmpeg.Capabilities:
    return runtime.capabilities()


def expected(allow: dict[str, list[str]], kind: str, profile: str = "lean") -> Counter:
    singular = {"bitstream_filters": "bsf", "protocols": "protocol"}.get(kind, kind[:-1])
    names = [_registry_name(singular, n) for n in allow.get(singular, [])]
    auto = AUTO_ENABLED[kind] + (AUTO_ENABLED_FULL[kind] if profile == "full" else [])
    return Counter(names + auto)  # type: ignore[operator]


@pytest.fixture(scope="module", params=ENGINES)
def built(request: pytest.FixtureRequest) -> tuple[dict, afmpeg.Capabilities]:
    """(provenance, capabilities) of each module `make engine` builds; its allowlist is the build recipe's."""
    module = REPO / "build" / f"afmpeg-engine-{request.param}.wasm"
    if not module.is_file():
        pytest.fail(f"{module} is missing: run `make engine`")
    prov = json.loads(module.with_name(module.name + ".provenance.json").read_text())
    assert prov["allowlist"] == _engine_build().load_allowlist(prov["profile"], prov["variant"])
    return prov, afmpeg.Runtime(module).capabilities()


@pytest.mark.parametrize("kind", ["encoders", "decoders", "muxers", "demuxers", "filters", "bitstream_filters"])
def test_every_module_lists_exactly_its_allowlist(built: tuple[dict, afmpeg.Capabilities], kind: str) -> None:
    prov, caps = built
    got = Counter(caps.names(kind))
    want = expected(prov["allowlist"], kind, prov["profile"])
    assert got == want, f"missing: {sorted((want - got).elements())}, unexpected: {sorted((got - want).elements())}"


def test_every_module_lists_exactly_its_parsers(built: tuple[dict, afmpeg.Capabilities]) -> None:
    prov, caps = built
    got = [tuple(p.codecs) for p in caps.parsers]
    want = {tuple(PARSER_CODECS.get(n, [n])) for n in prov["allowlist"]["parser"]}
    want |= set(AUTO_ENABLED["parsers"] + (AUTO_ENABLED_FULL["parsers"] if prov["profile"] == "full" else []))
    assert len(got) == len(set(got)) and set(got) == want  # type: ignore[arg-type]
    assert (caps.license or "").startswith("GPL") == (prov["variant"] == "gpl")


@pytest.mark.parametrize("kind", ["encoders", "decoders", "muxers", "demuxers", "filters", "bitstream_filters"])
def test_lists_equal_the_allowlist(caps: afmpeg.Capabilities, allowlist: dict, kind: str) -> None:
    # multisets: two muxers are both registered as "matroska"
    got = Counter(caps.names(kind))
    want = expected(allowlist, kind)
    assert got == want, f"missing: {sorted((want - got).elements())}, unexpected: {sorted((got - want).elements())}"


def test_parsers_equal_the_allowlist(caps: afmpeg.Capabilities, allowlist: dict) -> None:
    got = Counter(tuple(p.codecs) for p in caps.parsers)
    want = Counter(tuple(PARSER_CODECS.get(n, [n])) for n in allowlist["parser"])
    want.update(AUTO_ENABLED["parsers"])  # type: ignore[arg-type]
    assert got == want


def test_protocols_equal_the_allowlist(caps: afmpeg.Capabilities, allowlist: dict) -> None:
    # no network protocols: only what the allowlist names, for reading and writing
    assert sorted(caps.input_protocols) == sorted(allowlist["protocol"]) == ["file"]
    assert sorted(caps.output_protocols) == ["file"]
    assert caps.has_protocol("file") and caps.has_protocol("file", output=True)
    assert not caps.has_protocol("http")


def test_codec_entries_are_typed(caps: afmpeg.Capabilities) -> None:
    h264 = caps.encoder("libopenh264")
    assert h264 is not None and h264.encoder and not h264.decoder
    assert (h264.type, h264.codec) == ("video", "h264") and "OpenH264" in (h264.long_name or "")
    assert caps.encoders_for("h264") == [h264]
    assert {c.name for c in caps.decoders_for("mp3")} == {"mp3", "mp3float"}
    assert all(c.decoder for c in caps.decoders) and all(c.encoder for c in caps.encoders)
    types = {c.name: c.type for c in caps.encoders}
    assert types["aac"] == "audio" and types["mov_text"] == "subtitle" and types["png"] == "video"
    assert caps.has_encoder("aac") and not caps.has_encoder("libx264") and caps.has_decoder("vp9")
    assert not caps.has_encoder("vp9")  # decode-only in the lean build


def test_format_and_filter_entries(caps: afmpeg.Capabilities) -> None:
    mkv = caps.demuxer("webm")  # found by any of its comma-separated names
    assert mkv is not None and mkv.names == ["matroska", "webm"] and caps.has_demuxer("mp4")
    mp4 = caps.muxer("mp4")
    assert mp4 is not None and "mp4" in mp4.extensions and mp4.video_codec and mp4.audio_codec
    amix, sine, nullsink = caps.filter("amix"), caps.filter("sine"), caps.filter("nullsink")
    assert amix is not None and amix.dynamic_inputs and amix.outputs == 1
    assert sine is not None and sine.is_source and sine.outputs == 1 and sine.description
    assert nullsink is not None and nullsink.is_sink
    assert caps.has_filter("scale") and not caps.has_filter("drawtext")
    bsf = {b.name: b for b in caps.bitstream_filters}
    assert bsf["h264_mp4toannexb"].codecs == ["h264"] and bsf["null"].codecs == []
    assert caps.has_bitstream_filter("aac_adtstoasc") and caps.has_parser("mp3")


def test_versions(runtime: afmpeg.Runtime, caps: afmpeg.Capabilities) -> None:
    version = runtime.version()
    assert caps.vocab_version == version.vocab_version == afmpeg.VOCAB_VERSION
    assert caps.ffmpeg_version == version.ffmpeg_version and caps.engine_version == version.engine_version
    assert set(caps.libraries) == {"libavutil", "libavcodec", "libavformat", "libavfilter", "libswscale",
                                   "libswresample"}
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", v) for v in caps.libraries.values())
    assert caps.license and "LGPL" in caps.license  # the LGPL variant


def test_the_list_matches_what_jobs_can_use(runtime: afmpeg.Runtime, fs, caps: afmpeg.Capabilities) -> None:
    # a listed filter and encoder work; an unlisted filter is refused by the engine
    job = {"op": "process", "filter": "testsrc2=size=64x48:rate=5:duration=0.4,hflip[v]",
           "outputs": [{"path": "hflip.mkv", "map": ["[v]"], "video_codec": "mpeg4"}]}
    assert caps.has_filter("hflip") and caps.has_encoder("mpeg4")
    runtime.run(job, fs=fs)
    assert not caps.has_filter("drawtext")
    with pytest.raises(afmpeg.ProcessingError, match="drawtext"):
        runtime.run({**job, "filter": "testsrc2=size=64x48:rate=5:duration=0.4,drawtext=text=x[v]"}, fs=fs)


def test_capabilities_spec_is_strict(runtime: afmpeg.Runtime) -> None:
    assert "encoders" in runtime.call({"op": "capabilities", "version": 9})  # additive to vocabulary 9
    with pytest.raises(afmpeg.JobSpecError, match="kind"):
        runtime.call({"op": "capabilities", "kind": "encoders"})
    with pytest.raises(afmpeg.UnsupportedVocabulary):
        runtime.call({"op": "capabilities", "version": afmpeg.VOCAB_VERSION + 1})


def test_parsing_is_tolerant() -> None:
    caps = afmpeg.Capabilities.from_dict({"encoders": [{"name": "x", "new_field": 1}], "future": True,
                                          "protocols": {"input": ["file"]}})
    assert caps.encoders[0].extra == {"new_field": 1} and caps.extra == {"future": True}
    assert caps.input_protocols == ["file"] and caps.output_protocols == []
    with pytest.raises(ValueError):
        caps.names("codecs")


def test_the_capabilities_page_is_generated_from_the_modules() -> None:
    # docs/reference/capabilities.md must be what tools/capabilities_doc.py makes of the built modules
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "capabilities_doc.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
