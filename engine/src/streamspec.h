/* Stream specifiers: "N:v", "N:a:K", "N:s", "N:3" (map entries that copy) and
 * "[N:v]", "[N:a:K]" (graph input labels, without brackets). */
#ifndef AFMPEG_STREAMSPEC_H
#define AFMPEG_STREAMSPEC_H

#include <libavformat/avformat.h>

typedef struct {
    int file;                 /* input index */
    enum AVMediaType type;    /* AVMEDIA_TYPE_UNKNOWN: `index` is a stream index */
    int index;                /* K-th stream of the type, or the stream index; -1: every stream of the type */
} stream_spec;

/* Parse "N:t", "N:t:K" (t = v, a or s) or, with allow_index, "N:I".
 * Returns 0, or -1 if `s` is not of that form. */
int stream_spec_parse(const char *s, int allow_index, stream_spec *out);

/* Index of the k-th stream of `type` in the file, or -1. */
int stream_find(const AVFormatContext *fmt, enum AVMediaType type, int k);

/* Whether stream `st` of its file is named by `ss` (ss->file is not checked). */
int stream_spec_matches(const stream_spec *ss, const AVFormatContext *fmt, int st);

#endif
