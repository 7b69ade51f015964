#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/avstring.h>

#include "concat.h"
#include "confine.h"
#include "errors.h"
#include "input.h"

const char *path_to_url(const char *path, char *buf, size_t size)
{
    const char *colon = strchr(path, ':');
    const char *slash = strchr(path, '/');
    if (colon && (!slash || colon < slash)) {
        snprintf(buf, size, "file:%s", path);
        return buf;
    }
    return path;
}

AVDictionary *decoder_options_for(const spec_input *in, enum AVMediaType type)
{
    AVDictionary *d = NULL;
    const AVDictionaryEntry *e = NULL;
    char base[256];
    int ok = 1;
    while (ok && (e = av_dict_iterate(in->decoder_options, e)))
        if (spec_option_applies(e->key, type, base, sizeof(base)))
            ok = av_dict_set(&d, base, e->value, 0) >= 0;
    /* The engine's limits come last: the job cannot lift them. */
    if (!ok || av_dict_set(&d, "threads", "1", 0) < 0 || av_dict_set_int(&d, "max_pixels", MAX_PIXELS, 0) < 0)
        av_dict_free(&d); /* a partial set would drop the pixel limit */
    return d;
}

void decoder_options_used(const spec_input *in, enum AVMediaType type, const AVDictionary *left, unsigned char *used)
{
    const AVDictionaryEntry *e = NULL;
    char base[256];
    for (int i = 0; (e = av_dict_iterate(in->decoder_options, e)) && i < MAX_CODEC_OPTIONS; i++)
        if (spec_option_applies(e->key, type, base, sizeof(base)) && !av_dict_get(left, base, NULL, AV_DICT_MATCH_CASE))
            used[i] = 1;
}

int decoder_options_check(const spec_input *in, int index, const unsigned char *used)
{
    const AVDictionaryEntry *e = NULL;
    for (int i = 0; (e = av_dict_iterate(in->decoder_options, e)); i++) {
        char field[48];
        if (used[i])
            continue;
        snprintf(field, sizeof(field), "inputs[%d].decoder_options", index);
        return fail(EXIT_MALFORMED_SPEC, field, "%s: unknown key \"%s\" (no decoder of this input uses it)", field,
                    e->key);
    }
    return 0;
}

/* A key left in an options dictionary after libav took what it knows. */
int leftover_option(AVDictionary *d, const char *field)
{
    const AVDictionaryEntry *e = av_dict_iterate(d, NULL);
    if (!e)
        return 0;
    return fail(EXIT_MALFORMED_SPEC, field, "%s: unknown key \"%s\"", field, e->key);
}

/* Only a format the job names may read files named inside the input: a probed
 * one never does (an upload called "a.mp4" may hold an ffconcat list naming
 * other files of the root). Files the input names (concat members) inherit the
 * whitelist, and are never concat lists themselves: concat refuses a member
 * at recursion depth 0 (unless the job set "recursion_depth" itself). */
static int restrict_formats(const spec_input *in, const AVInputFormat *ifmt, AVDictionary **opts)
{
    const AVDictionaryEntry *own = av_dict_get(in->options, "format_whitelist", NULL, AV_DICT_MATCH_CASE);
    char *list = confine_format_whitelist(ifmt ? ifmt->name : NULL, own ? own->value : NULL);

    /* Case matters, as for libav's option names: "FORMAT_WHITELIST" stays an unknown key. */
    if (!list || av_dict_set(opts, "format_whitelist", list, AV_DICT_DONT_STRDUP_VAL | AV_DICT_MATCH_CASE) < 0)
        return -1;
    if (ifmt && !strcmp(ifmt->name, "concat") &&
        av_dict_set(opts, "recursion_depth", "1", AV_DICT_DONT_OVERWRITE | AV_DICT_MATCH_CASE) < 0)
        return -1;
    return 0;
}

/* The file the engine refused, as the job names it. */
static const char *refused_name(const spec_input *in, const char *url)
{
    char own[4200];
    if (!*url || (in->path && !strcmp(url, path_to_url(in->path, own, sizeof(own)))))
        return in->name;
    av_strstart(url, "file:", &url);
    return url;
}

static int is_concat(const spec_input *in)
{
    const AVInputFormat *f = in->format ? av_find_input_format(in->format) : NULL;
    return in->nb_concat || (f && !strcmp(f->name, "concat"));
}

