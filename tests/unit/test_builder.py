"""The fluent job builder: what it builds is exactly the hand-written wire dict; mistakes fail before any engine."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest

import afmpeg


class ExplodingRuntime:
    """A stand-in Runtime that fails the test if a helper touches it (so validation happened first)."""

    def __getattr__(self, name: str):
        raise AssertionError(f"the engine was reached (runtime.{name}) although the arguments were invalid")


def test_the_headline_example_is_the_hand_written_dict() -> None:
    job = (
        afmpeg.job()
        .input("in.mp4", start=2)
        .video_filter("scale=640:-2")
        .output("out.mp4", video_codec="libopenh264", audio_codec="aac", video_bitrate="1M")
        .build()
    )
    assert isinstance(job, afmpeg.ProcessJob)
    assert job.to_dict() == {
        "op": "process",
        "version": 9,
        "inputs": [{"path": "in.mp4", "seek": {"start": 2, "mode": "accurate"}}],
        "filter": "[0:v]scale=640:-2[v];[0:a]anull[a]",
        "outputs": [{"path": "out.mp4", "map": ["[v]", "[a]"], "video_codec": "libopenh264", "audio_codec": "aac",
                     "options": {"b:v": "1M"}}],
    }


def test_without_filters_the_engine_passthrough_is_left_alone() -> None:
    built = afmpeg.job().input(PurePosixPath("a.wav")).output("a.flac").to_dict()
    assert built == {"op": "process", "version": 9, "inputs": [{"path": "a.wav"}], "outputs": [{"path": "a.flac"}]}


def test_several_outputs_share_the_job_chain_through_split() -> None:
    built = (
        afmpeg.job()
        .input("talk.mp4")
        .audio_filter("volume=0.5")
        .output("small.mp4", video_filter="scale=320:-2", video_codec="libopenh264", audio_codec="aac")
        .output("audio.m4a", audio_codec="aac", audio_bitrate=96_000)
        .output("full.mkv", video_codec="mpeg4", audio_codec="flac")
        .to_dict()
    )
    assert built == {
        "op": "process",
        "version": 9,
        "inputs": [{"path": "talk.mp4"}],
        # .m4a holds audio only: two outputs take video, three take the filtered audio
        "filter": "[0:v]split=2[vs0][v2];[vs0]scale=320:-2[v0];[0:a]volume=0.5,asplit=3[a0][a1][a2]",
        "outputs": [
            {"path": "small.mp4", "map": ["[v0]", "[a0]"], "video_codec": "libopenh264", "audio_codec": "aac"},
            {"path": "audio.m4a", "map": ["[a1]"], "audio_codec": "aac", "options": {"b:a": "96000"}},
            {"path": "full.mkv", "map": ["[v2]", "[a2]"], "video_codec": "mpeg4", "audio_codec": "flac"},
        ],
    }


def test_stream_selection_and_copies_alongside_simple_filters() -> None:
    built = (
        afmpeg.job()
        .input("film.mkv")
        .input("music.flac")
        .audio_filter("volume=0.8,afade=t=in:d=1", input=1)
        .output("out.mkv", video=False, map=["0:s"], audio_codec="flac", metadata={"title": "Score"})
        .to_dict()
    )
    assert built == {
        "op": "process",
        "version": 9,
        "inputs": [{"path": "film.mkv"}, {"path": "music.flac"}],
        "filter": "[1:a]volume=0.8,afade=t=in:d=1[a]",
        "outputs": [{"path": "out.mkv", "map": ["[a]", "0:s"], "audio_codec": "flac", "metadata": {"title": "Score"}}],
    }


def test_explicit_graph_with_every_output_key() -> None:
    built = (
        afmpeg.job()
        .input("main.mp4", start=10, accurate=False)
        .input("logo.png")
        .input(concat=["p0.ts", "p1.ts"])
        .filter("[0:v][1:v]overlay=10:10[v]")
        .output(
            "out.mp4",
            map=["[v]", "0:a"],
            video_codec="libopenh264",
            options={"g": "60"},
            format="mp4",
            format_options={"movflags": "+faststart"},
            duration=5,
            metadata={"title": "x"},
            chapters="none",
            stream_metadata={"0:a": {"language": "eng"}},
        )
        .output("seg.ts", map=["2:v"], end=3.5, copy_ts=True, bitstream_filters={"2:v": "null"})
        .to_dict()
    )
    assert built == {
        "op": "process",
        "version": 9,
        "inputs": [
            {"path": "main.mp4", "seek": {"start": 10, "mode": "fast"}},
            {"path": "logo.png"},
            {"concat": ["p0.ts", "p1.ts"]},
        ],
        "filter": "[0:v][1:v]overlay=10:10[v]",
        "outputs": [
            {"path": "out.mp4", "map": ["[v]", "0:a"], "video_codec": "libopenh264", "options": {"g": "60"},
             "format": "mp4", "format_options": {"movflags": "+faststart"}, "duration": 5,
             "metadata": {"title": "x"}, "chapters": "none", "stream_metadata": {"0:a": {"language": "eng"}}},
            {"path": "seg.ts", "map": ["2:v"], "bitstream_filters": {"2:v": "null"}, "end": 3.5, "copy_ts": True},
        ],
    }


def test_build_is_repeatable_and_round_trips() -> None:
    builder = afmpeg.job().input("in.mp4").video_filter("fps=10").output("a.mp4").output("b.gif")
    first, second = builder.to_dict(), builder.to_dict()
    assert first == second
    assert first["filter"] == "[0:v]fps=10,split=2[v0][v1];[0:a]anull[a0]"  # a GIF takes no audio
    assert afmpeg.ProcessJob.from_dict(first).to_dict() == first


def test_audio_false_alone_makes_a_video_only_graph() -> None:
    built = afmpeg.job().input("in.mp4").output("silent.mp4", audio=False, video_codec="libopenh264").to_dict()
    assert built["filter"] == "[0:v]null[v]"
    assert built["outputs"][0]["map"] == ["[v]"]


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: afmpeg.job().input("a.mp4").filter("[0:v]null[v]").video_filter("fps=1"), "explicit filter"),
        (lambda: afmpeg.job().input("a.mp4").video_filter("fps=1").filter("[0:v]null[v]"), "cannot be combined"),
        (lambda: afmpeg.job().input("a.mp4").video_filter("[0:v]fps=1[v]"), "not a chain"),
        (lambda: afmpeg.job().input("a.mp4").video_filter("fps=1").video_filter("hflip", input=1), "already filters"),
        (lambda: afmpeg.job().input("a.mp4", concat=["b.ts"]), "exactly one"),
        (lambda: afmpeg.job().input("a.mp4", start=-1), "seek.start"),
        (lambda: afmpeg.job().input("a.mp4").output("o.mp4", video_bitrate="1M", options={"b:v": "2M"}), "once"),
        (lambda: afmpeg.job().input("a.mp4").output("o.mp4", options={"g": 60}), 'write "60"'),
        (lambda: afmpeg.job().input("a.mp4").output("o.mp4", duration=1, end=2), "mutually exclusive"),
        (lambda: afmpeg.job().input("a.mp4").video_filter("fps=1").output("o.mp4", map=["[x]"]).build(),
         "names a graph pad"),
        (lambda: afmpeg.job().input("a.mp4").video_filter("fps=1").output("o.m4a").build(), "no output takes video"),
        (lambda: afmpeg.job().input("a.mp4").output("o.m4a", video_filter="fps=1").build(), "takes no video"),
        (lambda: afmpeg.job().video_filter("fps=1").output("o.mp4").build(), "has 0 input"),
        (lambda: afmpeg.job().input("a.mp4").video_filter("fps=1").output("o.mp4", video_codec="copy").build(),
         "'copy' cannot take filtered"),
        (lambda: afmpeg.job().input("a.mp4", start=3).output("o.mkv", map=["0:v"]).build(), "accurate=False"),
        (lambda: afmpeg.job().input("a.mp4", start=3).output("o.mkv", video_codec="copy").build(), "keyframe"),
        (lambda: afmpeg.job().input("a.mp4").build(), "at least one output"),
    ],
)
def test_mistakes_are_job_spec_errors_with_a_hint(make, words) -> None:
    with pytest.raises(afmpeg.JobSpecError) as ei:
        make()
    assert words in str(ei.value)


def test_run_validates_before_touching_the_runtime() -> None:
    builder = afmpeg.job().input("a.mp4", start=3).output("o.mkv", map=["0:v"])
    with pytest.raises(afmpeg.JobSpecError):
        builder.run(ExplodingRuntime())  # type: ignore[arg-type]


# -- the helpers' argument checks run before any engine call, too


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda rt, fs: afmpeg.transcode("a.mp4", "b.mp4", size=(0, 10), runtime=rt, fs=fs), "width"),
        (lambda rt, fs: afmpeg.transcode("a.mp4", "b.mp4", size="wide", runtime=rt, fs=fs), "WxH"),
        (lambda rt, fs: afmpeg.transcode("a.mp4", "b.mp4", fps=0, runtime=rt, fs=fs), "fps"),
        (lambda rt, fs: afmpeg.transcode("a.mp4", "b.mp4", duration=-2, runtime=rt, fs=fs), "duration"),
        (lambda rt, fs: afmpeg.transcode("a.mp4", "b.mp4", video_bitrate="fast", runtime=rt, fs=fs), "bits"),
        (lambda rt, fs: afmpeg.transcode("a.mp4", "b.xyz", runtime=rt, fs=fs), "unknown output extension '.xyz'"),
        (lambda rt, fs: afmpeg.transcode("a.mp4", "b.mp4", video_codec="copy", fps=5, runtime=rt, fs=fs), "copy"),
        (lambda rt, fs: afmpeg.transcode(b"x", b"y", runtime=rt, fs=fs), "not bytes"),
        (lambda rt, fs: afmpeg.transcode("a.mp4", (fs, "/a.mp4"), runtime=rt, fs=fs), "both an input and an output"),
        (lambda rt, fs: afmpeg.clip("a.mp4", "b.mp4", -1, 2, runtime=rt, fs=fs), "start"),
        (lambda rt, fs: afmpeg.clip("a.mp4", "b.mp4", 1, 0, runtime=rt, fs=fs), "greater than 0"),
        (lambda rt, fs: afmpeg.clip("a.mp4", "b.mp4", 1, 2, accurate=False, size=(64, 48), runtime=rt, fs=fs),
         "copies"),
        (lambda rt, fs: afmpeg.thumbnail("a.mp4", at=float("nan"), runtime=rt, fs=fs), "at must"),
        (lambda rt, fs: afmpeg.thumbnail("a.mp4", format="gif", runtime=rt, fs=fs), "png"),
        (lambda rt, fs: afmpeg.extract_audio("a.mp4", "b.gif", runtime=rt, fs=fs), "holds no audio"),
        (lambda rt, fs: afmpeg.concat([], "b.mp4", runtime=rt, fs=fs), "at least one"),
        (lambda rt, fs: afmpeg.concat("a.mp4", "b.mp4", runtime=rt, fs=fs), "list"),
        (lambda rt, fs: afmpeg.concat(["a.ts"] * 33, "b.mp4", runtime=rt, fs=fs), "at most 32"),
        (lambda rt, fs: afmpeg.concat(["a.ts"], "b.ts", copy=True, fps=5, runtime=rt, fs=fs), "copy=True"),
        (lambda rt, fs: afmpeg.slideshow([], "b.mp4", runtime=rt, fs=fs), "at least one"),
        (lambda rt, fs: afmpeg.slideshow([("a.png", -1)], "b.mp4", runtime=rt, fs=fs), "duration"),
        (lambda rt, fs: afmpeg.slideshow(["a.png"], "b.mp4", size=(640, -1), runtime=rt, fs=fs), "full"),
        (lambda rt, fs: afmpeg.slideshow(["a.png"], "b.mp4", transition="x;y", runtime=rt, fs=fs), "transition"),
        (lambda rt, fs: afmpeg.slideshow(["a.png"], "b.mp4", crossfade=-0.5, runtime=rt, fs=fs), "crossfade"),
        (lambda rt, fs: afmpeg.probe("a.mp4", root="sub", runtime=None, fs=None), "root="),
    ],
)
def test_helper_arguments_are_checked_before_the_engine_runs(call, words) -> None:
    with pytest.raises(afmpeg.JobSpecError) as ei:
        call(ExplodingRuntime(), afmpeg.MemoryFS())
    assert words in str(ei.value)


def test_helpers_refuse_unknown_keywords() -> None:
    with pytest.raises(TypeError, match="colour"):
        afmpeg.transcode("a.mp4", "b.mp4", colour="red", runtime=ExplodingRuntime(), fs=afmpeg.MemoryFS())
