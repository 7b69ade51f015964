"""Path confinement against the real engine: no job spec reaches anything outside the job's root.

Every case names a file outside the root in some way (``..``, absolute host paths, symlinks, ``/dev`` and ``/tmp``
names, protocol prefixes, encoded dots, very long names, NUL bytes). Outside the root lies readable media that would
make the job *succeed* if the engine could reach it, and sentinel files that must stay as they are. Each case must
end in a typed error with a clear message (never a crash, a hang or a success), and afterwards the disk around a
local root (or the whole in-memory filesystem) must be exactly as before: nothing read, nothing written.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import afmpeg

from .conftest import make_wav, run_native

TONE = make_wav(seconds=0.2)
TIME_LIMIT = 60.0  # a safety net: a case that hung would end as JobTimeout, which fails the test


def process(inp: Any = "tone.wav", out: Any = "out.wav", **output: Any) -> dict[str, Any]:
    source = inp if isinstance(inp, dict) else {"path": inp}
    return {"op": "process", "version": 9, "inputs": [source], "outputs": [{"path": out, **output}]}


# (id, job; "{outside}" in a path is replaced by the absolute host path of the directory next to the root, and
# "{outside_rel}" by its name; expected message pattern)
SPEC = "outside the job's filesystem"
NOT_FOUND = "No such file or directory|does not exist|not found"
NOT_CAPABLE = "not permitted|capabilit|Permission denied"
TOO_LONG = "too long|longer than"
SPEC_OR_NC = f"{NOT_CAPABLE}|{SPEC}"
FRAMES = {"op": "frames", "version": 9, "inputs": [{"path": "v.mp4"}], "select": {"timestamp": 0}, "path": "../f%d.png"}
CASES: list[tuple[str, dict[str, Any], str]] = [
    # inputs
    ("in-dotdot", process("../secret/tone.wav"), f"{NOT_CAPABLE}|{SPEC}"),
    ("in-dotdot-deep", process("../../../../../../../../etc/passwd"), f"{NOT_CAPABLE}|{SPEC}"),
    ("in-dotdot-after-dir", process("sub/../../secret/tone.wav"), f"{NOT_CAPABLE}|{SPEC}"),
    ("in-dot-dotdot", process("./../secret/tone.wav"), f"{NOT_CAPABLE}|{SPEC}"),
    # a host path is a path inside the root (a local tmp_path under /tmp is refused even earlier, as /tmp)
    ("in-host-absolute", process("{outside}/tone.wav"), f"{NOT_FOUND}|{SPEC}"),
    ("in-etc-passwd", process("/etc/passwd"), NOT_FOUND),
    ("in-file-prefix", process("file:../secret/tone.wav"), f"{NOT_FOUND}|{NOT_CAPABLE}|{SPEC}"),
    ("in-file-url", process("file://{outside}/tone.wav"), f"{NOT_FOUND}|{SPEC}"),
    ("in-dev-urandom", process("/dev/urandom", format="s16le"), SPEC),
    ("in-dev-zero", process("/dev/zero", format="s16le"), SPEC),
    ("in-dev-dotdot", process("/dev/../secret/tone.wav"), SPEC),
    ("in-tmp-dotdot", process("/tmp/../secret/tone.wav"), SPEC),
    ("in-encoded-dots", process("%2e%2e/secret/tone.wav"), NOT_FOUND),
    ("in-nul", process("tone.wav\x00/../../secret/tone.wav"), "NUL"),
    ("in-long-component", process("a" * 300 + ".wav"), TOO_LONG),
    ("in-long-path", process("d/" * 2100 + "tone.wav"), TOO_LONG),
    ("in-concat-protocol", process("concat:tone.wav|../secret/tone.wav"), NOT_FOUND),
    ("in-subfile-protocol", process("subfile,,start,0,end,0,,:../secret/tone.wav"), f"{NOT_FOUND}|{NOT_CAPABLE}"),
    ("in-http", process("http://127.0.0.1:9/tone.wav"), NOT_FOUND),
    ("in-concat-list", process({"concat": ["tone.wav", "../secret/tone.wav"]}), f"{SPEC}|safe"),
    ("in-image2-pattern", process({"path": "../secret/img%03d.png", "format": "image2"}), f"{NOT_FOUND}|{SPEC}"),
    # outputs
    ("out-dotdot", process(out="../escape.wav"), f"{NOT_CAPABLE}|{SPEC}"),
    ("out-dotdot-deep", process(out="../../escape.wav"), f"{NOT_CAPABLE}|{SPEC}"),
    ("out-host-absolute", process(out="{outside}/escape.wav"), f"{NOT_FOUND}|{SPEC}"),
    ("out-dev-null", process(out="/dev/null"), SPEC),
    ("out-dev-null-relative", process(out="dev/null"), SPEC),
    ("out-dev-progress", process(out="/dev/afmpeg-progress"), SPEC),
    ("out-dev-dotdot", process(out="/dev/../escape.wav"), SPEC),
    ("out-tmp", process(out="/tmp/escape.wav"), SPEC),
    ("out-tmp-dotdot", process(out="/tmp/../../escape.wav"), SPEC),
    ("out-file-prefix", process(out="file:../escape.wav"), f"{NOT_FOUND}|{NOT_CAPABLE}|{SPEC}"),
    ("out-encoded-dots", process(out="%2e%2e/escape.wav"), NOT_FOUND),
    ("out-nul", process(out="escape\x00/../../escape.wav"), "NUL"),
    ("out-long-component", process(out="b" * 256 + ".wav"), TOO_LONG),
    ("out-long-path", process(out="d/" * 2100 + "x.wav"), TOO_LONG),
    ("out-segment-list", process(out="s%d.wav", format="segment", format_options={"segment_list": "../l"}), SPEC_OR_NC),
    ("frames-dotdot", FRAMES, SPEC_OR_NC),
]


def _fill(value: Any, outside: str) -> Any:
    if isinstance(value, str):
        return value.replace("{outside}", outside)
    if isinstance(value, dict):
        return {k: _fill(v, outside) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, outside) for v in value]
    return value


def _disk(top: Path) -> dict[str, tuple[Any, ...]]:
    """Everything under ``top`` (symlinks not followed): type, size, content digest, mtime."""
    out: dict[str, tuple[Any, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            st = path.lstat()
            if path.is_symlink():
                out[str(path.relative_to(top))] = ("link", os.readlink(path))
            elif path.is_dir():
                out[str(path.relative_to(top))] = ("dir",)
            else:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                out[str(path.relative_to(top))] = ("file", st.st_size, digest, st.st_mtime_ns)
    return out


class RecordingFS(afmpeg.MemoryFS):
    """An in-memory filesystem that remembers every path the host asked it about."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    def _seen(self, path: Any) -> None:
        self.paths.append(self._strip_protocol(str(path)))

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        self._seen(path)
        return super().info(path, **kwargs)

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> Any:
        self._seen(path)
        return super().ls(path, detail=detail, **kwargs)

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        self._seen(path)
        return super()._open(path, mode, **kwargs)

    def cat_file(self, path: str, *args: Any, **kwargs: Any) -> Any:
        self._seen(path)
        return super().cat_file(path, *args, **kwargs)

    def pipe_file(self, path: str, *args: Any, **kwargs: Any) -> Any:
        self._seen(path)
        return super().pipe_file(path, *args, **kwargs)

    def rm_file(self, path: str) -> Any:
        self._seen(path)
        return super().rm_file(path)

    def mkdir(self, path: str, *args: Any, **kwargs: Any) -> Any:
        self._seen(path)
        return super().mkdir(path, *args, **kwargs)

    def rmdir(self, path: str) -> Any:
        self._seen(path)
        return super().rmdir(path)


