"""A fluent builder for process jobs: the common cases in one readable chain.

::

    import afmpeg

    job = (
        afmpeg.job()
        .input("in.mp4", start=2)
        .video_filter("scale=640:-2")
        .output("out.mp4", video_codec="libopenh264", audio_codec="aac", video_bitrate="1M")
        .build()
    )

``build()`` gives a validated :class:`~afmpeg.ProcessJob`; its ``to_dict()`` is exactly the wire dict you would
write by hand. The builder adds nothing the job spec cannot say: simple filters become a ``filter`` graph with
labelled pads (``[v]``/``[a]``, or ``[v0]``, ``[a0]``, … with several outputs, fed through ``split``/``asplit``), and
every output maps the pads it takes.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import JobSpecError
from .job import Input, Output, ProcessJob

if TYPE_CHECKING:
    from .progress import Progress
    from .results import ProcessResult
    from .runtime import Runtime

__all__ = ["JobBuilder", "job", "AUDIO_ONLY_EXTENSIONS", "VIDEO_ONLY_EXTENSIONS"]

#: Output extensions whose containers hold audio only: the builder gives such outputs no video pad.
AUDIO_ONLY_EXTENSIONS = frozenset({"m4a", "aac", "adts", "flac", "wav", "mka", "mp3", "mp2", "ogg", "oga", "opus"})
#: Output extensions that hold pictures only (animations and stills): no audio pad.
VIDEO_ONLY_EXTENSIONS = frozenset({"gif", "png", "jpg", "jpeg", "bmp", "webp", "y4m", "yuv", "rgb", "h264", "264"})
# muxer names (an output's ``format``) of the same two kinds
_AUDIO_ONLY_FORMATS = frozenset({"ipod", "adts", "flac", "wav", "matroska_audio", "mp3", "ogg", "s16le", "f32le"})
_VIDEO_ONLY_FORMATS = frozenset({"gif", "image2", "rawvideo", "h264"})


def _fail(where: str, problem: str, hint: str = "") -> JobSpecError:
    text = f"{where}: {problem}"
    if hint:
        text += f" ({hint})"
    return JobSpecError(text)


def _extension(path: str) -> str:
    return posixpath.splitext(path)[1].lstrip(".").lower()


def stream_kinds(path: str, format: str | None = None) -> tuple[bool, bool]:
    """Whether an output at ``path`` (with muxer ``format``) can hold ``(video, audio)``, judged by name only."""
    ext = _extension(path)
    if (format or "") in _AUDIO_ONLY_FORMATS or (not format and ext in AUDIO_ONLY_EXTENSIONS):
        return False, True
    if (format or "") in _VIDEO_ONLY_FORMATS or (not format and ext in VIDEO_ONLY_EXTENSIONS):
        return True, False
    return True, True


def _bitrate(value: int | float | str | None, where: str) -> str | None:
    """A bit rate as the string an encoder option takes (``1_000_000`` → ``"1000000"``, ``"1M"`` kept)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _fail(where, f"must be bits per second (a number, or a string such as '1M'), got {value!r}")
    if isinstance(value, str):
        if not value.strip():
            raise _fail(where, "must not be empty")
        return value.strip()
    if not value > 0:
        raise _fail(where, f"must be positive, got {value!r}")
    return str(int(value))


def _chain(value: str | None, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, "must be a non-empty filter chain such as 'scale=640:-2'")
    if any(ch in value for ch in "[];"):
        raise _fail(where, f"{value!r} is a filter graph, not a chain", "use .filter() for graphs with labels")
    return value.strip()


@dataclass
class _PendingOutput:
    """An output as given to :meth:`JobBuilder.output`, before the graph's pads are known."""

    output: Output
    video_filter: str | None = None
    audio_filter: str | None = None
    video: bool = True
    audio: bool = True
    user_map: list[str] | None = None
    flags: set[str] = field(default_factory=set)  # which of video/audio were switched off explicitly


