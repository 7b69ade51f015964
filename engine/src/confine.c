#include <errno.h>
#include <string.h>

#include <libavutil/avstring.h>
#include <libavutil/bprint.h>
#include <libavutil/opt.h>

#include "confine.h"

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
            /* Above the root (a leading "..", "a/../.."): the host would refuse
             * it too, but the job should hear which field is wrong. */
            if (!depth)
                return 0;
            depth--;
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
static int (*default_io_close2)(AVFormatContext *s, AVIOContext *pb);

int demuxer_reads_named_files(const AVInputFormat *f)
{
    /* FFmpeg's demuxers that open files, streams or devices named inside their
     * input (whether linked into this build or not; `afmpeg capabilities`
     * lists what is). mov reads external data references only with its
     * "enable_drefs" option (off by default), image2 names come from the
     * job's path, not the content. */
    static const char names[] = "concat,hls,applehttp,dash,imf,sdp,rtsp,rtp,sap,avisynth,vapoursynth,lavfi";
    return f && av_match_list(f->name, names, ',') > 0;
}

char *confine_format_whitelist(const char *asked, const char *within)
{
    const AVInputFormat *f;
    void *it = NULL;
    AVBPrint bp;
    char *list = NULL;

    av_bprint_init(&bp, 0, AV_BPRINT_SIZE_UNLIMITED);
    while ((f = av_demuxer_iterate(&it))) {
        int take = !demuxer_reads_named_files(f) || (asked && av_match_list(f->name, asked, ',') > 0);
        if (take && within && av_match_list(f->name, within, ',') <= 0)
            take = 0;
        if (take)
            av_bprintf(&bp, "%s%s", bp.len ? "," : "", f->name);
    }
    if (av_bprint_finalize(&bp, &list) < 0)
        return NULL;
    return list;
}

static confine_refusal refusal, refusal_taken;

static void note_refusal(int what, const char *format, const char *url)
{
    refusal.what = what;
    av_strlcpy(refusal.format, format ? format : "", sizeof(refusal.format));
    av_strlcpy(refusal.url, url ? url : "", sizeof(refusal.url));
}

const confine_refusal *confine_take_refusal(void)
{
    if (!refusal.what)
        return NULL;
    refusal_taken = refusal;
    memset(&refusal, 0, sizeof(refusal));
    return &refusal_taken;
}

static confine_failure failure, taken;

/* The muxer's own "ignore_io_errors" (hls, dash), set in format_options. */
static int ignores_io_errors(const AVFormatContext *s)
{
    int64_t v = 0;
    return s->priv_data && s->oformat->priv_class && av_opt_get_int(s->priv_data, "ignore_io_errors", 0, &v) >= 0 &&
           v;
}

/* Remember the first file a muxer could not have: hls logs "Failed to open
 * file" and carries on, so the return value alone cannot fail the job. */
static void note_failure(const AVFormatContext *s, const char *url, int averr, int refused)
{
    if (failure.averr)
        return;
    failure.averr = averr;
    failure.refused = refused;
    av_strlcpy(failure.url, url, sizeof(failure.url));
    av_strlcpy(failure.muxer, s->oformat->name, sizeof(failure.muxer));
}

const confine_failure *confine_take_failure(void)
{
    if (!failure.averr)
        return NULL;
    taken = failure;
    memset(&failure, 0, sizeof(failure));
    return &taken;
}

static int confined_io_open(AVFormatContext *s, AVIOContext **pb, const char *url, int flags,
                            AVDictionary **options)
{
    const char *proto = avio_find_protocol_name(url);
    /* A stream device only as the context's own file (a job's input arrives
     * here): files named inside media or muxer options never reach one. */
    int own_stream = path_is_stream(url) && s->url && !strcmp(url, s->url);
    int ret;
    if ((proto && strcmp(proto, "file")) || !(path_in_root(url) || own_stream)) {
        av_log(s, AV_LOG_ERROR, "'%s' is outside the job's filesystem\n", url);
        /* A muxer's file name comes from the spec (format_options): a spec
         * error (output.c reports it). A demuxer's comes from the media: that
         * input fails. */
        if (s->oformat)
            note_failure(s, url, AVERROR(EPERM), 1);
        return AVERROR(EPERM);
    }
    ret = default_io_open(s, pb, url, flags, options);
#ifdef ENOTCAPABLE
    /* The host refused the path: it leads outside the job's filesystem (a
     * symbolic link out of the root). Never an I/O error to ignore. */
    if (ret == AVERROR(ENOTCAPABLE)) {
        if (!s->oformat)
            note_refusal(CONFINE_OUTSIDE, NULL, url);
        else if (flags & AVIO_FLAG_WRITE)
            note_failure(s, url, ret, 0);
        return ret;
    }
#endif
    /* Reads may fail on purpose (hls append_list reads a playlist that may not exist yet). */
    if (ret < 0 && s->oformat && (flags & AVIO_FLAG_WRITE) && !ignores_io_errors(s))
        note_failure(s, url, ret, 0);
    return ret;
}

/* avformat_open_input closes the file of an input whose probed format is not
 * on its whitelist: the one moment that format can be seen. */
static int confined_io_close2(AVFormatContext *s, AVIOContext *pb)
{
    if (!s->oformat && s->iformat && s->format_whitelist && demuxer_reads_named_files(s->iformat) &&
        av_match_list(s->iformat->name, s->format_whitelist, ',') <= 0)
        note_refusal(CONFINE_LIST, s->iformat->name, s->url);
    return default_io_close2(s, pb);
}

void confine_io(AVFormatContext *s)
{
    if (s->io_open == confined_io_open)
        return;
    /* Every context starts with libavformat's default, so one saved copy serves all. */
    if (!default_io_open)
        default_io_open = s->io_open;
    if (!default_io_close2)
        default_io_close2 = s->io_close2;
    s->io_open = confined_io_open;
    s->io_close2 = confined_io_close2;
}