def _expect_refused(run: Callable[[], Any], pattern: str) -> afmpeg.Error:
    with pytest.raises((afmpeg.JobSpecError, afmpeg.ProcessingError)) as info:
        run()
    message = str(info.value)
    assert info.value.exit_code in (1, 2), message
    assert re.search(pattern, message, re.IGNORECASE), message
    return info.value


@pytest.fixture(scope="module")
def video(runtime: afmpeg.Runtime) -> bytes:
    """A one-frame video for the frames op."""
    fs = afmpeg.MemoryFS()
    job = {
        "op": "process",
        "version": 9,
        "filter": "testsrc2=size=64x48:rate=1:duration=1[v]",
        "outputs": [{"path": "v.mp4", "map": ["[v]"], "video_codec": "mjpeg"}],
    }
    runtime.run(job, fs=fs)
    return fs.cat_file("/v.mp4")


def _memory_tree(video: bytes) -> RecordingFS:
    fs = RecordingFS()
    fs.pipe_file("/jail/tone.wav", TONE)
    fs.pipe_file("/jail/v.mp4", video)
    fs.mkdir("/jail/sub")
    fs.pipe_file("/secret/tone.wav", TONE)  # what an escape would find
    fs.pipe_file("/escape.wav", b"sentinel")
    return fs


