/* Force-included into every FFmpeg translation unit of the wasm build.
 * WASI has no dup(); libavutil/file.c references it. The engine provides a stub
 * (engine/src/wasi_stubs.c) that fails with ENOSYS. */
#ifndef AFMPEG_WASI_COMPAT_H
#define AFMPEG_WASI_COMPAT_H
int dup(int fd);
#endif
