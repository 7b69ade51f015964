"""Turn a FATE command (``framecrc -i $(SRC) -af ...``) into one afmpeg job spec (``enc_dec`` into two: see
runner.Runner.enc_dec, which builds them with :func:`ffmpeg_job`).

FATE runs ``ffmpeg`` with ``-nostdin -nostats -noauto_conversion_filters -threads 1`` plus the test's arguments,
and ``framecrc``/``framemd5`` append ``-bitexact -f framecrc -``. The job says the same in our vocabulary:
inputs (``format``, ``options``, ``seek``, forced decoders), one filtergraph (``-lavfi``/``-filter_complex``, or
the ``-vf``/``-af`` chains on input 0's streams), one output with the codecs, encoder and muxer options,
``duration`` (``-t``), ``max_frames`` (``-frames:v``/``-frames:a``), and the output pixel/sample format as a
final ``format``/``aformat`` filter (what ffmpeg itself appends to the graph for ``-pix_fmt``/``-sample_fmt``).

A command using something this translation does not express raises :class:`Untranslatable` naming it: such a test
is reported as such, never run half-right.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Commands whose output is the muxer named here, written to a file we compare with the reference ("ffmpeg":
# fate-run.sh's plain run writing to stdout, in the format its -f names).
COMMANDS = {"framecrc": "framecrc", "framemd5": "framemd5", "video_filter": "nut", "ffmpeg": "ffmpeg"}
# Commands run as two jobs (encode, decode) by the runner (see runner.Runner.enc_dec).
TWO_STEP = {"enc_dec", "lavf_container", "lavf_video", "lavf_audio", "lavf_image", "lavf_container_timecode",
            "lavf_container_timecode_drop", "lavf_container_timecode_nodrop"}
# fate-run.sh's option sets: FLAGS, and what DEC_OPTS / ENC_OPTS add to it (thread options left out).
FLAGS = ["-flags", "+bitexact", "-sws_flags", "+accurate_rnd+bitexact", "-fflags", "+bitexact"]
DEC_OPTS = ["-idct", "simple", *FLAGS]
ENC_OPTS = ["-idct", "simple", "-dct", "fastint"]
# fate-run.sh's video_filter: 5 frames of the vsynth1 pgmyuv sequence through a filter chain, muxed to nut, the
# file's MD5 printed after the test's label.
_VIDEO_FILTER = ["-f", "image2", "-c:v", "pgmyuv", "-flags", "+bitexact", "-i", "{TARGET_PATH}/tests/vsynth1/%02d.pgm",
                 "-flags", "+bitexact", "-sws_flags", "+accurate_rnd+bitexact", "-fflags", "+bitexact"]

# Options that take a value and change nothing for a job (FATE's run context, or what our engine does anyway).
_IGNORED_WITH_VALUE = {"-threads", "-filter_threads", "-thread_type", "-dec_threads", "-cpuflags", "-hwaccel",
                       "-passlogfile"}
_IGNORED_FLAGS = {"-nostdin", "-nostats", "-noauto_conversion_filters", "-auto_conversion_filters", "-y",
                  "-bitexact", "-hide_banner"}
# Generic encoder options (every encoder takes them), passed through as they are.
_ENCODER_OPTIONS = {"-b:v", "-b:a", "-g", "-bf", "-dct", "-idct", "-mbd", "-trellis", "-compression_level", "-strict",
                    "-coder", "-pred", "-context", "-slices", "-qscale", "-q:v", "-q:a", "-b", "-ab", "-aq", "-cmp",
                    "-subcmp", "-mbcmp", "-qmin", "-qmax", "-me_range", "-sc_threshold", "-cutoff", "-ps", "-dia_size",
                    "-last_pred", "-preme", "-pre_dia_size", "-precmp", "-ildctcmp", "-nr", "-mpv_flags",
                    "-level", "-profile:v", "-profile:a", "-lpc_type", "-lpc_passes", "-ch_mode", "-frame_size",
                    "-rc_eq", "-maxrate", "-minrate", "-bufsize", "-qcomp", "-qblur", "-i_qfactor", "-b_qfactor",
                    "-me_method", "-pix_fmt:v", "-global_quality", "-qscale:v", "-qscale:a", "-aac_coder", "-aac_is",
                    "-aac_pns", "-aac_ms",
                    "-aac_tns", "-sws_dither", "-exact_rice_parameters", "-multi_dim_quant", "-min_prediction_order",
                    "-max_prediction_order", "-prediction_order_method", "-lpc_coeff_precision", "-trellis:a",
                    "-block_size", "-ch_layout:a", "-frame_size:a", "-afterburner", "-motion_est", "-skip_cmp",
                    "-intra_vlc", "-non_linear_quant", "-alternate_scan", "-mpeg_quant", "-timecode_frame_start",
                    # encoder-private options FATE's round trips use
                    "-huffman", "-obmc", "-umv", "-aiv", "-strip_number_adaptivity", "-intra_dc_precision",
                    "-scplx_mask", "-data_partitioning", "-noise_reduction", "-profile", "-wavelet_type", "-flags2",
                    "-vb", "-bits_per_raw_sample", "-compression", "-rc_max_vbv_use", "-rc_min_vbv_use",
                    "-rc_init_occupancy", "-field_order"}


# Formats (by file extension) whose default video encoder is an MPEG-1/2 one.
_MPEG_VIDEO_DEFAULTS = {"mpg": "mpeg1video", "mxf": "mpeg2video", "gxf": "mpeg2video", "ts": "mpeg2video"}


class Untranslatable(Exception):
    """The command uses something the job vocabulary (or this translation) does not express."""


@dataclass
class _File:
    opts: list[tuple[str, str | None]] = field(default_factory=list)
    path: str = ""


# Variables a command cannot do without: undefined, the test needs something we do not have (FATE's samples).
_REQUIRED = {"SRC", "TARGET_SAMPLES", "SAMPLES", "FILTERGRAPH"}


def expand(cmd: str, variables: dict[str, str], test: str) -> str:
    """Expand make's ``$(VAR)``, ``${VAR}``, ``$(@:PAT=REPL)`` and ``$(word N, $(subst -, ,$(@)))``.

    Undefined variables are empty, as in make, except those in ``_REQUIRED``."""
    target = f"fate-{test}"

    def var(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        if name in variables:
            return variables[name]
        if name in _REQUIRED:
            raise Untranslatable(f"make variable $({name})")
        return ""

    def word(m: re.Match[str]) -> str:
        words = target.split("-")
        n = int(m.group(1))
        return words[n - 1] if n <= len(words) else ""

    def subst_ref(m: re.Match[str]) -> str:
        prefix, _, suffix = m.group(1).partition("%")
        if target.startswith(prefix) and target.endswith(suffix):
            return m.group(2).replace("%", target[len(prefix): len(target) - len(suffix)], 1)
        return target

    for _ in range(8):  # variables may name variables
        before = cmd
        cmd = re.sub(r"\$\(word\s+(\d+),\s*\$\(subst\s+-,\s*,\s*\$\(@\)\)\)", word, cmd)
        cmd = re.sub(r"\$\(@:([^=()]*)=([^()]*)\)", subst_ref, cmd)
        cmd = re.sub(r"\$\((\w+)\)|\$\{(\w+)\}", var, cmd)
        if cmd == before:
            break
    if "$" in cmd:
        raise Untranslatable("make function in the command")
    return cmd


_TAKES_VALUE = {
    "-i", "-f", "-c", "-c:v", "-c:a", "-codec", "-codec:v", "-codec:a", "-vcodec", "-acodec", "-lavfi",
    "-filter_complex", "-vf", "-af", "-filter:v", "-filter:a", "-pix_fmt", "-sample_fmt", "-ar", "-ac", "-t",
    "-ss", "-frames:v", "-frames:a", "-vframes", "-aframes", "-frames", "-map", "-sws_flags", "-flags", "-fflags",
    "-s", "-r", "-channel_layout", "-ch_layout", "-b:v", "-b:a", "-qscale", "-q:v", "-q:a", "-g", "-bf",
    "-compression_level", "-dct", "-idct", "-mbd", "-trellis", "-flags:v", "-flags:a", "-b", "-ab",
    "-strict", "-profile:v", "-level", "-coder", "-pred", "-context", "-slices", "-af:a", "-vtag", "-atag",
    "-max_muxing_queue_size", "-aq", "-write_bext", "-time_base", "-color_range", "-passlogfile", "-fps_mode",
    "-metadata", "-movflags", "-mpegts_transport_stream_id", "-timecode",
}


# Muxer-private options FATE's muxer tests use (format_options).
_MUXER_OPTIONS = {"-write_tmcd", "-loopstart", "-loopend", "-write_peak", "-mxf_audio_edit_rate", "-max_frames",
                  "-reserve_index_space", "-write_id3v2", "-id3v2_version", "-write_xing"}
# Decoder options given before -i (decoder_options).
_DECODER_OPTIONS = {"-flags", "-idct", "-color_range", "-skip_frame", "-lowres", "-flags2"}

_TAKES_VALUE |= _ENCODER_OPTIONS | _MUXER_OPTIONS | _DECODER_OPTIONS


def split_files(args: list[str]) -> tuple[list[_File], _File, list[tuple[str, str | None]]]:
    """ffmpeg's command line: (inputs, the output's options, global options). Options go to the next file."""
    inputs: list[_File] = []
    pending: list[tuple[str, str | None]] = []
    glob: list[tuple[str, str | None]] = []
    it = iter(args)
    for a in it:
        if a in _IGNORED_FLAGS:
            continue
        if a in _IGNORED_WITH_VALUE:
            next(it, None)
            continue
        if a in ("-lavfi", "-filter_complex", "-sws_flags", "-map"):
            glob.append((a, next(it, None)))
            continue
        if a == "-copyts":  # global: timestamps are kept (the output's copy_ts)
            glob.append((a, None))
            continue
        if a == "-i":
            inputs.append(_File(pending, next(it, "")))
            pending = []
            continue
        if not a.startswith("-") or a == "-":
            raise Untranslatable(f"output file argument {a!r}")
        if a.startswith("-/"):
            raise Untranslatable(f"option read from a file ({a})")
        if a in _TAKES_VALUE:
            pending.append((a, next(it, None)))
        elif a in ("-vn", "-an", "-sn", "-dn", "-shortest", "-copyts", "-start_at_zero"):
            pending.append((a, None))
        else:
            raise Untranslatable(f"option {a}")
    return inputs, _File(pending), glob


def merge_flags(old: str | None, new: str) -> str:
    """A flags option given again: ``+x``/``-x`` add to what was set, anything else replaces it (ffmpeg appends
    a repeated flags-type option that starts with a sign). A flag already there is not added twice."""
    if not old or new[:1] not in "+-":
        return new
    have = re.findall(r"[+-]?[^+-]+", old)
    return old + "".join(f for f in re.findall(r"[+-][^+-]+", new) if f not in have)


def _codec_key(opt: str) -> str | None:
    if opt in ("-c:v", "-codec:v", "-vcodec"):
        return "video"
    if opt in ("-c:a", "-codec:a", "-acodec"):
        return "audio"
    if opt in ("-c", "-codec"):
        return "both"
    return None


def _input_spec(f: _File, index: int) -> tuple[dict[str, Any] | None, str | None]:
    """(input spec, or None for a lavfi source; the lavfi graph when it is one)."""
    spec: dict[str, Any] = {"path": f.path}
    fmt = None
    options: dict[str, str] = {}
    for opt, value in f.opts:
        if opt in ("-an", "-vn"):  # the input's audio (video) is not used
            spec["_without"] = {*spec.get("_without", ()), "audio" if opt == "-an" else "video"}
            continue
        if value is None:
            raise Untranslatable(f"input option {opt} without a value")
        key = _codec_key(opt)
        if opt == "-f":
            fmt = value
        elif key in ("video", "audio"):
            spec[f"{key}_codec"] = value
        elif opt == "-ss":
            spec["seek"] = {"start": float(value or 0), "mode": "accurate"}
        elif opt == "-r":
            options["framerate"] = value or ""
        elif opt == "-s":
            options["video_size"] = value or ""
        elif opt == "-pix_fmt":
            options["pixel_format"] = value or ""
        elif opt == "-ar":
            options["sample_rate"] = value or ""
        elif opt == "-ac":
            options["ch_layout"] = {"1": "mono", "2": "stereo"}.get(value or "", f"{value}c")
        elif opt in ("-channel_layout", "-ch_layout"):
            options["ch_layout"] = value or ""
        elif opt == "-fflags":
            options["fflags"] = merge_flags(options.get("fflags"), value or "")
        elif opt in _DECODER_OPTIONS:  # codec options before -i: the decoders'
            dec = spec.setdefault("decoder_options", {})
            dec[opt[1:]] = merge_flags(dec.get(opt[1:]), value or "") if opt == "-flags" else value or ""
        else:
            raise Untranslatable(f"input option {opt}")
    if "ch_layout" in options and not fmt:
        raise Untranslatable("-channel_layout on a demuxed input (it overrides the decoder's layout)")
    if fmt == "lavfi":
        if options or len(spec) > 1 or "_without" in spec:
            raise Untranslatable("options on a lavfi input")
        return None, f.path
    if fmt:
        spec["format"] = fmt
    if options:
        spec["options"] = options
    return spec, None


def translate(test: str, cmd: str, variables: dict[str, str], stream_types: Any = None,
              read_file: Callable[[str], str] | None = None) -> tuple[dict[str, Any], str]:
    """The job for FATE test ``test`` whose command is ``cmd``, and the output format (``framecrc``/``framemd5``).

    ``variables`` gives the make variables (``SRC``, ``TARGET_PATH``, ...) as paths in the job's filesystem;
    ``stream_types(input_spec)`` says which stream types (``{"video", "audio"}``) an input has, for commands
    without a graph (ffmpeg then takes the input's best video and audio stream); ``read_file(path)`` gives a
    file's text, for ffmpeg's ``-/option FILE`` (the option's value read from a file).
    """
    words = command_words(test, cmd, variables)
    if read_file:
        for i, w in enumerate(words[:-1]):
            if w.startswith("-/"):
                words[i], words[i + 1] = f"-{w[2:]}", read_file(words[i + 1]).strip()
    if not words or words[0] not in COMMANDS:
        raise Untranslatable(f"command {words[0] if words else '(empty)'!r}")
    muxer = COMMANDS[words[0]]
    if words[0] == "ffmpeg":
        if words[-1] != "-":
            raise Untranslatable("ffmpeg writing a named file")
        return ffmpeg_job(words[1:-1], "out.ffmpeg", None, stream_types), muxer
    if words[0] == "video_filter":
        if len(words) < 2:
            raise Untranslatable("video_filter without filters")
        return video_filter_job(words[1], words[2:], variables, stream_types), muxer
    return ffmpeg_job(words[1:], f"out.{muxer}", muxer, stream_types), muxer


def video_filter_job(filters: str, extra: list[str], variables: dict[str, str], stream_types: Any = None
                     ) -> dict[str, Any]:
    """fate-run.sh's video_filter: 5 frames (unless ``extra`` says otherwise) of the vsynth1 pictures through
    ``filters`` into a NUT file."""
    base = [w.replace("{TARGET_PATH}", variables.get("TARGET_PATH", ".")) for w in _VIDEO_FILTER]
    return ffmpeg_job([*base, "-vf", filters, "-c:v", "rawvideo", "-frames:v", "5", *extra], "out.nut", "nut",
                      stream_types)


def command_words(test: str, cmd: str, variables: dict[str, str]) -> list[str]:
    """The command with its make variables expanded, split as the shell would."""
    return shlex.split(expand(cmd, variables, test))


def ffmpeg_job(args: list[str], path: str, muxer: str | None, stream_types: Any = None) -> dict[str, Any]:
    """The job for one ffmpeg invocation's arguments (without the output file), writing ``path``."""
    files, out, glob = split_files(args)

    inputs: list[dict[str, Any]] = []
    sources: list[str] = []  # lavfi inputs, as graph chains
    for i, f in enumerate(files):
        spec, graph = _input_spec(f, i)
        if graph is not None:
            sources.append(graph)
        else:
            inputs.append(spec)  # type: ignore[arg-type]
    if sources and inputs:
        raise Untranslatable("lavfi inputs mixed with files")

    output: dict[str, Any] = {"path": path}
    if muxer:
        output["format"] = muxer
    # FATE's commands are bitexact (framecrc/framemd5 add -bitexact, enc_dec FATE's FLAGS): the flags start so
    options: dict[str, str] = {"flags": "+bitexact"}
    format_options: dict[str, str] = {"fflags": "+bitexact"}
    vf: list[str] = []
    af: list[str] = []
    pix_fmt = sample_fmt = size = color_range = fps = timecode = None
    rate = channels = None
    max_frames: dict[str, int] = {}
    no_video = no_audio = False
    for opt, value in out.opts:
        key = _codec_key(opt)
        if key == "both":
            output["video_codec"] = output["audio_codec"] = value
        elif key:
            output[f"{key}_codec"] = value
        elif opt in ("-vf", "-filter:v"):
            vf.append(value or "")
        elif opt in ("-af", "-filter:a", "-af:a"):
            af.append(value or "")
        elif opt == "-pix_fmt":
            pix_fmt = value
        elif opt == "-s":
            size = value
        elif opt == "-r":  # the output frame rate: ffmpeg makes the stream constant-rate at it (its fps filter)
            fps = value
        elif opt == "-sample_fmt":
            sample_fmt = value
        elif opt == "-ar":
            rate = value
        elif opt == "-ac":
            channels = value
        elif opt == "-t":
            output["duration"] = float(value or 0)
        elif opt in ("-frames:v", "-vframes", "-frames"):
            max_frames["video"] = int(value or 0)
        elif opt in ("-frames:a", "-aframes"):
            max_frames["audio"] = int(value or 0)
        elif opt == "-f":
            output["format"] = value
        elif opt == "-color_range":  # the encoder's, and (ffmpeg 7+) a constraint on the graph's output
            options["color_range"] = value or ""
            color_range = {"mpeg": "tv", "jpeg": "pc"}.get(value or "", value)
        elif opt == "-metadata":
            key, _, val = (value or "").partition("=")
            output.setdefault("metadata", {})[key] = val
        elif opt == "-timecode":  # ffmpeg: the file's "timecode" tag, and MPEG-2's GOP timecode
            output.setdefault("metadata", {})["timecode"] = value or ""
            timecode = value
        elif opt in ("-movflags", "-mpegts_transport_stream_id"):
            format_options[opt[1:]] = merge_flags(format_options.get(opt[1:]), value or "")
        elif opt in _MUXER_OPTIONS:
            format_options[opt[1:]] = value or ""
        elif opt == "-fps_mode" and value == "passthrough":
            pass  # the engine passes frames through (it neither duplicates nor drops them)
        elif opt == "-vn":
            no_video = True
        elif opt == "-an":
            no_audio = True
        elif opt in ("-flags", "-flags:v", "-flags:a"):
            options[opt[1:]] = merge_flags(options.get(opt[1:]), value or "")
        elif opt == "-fflags":
            format_options["fflags"] = merge_flags(format_options.get("fflags"), value or "")
        elif opt in _ENCODER_OPTIONS:
            name = {"-q:v": "qscale:v", "-q:a": "qscale:a", "-ab": "b:a", "-aq": "qscale:a", "-vb": "b:v"}.get(opt,
                                                                                                          opt[1:])
            options[name] = value or ""
        else:
            raise Untranslatable(f"output option {opt}")
    if max_frames:
        output["max_frames"] = max_frames
    if ("-copyts", None) in glob:
        output["copy_ts"] = True
    # ffmpeg gives -timecode to every encoder as "gop_timecode" (the MPEG-1/2 encoders take it, others ignore it;
    # the engine refuses an option no encoder takes): here, when the video encoder is one of those
    codec = output.get("video_codec") or _MPEG_VIDEO_DEFAULTS.get(path.rsplit(".", 1)[-1].split("_")[0])
    if timecode and codec in ("mpeg1video", "mpeg2video"):
        options["gop_timecode:v"] = timecode
    options["flags"] = merge_flags(options["flags"], "+bitexact")  # what -bitexact or FLAGS add last
    format_options["fflags"] = merge_flags(format_options["fflags"], "+bitexact")

    graph = dict(glob).get("-lavfi") or dict(glob).get("-filter_complex")
    maps = [v for k, v in glob if k == "-map"]
    sws = None
    for k, v in glob:
        if k == "-sws_flags":
            sws = merge_flags(sws, v or "")
    chains: list[str] = []
    labels: list[str] = []
    if graph is not None and (vf or af):
        raise Untranslatable("-vf/-af with -filter_complex")
    if sources:
        if graph is not None:
            raise Untranslatable("a lavfi input with -filter_complex")
        if len(sources) > 1:
            raise Untranslatable("several lavfi inputs")
        graph = sources[0]
        if vf or af:  # the lavfi source is either video or audio: its chain continues with the filters
            graph = f"{graph},{','.join(vf + af)}"
            vf, af = [], []
    if graph is not None:
        if maps:
            if any(not (m.startswith("[") and m.endswith("]")) for m in maps):
                raise Untranslatable("-map of an input stream with a filter graph")
            labels = [m[1:-1] for m in maps]
            body = graph
        elif re.search(r"\[[^\]]+\]\s*$", graph):
            raise Untranslatable("a labelled graph output without -map")
        elif pix_fmt or size or fps or color_range or sample_fmt or rate or channels:
            labels = ["out0"]  # one output, which the output formats follow
            body = f"{graph}[out0]"
        else:  # as ffmpeg: every unlabelled graph output goes to the file (the job's output without a map)
            body = graph
        chains.append(body)
    else:
        if not inputs:
            raise Untranslatable("no input")
        types = [(stream_types({k: v for k, v in i.items() if k != "_without"}) if stream_types
                  else {"video", "audio"}) - i.get("_without", set()) for i in inputs]
        if maps:  # -map N / -map N:v / -map N:a: that input's (first) stream of each type
            wanted = []
            for m in maps:
                mm = re.fullmatch(r"(\d+)(?::([va]))?", m)
                if not mm or int(mm.group(1)) >= len(inputs):
                    raise Untranslatable(f"-map {m} without a filter graph")
                n = int(mm.group(1))
                wanted += [(n, k) for k in ("video", "audio") if k in types[n] and mm.group(2) in (None, k[0])]
            video_in = next((n for n, k in wanted if k == "video"), None)
            audio_in = next((n for n, k in wanted if k == "audio"), None)
        else:  # ffmpeg's default: the first input that has video gives the video, likewise audio
            video_in = next((n for n, t in enumerate(types) if "video" in t), None)
            audio_in = next((n for n, t in enumerate(types) if "audio" in t), None)
        if not no_video and video_in is not None:
            chains.append(f"[{video_in}:v]{','.join(vf) or 'null'}[vout]")
            labels.append("vout")
        if not no_audio and audio_in is not None:
            chains.append(f"[{audio_in}:a]{','.join(af) or 'anull'}[aout]")
            labels.append("aout")
        # as ffmpeg, options for a stream type the output does not have are not used
        for kind, used in (("v", "vout" in labels), ("a", "aout" in labels)):
            if not used:
                for key in [k for k in options if k.endswith(f":{kind}")]:
                    del options[key]
    # the output formats ffmpeg appends to the graph (with auto conversion off, exactly these filters)
    tails = {}
    fmt_args = ([f"pix_fmts={pix_fmt}"] if pix_fmt else []) + ([f"color_ranges={color_range}"] if color_range else [])
    # -r: ffmpeg's constant-rate output keeps the last frame even when its duration is unknown (eof_action=pass)
    video_tail = ([f"fps={fps}:eof_action=pass"] if fps else []) + (
        [f"scale={size.replace('x', ':')}"] if size else []) + ([f"format={':'.join(fmt_args)}"] if fmt_args else [])
    if video_tail:
        tails["v"] = ",".join(video_tail)
    audio_fmt = [f"sample_fmts={sample_fmt}"] if sample_fmt else []
    audio_fmt += [f"sample_rates={rate}"] if rate else []
    audio_fmt += [f"channel_layouts={ {'1': 'mono', '2': 'stereo'}.get(channels or '', channels)}"] if channels else []
    if audio_fmt:
        tails["a"] = "aformat=" + ":".join(audio_fmt)
    text = ";".join(chains)
    if tails:
        for i, label in enumerate(labels):
            kind = {"vout": "v", "aout": "a"}.get(label)
            if kind is None:  # a labelled graph output: its type is known only when there is one
                if len(labels) != 1 or len(tails) != 1:
                    raise Untranslatable("output formats with several graph outputs")
                kind = next(iter(tails))
            if kind not in tails:
                continue
            text += f";[{label}]{tails[kind]}[{label}_f]"
            labels[i] = f"{label}_f"
    if sws:
        text = f"sws_flags={sws};{text}"
    job: dict[str, Any] = {"op": "process", "version": 9, "filter": text, "outputs": [output]}
    for n, spec in enumerate(inputs):  # ffmpeg's decoder options for an input nothing reads go unused
        if f"[{n}:" not in text:
            spec.pop("decoder_options", None)
    if inputs:
        job["inputs"] = [{k: v for k, v in i.items() if k != "_without"} for i in inputs]
    if labels:
        output["map"] = [f"[{label}]" for label in labels]
    output["options"] = options
    output["format_options"] = format_options
    return job