def test_the_recording_filesystem_sees_a_legitimate_job(runtime: afmpeg.Runtime, video: bytes) -> None:
    # the control for the memory cases: what a job touches is recorded, and it all lies inside the root
    fs = _memory_tree(video)
    fs.paths.clear()
    runtime.call(process(out="sub/ok.wav"), fs=fs, root="/jail", time_limit=TIME_LIMIT)
    assert "/jail/tone.wav" in fs.paths and "/jail/sub/ok.wav" in fs.paths
    assert all(p == "/jail" or p.startswith("/jail/") for p in fs.paths)


@pytest.mark.parametrize(("case", "job", "pattern"), CASES, ids=[c[0] for c in CASES])
def test_escape_from_a_memory_root(runtime: afmpeg.Runtime, video: bytes, case: str, job: dict, pattern: str) -> None:
    fs = _memory_tree(video)
    before = {p: fs.cat_file(p) for p in fs.find("/")}
    fs.paths.clear()
    _expect_refused(lambda: runtime.call(_fill(job, "/secret"), fs=fs, root="/jail", time_limit=TIME_LIMIT), pattern)
    seen = list(fs.paths)  # often empty: most escapes are refused before the filesystem is asked anything
    assert [p for p in seen if p != "/jail" and not p.startswith("/jail/")] == []
    assert {p: fs.cat_file(p) for p in fs.find("/")} == before


@pytest.fixture
def local_tree(tmp_path: Path, video: bytes) -> tuple[Path, Path]:
    """``tmp_path/jail`` (the job's root) next to ``tmp_path/secret`` (media an escape would find) and sentinels."""
    root, secret = tmp_path / "jail", tmp_path / "secret"
    root.mkdir()
    secret.mkdir()
    (root / "tone.wav").write_bytes(TONE)
    (root / "v.mp4").write_bytes(video)
    (root / "sub").mkdir()
    (secret / "tone.wav").write_bytes(TONE)
    (tmp_path / "escape.wav").write_bytes(b"sentinel")
    (tmp_path / "out.wav").write_bytes(b"sentinel")
    return root, secret


@pytest.mark.parametrize(("case", "job", "pattern"), CASES, ids=[c[0] for c in CASES])
def test_escape_from_a_local_root(
    runtime: afmpeg.Runtime, local_tree: tuple[Path, Path], tmp_path: Path, case: str, job: dict, pattern: str
) -> None:
    root, secret = local_tree
    before = _disk(tmp_path)
    _expect_refused(lambda: runtime.call(_fill(job, str(secret)), fs=str(root), time_limit=TIME_LIMIT), pattern)
    assert _disk(tmp_path) == before


# ---------------------------------------------------------------- symlinks inside a local root


@pytest.fixture
def linked_root(local_tree: tuple[Path, Path]) -> tuple[Path, Path]:
    """The local root, holding symlinks that lead out of it (as an unpacked upload could) and one that does not."""
    root, secret = local_tree
    (root / "link-file.wav").symlink_to(secret / "tone.wav")  # a file outside
    (root / "link-dir").symlink_to(secret)  # a directory outside
    (root / "up").symlink_to("../secret")  # relative
    (root / "hop").symlink_to("link-dir")  # inside, to a link that leads out
    (root / "dangling.wav").symlink_to(secret / "created.wav")  # to a file that does not exist yet
    (root / "loop.wav").symlink_to("loop.wav")
    (root / "inside.wav").symlink_to("tone.wav")  # stays inside: fine
    return root, secret


# The host refuses such a path (WASI's ENOTCAPABLE); the engine reports it like a path with "..": a spec error
# (exit code 2) naming the field and the path, never the errno text "Capabilities insufficient".
LEADS_OUT = "leads outside the job's filesystem"
PROBE = {"op": "probe", "version": 9, "inputs": [{"path": "link-file.wav"}]}
SYMLINK_CASES: list[tuple[str, dict[str, Any], str, str | None]] = [
    # (id, job, expected message pattern, expected field; None: not a spec error)
    ("in-file-link", process("link-file.wav"), '^inputs\\[0\\].path: "link-file.wav" ' + LEADS_OUT, "inputs[0].path"),
    ("in-dir-link", process("link-dir/tone.wav"), '"link-dir/tone.wav" ' + LEADS_OUT, "inputs[0].path"),
    ("in-relative-dir-link", process("up/tone.wav"), '"up/tone.wav" ' + LEADS_OUT, "inputs[0].path"),
    ("in-link-to-link", process("hop/tone.wav"), '"hop/tone.wav" ' + LEADS_OUT, "inputs[0].path"),
    ("in-loop", process("loop.wav"), f"{LEADS_OUT}|{NOT_FOUND}|loop|symbolic", None),
    ("in-concat-member-link", process({"concat": ["tone.wav", "link-file.wav"]}), LEADS_OUT, "inputs[0].concat"),
    ("probe-file-link", PROBE, '"link-file.wav" ' + LEADS_OUT, "inputs[0].path"),
    ("out-dangling-link", process(out="dangling.wav"), '^outputs\\[0\\].path: "dangling.wav" ' + LEADS_OUT,
     "outputs[0].path"),
    ("out-through-dir-link", process(out="link-dir/escape.wav"), LEADS_OUT, "outputs[0].path"),
    ("out-over-file-link", process(out="link-file.wav"), LEADS_OUT, "outputs[0].path"),
    ("out-hls-through-link", process(out="link-dir/index.m3u8", format="hls"),
     '"link-dir/index0.ts", a file the hls muxer opens, ' + LEADS_OUT, "outputs[0]"),
    ("frames-in-dir-link", {**FRAMES, "path": "up/f%d.png"}, '^path: "up/f1.png" ' + LEADS_OUT, "path"),
]