int input_refusal(const spec_input *in, int index, int averr, char *errbuf, size_t errsize, err_kind *kind)
{
    const confine_refusal *r = confine_take_refusal();
    char field[48];

#ifdef ENOTCAPABLE
    if (averr == AVERROR(ENOTCAPABLE)) {
        /* The host refused a path (a symbolic link out of the root): like a
         * path with "..", the job named a file outside its filesystem. */
        const char *log = errlog_first();
        if (r && r->what == CONFINE_OUTSIDE) {
            const char *name = refused_name(in, r->url);
            snprintf(field, sizeof(field), name == in->name ? "inputs[%d].path" : "inputs[%d]", index);
            if (name == in->name)
                return fail(EXIT_MALFORMED_SPEC, field, "%s: \"%s\" leads outside the job's filesystem", field, name);
            return fail(EXIT_MALFORMED_SPEC, field, "%s: \"%s\", a file \"%s\" names, leads outside the job's "
                        "filesystem", field, name, in->name);
        }
        /* concat opens its members itself: its log line names the file. */
        if (in->nb_concat) {
            snprintf(field, sizeof(field), "inputs[%d].concat", index);
            return fail(EXIT_MALFORMED_SPEC, field, "%s: one of the files leads outside the job's filesystem%s%s%s",
                        field, log ? " (" : "", log ? log : "", log ? ")" : "");
        }
        snprintf(field, sizeof(field), "inputs[%d]", index);
        return fail(EXIT_MALFORMED_SPEC, field, "%s: a file \"%s\" names leads outside the job's filesystem%s%s%s",
                    field, in->name, log ? " (" : "", log ? log : "", log ? ")" : "");
    }
#endif
    /* A member of a concat input that is a concat list itself: concat refuses
     * it at the depth restrict_formats gives members, and logs that. */
    if (averr == AVERROR_INVALIDDATA && is_concat(in) && errlog_first() &&
        strstr(errlog_first(), "Too deep recursion")) {
        snprintf(errbuf, errsize, "inputs[%d]: a file the concat list names is itself a list of other files to "
                 "read (format \"concat\"); a list is only read when the input asks for it with \"format\"", index);
        *kind = ERR_INVALID_DATA;
        return -1;
    }
    /* A probed input (no "format", no concat): one that asked for a format and
     * excluded it with its own "format_whitelist" gets libav's words. */
    if (r && r->what == CONFINE_LIST && averr == AVERROR(EINVAL) && !in->format && !in->nb_concat) {
        snprintf(errbuf, errsize, "inputs[%d]: \"%s\" looks like a list of other files to read (format \"%s\"); "
                 "list formats are only opened when asked for explicitly with \"format\": \"%s\"", index,
                 refused_name(in, r->url), r->format, r->format);
        *kind = ERR_INVALID_DATA;
        return -1;
    }
    return 0;
}

/* A failed open or stream probe: the engine's own refusal, or libav's error. */
static int open_failed(const spec_input *in, int index, int averr, char *errbuf, size_t errsize, err_kind *kind)
{
    int ret = input_refusal(in, index, averr, errbuf, errsize, kind);
    if (ret)
        return ret;
    av_error_text(errbuf, errsize, averr, "%s", in->name);
    *kind = averror_kind(averr, "inputs");
    return -1;
}

void input_close(AVFormatContext **fmt)
{
    AVIOContext *list_pb = *fmt ? (*fmt)->opaque : NULL;
    avformat_close_input(fmt);
    avio_closep(&list_pb);
}

/* The input's forced decoders ("video_codec"/"audio_codec", like ffmpeg's -c:v
 * before -i): the demuxer is told the codec too, as ffmpeg does, so an image
 * sequence of .pgm files can be read as pgmyuv. */
static int force_decoders(const spec_input *in, int index, AVFormatContext *fmt)
{
    const char *names[2] = { in->video_codec, in->audio_codec };
    const enum AVMediaType types[2] = { AVMEDIA_TYPE_VIDEO, AVMEDIA_TYPE_AUDIO };
    char field[48];

    for (int i = 0; i < 2; i++) {
        const AVCodec *c;
        if (!names[i])
            continue;
        snprintf(field, sizeof(field), "inputs[%d].%s", index, i ? "audio_codec" : "video_codec");
        if (!(c = avcodec_find_decoder_by_name(names[i])))
            return fail_kind(EXIT_FAILURE_PROCESSING, ERR_UNSUPPORTED, field, "%s: unknown decoder \"%s\"", field,
                             names[i]);
        if (c->type != types[i])
            return fail(EXIT_MALFORMED_SPEC, field, "%s: \"%s\" is not a %s decoder", field, names[i],
                        av_get_media_type_string(types[i]));
        if (i) {
            fmt->audio_codec_id = c->id;
            fmt->audio_codec = c;
        } else {
            fmt->video_codec_id = c->id;
            fmt->video_codec = c;
        }
    }
    return 0;
}

