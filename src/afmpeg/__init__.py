"""afmpeg: FFmpeg as a sandboxed WebAssembly module."""
