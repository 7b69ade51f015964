"""Jobs on a remote (S3) filesystem, against a real S3 protocol server (moto's, on loopback).

Inputs are read with ranged requests (never the whole object up front, no byte fetched twice by demuxer seeks);
outputs are spooled in memory and uploaded, one request each, only when the job succeeds; inputs are never written.
Every request the server sees is recorded, so these tests count what went over the wire.
"""

from __future__ import annotations

import asyncio
import io
import uuid
import wave
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import s3fs
from moto.server import ThreadedMotoServer

import afmpeg
from afmpeg.runtime import resolve_fs
from afmpeg.wasi import constants as c
from afmpeg.wasi.errors import WasiError
from afmpeg.wasi.handles import ReadHandle
from afmpeg.wasi.mounts import REMOTE_READ_OPTIONS, FsspecMount

from .conftest import make_clip_job, make_wav


@dataclass
class Request:
    """One HTTP request the S3 server answered."""

    method: str
    path: str
    query: str
    range: str | None
    sent: int  # response body bytes


class Recorder:
    """WSGI middleware in front of the S3 server: records every request."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.log: list[Request] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        body = self.app(environ, start_response)
        try:
            data = b"".join(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        self.log.append(
            Request(
                environ["REQUEST_METHOD"],
                environ.get("PATH_INFO", ""),
                environ.get("QUERY_STRING", ""),
                environ.get("HTTP_RANGE"),
                len(data),
            )
        )
        return [data]

    def since(self, mark: int, *, key: str | None = None, methods: Iterable[str] | None = None) -> list[Request]:
        """Requests after ``mark`` (a ``len(log)``), optionally only those for object ``key`` and ``methods``."""
        out = self.log[mark:]
        if key is not None:
            out = [r for r in out if r.path == "/" + key]
        if methods is not None:
            wanted = set(methods)
            out = [r for r in out if r.method in wanted]
        return out


@dataclass
class S3:
    endpoint: str
    recorder: Recorder


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3]:
    """A moto S3 server on a free loopback port, with dummy credentials in the environment (and no others)."""
    with pytest.MonkeyPatch.context() as mp:
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
            mp.delenv(name, raising=False)
        empty = tmp_path_factory.mktemp("aws") / "none"
        mp.setenv("AWS_CONFIG_FILE", str(empty))
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        mp.setenv("NO_PROXY", "127.0.0.1,localhost")
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            assert server._server is not None
            recorder = Recorder(server._server.app)
            server._server.app = recorder  # werkzeug looks the app up on the server for every request
            host, port = server.get_host_and_port()
            endpoint = f"http://{host}:{port}"
            mp.setenv("AWS_ENDPOINT_URL", endpoint)  # for the s3:// URL form, which builds its own S3FileSystem
            yield S3(endpoint, recorder)
        finally:
            server.stop()
            s3fs.S3FileSystem.clear_instance_cache()


@pytest.fixture
def s3(s3_server: S3) -> tuple[s3fs.S3FileSystem, str]:
    """A filesystem on the server and a fresh bucket for this test."""
    fs = s3fs.S3FileSystem(key="testing", secret="testing", endpoint_url=s3_server.endpoint, skip_instance_cache=True)
    bucket = f"afmpeg-{uuid.uuid4().hex[:12]}"
    fs.mkdir(bucket)
    return fs, bucket


@pytest.fixture(scope="module")
def clip_bytes(runtime: afmpeg.Runtime) -> bytes:
    fs = afmpeg.MemoryFS()
    runtime.run(make_clip_job(seconds=1, size="320x240"), fs=fs)
    return fs.cat_file("/clip.mp4")


@pytest.fixture(scope="module")
def mjpeg_mp4(runtime: afmpeg.Runtime) -> bytes:
    """A ~7 MB mp4 (several read blocks) with its index (moov) at the end, as the mp4 muxer writes it by default."""
    fs = afmpeg.MemoryFS()
    job = {
        "op": "process",
        "version": 9,
        "filter": "testsrc2=size=1280x720:rate=25:duration=4[v]",
        "outputs": [{"path": "big.mp4", "map": ["[v]"], "video_codec": "mjpeg", "options": {"qmin": "2", "qmax": "2"}}],
    }
    runtime.run(job, fs=fs)
    data = fs.cat_file("/big.mp4")
    assert data.rfind(b"moov") > len(data) // 2 and len(data) > 3 * REMOTE_READ_OPTIONS["block_size"]
    return data


def big_wav(seconds: int) -> bytes:
    """A long WAV made by repeating one second of tone (cheap to build)."""
    second = make_wav(seconds=1.0)
    with wave.open(io.BytesIO(second)) as w:
        params, frames = w.getparams(), w.readframes(w.getnframes())
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setparams(params)
        w.writeframes(frames * seconds)
    return buf.getvalue()


def objects(fs: s3fs.S3FileSystem, bucket: str) -> dict[str, bytes]:
    fs.invalidate_cache()
    return {path[len(bucket) + 1 :]: fs.cat_file(path) for path in fs.find(bucket)}


def writes(reqs: list[Request]) -> list[Request]:
    return [r for r in reqs if r.method in ("PUT", "POST", "DELETE")]


# ---------------------------------------------------------------- reading


def test_probe_reads_a_large_object_in_ranges(runtime: afmpeg.Runtime, s3, s3_server: S3) -> None:
    fs, bucket = s3
    data = big_wav(300)  # ~50 MiB
    fs.pipe_file(f"{bucket}/media/big.wav", data)
    mark = len(s3_server.recorder.log)
    info = runtime.probe("big.wav", fs=fs, root=f"{bucket}/media")
    assert info.inputs[0].format == "wav" and info.inputs[0].duration == pytest.approx(300, abs=0.01)
    gets = s3_server.recorder.since(mark, key=f"{bucket}/media/big.wav", methods=["GET"])
    assert gets and all(r.range is not None for r in gets)  # never a plain GET of the whole object
    fetched = sum(r.sent for r in gets)
    assert fetched <= 4 * REMOTE_READ_OPTIONS["block_size"] < len(data) // 6, (fetched, len(data))
    assert not writes(s3_server.recorder.since(mark))


def _ranges(reqs: list[Request]) -> list[tuple[int, int]]:
    out = []
    for r in reqs:
        assert r.range is not None and r.range.startswith("bytes=")
        start, _, end = r.range[len("bytes=") :].partition("-")
        out.append((int(start), int(start) + r.sent))
    return sorted(out)


def test_demuxer_seeks_do_not_fetch_bytes_twice(runtime: afmpeg.Runtime, s3, s3_server: S3, mjpeg_mp4: bytes) -> None:
    # the mp4 demuxer reads the head, jumps to the index at the end, then comes back for the media: with a cache
    # that keeps one window (readahead) the head would be fetched twice
    fs, bucket = s3
    fs.pipe_file(f"{bucket}/in/big.mp4", mjpeg_mp4)
    mark = len(s3_server.recorder.log)
    job = {
        "op": "process",
        "version": 9,
        "inputs": [{"path": "in/big.mp4"}],
        "outputs": [{"path": "out/copy.mkv", "map": ["0:v"]}],
    }
    runtime.run(job, fs=fs, root=bucket)
    ranges = _ranges(s3_server.recorder.since(mark, key=f"{bucket}/in/big.mp4", methods=["GET"]))
    assert len(ranges) > 1
    for (_, end), (start, _) in zip(ranges, ranges[1:], strict=False):
        assert end <= start, f"bytes fetched twice: {ranges}"
    assert sum(e - s for s, e in ranges) == len(mjpeg_mp4)  # every byte exactly once
    assert fs.info(f"{bucket}/out/copy.mkv")["size"] > len(mjpeg_mp4) // 2


def test_inputs_are_opened_read_only_and_never_written(runtime: afmpeg.Runtime, s3, s3_server: S3, clip_bytes) -> None:
    fs, bucket = s3
    fs.pipe_file(f"{bucket}/in/clip.mp4", clip_bytes)
    before = fs.info(f"{bucket}/in/clip.mp4")
    # the host's handle for a file opened without write rights cannot change it, on any backend
    mount = FsspecMount(fs, bucket, dev=1)
    handle = mount.open("in/clip.mp4", oflags=0, read=True, write=False, append=False, must_be_dir=False)
    assert isinstance(handle, ReadHandle) and not handle.writable
    assert handle.f.mode == "rb"
    for attempt in (lambda: handle.write(b"x"), lambda: handle.pwrite(b"x", 0), lambda: handle.set_size(0)):
        with pytest.raises(WasiError) as err:
            attempt()
        assert err.value.errno in (c.EBADF, c.EINVAL, c.ESPIPE)
    handle.close()
    assert mount.publish() == []
    # a job that only reads the input: no request that writes anything
    mark = len(s3_server.recorder.log)
    runtime.probe("in/clip.mp4", fs=fs, root=bucket)
    job = {
        "op": "process",
        "version": 9,
        "inputs": [{"path": "in/clip.mp4"}],
        "outputs": [{"path": "a.mkv", "map": ["0:a"]}],
    }
    runtime.run(job, fs=fs, root=bucket)
    reqs = s3_server.recorder.since(mark)
    assert [r.path for r in writes(reqs)] == [f"/{bucket}/a.mkv"]  # only the output
    fs.invalidate_cache()
    after = fs.info(f"{bucket}/in/clip.mp4")
    assert [after[k] for k in ("ETag", "LastModified", "size")] == [before[k] for k in ("ETag", "LastModified", "size")]


# ---------------------------------------------------------------- writing


def test_transcode_from_s3_to_s3(runtime: afmpeg.Runtime, s3, s3_server: S3, clip_bytes: bytes) -> None:
    fs, bucket = s3
    fs.pipe_file(f"{bucket}/jobs/in/clip.mp4", clip_bytes)
    mark = len(s3_server.recorder.log)
    job = {
        "op": "process",
        "version": 9,
        "inputs": [{"path": "in/clip.mp4"}],
        "filter": "[0:v]scale=160:120[v];[0:a]anull[a]",
        "outputs": [
            # "out/deep" holds no object: on an object store a prefix needs no mkdir
            {"path": "out/deep/small.mp4", "map": ["[v]", "[a]"], "video_codec": "libopenh264", "audio_codec": "aac"},
            {"path": "out/copy.mkv", "map": ["0:v", "0:a"]},
        ],
    }
    result = runtime.run(job, fs=fs, root=f"{bucket}/jobs")
    assert [o.path for o in result.outputs] == ["out/deep/small.mp4", "out/copy.mkv"]
    stored = objects(fs, bucket)
    assert sorted(stored) == ["jobs/in/clip.mp4", "jobs/out/copy.mkv", "jobs/out/deep/small.mp4"]
    # each output is one upload (a single PUT: the mp4 muxer's seek-back happened in the spool)
    puts = writes(s3_server.recorder.since(mark))
    assert sorted((r.method, r.path) for r in puts) == [
        ("PUT", f"/{bucket}/jobs/out/copy.mkv"),
        ("PUT", f"/{bucket}/jobs/out/deep/small.mp4"),
    ]
    small = runtime.probe("out/deep/small.mp4", fs=fs, root=f"{bucket}/jobs").inputs[0]
    assert [(s.type, s.codec, s.width) for s in small.streams] == [("video", "h264", 160), ("audio", "aac", None)]


def test_failed_job_uploads_nothing_and_keeps_existing_objects(runtime: afmpeg.Runtime, s3, s3_server: S3) -> None:
    fs, bucket = s3
    fs.pipe_file(f"{bucket}/tone.wav", make_wav(seconds=0.5))
    fs.pipe_file(f"{bucket}/out/a.wav", b"precious")
    before = objects(fs, bucket)
    job = {
        "op": "process",
        "version": 9,
        "inputs": [{"path": "tone.wav"}],
        # the engine writes out/a.wav's header, then rejects b.wav's options
        "outputs": [{"path": "out/a.wav"}, {"path": "out/new/b.wav", "format_options": {"bogus_key": "1"}}],
    }
    mark = len(s3_server.recorder.log)
    with pytest.raises(afmpeg.JobSpecError, match="bogus_key"):
        runtime.run(job, fs=fs, root=bucket)
    assert writes(s3_server.recorder.since(mark)) == []
    assert objects(fs, bucket) == before


def test_failed_upload_takes_back_the_objects_it_created(
    runtime: afmpeg.Runtime, s3, s3_server: S3, monkeypatch: pytest.MonkeyPatch
) -> None:
    fs, bucket = s3
    fs.pipe_file(f"{bucket}/tone.wav", make_wav(seconds=0.5))
    real_pipe = fs.pipe_file

    def pipe_file(path: str, value: Any, **kwargs: Any) -> Any:
        if path.endswith("b.wav"):
            raise ConnectionError("connection reset")
        return real_pipe(path, value, **kwargs)

    monkeypatch.setattr(fs, "pipe_file", pipe_file)
    job = {
        "op": "process",
        "version": 9,
        "inputs": [{"path": "tone.wav"}],
        "outputs": [{"path": "a.wav"}, {"path": "b.wav"}],
    }
    with pytest.raises(afmpeg.ProcessingError, match="could not write output: b.wav: ConnectionError"):
        runtime.run(job, fs=fs, root=bucket)
    assert sorted(objects(fs, bucket)) == ["tone.wav"]  # a.wav was uploaded first, then deleted again


def test_renames_and_deletes_inside_a_job_stay_in_the_spool(runtime: afmpeg.Runtime, s3, s3_server: S3) -> None:
    # HLS with temp_file writes each playlist under a temporary name and renames it; delete_segments unlinks old
    # segments: none of that reaches the store, only the final state does, one PUT per object
    fs, bucket = s3
    mark = len(s3_server.recorder.log)
    job = {
        "op": "process",
        "version": 9,
        "filter": "testsrc2=size=160x120:rate=10:duration=6[v]",
        "outputs": [
            {
                "path": "live/index.m3u8",
                "map": ["[v]"],
                "video_codec": "mjpeg",
                "format": "hls",
                "format_options": {"hls_time": "1", "hls_list_size": "2", "hls_flags": "delete_segments+temp_file"},
            }
        ],
    }
    runtime.run(job, fs=fs, root=bucket)
    stored = objects(fs, bucket)
    assert "live/index.m3u8" in stored and not any(k.endswith(".tmp") for k in stored)
    segments = sorted(k for k in stored if k.endswith(".ts"))
    assert 0 < len(segments) < 6 and "live/index0.ts" not in stored  # early segments were deleted by the muxer
    for name in segments[-2:]:
        assert name.rpartition("/")[2].encode() in stored["live/index.m3u8"]
    puts = writes(s3_server.recorder.since(mark))
    assert sorted(r.path for r in puts) == sorted(f"/{bucket}/{k}" for k in stored)
    assert all(r.method == "PUT" for r in puts)


def test_directory_operations_on_an_object_store(s3, s3_server: S3) -> None:
    # mkdir/rmdir/rename through the mount, as the guest would: pending until publish, and publish never asks the
    # store to create or delete a "directory" (s3fs would take rmdir of a bucket path literally)
    fs, bucket = s3
    fs.pipe_file(f"{bucket}/base/d/a.txt", b"A")
    fs.pipe_file(f"{bucket}/base/d/sub/b.txt", b"B")
    mount = FsspecMount(fs, f"{bucket}/base", dev=1)
    mark = len(s3_server.recorder.log)
    mount.mkdir("empty")
    mount.mkdir("made/below/missing/prefix")  # no parent object is needed on an object store
    mount.rename("d", "e")
    assert mount.stat("e/sub/b.txt").size == 1 and mount.stat_or_none("d") is None
    assert [name for name, _, _ in mount.listdir("")] == ["e", "empty", "made"]
    mount.rmdir("empty")
    assert writes(s3_server.recorder.since(mark)) == []  # nothing reached the store yet
    assert mount.publish() == []
    assert sorted(objects(fs, bucket)) == ["base/e/a.txt", "base/e/sub/b.txt"]
    # object writes and deletes only: never a request on the bucket itself (s3fs's rmdir deletes buckets)
    assert all(r.path.startswith(f"/{bucket}/base/") for r in writes(s3_server.recorder.since(mark)))


# ---------------------------------------------------------------- how the filesystem is named


def test_url_root_and_filesystem_forms(module_path, s3, s3_server: S3) -> None:
    fs, bucket = s3
    fs.pipe_file(f"{bucket}/media/tone.wav", make_wav(seconds=0.25))
    # a URL: credentials and endpoint come from the environment (set by the fixture), as boto's do
    by_url = afmpeg.Runtime(module_path, fs=f"s3://{bucket}/media")
    assert by_url.root == f"{bucket}/media" and isinstance(by_url.fs, s3fs.S3FileSystem)
    assert by_url.probe("tone.wav").inputs[0].format == "wav"
    # a filesystem object, with the root as a path or as a URL
    for root in (f"{bucket}/media", f"s3://{bucket}/media"):
        rt = afmpeg.Runtime(module_path, fs=fs, root=root)
        assert rt.root == f"{bucket}/media"
        assert rt.probe("tone.wav").inputs[0].format == "wav"
    # a URL with explicit storage options
    url_fs, root = resolve_fs(
        f"s3://{bucket}", "media", {"endpoint_url": s3_server.endpoint, "key": "testing", "secret": "testing"}
    )
    assert root == f"{bucket}/media" and url_fs.endpoint_url == s3_server.endpoint
    assert by_url.probe("tone.wav", fs=url_fs, root=root).inputs[0].format == "wav"


# ---------------------------------------------------------------- storage_options for an fs URL


@pytest.fixture
def env_without_s3(monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials in the environment and its endpoint pointing nowhere: only storage_options reach the server."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # the discard port: nothing answers there


def _options(s3_server: S3) -> dict[str, Any]:
    return {"endpoint_url": s3_server.endpoint, "key": "testing", "secret": "testing", "skip_instance_cache": True}


def test_runtime_storage_options(module_path, s3, s3_server: S3, env_without_s3) -> None:
    fs, bucket = s3
    fs.pipe_file(f"{bucket}/media/tone.wav", make_wav(seconds=0.25))
    mark = len(s3_server.recorder.log)
    rt = afmpeg.Runtime(module_path, fs=f"s3://{bucket}", root="media", storage_options=_options(s3_server))
    assert isinstance(rt.fs, s3fs.S3FileSystem) and rt.fs.endpoint_url == s3_server.endpoint
    assert rt.root == f"{bucket}/media"
    assert rt.probe("tone.wav").inputs[0].format == "wav"
    job = {"op": "process", "version": 9, "inputs": [{"path": "tone.wav"}], "outputs": [{"path": "out/tone.flac"}]}
    assert rt.run(job).outputs[0].path == "out/tone.flac"
    assert objects(fs, bucket).keys() == {"media/tone.wav", "media/out/tone.flac"}
    assert s3_server.recorder.since(mark, key=f"{bucket}/media/out/tone.flac", methods=["PUT"])
    # a pool made from Runtime options takes them too
    with afmpeg.RuntimePool(workers=1, module=module_path, fs=f"s3://{bucket}/media",
                            storage_options=_options(s3_server)) as pool:
        assert pool.submit("tone.wav").result(60).inputs[0].format == "wav"


def test_per_call_storage_options_on_every_way_to_start_a_job(runtime, s3, s3_server: S3, env_without_s3) -> None:
    fs, bucket = s3
    fs.pipe_file(f"{bucket}/in/tone.wav", make_wav(seconds=0.25))
    opts = _options(s3_server)
    url = f"s3://{bucket}"

    def job(name: str) -> dict:
        return {"op": "process", "version": 9, "inputs": [{"path": "in/tone.wav"}],
                "outputs": [{"path": f"out/{name}.wav"}]}

    with pytest.raises(afmpeg.ProcessingError, match="NoCredentialsError"):  # without them: no way in
        runtime.probe("in/tone.wav", fs=url, storage_options={"skip_instance_cache": True})
    assert runtime.probe("in/tone.wav", fs=url, storage_options=opts).inputs[0].format == "wav"
    assert runtime.probe("tone.wav", fs=url, root="in", storage_options=opts).inputs[0].format == "wav"
    runtime.run(job("run"), fs=url, storage_options=opts)
    runtime.start(job("start"), fs=url, storage_options=opts).result(timeout=60)
    runtime.call(job("call"), fs=url, storage_options=opts)
    asyncio.run(runtime.run_async(job("run_async"), fs=url, storage_options=opts))
    assert asyncio.run(runtime.probe_async("in/tone.wav", fs=url, storage_options=opts)).inputs[0].format == "wav"
    with afmpeg.RuntimePool(runtime, workers=2) as pool:
        pool.submit(job("submit"), fs=url, storage_options=opts).result(60)
        list(pool.map([job("map")], fs=url, storage_options=opts))
    written = {key for key in objects(fs, bucket) if key.startswith("out/")}
    assert written == {f"out/{n}.wav" for n in ("run", "start", "call", "run_async", "submit", "map")}
    # a frames job reads through the same options (its stills go to the same bucket)
    fs.pipe_file(f"{bucket}/stills/.keep", b"")
    clip = {"op": "process", "version": 9, "filter": "testsrc2=size=64x48:rate=10:duration=1[v]",
            "outputs": [{"path": "in/v.mkv", "map": ["[v]"], "video_codec": "mpeg4"}]}
    runtime.run(clip, fs=url, storage_options=opts)
    frames = {"op": "frames", "version": 9, "inputs": [{"path": "in/v.mkv"}], "select": {"timestamp": 0.5},
              "path": "stills/s.png"}
    assert [f.path for f in runtime.frames(frames, fs=url, storage_options=opts).frames] == ["stills/s.png"]
    assert objects(fs, bucket)["stills/s.png"].startswith(b"\x89PNG")


def test_storage_options_apply_to_a_url_only(module_path, runtime, s3, tmp_path) -> None:
    fs, bucket = s3
    opts = {"anon": True}
    for kw in ({}, {"fs": fs, "root": bucket}, {"fs": fs, "root": f"s3://{bucket}"}, {"fs": tmp_path},
               {"fs": str(tmp_path)}):
        with pytest.raises(ValueError, match="storage_options"):
            afmpeg.Runtime(module_path, storage_options=opts, **kw)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="storage_options"):
            runtime.probe("x.wav", storage_options=opts, **kw)
        with pytest.raises(ValueError, match="storage_options"):
            runtime.start(make_clip_job(), storage_options=opts, **kw)
    with pytest.raises(ValueError, match="storage_options"):
        resolve_fs(fs, bucket, opts)
    # empty options are no options
    assert afmpeg.Runtime(module_path, fs=fs, root=bucket, storage_options={}).root == bucket


def test_storage_options_with_file_and_memory_urls(module_path, tmp_path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "tone.wav").write_bytes(make_wav(seconds=0.25))
    rt = afmpeg.Runtime(module_path, fs=tmp_path.as_uri(), root="in", storage_options={"auto_mkdir": True})
    assert rt.fs.fs.auto_mkdir is True  # the local filesystem under the confining DirFileSystem got them
    assert rt.probe("tone.wav").inputs[0].format == "wav"
    name = f"memory://afmpeg-{uuid.uuid4().hex[:12]}"
    rt.run(make_clip_job("clip.mp4", seconds=1, size="64x48"), fs=name, storage_options={"skip_instance_cache": True})
    import fsspec

    mem = fsspec.filesystem("memory")
    try:
        assert rt.probe("clip.mp4", fs=name).inputs[0].video.codec == "h264"
    finally:
        mem.rm(name.removeprefix("memory:/"), recursive=True)
