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

from .errors import (
    AfmpegError,
    Cancelled,
    EngineCrash,
    JobSpecError,
    JobTimeout,
    LimitExceeded,
    MemoryLimitExceeded,
    ModuleNotFound,
    OutputLimitExceeded,
    ProcessingError,
    UnsupportedVocabulary,
)
from .job import VOCAB_VERSION, FramesJob, Input, Output, ProbeJob, ProcessJob
from .limits import CancelToken
from .memfs import MemoryFS
from .progress import Progress
from .results import (
    AnalysisEntry,
    Chapter,
    FrameInfo,
    FramesResult,
    OutputInfo,
    OutputStream,
    ProbedInput,
    ProbeResult,
    ProcessResult,
    StreamInfo,
    VersionInfo,
)
from .runtime import CommandResult, Runtime, find_module

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "Runtime",
    "CommandResult",
    "find_module",
    "MemoryFS",
    "Progress",
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
    "AfmpegError",
    "ProcessingError",
    "JobSpecError",
    "UnsupportedVocabulary",
    "EngineCrash",
    "ModuleNotFound",
    "LimitExceeded",
    "MemoryLimitExceeded",
    "JobTimeout",
    "OutputLimitExceeded",
    "Cancelled",
    "CancelToken",
]