@pytest.mark.parametrize(("case", "job", "pattern", "field"), SYMLINK_CASES, ids=[c[0] for c in SYMLINK_CASES])
def test_symlinks_do_not_lead_out_of_a_local_root(
    runtime: afmpeg.Runtime,
    linked_root: tuple[Path, Path],
    tmp_path: Path,
    case: str,
    job: dict,
    pattern: str,
    field: str | None,
) -> None:
    root, secret = linked_root
    before = _disk(tmp_path)
    error = _expect_refused(lambda: runtime.call(job, fs=str(root), time_limit=TIME_LIMIT), pattern)
    assert _disk(tmp_path) == before
    assert not (secret / "created.wav").exists()
    assert "Capabilities insufficient" not in str(error)
    if field is not None:
        assert isinstance(error, afmpeg.JobSpecError), error
        assert error.exit_code == 2 and error.kind == "spec" and error.field == field


def test_a_symlink_that_stays_inside_works(runtime: afmpeg.Runtime, linked_root: tuple[Path, Path]) -> None:
    # the control: the same setup lets a legitimate job through, so the refusals above are about the paths
    root, _ = linked_root
    runtime.call(process("inside.wav", out="sub/ok.wav"), fs=str(root), time_limit=TIME_LIMIT)
    assert (root / "sub" / "ok.wav").read_bytes()[:4] == b"RIFF"


# ---------------------------------------------------------------- files a muxer opens by itself

HLS_OUTSIDE = process(out="index.m3u8", format="hls", format_options={"hls_segment_filename": "../seg%d.ts"})
HLS_THROUGH_LINK = process(out="link-dir/index.m3u8", format="hls")


def test_hls_segments_cannot_be_written_outside_the_root(
    runtime: afmpeg.Runtime, video: bytes, linked_root: tuple[Path, Path], tmp_path: Path
) -> None:
    # the hls muxer opens its segments and playlists itself: those opens are confined too
    fs = _memory_tree(video)
    before_memory = {p: fs.cat_file(p) for p in fs.find("/")}
    fs.paths.clear()
    with contextlib.suppress(afmpeg.JobSpecError, afmpeg.ProcessingError):
        runtime.call(HLS_OUTSIDE, fs=fs, root="/jail", time_limit=TIME_LIMIT)
    assert [p for p in fs.paths if p != "/jail" and not p.startswith("/jail/")] == []
    assert {p: v for p, v in ((p, fs.cat_file(p)) for p in fs.find("/")) if not p.startswith("/jail/index")} == (
        before_memory
    )
    root, _ = linked_root
    before_disk = _disk(tmp_path)
    with contextlib.suppress(afmpeg.JobSpecError, afmpeg.ProcessingError):
        runtime.call(HLS_THROUGH_LINK, fs=str(root), time_limit=TIME_LIMIT)
    assert _disk(tmp_path) == before_disk


@pytest.mark.parametrize("job", [HLS_OUTSIDE, HLS_THROUGH_LINK], ids=["segments-above-root", "through-dir-link"])
def test_an_hls_job_that_cannot_open_its_files_fails(
    runtime: afmpeg.Runtime, linked_root: tuple[Path, Path], tmp_path: Path, job: dict
) -> None:
    # hls only logs "Failed to open file" for a segment or playlist it cannot open: the engine fails the job itself
    root, _ = linked_root
    before = _disk(tmp_path)
    _expect_refused(lambda: runtime.call(job, fs=str(root), time_limit=TIME_LIMIT), SPEC_OR_NC)
    assert _disk(tmp_path) == before


