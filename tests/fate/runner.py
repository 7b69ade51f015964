"""Run FATE tests through afmpeg and compare with FFmpeg's references; write a machine-readable report.

For each selected test: its components (from FATE's make rules) must be in the module, else it is
``not-applicable`` naming what is missing; its command must translate to a job (``translate.py``), else it is
``untranslated`` naming why; the job runs on the FATE work directory (``inputs.py``) through
:class:`afmpeg.Runtime`; the output is compared line by line with ``tests/ref/fate/<name>``. An engine answer
that a component is missing (``UnsupportedFeature``) is ``not-applicable`` too, with the engine's words.

Run it by hand (the pytest suite in test_fate.py does the same and checks the floor)::

    .venv/bin/python -m tests.fate.runner [--module build/afmpeg-engine-lgpl-full.wasm] [--report FILE] [-k TEXT]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import afmpeg

from . import inputs, makefiles
from .translate import (
    COMMANDS,
    DEC_OPTS,
    ENC_OPTS,
    FLAGS,
    TWO_STEP,
    Untranslatable,
    command_words,
    expand,
    ffmpeg_job,
    translate,
    video_filter_job,
)

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MODULE = REPO / "build" / "afmpeg-engine-lgpl-full.wasm"
# The FATE families this suite selects (test name prefixes), per the issue: filters, swresample, codec round
# trips, muxers.
FAMILIES = ("filter-", "swr-", "vsynth1-", "acodec-", "lavf-", "pixfmt", "source", "api-")
# fate-run.sh's raw_src and pcm_src, in the work directory
VSYNTH_PGM, ASYNTH_SW = "tests/vsynth1/%02d.pgm", "tests/data/asynth1.sw"
# Components every build has, or that FATE needs only for its own plumbing (we write files, not pipes).
# LAVFI_INDEV: "-f lavfi -i GRAPH" becomes part of the job's own filter graph.
ALWAYS = {"FILE_PROTOCOL", "PIPE_PROTOCOL", "AVCODEC", "AVFORMAT", "AVFILTER", "SWSCALE", "SWRESAMPLE", "LAVFI_INDEV"}
_KINDS = {"_FILTER": "filter", "_DECODER": "decoder", "_ENCODER": "encoder", "_MUXER": "muxer",
          "_DEMUXER": "demuxer", "_PARSER": "parser", "_BSF": "bsf", "_PROTOCOL": "protocol", "_INDEV": "indev",
          "_OUTDEV": "outdev"}


@dataclass
class Outcome:
    """One test's result: ``pass``, ``fail``, ``not-applicable`` or ``untranslated``, and why."""

    name: str
    status: str
    reason: str = ""
    seconds: float = 0.0


def _available(module: Path) -> set[str]:
    """The CONFIG names a module has: its allowlist (from its provenance) in configure's spelling."""
    prov = json.loads(module.with_name(module.name + ".provenance.json").read_text())
    have = set(ALWAYS)
    for kind, names in prov["allowlist"].items():
        suffix = {"bsf": "BSF"}.get(kind, kind.upper())
        have |= {f"{n.upper()}_{suffix}" for n in names}
    return have


def missing_components(test: makefiles.FateTest, have: set[str]) -> list[str]:
    return [c for c in test.components or [] if c not in have]


def _component_text(config: str) -> str:
    for suffix, kind in _KINDS.items():
        if config.endswith(suffix):
            return f"{kind} {config[: -len(suffix)].lower()}"
    return config


def _lines(text: str) -> list[str]:
    return [ln.rstrip() for ln in text.replace("\r\n", "\n").splitlines()]


