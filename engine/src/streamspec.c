#include <stdlib.h>

#include "streamspec.h"

/* A decimal number of at most `max`, advancing *s; -1 if there is none. */
static long number(const char **s, long max)
{
    long v = 0;
    if (**s < '0' || **s > '9')
        return -1;
    for (; **s >= '0' && **s <= '9'; (*s)++) {
        v = v * 10 + (**s - '0');
        if (v > max)
            return -1;
    }
    return v;
}

int stream_spec_parse(const char *s, int allow_index, stream_spec *out)
{
    long file = number(&s, 1000000), k = -1;
    enum AVMediaType type;

    if (file < 0 || *s++ != ':')
        return -1;
    switch (*s) {
    case 'v': type = AVMEDIA_TYPE_VIDEO; break;
    case 'a': type = AVMEDIA_TYPE_AUDIO; break;
    case 's': type = AVMEDIA_TYPE_SUBTITLE; break;
    default:
        if (!allow_index || (k = number(&s, 100000)) < 0 || *s)
            return -1;
        out->file = (int)file;
        out->type = AVMEDIA_TYPE_UNKNOWN;
        out->index = (int)k;
        return 0;
    }
    s++;
    if (*s == ':') {
        s++;
        if ((k = number(&s, 100000)) < 0)
            return -1;
    }
    if (*s)
        return -1;
    out->file = (int)file;
    out->type = type;
    out->index = (int)k;
    return 0;
}

int stream_find(const AVFormatContext *fmt, enum AVMediaType type, int k)
{
    for (unsigned i = 0; i < fmt->nb_streams; i++)
        if (fmt->streams[i]->codecpar->codec_type == type && k-- == 0)
            return (int)i;
    return -1;
}

int stream_spec_matches(const stream_spec *ss, const AVFormatContext *fmt, int st)
{
    if (ss->type == AVMEDIA_TYPE_UNKNOWN)
        return st == ss->index;
    if (fmt->streams[st]->codecpar->codec_type != ss->type)
        return 0;
    return ss->index < 0 || stream_find(fmt, ss->type, ss->index) == st;
}