int input_open(const spec_input *in, int index, AVFormatContext **out, char *errbuf, size_t errsize,
               err_kind *kind)
{
    const AVInputFormat *ifmt = NULL;
    AVFormatContext *fmt = NULL;
    AVDictionary *opts = NULL, **stream_opts = NULL;
    AVIOContext *list_pb = NULL;
    const char *name;
    char url[4200], field[48];
    int ret;

    *out = NULL;
    *kind = ERR_PROCESSING;
    if (in->nb_concat && !(ifmt = av_find_input_format("concat"))) {
        snprintf(field, sizeof(field), "inputs[%d].concat", index);
        fail_kind(EXIT_FAILURE_PROCESSING, ERR_UNSUPPORTED, field, "%s: this build has no concat demuxer", field);
        return -2;
    }
    if (in->format && !(ifmt = av_find_input_format(in->format))) {
        snprintf(field, sizeof(field), "inputs[%d].format", index);
        fail_kind(EXIT_FAILURE_PROCESSING, ERR_UNSUPPORTED, field, "%s: unknown input format \"%s\"", field,
                  in->format);
        return -2;
    }
    /* WASI has no FIFO file type: tell the file protocol a stream device cannot seek. */
    if (av_dict_copy(&opts, in->options, 0) < 0 ||
        av_dict_set(&opts, "protocol_whitelist", "file", 0) < 0 ||
        (in->path && path_is_stream(in->path) && av_dict_set(&opts, "seekable", "0", 0) < 0) ||
        restrict_formats(in, ifmt, &opts) < 0 || !(fmt = avformat_alloc_context())) {
        av_dict_free(&opts);
        fail_oom(NULL);
        return -2;
    }
    if (force_decoders(in, index, fmt) < 0) {
        av_dict_free(&opts);
        avformat_free_context(fmt);
        return -2;
    }
    confine_io(fmt);
    if (in->nb_concat) {
        /* Safe mode keeps the listed names relative to the job root. */
        if (av_dict_set(&opts, "safe", "1", 0) < 0 || concat_open_list(in, index, &list_pb, url, sizeof(url)) < 0) {
            if (!err_is_set())
                fail_oom(NULL);
            av_dict_free(&opts);
            avformat_free_context(fmt);
            return -2;
        }
        fmt->pb = list_pb;
        fmt->opaque = list_pb;
        name = url;
    } else {
        name = path_to_url(in->path, url, sizeof(url));
    }
    errlog_reset();
    confine_take_refusal(); /* none left over from an earlier input */
    ret = avformat_open_input(&fmt, name, ifmt, &opts); /* frees fmt on failure */
    if (ret < 0) {
        av_dict_free(&opts);
        avio_closep(&list_pb);
        return open_failed(in, index, ret, errbuf, errsize, kind);
    }
    snprintf(field, sizeof(field), "inputs[%d].options", index);
    ret = leftover_option(opts, field);
    av_dict_free(&opts);
    if (ret < 0) {
        input_close(&fmt);
        return -2;
    }

    /* Stream probing decodes a few frames: give those decoders the same limits. */
    stream_opts = av_calloc(fmt->nb_streams ? fmt->nb_streams : 1, sizeof(*stream_opts));
    if (!stream_opts) {
        input_close(&fmt);
        fail_oom(NULL);
        return -2;
    }
    unsigned nb = fmt->nb_streams, ok = 1; /* find_stream_info may add streams */
    for (unsigned i = 0; i < nb; i++)
        ok &= (stream_opts[i] = decoder_options_for(in, fmt->streams[i]->codecpar->codec_type)) != NULL;
    errlog_reset();
    ret = ok ? avformat_find_stream_info(fmt, stream_opts) : 0;
    for (unsigned i = 0; i < nb; i++)
        av_dict_free(&stream_opts[i]);
    av_freep(&stream_opts);
    if (!ok) {
        input_close(&fmt);
        fail_oom(NULL);
        return -2;
    }
    if (ret < 0) {
        input_close(&fmt);
        return open_failed(in, index, ret, errbuf, errsize, kind);
    }
    confine_take_refusal();
    *out = fmt;
    return 0;
}