def test_hls_segments_above_the_root_are_a_spec_error_naming_format_options(
    runtime: afmpeg.Runtime, video: bytes
) -> None:
    fs = _memory_tree(video)
    before = {p: fs.cat_file(p) for p in fs.find("/")}
    with pytest.raises(afmpeg.JobSpecError, match=r'"\.\./seg0\.ts", a file the hls muxer opens, is outside') as info:
        runtime.call(HLS_OUTSIDE, fs=fs, root="/jail", time_limit=TIME_LIMIT)
    assert info.value.exit_code == 2 and info.value.kind == "spec"
    assert info.value.field == "outputs[0].format_options"
    assert {p: fs.cat_file(p) for p in fs.find("/")} == before


def _hls(path: str = "index.m3u8", **format_options: str) -> dict[str, Any]:
    # hls_time 0.05 cuts the 0.2 s tone into several segments: a failure surfaces while packets are written,
    # not only in the trailer
    return process(out=path, format="hls", format_options={"hls_time": "0.05", **format_options})


HLS_MISSING_DIRS = [
    ("segment-dir", _hls(hls_segment_filename="nodir/seg%d.ts"), "nodir/seg0.ts"),
    ("playlist-dir", _hls("nodir/index.m3u8"), "nodir/index0.ts"),
    (
        "segment-dir-in-trailer",
        process(out="index.m3u8", format="hls", format_options={"hls_segment_filename": "nodir/seg%d.ts"}),
        "nodir/seg0.ts",
    ),
]


@pytest.mark.parametrize(("case", "job", "name"), HLS_MISSING_DIRS, ids=[c[0] for c in HLS_MISSING_DIRS])
@pytest.mark.parametrize("where", ["memory", "local"])
def test_an_hls_job_whose_directory_is_missing_fails(
    runtime: afmpeg.Runtime, video: bytes, tmp_path: Path, where: str, case: str, job: dict, name: str
) -> None:
    fs: Any = _memory_tree(video)
    kwargs: dict[str, Any] = {"fs": fs, "root": "/jail"}
    if where == "local":
        (tmp_path / "jail").mkdir()
        (tmp_path / "jail" / "tone.wav").write_bytes(TONE)
        kwargs = {"fs": str(tmp_path / "jail")}

    def snapshot() -> Any:
        return {p: fs.cat_file(p) for p in fs.find("/")} if where == "memory" else _disk(tmp_path)

    before = snapshot()
    with pytest.raises(afmpeg.ProcessingError) as info:
        runtime.call(job, time_limit=TIME_LIMIT, **kwargs)
    assert info.value.exit_code == 1 and info.value.kind == "processing"
    assert info.value.field == "outputs[0]"
    assert f'the hls muxer could not create "{name}"' in str(info.value)
    assert "directory does not exist" in str(info.value)
    assert snapshot() == before  # a failed job publishes nothing, not even the playlist


def test_hls_ignore_io_errors_is_honoured_but_not_for_paths_outside(runtime: afmpeg.Runtime, video: bytes) -> None:
    # the muxer's own option says to carry on past files it cannot write: the job asked for that
    fs = _memory_tree(video)
    runtime.call(
        _hls(hls_segment_filename="nodir/seg%d.ts", ignore_io_errors="1"), fs=fs, root="/jail", time_limit=TIME_LIMIT
    )
    assert fs.exists("/jail/index.m3u8") and not fs.exists("/jail/nodir")
    # ... but a file outside the job's filesystem stays a spec error
    fs = _memory_tree(video)
    with pytest.raises(afmpeg.JobSpecError, match="outside the job's filesystem"):
        runtime.call(
            _hls(hls_segment_filename="../seg%d.ts", ignore_io_errors="1"), fs=fs, root="/jail", time_limit=TIME_LIMIT
        )
    assert not fs.exists("/seg0.ts")


# ---------------------------------------------------------------- ".." is refused by the engine, naming the field

DOTDOT_PATHS = ["../x.mp4", "./../x.mp4", "sub/../../x.mp4", "/../x.mp4", "file:../x.mp4", "sub/../../jail/tone.wav"]