class JobBuilder:
    """Builds a :class:`~afmpeg.ProcessJob` step by step; every method returns the builder.

    Get one with :func:`afmpeg.job`. Three ways to fill the filter graph:

    - none: no ``filter`` key; the engine passes input 0's best video and audio through to the output's encoders;
    - simple filters (:meth:`video_filter`, :meth:`audio_filter`, and ``video_filter=``/``audio_filter=`` per
      output, applied after the job-wide ones): the builder writes the graph and the maps. Each output takes video
      and audio unless its extension says otherwise (``.m4a`` holds audio only, ``.gif`` video only) or it says
      ``video=False``/``audio=False``; a stream type without a filter passes through ``null``/``anull``, so an
      input without audio needs ``audio=False`` (the engine refuses a missing ``[0:a]``);
    - an explicit graph (:meth:`filter`): outputs name its pads in ``map``.

    Example::

        job = (afmpeg.job()
               .input("talk.mp4")
               .audio_filter("volume=0.5")
               .output("small.mp4", video_filter="scale=320:-2", video_codec="libopenh264", audio_codec="aac")
               .output("audio.m4a", audio_codec="aac", audio_bitrate="96k")
               .build())
    """

    def __init__(self) -> None:
        self._inputs: list[Input] = []
        self._graph: str | None = None
        self._video_chain: list[str] = []
        self._audio_chain: list[str] = []
        self._video_input = 0
        self._audio_input = 0
        self._outputs: list[_PendingOutput] = []

    def __repr__(self) -> str:
        return f"<JobBuilder {len(self._inputs)} input(s), {len(self._outputs)} output(s)>"

    # ------------------------------------------------------------------ inputs

    def input(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        concat: Sequence[str] | None = None,
        start: float | None = None,
        accurate: bool = True,
        format: str | None = None,
        options: Mapping[str, str] | None = None,
        decoder_options: Mapping[str, str] | None = None,
    ) -> JobBuilder:
        """Add an input: a file ``path``, or a ``concat`` list of like-coded files joined by stream copy.

        ``start`` seeks (seconds from the input's start): ``accurate=True`` decodes from the keyframe before it and
        drops what precedes ``start`` exactly; ``accurate=False`` starts on that keyframe (needed when the input is
        copied, not encoded). ``format`` forces a demuxer, ``options`` are its options (string values).
        ``decoder_options`` go to the input's decoders (``{"idct": "simple"}``; ``"key:v"``/``"key:a"`` for one
        type).

        Example: ``afmpeg.job().input("in.mp4", start=12.5).input("music.flac")``
        """
        if (path is None) == (concat is None):
            raise _fail(f"inputs[{len(self._inputs)}]", "give exactly one of a path and concat=[...]")
        seek = None
        if start is not None:
            seek = {"start": start, "mode": "accurate" if accurate else "fast"}
        item = Input(
            path=None if path is None else os.fspath(path),
            concat=None if concat is None else [os.fspath(p) for p in concat],
            format=format,
            options=None if options is None else dict(options),
            seek=seek,
            decoder_options=None if decoder_options is None else dict(decoder_options),
        )
        item.validate(f"inputs[{len(self._inputs)}]")
        self._inputs.append(item)
        return self

    # ------------------------------------------------------------------ the graph

    def filter(self, graph: str) -> JobBuilder:
        """Use an explicit FFmpeg ``filter_complex`` graph; outputs then name its pads in ``map``.

        Example: ``.filter("[0:v][1:v]overlay=10:10[v]").output("out.mp4", map=["[v]", "0:a"], ...)``
        """
        if self._video_chain or self._audio_chain or any(p.video_filter or p.audio_filter for p in self._outputs):
            raise _fail("filter", "cannot be combined with video_filter/audio_filter", "put those filters in the graph")
        if self._graph is not None:
            raise _fail("filter", "given twice", "a job has one graph; join chains with ';'")
        if not isinstance(graph, str) or not graph.strip():
            raise _fail("filter", "must be a non-empty filter graph string")
        self._graph = graph
        return self

    def video_filter(self, chain: str, *, input: int = 0) -> JobBuilder:
        """Filter the video of input ``input`` (its first video stream) for every output, like ``ffmpeg -vf``.

        Calls add to the chain (joined with ``,``). Example: ``.video_filter("scale=640:-2").video_filter("fps=25")``
        """
        return self._add_chain(chain, input, video=True)

    def audio_filter(self, chain: str, *, input: int = 0) -> JobBuilder:
        """Filter the audio of input ``input`` (its first audio stream) for every output, like ``ffmpeg -af``.

        Example: ``.audio_filter("volume=0.5,aresample=48000")``
        """
        return self._add_chain(chain, input, video=False)

    def _add_chain(self, chain: str, input_index: int, *, video: bool) -> JobBuilder:
        name = "video_filter" if video else "audio_filter"
        text = _chain(chain, name)
        assert text is not None
        if self._graph is not None:
            raise _fail(name, "cannot be combined with an explicit filter()", "add the filter to that graph")
        if isinstance(input_index, bool) or not isinstance(input_index, int) or input_index < 0:
            raise _fail(name, f"input must be an input index, got {input_index!r}")
        chain_list = self._video_chain if video else self._audio_chain
        current = self._video_input if video else self._audio_input
        if chain_list and current != input_index:
            raise _fail(name, f"already filters input {current}, not {input_index}", "use .filter() for several")
        chain_list.append(text)
        if video:
            self._video_input = input_index
        else:
            self._audio_input = input_index
        return self

    # ------------------------------------------------------------------ outputs

    def output(
        self,
        path: str | os.PathLike[str],
        *,
        map: Sequence[str] | None = None,
        video_codec: str | None = None,
        audio_codec: str | None = None,
        subtitle_codec: str | None = None,
        video_bitrate: int | float | str | None = None,
        audio_bitrate: int | float | str | None = None,
        options: Mapping[str, str] | None = None,
        format: str | None = None,
        format_options: Mapping[str, str] | None = None,
        duration: float | None = None,
        end: float | None = None,
        copy_ts: bool | None = None,
        metadata: Mapping[str, str] | None = None,
        chapters: str | int | None = None,
        stream_metadata: Mapping[str, Mapping[str, Any]] | None = None,
        bitstream_filters: Mapping[str, str] | str | None = None,
        video_filter: str | None = None,
        audio_filter: str | None = None,
        video: bool = True,
        audio: bool = True,
    ) -> JobBuilder:
        """Add an output file. The keywords are the wire format's output keys, plus:

        - ``video_bitrate``/``audio_bitrate``: the ``b:v``/``b:a`` encoder options (``"1M"``, ``96_000``);
        - ``video_filter``/``audio_filter``: a chain for this output only (after the job-wide ones);
        - ``video=False``/``audio=False``: leave that stream type out (``-vn``/``-an``).

        ``map`` lists graph pads (``"[v]"``, encoded) and input streams (``"0:a"``, copied) as on the wire. With
        simple filters, only input streams may be listed; they follow the builder's pads.

        Example: ``.output("out.mp4", video_codec="libopenh264", audio_codec="aac", metadata={"title": "Demo"})``
        """
        where = f"outputs[{len(self._outputs)}]"
        opts = dict(options) if options is not None else {}
        for key, value in (("b:v", video_bitrate), ("b:a", audio_bitrate)):
            text = _bitrate(value, f"{where}.{'video' if key == 'b:v' else 'audio'}_bitrate")
            if text is None:
                continue
            if key in opts:
                raise _fail(f"{where}.options", f"{key!r} is also given as a bitrate keyword", "give it once")
            opts[key] = text
        out = Output(
            path=os.fspath(path),
            video_codec=video_codec,
            audio_codec=audio_codec,
            subtitle_codec=subtitle_codec,
            options=opts or None,
            format=format,
            format_options=None if format_options is None else dict(format_options),
            bitstream_filters=(
                dict(bitstream_filters) if isinstance(bitstream_filters, Mapping) else bitstream_filters
            ),
            duration=duration,
            end=end,
            copy_ts=copy_ts,
            metadata=None if metadata is None else dict(metadata),
            chapters=chapters,
            stream_metadata=None if stream_metadata is None else {k: dict(v) for k, v in stream_metadata.items()},
        )
        if map is not None and (isinstance(map, str) or not isinstance(map, Sequence)):
            raise _fail(f"{where}.map", "must be a list of strings", 'e.g. ["[v]", "0:a"]')
        pending = _PendingOutput(
            output=out,
            video_filter=_chain(video_filter, f"{where}.video_filter"),
            audio_filter=_chain(audio_filter, f"{where}.audio_filter"),
            video=bool(video),
            audio=bool(audio),
            user_map=None if map is None else list(map),
        )
        if not video:
            pending.flags.add("video")
        if not audio:
            pending.flags.add("audio")
        if self._graph is not None and (pending.video_filter or pending.audio_filter or pending.flags):
            raise _fail(where, "video_filter/audio_filter/video/audio cannot be combined with an explicit filter()",
                        "select the streams with map")
        out.validate(where)
        self._outputs.append(pending)
        return self

    # ------------------------------------------------------------------ result

    def _simple(self) -> bool:
        """Whether the builder writes the graph (simple filters or stream selection were asked for)."""
        return bool(
            self._video_chain
            or self._audio_chain
            or any(p.video_filter or p.audio_filter or p.flags for p in self._outputs)
        )

    def build(self) -> ProcessJob:
        """The validated :class:`~afmpeg.ProcessJob` (raises :class:`~afmpeg.JobSpecError` naming the problem).

        Example: ``afmpeg.job().input("a.wav").output("a.flac").build().to_dict()``
        """
        outputs = [self._resolve_output(i, p) for i, p in enumerate(self._outputs)] if self._simple() else [
            self._plain_output(i, p) for i, p in enumerate(self._outputs)
        ]
        if self._simple():
            for kind, chain, index in (("video", self._video_chain, self._video_input),
                                       ("audio", self._audio_chain, self._audio_input)):
                if index >= len(self._inputs) and (chain or not self._inputs):
                    have = len(self._inputs)
                    raise _fail(f"{kind}_filter", f"filters input {index}, but the job has {have} input(s)",
                                "add inputs with .input() first")
        graph = self._graph if not self._simple() else self._simple_graph()
        job = ProcessJob(inputs=[_copy_input(i) for i in self._inputs], outputs=outputs, filter=graph)
        job.validate()
        self._check_copies(job)
        return job

    def to_dict(self) -> dict[str, Any]:
        """The wire-format dict of :meth:`build`'s job. Example: ``json.dumps(builder.to_dict())``"""
        return self.build().to_dict()

    def run(
        self,
        runtime: Runtime | None = None,
        *,
        fs: Any = None,
        root: str | None = None,
        progress: Callable[[Progress], None] | None = None,
        **run_options: Any,
    ) -> ProcessResult:
        """Build and run the job: ``runtime.run(job, fs=fs, root=root, progress=progress, **run_options)``.

        ``runtime`` defaults to :func:`afmpeg.default_runtime`; ``run_options`` are :meth:`Runtime.run`'s other
        keywords (``time_limit``, ``cancel``, …). Paths are on ``fs`` (default: the runtime's filesystem).

        Example: ``afmpeg.job().input("in.wav").output("out.flac").run(fs="media/")``
        """
        built = self.build()  # a malformed job fails here, before a runtime is made or touched
        if runtime is None:
            from .default import default_runtime

            runtime = default_runtime()
        return runtime.run(built, fs=fs, root=root, progress=progress, **run_options)

    # ------------------------------------------------------------------ internals

    def _plain_output(self, index: int, pending: _PendingOutput) -> Output:
        out = _copy_output(pending.output)
        out.map = None if pending.user_map is None else list(pending.user_map)
        return out

    def _labels(self, index: int) -> tuple[str, str]:
        if len(self._outputs) == 1:
            return "v", "a"
        return f"v{index}", f"a{index}"

    def _takes(self, pending: _PendingOutput) -> tuple[bool, bool]:
        holds_video, holds_audio = stream_kinds(pending.output.path, pending.output.format)
        return pending.video and holds_video, pending.audio and holds_audio

    def _resolve_output(self, index: int, pending: _PendingOutput) -> Output:
        where = f"outputs[{index}]"
        out = _copy_output(pending.output)
        video, audio = self._takes(pending)
        v_label, a_label = self._labels(index)
        extra = pending.user_map or []
        for entry in extra:
            if entry.startswith("["):
                raise _fail(f"{where}.map", f"{entry} names a graph pad, but the builder writes this job's graph",
                            "with video_filter/audio_filter, map may only list input streams such as '0:s'")
        if pending.video_filter and not video:
            raise _fail(f"{where}.video_filter", f"{out.path!r} takes no video")
        if pending.audio_filter and not audio:
            raise _fail(f"{where}.audio_filter", f"{out.path!r} takes no audio")
        for kind, takes in (("video", video), ("audio", audio)):
            if takes and getattr(out, f"{kind}_codec") == "copy":
                raise _fail(f"{where}.{kind}_codec", "'copy' cannot take filtered streams",
                            f"pass {kind}=False and map the input stream, e.g. '0:{kind[0]}'")
        pads = [f"[{v_label}]"] if video else []
        pads += [f"[{a_label}]"] if audio else []
        if not pads and not extra:
            raise _fail(where, "takes no stream", "it needs video or audio, or map entries")
        out.map = pads + list(extra)
        return out

    def _simple_graph(self) -> str | None:
        parts: list[str] = []
        for video in (True, False):
            job_chain = ",".join(self._video_chain if video else self._audio_chain)
            users = []
            for i, pending in enumerate(self._outputs):
                takes_video, takes_audio = self._takes(pending)
                if takes_video if video else takes_audio:
                    own = pending.video_filter if video else pending.audio_filter
                    users.append((self._labels(i)[0 if video else 1], own))
            kind = "video" if video else "audio"
            if job_chain and not users:
                raise _fail(f"{kind}_filter", f"no output takes {kind}")
            if not users:
                continue
            source = f"[{self._video_input if video else self._audio_input}:{kind[0]}]"
            passthrough = "null" if video else "anull"
            if len(users) == 1:
                label, own = users[0]
                chain = ",".join(c for c in (job_chain, own) if c) or passthrough
                parts.append(f"{source}{chain}[{label}]")
                continue
            split = "split" if video else "asplit"
            heads = []
            tails = []
            for n, (label, own) in enumerate(users):
                if own:
                    heads.append(f"[{kind[0]}s{n}]")
                    tails.append(f"[{kind[0]}s{n}]{own}[{label}]")
                else:
                    heads.append(f"[{label}]")
            lead = f"{job_chain}," if job_chain else ""
            parts.append(f"{source}{lead}{split}={len(users)}{''.join(heads)}")
            parts.extend(tails)
        return ";".join(parts) if parts else None

    def _check_copies(self, job: ProcessJob) -> None:
        """Copying cannot start between keyframes: refuse an accurate seek on an input that is copied from."""
        copied: set[int] = set()
        for out in job.outputs:
            for entry in out.map or []:
                if not entry.startswith("[") and entry.split(":", 1)[0].isdigit():
                    copied.add(int(entry.split(":", 1)[0]))
            if job.filter is None and "copy" in (out.video_codec, out.audio_codec):
                copied.add(0)
        for index in sorted(copied):
            if index < len(job.inputs):
                seek = job.inputs[index].seek or {}
                if seek and seek.get("mode", "accurate") == "accurate":
                    raise _fail(f"inputs[{index}].seek", "an accurate seek cannot feed a stream copy",
                                "copies start on a keyframe: pass accurate=False")


def _copy_input(item: Input) -> Input:
    return Input.from_dict(item.to_dict())


def _copy_output(item: Output) -> Output:
    return Output.from_dict(item.to_dict())


def job() -> JobBuilder:
    """Start a fluent :class:`JobBuilder`.

    Example::

        result = (afmpeg.job()
                  .input("in.mp4", start=2)
                  .video_filter("scale=640:-2")
                  .output("out.mp4", video_codec="libopenh264", audio_codec="aac", video_bitrate="1M")
                  .run(fs="media/"))
    """
    return JobBuilder()
