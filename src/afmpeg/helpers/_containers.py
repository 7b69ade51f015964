"""The output containers the helpers know (:data:`CONTAINERS`) and the default codecs an output gets."""

from __future__ import annotations

import posixpath

from ..builder import stream_kinds
from ..errors import JobSpecError

# "leave the codec to the muxer": the build's encoder for the muxer's default codec, or an error naming it
_MUXER_DEFAULT = ""

#: Output containers the helpers know, by extension: ``(video codec, audio codec)`` they encode to by default.
#: ``None`` means the container holds no such stream; ``""`` leaves the choice to the muxer (which fails, naming
#: the codec, when the build has no encoder for it: the lean build has none for WebM's VP8/Vorbis or for MP3).
CONTAINERS: dict[str, tuple[str | None, str | None]] = {
    "mp4": ("libopenh264", "aac"),
    "m4v": ("libopenh264", "aac"),
    "mov": ("libopenh264", "aac"),
    "mkv": ("libopenh264", "aac"),
    "ts": ("libopenh264", "aac"),
    "m2ts": ("libopenh264", "aac"),
    "mts": ("libopenh264", "aac"),
    "webm": (_MUXER_DEFAULT, _MUXER_DEFAULT),
    "gif": ("gif", None),
    "m4a": (None, "aac"),
    "aac": (None, "aac"),
    "flac": (None, "flac"),
    "wav": (None, "pcm_s16le"),
    "mka": (None, "flac"),
    "ogg": (None, _MUXER_DEFAULT),
    "oga": (None, _MUXER_DEFAULT),
    "mp3": (None, _MUXER_DEFAULT),
}
# an output's ``format`` (muxer name) → the extension whose defaults apply
_FORMAT_EXTENSIONS = {
    "mp4": "mp4", "mov": "mov", "ipod": "m4a", "matroska": "mkv", "matroska_audio": "mka", "webm": "webm",
    "mpegts": "ts", "adts": "aac", "flac": "flac", "wav": "wav", "ogg": "ogg", "mp3": "mp3", "gif": "gif",
}


def _container(loc_name: str, format: str | None) -> tuple[str | None, str | None]:
    """The default ``(video, audio)`` codecs for an output; raises when neither extension nor format is known."""
    if format is not None:
        if not isinstance(format, str) or not format:
            raise JobSpecError(f"format must be a muxer name such as 'mp4', got {format!r}")
        ext = _FORMAT_EXTENSIONS.get(format)
        if ext is None:
            video, audio = stream_kinds(loc_name, format)
            return (_MUXER_DEFAULT if video else None, _MUXER_DEFAULT if audio else None)
        return CONTAINERS[ext]
    ext = posixpath.splitext(loc_name)[1].lstrip(".").lower()
    if ext not in CONTAINERS:
        what = f"unknown output extension '.{ext}'" if ext else "no extension"
        raise JobSpecError(f"{loc_name!r} has {what}: use one of {', '.join(sorted(CONTAINERS))}, "
                           "or pass format= (a muxer name)")
    return CONTAINERS[ext]