@pytest.mark.parametrize("path", DOTDOT_PATHS)
@pytest.mark.parametrize("side", ["input", "output"])
def test_a_path_that_climbs_above_the_root_is_a_spec_error(
    runtime: afmpeg.Runtime, video: bytes, side: str, path: str
) -> None:
    # lexically above the root at any point, even if it would come back in: refused while the spec is read, so the
    # filesystem is never asked anything and nothing is written
    fs = _memory_tree(video)
    fs.pipe_file("/x.mp4", video)  # what the input would find outside the root
    before = {p: fs.cat_file(p) for p in fs.find("/")}
    job = process(path) if side == "input" else process(out=path)
    fs.paths.clear()
    with pytest.raises(afmpeg.JobSpecError) as info:
        runtime.call(job, fs=fs, root="/jail", time_limit=TIME_LIMIT)
    field = "inputs[0].path" if side == "input" else "outputs[0].path"
    assert info.value.exit_code == 2 and info.value.kind == "spec"
    assert info.value.field == field
    assert str(info.value).startswith(f'{field}: "{path}" is outside the job\'s filesystem')
    assert fs.paths == []
    assert {p: fs.cat_file(p) for p in fs.find("/")} == before


def test_a_frames_path_above_the_root_is_a_spec_error(runtime: afmpeg.Runtime, video: bytes) -> None:
    fs = _memory_tree(video)
    fs.paths.clear()
    with pytest.raises(afmpeg.JobSpecError) as info:
        runtime.call(FRAMES, fs=fs, root="/jail", time_limit=TIME_LIMIT)
    assert info.value.field == "path" and "outside the job's filesystem" in str(info.value)
    assert fs.paths == []


def test_dotdot_that_stays_inside_the_root_works(runtime: afmpeg.Runtime, video: bytes) -> None:
    # the control: ".." below the top is an ordinary path
    fs = _memory_tree(video)
    runtime.call(process("sub/../tone.wav", out="sub/../sub/ok.wav"), fs=fs, root="/jail", time_limit=TIME_LIMIT)
    assert fs.cat_file("/jail/sub/ok.wav")[:4] == b"RIFF"


# ---------------------------------------------------------------- lists inside an input's content

# An upload named like media whose content is a list of other files (an ffconcat list, an HLS playlist) must not be
# read as that list: it would pull other files of the job's root (here private/secret.wav) into the job's output. A
# list format is read only when the job asks for it: "format": "concat", or inputs[].concat.
SECRET = make_wav(seconds=0.2, freq=1234.0)
SECRET_PCM = SECRET[44:]  # make_wav writes the plain 44-byte header
FFCONCAT = b"ffconcat version 1.0\nfile private/secret.wav\n"
M3U8 = b"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXTINF:0.2,\nprivate/secret.wav\n#EXT-X-ENDLIST\n"
LIST_REFUSED = (
    r'^inputs\[0\]: "upload\.mp4" looks like a list of other files to read \(format "concat"\); list formats are '
    r'only opened when asked for explicitly with "format": "concat"'
)
MEMBER_REFUSED = r'^inputs\[0\]: a file the concat list names is itself a list of other files to read'
UPLOAD = {"path": "upload.mp4"}


def _wav_pcm(data: bytes) -> bytes:
    with wave.open(io.BytesIO(data)) as w:
        return w.readframes(w.getnframes())


def _upload_tree(content: bytes = FFCONCAT) -> RecordingFS:
    fs = RecordingFS()
    fs.pipe_file("/jail/tone.wav", TONE)
    fs.pipe_file("/jail/private/secret.wav", SECRET)
    fs.pipe_file("/jail/upload.mp4", content)
    return fs


def _no_secret_anywhere_else(fs: afmpeg.MemoryFS) -> None:
    for path in fs.find("/"):
        if path != "/jail/private/secret.wav":
            assert SECRET_PCM[400:2400] not in fs.cat_file(path), path


def _job(op: str, inp: dict[str, Any]) -> dict[str, Any]:
    if op == "probe":
        return {"op": "probe", "version": 9, "inputs": [inp]}
    if op == "frames":
        return {"op": "frames", "version": 9, "inputs": [inp], "select": {"timestamp": 0}, "path": "f%d.png"}
    return {"op": "process", "version": 9, "inputs": [inp], "outputs": [{"path": "out.wav"}]}


def test_native_ffmpeg_reads_the_file_an_uploaded_list_names(native_ffmpeg: str, tmp_path: Path) -> None:
    # the threat is real: FFmpeg detects the list by its content, whatever the name, and reads what it names
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "secret.wav").write_bytes(SECRET)
    (tmp_path / "upload.mp4").write_bytes(FFCONCAT)
    out = run_native(native_ffmpeg, "-i", str(tmp_path / "upload.mp4"), "-f", "s16le", "-")
    assert out == SECRET_PCM


