/* Keeping every file the engine opens inside the job root.
 *
 * The host preopens "/" (the caller's filesystem, the job root), "/tmp"
 * (private, discarded after the call) and "/dev". wasi-libc resolves relative
 * paths against "/" and picks the preopen with the longest matching prefix, so
 * "tmp/x" or "/dev/zero" would leave the job root without leaving the sandbox. */
#ifndef AFMPEG_CONFINE_H
#define AFMPEG_CONFINE_H

#include <libavformat/avformat.h>

/* 1 if `path` (optionally "file:"-prefixed) resolves inside the job root. */
int path_in_root(const char *path);

/* The host's stream devices: "/dev/afmpeg-pipe-NAME" (optionally
 * "file:"-prefixed), NAME 1-64 of [A-Za-z0-9_-]. They are bounded pipes the
 * caller set up for this job (frame I/O); every other /dev path stays refused.
 * Returns 1 for such a path. */
int path_is_stream(const char *path);

/* Make every file a (de)muxer opens by itself (segments, playlists, concat
 * members, image sequences) pass path_in_root and use the file protocol. */
void confine_io(AVFormatContext *s);

#endif