class Runner:
    """Runs selected FATE tests on one engine module."""

    def __init__(self, module: Path = DEFAULT_MODULE) -> None:
        self.module = module
        self.work = inputs.prepare()
        self.src = inputs.fate_sources(self.work)
        self.tests = makefiles.parse(self.src / "fate")
        self.have = _available(module)
        self.runtime = afmpeg.Runtime(module, fs=str(self.work))
        self._types: dict[str, set[str]] = {}

    def selected(self, families: tuple[str, ...] = FAMILIES) -> list[makefiles.FateTest]:
        """The sample-free tests of the families whose command is one we compare (framecrc/framemd5)."""
        out = []
        for t in sorted(self.tests.values(), key=lambda t: t.name):
            if not t.name.startswith(families) or not self.reference(t).is_file():
                continue
            if "TARGET_SAMPLES" in t.cmd or "TARGET_SAMPLES" in (t.src or ""):
                continue  # needs the FATE sample suite: not sample-free
            out.append(t)
        return out

    def _stream_types(self, spec: dict[str, Any]) -> set[str]:
        key = json.dumps(spec, sort_keys=True)
        if key not in self._types:
            job = {"op": "probe", "inputs": [{k: v for k, v in spec.items() if k in ("path", "format", "options")}]}
            answer = self.runtime.call(job)
            probed = (answer.get("inputs") or [{}])[0]
            if probed.get("error"):
                raise RuntimeError(f"input {spec['path']}: {probed['error']}")
            streams = probed.get("streams") or []
            self._types[key] = {s.get("type") for s in streams if s.get("type")}
        return self._types[key]

    def reference(self, test: makefiles.FateTest) -> Path:
        ref = test.vars.get("REF")
        if ref:
            try:
                path = Path(expand(ref, {"SRC_PATH": str(self.src.parent)}, test.name))
                return path if path.is_absolute() else self.work / path  # a generated input (tests/data/...)
            except Untranslatable:
                pass
        if test.name.startswith("lavf-") and not (self.src / "ref" / "fate" / test.name).is_file():
            return self.src / "ref" / "lavf" / test.name.removeprefix("lavf-")  # FATE_LAVF_CONTAINER's REF
        return self.src / "ref" / "fate" / test.name

    def enc_dec(self, test: makefiles.FateTest, words: list[str]) -> list[str]:
        """fate-run.sh's enc_dec: encode the source, decode the result; MD5s, size and tiny_psnr's line."""
        fields = [*words[1:], "", "", "", ""]
        enc_in, src, enc_fmt, enc_opt, dec_fmt, dec_opt, dec_opt_in, probe, twopass = fields[:9]
        if probe or twopass:
            raise Untranslatable("enc_dec with ffprobe options or two passes")
        fmt_in = enc_in.split()
        encfile, decfile = f"out/{test.name}.{enc_fmt}", f"out/{test.name}.out.{dec_fmt}"
        self.runtime.run(ffmpeg_job(["-f", fmt_in[0], *fmt_in[1:], *DEC_OPTS, "-i", src, *ENC_OPTS,
                                     *enc_opt.split(), *FLAGS, "-f", enc_fmt], encfile, None, self._stream_types))
        self.runtime.run(ffmpeg_job([*dec_opt_in.split(), *DEC_OPTS, "-i", encfile, *ENC_OPTS, *dec_opt.split(),
                                     *FLAGS, "-f", dec_fmt], decfile, None, self._stream_types))
        enc, dec = self.work / encfile, self.work / decfile
        lines = [f"{hashlib.md5(enc.read_bytes()).hexdigest()} *tests/data/fate/{test.name}.{enc_fmt}",
                 f"{enc.stat().st_size} tests/data/fate/{test.name}.{enc_fmt}",
                 f"{hashlib.md5(dec.read_bytes()).hexdigest()} *tests/data/fate/{test.name}.out.{dec_fmt}",
                 inputs.tiny_psnr(self.work, self.work / src, dec, test.vars.get("CMP_UNIT", "2"),
                                  test.vars.get("CMP_SHIFT", "0"))]
        enc.unlink()
        dec.unlink()
        return lines

    def _file_lines(self, path: str, name: str) -> list[str]:
        """do_md5sum and ``wc -c`` of a written file, as FATE names it."""
        data = (self.work / path).read_bytes()
        return [f"{hashlib.md5(data).hexdigest()} *{name}", f"{len(data)} {name}"]

    def _crc_line(self, path: str, name: str, in_opts: str, out_opts: str = "") -> str:
        """do_avconv_crc: the CRC of the file's decoded streams (crc muxer), after the file's FATE name."""
        self.runtime.run(ffmpeg_job([*DEC_OPTS, *in_opts.split(), "-i", path, *out_opts.split()], "out/lavf.crc",
                                    "crc", self._stream_types))
        crc = self.work / "out" / "lavf.crc"
        line = f"{name} {crc.read_text().strip()}"
        crc.unlink()
        return line

    def lavf_container(self, test: makefiles.FateTest, words: list[str]) -> list[str]:
        """fate-run.sh's lavf_container: mux 1 s of the vsynth1 pictures and asynth1 samples into the test's
        format; the file's MD5 and size, then the CRC of its decoded streams (crc muxer)."""
        fields = [*words[1:], "", "", ""]
        in_opts, out_opts, crc_opts = fields[:3]
        name = f"tests/data/lavf/lavf.{test.name.removeprefix('lavf-')}"
        path = f"out/{Path(name).name}"
        self.runtime.run(ffmpeg_job(
            [*DEC_OPTS, "-f", "image2", "-c:v", "pgmyuv", "-i", VSYNTH_PGM, *DEC_OPTS, "-ar", "44100",
             "-f", "s16le", *in_opts.split(), "-i", ASYNTH_SW, *ENC_OPTS, "-metadata", "title=lavftest",
             "-b:a", "64k", "-t", "1", "-qscale:v", "10", *out_opts.split()], path, None, self._stream_types))
        lines = self._file_lines(path, name)
        if crc_opts != "disable_crc":
            lines.append(self._crc_line(path, name, "", crc_opts))
        (self.work / path).unlink()
        return lines

    def lavf_container_timecode_nodrop(self, test: makefiles.FateTest, words: list[str]) -> list[str]:
        return self.lavf_container(test, [words[0], "", f"{' '.join(words[1:])} -timecode 02:56:14:13"])

    def lavf_container_timecode_drop(self, test: makefiles.FateTest, words: list[str]) -> list[str]:
        return self.lavf_container(test, [words[0], "", f"{' '.join(words[1:])} -timecode 02:56:14.13 -r 30000/1001"])

    def lavf_container_timecode(self, test: makefiles.FateTest, words: list[str]) -> list[str]:
        """The same container three times: with a non-drop-frame timecode, a drop-frame one at 29.97 fps, none."""
        return [*self.lavf_container_timecode_nodrop(test, words), *self.lavf_container_timecode_drop(test, words),
                *self.lavf_container(test, [words[0], "", " ".join(words[1:])])]

    def lavf_video(self, test: makefiles.FateTest, words: list[str]) -> list[str]:
        """fate-run.sh's lavf_video: 1 s of the vsynth1 pictures into the test's format (by its extension)."""
        fields = [*words[1:], "", ""]
        opts, more = fields[:2]
        name = f"tests/data/lavf/lavf.{test.name.removeprefix('lavf-')}"
        path = f"out/{Path(name).name}"
        self.runtime.run(ffmpeg_job(
            [*DEC_OPTS, "-f", "image2", "-c:v", "pgmyuv", "-i", VSYNTH_PGM, *ENC_OPTS, "-metadata", "title=lavftest",
             "-t", "1", "-qscale", "10", *opts.split(), *more.split()], path, None, self._stream_types))
        lines = [*self._file_lines(path, name), self._crc_line(path, name, "", opts)]
        (self.work / path).unlink()
        return lines

    def lavf_audio(self, test: makefiles.FateTest, words: list[str]) -> list[str]:
        """fate-run.sh's lavf_audio: 1 s of the asynth1 samples into the test's format (by its extension)."""
        fields = [*words[1:], "", "", "", ""]
        in_opts, out_opts, crc_in_opts, crc = fields[:4]
        name = f"tests/data/lavf/lavf.{test.name.removeprefix('lavf-')}"
        path = f"out/{Path(name).name}"
        self.runtime.run(ffmpeg_job(
            [*DEC_OPTS, *in_opts.split(), "-ar", "44100", "-f", "s16le", "-i", ASYNTH_SW, *ENC_OPTS, "-metadata",
             "title=lavftest", "-t", "1", "-qscale", "10", *out_opts.split()], path, None, self._stream_types))
        lines = self._file_lines(path, name)
        if crc != "disable_crc":
            lines.append(self._crc_line(path, name, crc_in_opts))
        (self.work / path).unlink()
        return lines

    def lavf_image(self, test: makefiles.FateTest, words: list[str]) -> list[str]:
        """fate-run.sh's lavf_image: 13 vsynth1 pictures as an image sequence of the test's format; the second
        file's MD5 and size (unless the test says no_file_checksums), then the sequence's CRC."""
        fields = [*words[1:], "", "", ""]
        out_opts, crc_opts, no_sums = fields[:3]
        t = test.name.removeprefix("lavf-")
        name, folder = f"tests/data/images/{t}/%02d.{t}", f"out/images/{t}"
        (self.work / folder).mkdir(parents=True, exist_ok=True)
        path = f"{folder}/%02d.{t}"
        try:
            self.runtime.run(ffmpeg_job(
                [*DEC_OPTS, "-f", "image2", "-c:v", "pgmyuv", "-i", VSYNTH_PGM, *out_opts.split(), *ENC_OPTS,
                 "-metadata", "title=lavftest", "-vf", "scale", "-frames", "13", "-qscale", "10"], path, None,
                self._stream_types))
            lines = [] if no_sums else self._file_lines(f"{folder}/02.{t}", f"tests/data/images/{t}/02.{t}")
            return [*lines, self._crc_line(path, name, crc_opts, crc_opts)]
        finally:
            shutil.rmtree(self.work / folder, ignore_errors=True)

    def run_one(self, test: makefiles.FateTest) -> Outcome:
        t0 = time.perf_counter()
        missing = missing_components(test, self.have)
        if missing:
            return Outcome(test.name, "not-applicable", "not in the module: " + ", ".join(map(_component_text,
                                                                                               missing)))
        variables = {"TARGET_PATH": ".", **{k: v.replace("$(TARGET_PATH)", ".") for k, v in test.vars.items()}}
        if test.src:
            variables["SRC"] = test.src.replace("$(TARGET_PATH)", ".")
        if re.search(r"tests/data/(lavf|fate|images)/", test.cmd) or any(
                not (self.work / p).exists() for p in re.findall(r"(?:\$\(TARGET_PATH\)/)?(tests/data/hls-[\w.-]+)",
                                                                 test.cmd)):
            return Outcome(test.name, "untranslated", "reads a file another FATE test writes")
        try:
            got = self.output(test, variables)
        except Untranslatable as exc:
            return Outcome(test.name, "untranslated", str(exc))
        except afmpeg.UnsupportedFeature as exc:
            return Outcome(test.name, "not-applicable", f"engine: {exc.message}", time.perf_counter() - t0)
        except afmpeg.Error as exc:  # before ValueError: JobSpecError is one
            return Outcome(test.name, "fail", f"{type(exc).__name__}: {exc.message}", time.perf_counter() - t0)
        except (ValueError, IndexError) as exc:
            return Outcome(test.name, "untranslated", f"unreadable command ({exc})")
        except RuntimeError as exc:  # an input the runner could not probe
            return Outcome(test.name, "fail", str(exc), time.perf_counter() - t0)
        seconds = time.perf_counter() - t0
        if test.vars.get("CMP") in TOLERANCES:  # got: tiny_psnr's line for the output against the reference
            problem = outside_tolerance(got[0], test.vars, TOLERANCES[test.vars["CMP"]])
            return Outcome(test.name, "fail" if problem else "pass", problem or "", seconds)
        want = _lines(self.reference(test).read_text(errors="replace"))
        if got == want:
            return Outcome(test.name, "pass", "", seconds)
        return Outcome(test.name, "fail", _first_difference(got, want), seconds)

    def pixfmts(self, test: makefiles.FateTest, words: list[str], variables: dict[str, str]) -> list[str]:
        """fate-run.sh's pixfmts: the test's filter after ``scale,format=F`` for each pixel format F, as
        video_filter lines labelled F. FATE takes the formats from libavfilter's filtfmts tool (those both the
        filter and scale take); here they are the ones its reference lists, each of which must come out right."""
        fields = [*words[1:], "", "", ""]
        args, prefilter, nframes = fields[0], fields[1], fields[2] or "1"
        name = test.name.removeprefix("filter-pixfmts-").rsplit("_", 1)[0]
        lines = []
        for ref_line in _lines(self.reference(test).read_text()):
            fmt = ref_line.split()[0]
            job = video_filter_job(f"{prefilter}scale,format={fmt},{name}={args}", ["-pix_fmt", fmt, "-frames:v",
                                   nframes], variables, self._stream_types)
            self.runtime.run(_with_output_dir(job))
            result = self.work / job["outputs"][0]["path"]
            lines.append(f"{fmt:<20}{hashlib.md5(result.read_bytes()).hexdigest()}")
            result.unlink()
        return lines

    def output(self, test: makefiles.FateTest, variables: dict[str, str]) -> list[str]:
        """The test's output lines as FATE prints them. Raises Untranslatable, afmpeg errors, RuntimeError."""
        if test.cmd.split()[0] == "pixfmts":
            return self.pixfmts(test, command_words(test.name, test.cmd, variables), variables)
        if test.cmd.split()[0] in TWO_STEP:
            words = command_words(test.name, test.cmd, variables)
            return getattr(self, words[0])(test, words)
        job, muxer = translate(test.name, test.cmd, variables, self._stream_types,
                               lambda path: (self.work / path).read_text())
        job = _with_output_dir(job)
        self.runtime.run(job)
        result_file = self.work / job["outputs"][0]["path"]
        if test.vars.get("CMP") in TOLERANCES:
            got = [inputs.tiny_psnr(self.work, self.reference(test), result_file, test.vars.get("CMP_UNIT", "2"),
                                    test.vars.get("CMP_SHIFT", "0"))]
        elif muxer == "nut":  # video_filter: "<label padded to 20> <md5 of the file>"
            label = test.name.removeprefix("filter-")
            got = [f"{label:<20}{hashlib.md5(result_file.read_bytes()).hexdigest()}"]
        else:
            got = _lines(result_file.read_text(errors="replace"))
        result_file.unlink()
        return got

