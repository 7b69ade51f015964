#include <string.h>

#include <libavutil/avstring.h>

#include "confine.h"
#include "errors.h"

static int is_private(const char *name, size_t n)
{
    return n == 3 && (!memcmp(name, "tmp", 3) || !memcmp(name, "dev", 3));
}

int path_in_root(const char *path)
{
    const char *first = NULL;
    size_t first_n = 0;
    int depth = 0;

    av_strstart(path, "file:", &path);
    /* Lexically, as the host resolves it: the first component decides the mount. */
    for (const char *s = path; *s;) {
        size_t n;
        while (*s == '/')
            s++;
        if (!(n = strcspn(s, "/")))
            break;
        if (n == 1 && s[0] == '.') {
            /* stays */
        } else if (n == 2 && s[0] == '.' && s[1] == '.') {
            depth -= depth > 0; /* above the root the host refuses the path anyway */
        } else {
            if (!depth) {
                first = s;
                first_n = n;
            }
            depth++;
        }
        /* wasi-libc picks the preopen on the raw string, before any "..". */
        if (s == path + strspn(path, "/") && is_private(s, n))
            return 0;
        s += n;
    }
    return !(depth > 0 && is_private(first, first_n));
}

int path_is_stream(const char *path)
{
    size_t n;
    av_strstart(path, "file:", &path);
    if (!av_strstart(path, "/dev/afmpeg-pipe-", &path))
        return 0;
    n = strspn(path, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");
    return n >= 1 && n <= 64 && !path[n];
}

static int (*default_io_open)(AVFormatContext *s, AVIOContext **pb, const char *url, int flags,
                              AVDictionary **options);

static int confined_io_open(AVFormatContext *s, AVIOContext **pb, const char *url, int flags,
                            AVDictionary **options)
{
    const char *proto = avio_find_protocol_name(url);
    /* A stream device only as the context's own file (a job's input arrives
     * here): files named inside media or muxer options never reach one. */
    int own_stream = path_is_stream(url) && s->url && !strcmp(url, s->url);
    if ((proto && strcmp(proto, "file")) || !(path_in_root(url) || own_stream)) {
        av_log(s, AV_LOG_ERROR, "'%s' is outside the job's filesystem\n", url);
        /* A muxer's file name comes from the spec (format_options): a spec
         * error. A demuxer's comes from the media: that input fails. */
        if (s->oformat)
            fail(EXIT_MALFORMED_SPEC, NULL, "\"%s\", a file the %s muxer opens, is outside the job's filesystem",
                 url, s->oformat->name);
        return AVERROR(EPERM);
    }
    return default_io_open(s, pb, url, flags, options);
}

void confine_io(AVFormatContext *s)
{
    if (s->io_open == confined_io_open)
        return;
    /* Every context starts with libavformat's default, so one saved copy serves all. */
    if (!default_io_open)
        default_io_open = s->io_open;
    s->io_open = confined_io_open;
}
