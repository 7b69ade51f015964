"""The job dataclasses carry the whole vocabulary to the real engine."""

from __future__ import annotations

import afmpeg


def test_typed_clip_with_seek_window_and_metadata(runtime, fs, clip) -> None:
    job = afmpeg.ProcessJob(
        inputs=[afmpeg.Input(clip, seek={"start": 0.5, "mode": "accurate"})],
        filter="[0:v]scale=160:90[v];[0:a]anull[a]",
        outputs=[afmpeg.Output("part.mkv", map=["[v]", "[a]"], video_codec="mpeg4", audio_codec="flac",
                               duration=1.0, metadata={"title": "typed"},
                               stream_metadata={"[a]": {"language": "fra"}})],
    )
    job.validate()
    res = runtime.run(job, fs=fs)
    assert [s.type for s in res.outputs[0].streams] == ["video", "audio"]
    info = runtime.probe("part.mkv", fs=fs).inputs[0]
    assert info.video.width == 160
    assert abs(info.duration - 1.0) < 0.05
    assert info.tags.get("title") == "typed"
    assert info.audio.language == "fra"