@pytest.mark.parametrize("op", ["probe", "process", "frames"])
def test_an_uploaded_concat_list_is_not_read_as_one(runtime: afmpeg.Runtime, op: str) -> None:
    fs = _upload_tree()
    fs.paths.clear()
    if op == "probe":
        info = runtime.call(_job(op, UPLOAD), fs=fs, root="/jail", time_limit=TIME_LIMIT)["inputs"][0]
        assert re.search(LIST_REFUSED, info["error"]), info
        assert info["error_kind"] == "invalid_data" and "streams" not in info and "format" not in info
    else:
        with pytest.raises(afmpeg.InvalidData, match=LIST_REFUSED) as error:
            runtime.call(_job(op, UPLOAD), fs=fs, root="/jail", time_limit=TIME_LIMIT)
        assert error.value.exit_code == 1 and error.value.kind == "invalid_data"
        assert error.value.field == "inputs[0]"
    assert "/jail/private/secret.wav" not in fs.paths  # not opened, not even looked at
    assert sorted(fs.find("/")) == ["/jail/private/secret.wav", "/jail/tone.wav", "/jail/upload.mp4"]
    _no_secret_anywhere_else(fs)


def test_an_uploaded_concat_list_is_not_read_from_a_local_root(runtime: afmpeg.Runtime, tmp_path: Path) -> None:
    # a local root, as the CLI and the helpers use: the directory holds more than the one upload
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "secret.wav").write_bytes(SECRET)
    (tmp_path / "upload.mp4").write_bytes(FFCONCAT)
    before = _disk(tmp_path)
    with pytest.raises(afmpeg.InvalidData, match=LIST_REFUSED):
        runtime.call(_job("process", UPLOAD), fs=str(tmp_path), time_limit=TIME_LIMIT)
    assert _disk(tmp_path) == before


def test_the_jobs_own_format_whitelist_does_not_let_a_probed_list_in(runtime: afmpeg.Runtime) -> None:
    fs = _upload_tree()
    fs.paths.clear()
    inp = {"path": "upload.mp4", "options": {"format_whitelist": "concat,wav"}}
    with pytest.raises(afmpeg.InvalidData, match=LIST_REFUSED):
        runtime.call(_job("process", inp), fs=fs, root="/jail", time_limit=TIME_LIMIT)
    assert "/jail/private/secret.wav" not in fs.paths
    # ... and it still restricts what is probed
    with pytest.raises(afmpeg.ProcessingError, match="Format not on whitelist"):
        inp = {"path": "tone.wav", "options": {"format_whitelist": "mp3"}}
        runtime.call(_job("process", inp), fs=fs, root="/jail", time_limit=TIME_LIMIT)


LISTED = b"ffconcat version 1.0\nfile tone.wav\nfile upload.mp4\n"
MEMBER_CASES = [
    ("concat-input", {"concat": ["tone.wav", "upload.mp4"]}),
    ("concat-input-first", {"concat": ["upload.mp4", "tone.wav"]}),
    ("explicit-concat-list", {"path": "list.txt", "format": "concat"}),
]


@pytest.mark.parametrize(("case", "inp"), MEMBER_CASES, ids=[c[0] for c in MEMBER_CASES])
@pytest.mark.parametrize("op", ["probe", "process"])
def test_a_list_named_by_a_concat_input_is_not_read_either(
    runtime: afmpeg.Runtime, op: str, case: str, inp: dict[str, Any]
) -> None:
    # the job asked for a list, not for the lists its members might hold
    fs = _upload_tree()
    fs.pipe_file("/jail/list.txt", LISTED)
    fs.paths.clear()
    if op == "probe" and case != "concat-input-first":
        # probing opens only the first member: the list is not reached
        info = runtime.call(_job(op, inp), fs=fs, root="/jail", time_limit=TIME_LIMIT)["inputs"][0]
        assert info.get("format") == "concat", info
    elif op == "probe":
        info = runtime.call(_job(op, inp), fs=fs, root="/jail", time_limit=TIME_LIMIT)["inputs"][0]
        assert re.search(MEMBER_REFUSED, info["error"]) and info["error_kind"] == "invalid_data", info
    else:
        with pytest.raises(afmpeg.InvalidData, match=MEMBER_REFUSED) as error:
            runtime.call(_job(op, inp), fs=fs, root="/jail", time_limit=TIME_LIMIT)
        assert error.value.exit_code == 1 and error.value.field == "inputs[0]"
        assert not fs.exists("/jail/out.wav")
    assert "/jail/private/secret.wav" not in fs.paths
    _no_secret_anywhere_else(fs)