# FATE's comparisons with a tolerance (fate-run.sh's do_tiny_psnr): the tiny_psnr value they check.
TOLERANCES = {"stddev": "stddev", "oneoff": "MAXDIFF"}


def outside_tolerance(psnr: str, variables: dict[str, str], key: str) -> str | None:
    """Why tiny_psnr's line misses the test's CMP_TARGET (within FUZZ) or its SIZE_TOLERANCE, or None."""
    value = re.search(rf"{key}:\s*([0-9.]+)", psnr)
    sizes = re.search(r"bytes:\s*(\d+)/\s*(\d+)", psnr)
    if not value or not sizes:
        return f"unreadable tiny_psnr output: {psnr!r}"
    target, fuzz = float(variables.get("CMP_TARGET", "0")), float(variables.get("FUZZ", "1"))
    # fate-run.sh passes SIZE_TOLERANCE unquoted to its awk comparison, so of "31512 - 20482" only the first
    # word counts: FATE's effective tolerance, reproduced
    tolerance = int((variables.get("SIZE_TOLERANCE", "0").split() or ["0"])[0])
    problems = []
    if abs(float(value.group(1)) - target) > fuzz:
        problems.append(f"{key}: |{value.group(1)} - {target}| > {fuzz}")
    if abs(int(sizes.group(1)) - int(sizes.group(2))) > tolerance:
        problems.append(f"size: |{sizes.group(1)} - {sizes.group(2)}| > {tolerance}")
    return f"{'; '.join(problems)} ({psnr})" if problems else None


