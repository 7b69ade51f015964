""":func:`clip`: a cut of a file, re-encoded to the frame or copied from a keyframe."""

from __future__ import annotations

from typing import Any

from ..errors import JobSpecError
from ..results import ProcessResult
from ..runtime import Runtime
from ._checks import _seconds
from ._transcode import transcode
from ._types import ProgressCallback, Source, Target


def clip(
    src: Source,
    dst: Target,
    start: float,
    duration: float,
    *,
    accurate: bool = True,
    progress: ProgressCallback | None = None,
    runtime: Runtime | None = None,
    fs: Any = None,
    root: str | None = None,
    **kwargs: Any,
) -> ProcessResult:
    """Cut ``duration`` seconds from ``src``, starting ``start`` seconds in, into ``dst``.

    ``accurate=True`` (default) re-encodes: the clip starts exactly at ``start`` (audio to the sample) and lasts
    ``duration``. ``accurate=False`` copies the packets without decoding them — fast and lossless — so it must
    start on a keyframe: the one at or before ``start``; the clip then lasts ``duration`` from there.

    Other keywords are :func:`transcode`'s (codecs, size, bit rates, …; only with ``accurate=True``), and the
    limits of :meth:`Runtime.run`.

    Example::

        afmpeg.clip("match.mp4", "goal.mp4", start=754.2, duration=12)
        afmpeg.clip("match.mp4", "goal-fast.mp4", start=754.2, duration=12, accurate=False)
    """
    start = _seconds(start, "start")
    duration = _seconds(duration, "duration", positive=True)
    encode_keys = {"video_codec", "audio_codec", "size", "width", "height", "fps", "video_bitrate", "audio_bitrate",
                   "quality", "keyframe_interval", "sample_rate", "channels", "options"}
    if not accurate:
        clash = sorted(k for k in encode_keys if kwargs.get(k) is not None)
        if clash:
            raise JobSpecError(f"accurate=False copies the streams, so {', '.join(clash)} cannot apply")
        kwargs["video_codec"] = kwargs["audio_codec"] = "copy"
    return transcode(src, dst, start=start, duration=duration, progress=progress, runtime=runtime, fs=fs, root=root,
                     **kwargs)
