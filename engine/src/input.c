#include <stdio.h>
#include <string.h>

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

AVDictionary *decoder_options(void)
{
    AVDictionary *d = NULL;
    if (av_dict_set(&d, "threads", "1", 0) < 0 || av_dict_set_int(&d, "max_pixels", MAX_PIXELS, 0) < 0)
        av_dict_free(&d); /* a partial set would drop the pixel limit */
    return d;
}

/* A key left in an options dictionary after libav took what it knows. */
int leftover_option(AVDictionary *d, const char *field)
{
    const AVDictionaryEntry *e = av_dict_iterate(d, NULL);
    if (!e)
        return 0;
    return fail(EXIT_MALFORMED_SPEC, field, "%s: unknown key \"%s\"", field, e->key);
}

void input_close(AVFormatContext **fmt)
{
    AVIOContext *list_pb = *fmt ? (*fmt)->opaque : NULL;
    avformat_close_input(fmt);
    avio_closep(&list_pb);
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
        !(fmt = avformat_alloc_context())) {
        av_dict_free(&opts);
        fail_oom(NULL);
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
    ret = avformat_open_input(&fmt, name, ifmt, &opts); /* frees fmt on failure */
    if (ret < 0) {
        av_dict_free(&opts);
        avio_closep(&list_pb);
        av_error_text(errbuf, errsize, ret, "%s", in->name);
        *kind = averror_kind(ret, "inputs");
        return -1;
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
        ok &= (stream_opts[i] = decoder_options()) != NULL;
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
        av_error_text(errbuf, errsize, ret, "%s", in->name);
        *kind = averror_kind(ret, "inputs");
        return -1;
    }
    *out = fmt;
    return 0;
}
