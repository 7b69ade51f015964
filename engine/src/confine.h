/* Keeping every file the engine opens inside the job root.
 *
 * The host preopens "/" (the caller's filesystem, the job root), "/tmp"
 * (private, discarded after the call) and "/dev". wasi-libc resolves relative
 * paths against "/" and picks the preopen with the longest matching prefix, so
 * "tmp/x" or "/dev/zero" would leave the job root without leaving the sandbox. */
#ifndef AFMPEG_CONFINE_H
#define AFMPEG_CONFINE_H

#include <libavformat/avformat.h>

/* 1 if `path` (optionally "file:"-prefixed) resolves inside the job root,
 * lexically: a path that climbs above the root at any point ("../x",
 * "a/../../x", "/../x") is outside, even if it would come back into it. */
int path_in_root(const char *path);

/* The host's stream devices: "/dev/afmpeg-pipe-NAME" (optionally
 * "file:"-prefixed), NAME 1-64 of [A-Za-z0-9_-]. They are bounded pipes the
 * caller set up for this job (frame I/O); every other /dev path stays refused.
 * Returns 1 for such a path. */
int path_is_stream(const char *path);

/* Make every file a (de)muxer opens by itself (segments, playlists, image
 * sequences, mov external references) pass path_in_root and use the file
 * protocol. (The concat demuxer opens its members with libavformat's own
 * io_open: they get the input's protocol and format whitelists, concat's safe
 * mode, and the host's confinement.) */
void confine_io(AVFormatContext *s);

/* 1 if the demuxer opens further files (or streams) named inside its input:
 * concat lists, HLS/DASH playlists, IMF compositions, SDP sessions, scripts.
 * Such a format is read only when the job asks for it by name ("format", or
 * inputs[].concat): an uploaded "video.mp4" that holds an ffconcat list must
 * not read other files of the job's root. */
int demuxer_reads_named_files(const AVInputFormat *f);

/* The "format_whitelist" for an input: every linked demuxer that does not read
 * named files, plus the one named `asked` (the job's "format", or NULL), and
 * only those the job's own whitelist `within` lists (NULL: no such option).
 * Files the input names (concat members) inherit it. av_malloc'd; NULL on OOM. */
char *confine_format_whitelist(const char *asked, const char *within);

/* Something the engine refused while an input was opened or read, which libav
 * reports only as an error code. The last one since the last call (which
 * forgets it), or NULL. */
typedef struct {
    /* CONFINE_LIST: avformat_open_input probed `format`, a demuxer that reads
     * named files, and refused it (EINVAL: not on the whitelist).
     * CONFINE_OUTSIDE: the host refused `url` (ENOTCAPABLE): it leads outside
     * the job's filesystem (a symbolic link out of the root). */
    enum { CONFINE_LIST = 1, CONFINE_OUTSIDE } what;
    char format[64];
    char url[1024];
} confine_refusal;

const confine_refusal *confine_take_refusal(void);

/* A file a muxer opened by itself that it could not have: refused (outside the
 * job's filesystem: a spec error) or failed to open for writing (unless the
 * muxer's "ignore_io_errors" is set). Muxers such as hls log such a failure
 * and carry on, so the engine asks after every muxer call. */
typedef struct {
    int averr;        /* the libav error */
    int refused;      /* outside the job's filesystem */
    char url[1024];
    char muxer[32];
} confine_failure;

/* The first such failure since the last call (and forgets it), or NULL. */
const confine_failure *confine_take_failure(void);

#endif
