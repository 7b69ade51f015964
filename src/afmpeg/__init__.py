"""afmpeg: FFmpeg as a sandboxed WebAssembly module, driven by JSON job specs over a virtual filesystem.

Quick start::

    import afmpeg

    rt = afmpeg.Runtime()                       # compiles (or loads cached) engine code once
    rt.run(afmpeg.ProcessJob(
        filter="testsrc2=size=320x240:rate=25:duration=2[v]",
        outputs=[afmpeg.Output("out.mp4", map=["[v]"], video_codec="libopenh264")],
    ))
    info = rt.probe("out.mp4").inputs[0]
    data = rt.fs.cat_file("/out.mp4")           # the default filesystem is a private in-memory one

All guest I/O goes through a WASI implementation over an fsspec filesystem (``Runtime(fs=...)`` or per call);
the guest never sees host disk.
"""

from .builder import JobBuilder, job
from .default import default_runtime
from .errors import (
    AfmpegError,
    Cancelled,
    ChecksumMismatch,
    DownloadError,
    EngineCrash,
    Error,
    InputNotFound,
    InvalidData,
    JobSpecError,
    JobTimeout,
    LimitExceeded,
    MalformedChecksums,
    MemoryLimitExceeded,
    ModuleNotFound,
    ModuleVerificationError,
    OutputLimitExceeded,
    ProcessingError,
    ProvenanceMismatch,
    SignatureInvalid,
    UnknownVariant,
    UnsupportedFeature,
    UnsupportedVocabulary,
)
from .frames_io import AudioReader, FrameReader, read_audio, read_frames, write_frames
from .helpers import (
    Slide,
    clip,
    concat,
    extract_audio,
    probe,
    slideshow,
    thumbnail,
    transcode,
)
from .job import VOCAB_VERSION, FramesJob, Input, Output, ProbeJob, ProcessJob
from .limits import CancelToken
from .memfs import MemoryFS
from .pool import JobFuture, RuntimePool, map
from .progress import Progress
from .progress_bars import ProgressBar, RichProgressBar, TqdmProgressBar, progress_bar
from .results import (
    AnalysisEntry,
    BitstreamFilterInfo,
    Capabilities,
    Chapter,
    CodecInfo,
    FilterInfo,
    FormatInfo,
    FrameInfo,
    FramesResult,
    OutputInfo,
    OutputStream,
    ParserInfo,
    ProbedInput,
    ProbeResult,
    ProcessResult,
    StreamInfo,
    VersionInfo,
)
from .running import RunningJob
from .runtime import CommandResult, Runtime, find_module

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "Runtime",
    "CommandResult",
    "find_module",
    "MemoryFS",
    "Progress",
    "read_frames",
    "write_frames",
    "read_audio",
    "FrameReader",
    "AudioReader",
    "RunningJob",
    "progress_bar",
    "ProgressBar",
    "RichProgressBar",
    "TqdmProgressBar",
    "Capabilities",
    "CodecInfo",
    "FormatInfo",
    "FilterInfo",
    "BitstreamFilterInfo",
    "ParserInfo",
    "VOCAB_VERSION",
    "Input",
    "Output",
    "ProcessJob",
    "ProbeJob",
    "FramesJob",
    "VersionInfo",
    "ProbeResult",
    "ProbedInput",
    "StreamInfo",
    "Chapter",
    "ProcessResult",
    "OutputInfo",
    "OutputStream",
    "AnalysisEntry",
    "FramesResult",
    "FrameInfo",
    "Error",
    "AfmpegError",
    "ProcessingError",
    "JobSpecError",
    "UnsupportedVocabulary",
    "UnsupportedFeature",
    "InputNotFound",
    "InvalidData",
    "EngineCrash",
    "ModuleNotFound",
    "ModuleVerificationError",
    "ChecksumMismatch",
    "MalformedChecksums",
    "SignatureInvalid",
    "ProvenanceMismatch",
    "UnknownVariant",
    "DownloadError",
    "LimitExceeded",
    "MemoryLimitExceeded",
    "JobTimeout",
    "OutputLimitExceeded",
    "Cancelled",
    "CancelToken",
    "RuntimePool",
    "JobFuture",
    "map",
    "job",
    "JobBuilder",
    "default_runtime",
    "probe",
    "transcode",
    "clip",
    "thumbnail",
    "extract_audio",
    "concat",
    "slideshow",
    "Slide",
]