def _with_output_dir(job: dict[str, Any]) -> dict[str, Any]:
    """Outputs go to ``out/`` of the work directory (the inputs' tree stays as generated)."""
    for o in job["outputs"]:
        o["path"] = f"out/{o['path']}"
    return job


def _first_difference(got: list[str], want: list[str]) -> str:
    for i, (a, b) in enumerate(zip(got, want, strict=False)):
        if a != b:
            return f"line {i + 1}: got {a!r}, reference {b!r}"
    return f"{len(got)} lines, reference has {len(want)}"


def run(module: Path = DEFAULT_MODULE, only: str | None = None) -> dict[str, Any]:
    """Run the selection and return the report (``tests`` list plus ``counts``)."""
    runner = Runner(module)
    (runner.work / "out").mkdir(exist_ok=True)
    outcomes = []
    for test in runner.selected():
        if only and only not in test.name:
            continue
        if test.cmd.split()[0] not in (*COMMANDS, *TWO_STEP, "pixfmts"):
            outcomes.append(Outcome(test.name, "untranslated", f"command {test.cmd.split()[0]!r}"))
            continue
        outcomes.append(runner.run_one(test))
    counts = Counter(o.status for o in outcomes)
    return {
        "module": module.name,
        "ffmpeg": "9.0.2",
        "counts": dict(sorted(counts.items())),
        "tests": [asdict(o) for o in outcomes],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("--module", type=Path, default=DEFAULT_MODULE)
    ap.add_argument("--report", type=Path, default=REPO / "build" / "fate-report.json")
    ap.add_argument("-k", dest="only", help="only tests whose name contains this")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every failure")
    args = ap.parse_args(argv)
    report = run(args.module, args.only)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, indent=1) + "\n")
    if args.verbose:
        for t in report["tests"]:
            if t["status"] != "pass":
                print(f"{t['status']:15} {t['name']}: {t['reason']}")
    print(json.dumps(report["counts"]), f"report: {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