@pytest.mark.parametrize("op", ["probe", "process"])
def test_an_uploaded_hls_playlist_is_not_read_as_one(runtime: afmpeg.Runtime, op: str) -> None:
    # hls is not linked into the lean build: the playlist is then no media at all; if a build links it, the
    # engine's refusal of probed list formats must cover it
    linked = any(d["name"] == "hls" for d in runtime.call({"op": "capabilities"})["demuxers"])
    expected = LIST_REFUSED.replace('"concat"', '"hls"') if linked else "Invalid data"
    fs = _upload_tree(M3U8)
    fs.paths.clear()
    if op == "probe":
        info = runtime.call(_job(op, UPLOAD), fs=fs, root="/jail", time_limit=TIME_LIMIT)["inputs"][0]
        assert re.search(expected, info["error"]) and info["error_kind"] == "invalid_data", info
    else:
        with pytest.raises(afmpeg.InvalidData, match=expected):
            runtime.call(_job(op, UPLOAD), fs=fs, root="/jail", time_limit=TIME_LIMIT)
    assert "/jail/private/secret.wav" not in fs.paths
    _no_secret_anywhere_else(fs)


def test_an_explicit_concat_list_still_reads_what_it_names(
    runtime: afmpeg.Runtime, native_ffmpeg: str, tmp_path: Path
) -> None:
    # the job author asked for the list: its files are read (the engine's result equals native FFmpeg's)
    listing = b"ffconcat version 1.0\nfile tone.wav\nfile private/secret.wav\n"
    fs = _upload_tree()
    fs.pipe_file("/jail/list.txt", listing)
    info = runtime.call(_job("probe", {"path": "list.txt", "format": "concat"}), fs=fs, root="/jail")["inputs"][0]
    assert info["format"] == "concat" and [s["codec"] for s in info["streams"]] == ["pcm_s16le"]
    runtime.call(_job("process", {"path": "list.txt", "format": "concat"}), fs=fs, root="/jail", time_limit=TIME_LIMIT)
    ours = _wav_pcm(fs.cat_file("/jail/out.wav"))
    assert ours == TONE[44:] + SECRET_PCM
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "secret.wav").write_bytes(SECRET)
    (tmp_path / "tone.wav").write_bytes(TONE)
    (tmp_path / "list.txt").write_bytes(listing)
    assert run_native(native_ffmpeg, "-f", "concat", "-i", str(tmp_path / "list.txt"), "-f", "s16le", "-") == ours
    # a plain list (no "ffconcat" header) too: with "format" nothing needs detecting
    fs.pipe_file("/jail/plain.txt", b"file 'tone.wav'\n")
    runtime.call(_job("process", {"path": "plain.txt", "format": "concat"}), fs=fs, root="/jail", time_limit=TIME_LIMIT)
    assert _wav_pcm(fs.cat_file("/jail/out.wav")) == TONE[44:]


def test_a_concat_input_still_joins_its_files(runtime: afmpeg.Runtime) -> None:
    fs = _upload_tree()
    runtime.call(_job("process", {"concat": ["tone.wav", "private/secret.wav"]}), fs=fs, root="/jail")
    assert _wav_pcm(fs.cat_file("/jail/out.wav")) == TONE[44:] + SECRET_PCM


# Every linked demuxer, reviewed for opening files named inside its input. A demuxer newly linked into the module
# fails this test until someone decides which set it belongs to; one that reads named files must also be in the
# engine's demuxer_reads_named_files() (engine/src/confine.c), so that probing never picks it.
READS_NAMED_FILES = {"concat"}
READS_ONLY_ITS_INPUT = {
    "aac", "ass", "flac", "gif", "h264", "hevc", "matroska,webm", "mp3", "mpegts", "ogg", "f32le", "s16be", "s16le",
    "u8", "rawvideo", "srt", "wav", "webvtt", "jpeg_pipe", "png_pipe",
    "image2",  # opens the files of the job's own path pattern, never names from the content
    "mov,mp4,m4a,3gp,3g2,mj2",  # external data references only with its "enable_drefs" option (off by default)
}


def test_every_linked_demuxer_was_reviewed_for_reading_named_files(runtime: afmpeg.Runtime) -> None:
    caps = runtime.call({"op": "capabilities"})
    linked = {d["name"] for d in caps["demuxers"]}
    assert linked - READS_NAMED_FILES - READS_ONLY_ITS_INPUT == set()
    assert READS_NAMED_FILES & linked  # the refusal above is tested against a linked list format
    # and whatever a demuxer opens, it opens as a plain file: no other protocol (subfile:, concat:, data:, crypto:,
    # ...) is linked for content to reach
    assert caps["protocols"] == {"input": ["file"], "output": ["file"]}
