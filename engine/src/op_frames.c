/* op "frames": decode one input's video, pick frames (frames_select.c), and
 * write each as its own PNG/JPEG file named from the path template.
 *
 * Chosen frames go through a small graph built filter by filter (never from a
 * string, so "scale" cannot smuggle in other filters):
 *   buffer -> [select=gt(scene,T) | thumbnail] -> [scale=<args>] -> buffersink
 * The sink is restricted to the encoder's pixel formats and colour ranges, so
 * libavfilter inserts the conversion (yuv -> rgb for PNG, full range for JPEG). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/opt.h>

#include "errors.h"
#include "frames.h"
#include "input.h"
#include "ops.h"

/* Saturating timestamp arithmetic (timestamps come from untrusted files). */
static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN + 1;
    return r == INT64_MIN ? INT64_MIN + 1 : r;
}

static int64_t sat_sub(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r))
        return b < 0 ? INT64_MAX : INT64_MIN + 1;
    return r == INT64_MIN ? INT64_MIN + 1 : r;
}

/* ------------------------------------------------------------------ input */

static int open_input(FramesJob *j)
{
    const frames_spec *fs = j->fs;
    const char *path = fs->input->path;
    const AVCodec *codec;
    AVDictionary *opts;
    AVRational tb, fr;
    char msg[1024];
    err_kind kind;
    int idx, ret;

    ret = input_open(fs->input, 0, &j->fmt, msg, sizeof(msg), &kind);
    if (ret == -2)
        return -1;
    if (ret < 0)
        return fail_kind(EXIT_FAILURE_PROCESSING, kind, "inputs[0]", "%s", msg);
    idx = av_find_best_stream(j->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (idx < 0)
        return fail(EXIT_FAILURE_PROCESSING, "inputs[0]", "%s: has no video stream", path);
    j->st = j->fmt->streams[idx];
    for (unsigned i = 0; i < j->fmt->nb_streams; i++)
        if ((int)i != idx)
            j->fmt->streams[i]->discard = AVDISCARD_ALL;

    tb = j->st->time_base;
    if (tb.num <= 0 || tb.den <= 0)
        return fail(EXIT_FAILURE_PROCESSING, "inputs[0]", "%s: stream %d: invalid time base %d/%d", path, idx, tb.num, tb.den);
    if (j->st->codecpar->codec_id == AV_CODEC_ID_NONE)
        return fail_kind(EXIT_FAILURE_PROCESSING, ERR_UNSUPPORTED, "inputs[0]", "%s: stream %d: unknown codec", path, idx);
    if (!(codec = avcodec_find_decoder(j->st->codecpar->codec_id)))
        return fail_kind(EXIT_FAILURE_PROCESSING, ERR_UNSUPPORTED, "inputs[0]",
                         "%s: stream %d: this build has no decoder for codec \"%s\"", path, idx,
                         avcodec_get_name(j->st->codecpar->codec_id));
    if (!(j->dec = avcodec_alloc_context3(codec)) ||
        !(opts = decoder_options_for(fs->input, AVMEDIA_TYPE_VIDEO)))
        return fail_oom(NULL);
    if ((ret = avcodec_parameters_to_context(j->dec, j->st->codecpar)) < 0) {
        av_dict_free(&opts);
        return fail_av(EXIT_FAILURE_PROCESSING, ret, "inputs[0]", "%s: stream %d", path, idx);
    }
    j->dec->pkt_timebase = tb;
    errlog_reset();
    ret = avcodec_open2(j->dec, codec, &opts);
    {
        unsigned char used[MAX_CODEC_OPTIONS] = { 0 };
        decoder_options_used(fs->input, AVMEDIA_TYPE_VIDEO, opts, used);
        av_dict_free(&opts);
        if (ret >= 0 && decoder_options_check(fs->input, 0, used) < 0)
            return -1;
    }
    if (ret < 0)
        return fail_av(EXIT_FAILURE_PROCESSING, ret, "inputs[0]", "%s: stream %d: opening decoder %s", path, idx, codec->name);
    j->w = j->dec->width;
    j->h = j->dec->height;
    j->pix_fmt = j->dec->pix_fmt;
    if (j->w <= 0 || j->h <= 0 || j->pix_fmt == AV_PIX_FMT_NONE)
        return fail_kind(EXIT_FAILURE_PROCESSING, ERR_INVALID_DATA, "inputs[0]",
                         "%s: stream %d: unknown picture size or pixel format (nothing could be decoded while probing)",
                         path, idx);

    /* Like the process op: times count from the input's start. */
    j->start = j->fmt->start_time != AV_NOPTS_VALUE ? av_rescale_q(j->fmt->start_time, AV_TIME_BASE_Q, tb) : 0;
    fr = av_guess_frame_rate(j->fmt, j->st, NULL);
    j->frame_dur = fr.num > 0 && fr.den > 0 ? av_rescale_q(1, av_inv_q(fr), tb) : 0;
    if (j->frame_dur <= 0)
        j->frame_dur = 1;
    j->next_pts = 0;
    j->first_dts = AV_NOPTS_VALUE;
    return 0;
}

/* Read one packet of the stream into the decoder (at the end, drain it). */
static int feed(FramesJob *j)
{
    AVPacket *pkt = j->pkt;
    int ret;

    errlog_reset();
    ret = av_read_frame(j->fmt, pkt);
    if (ret == AVERROR_EOF) {
        j->demux_eof = 1;
        ret = avcodec_send_packet(j->dec, NULL);
        return ret == AVERROR(ENOMEM) ? fail_av(EXIT_FAILURE_PROCESSING, ret, "inputs[0]", "%s: decoding",
                                                j->fs->input->path) : 0;
    }
    if (ret < 0) {
        char msg[1024];
        err_kind kind;
        int refused = input_refusal(j->fs->input, 0, ret, msg, sizeof(msg), &kind);
        if (refused)
            return refused == -2 ? -1 : fail_kind(EXIT_FAILURE_PROCESSING, kind, "inputs[0]", "%s", msg);
        return fail_av(EXIT_FAILURE_PROCESSING, ret, "inputs[0]", "%s: reading", j->fs->input->path);
    }
    if (pkt->size == 0) {
        av_packet_unref(pkt);
        if (++j->empty_packets < FRAMES_MAX_EMPTY_PACKETS)
            return 0;
        return fail(EXIT_FAILURE_PROCESSING, "inputs[0]", "%s: the demuxer returned %d empty packets in a row",
                    j->fs->input->path, FRAMES_MAX_EMPTY_PACKETS);
    }
    j->empty_packets = 0;
    if (pkt->stream_index != j->st->index) {
        av_packet_unref(pkt);
        return 0;
    }
    if (j->first_dts == AV_NOPTS_VALUE)
        j->first_dts = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
    ret = avcodec_send_packet(j->dec, pkt);
    av_packet_unref(pkt);
    if (ret == AVERROR(ENOMEM))
        return fail_av(EXIT_FAILURE_PROCESSING, ret, "inputs[0]", "%s: decoding", j->fs->input->path);
    if (ret < 0) /* corrupt data: counted and skipped, as ffmpeg does */
        j->decode_errors++;
    return 0;
}

int frames_decode(FramesJob *j, AVFrame *f)
{
    /* libavcodec consumes input on each error; the cap is a backstop. */
    for (int errors = 0; errors < 100000;) {
        int ret;
        if (j->dec_eof)
            return 0;
        ret = avcodec_receive_frame(j->dec, f);
        if (ret >= 0) {
            int64_t pts = f->best_effort_timestamp;
            pts = pts == AV_NOPTS_VALUE ? j->next_pts : sat_sub(pts, j->start);
            f->pts = pts;
            f->time_base = j->st->time_base;
            if (f->duration <= 0)
                f->duration = j->last_dur > 0 ? j->last_dur : j->frame_dur;
            else
                j->last_dur = f->duration;
            j->next_pts = sat_add(pts, f->duration);
            return 1;
        }
        if (ret == AVERROR_EOF) {
            j->dec_eof = 1;
            return 0;
        }
        if (ret == AVERROR(ENOMEM))
            return fail_av(EXIT_FAILURE_PROCESSING, ret, "inputs[0]", "%s: decoding", j->fs->input->path);
        if (ret != AVERROR(EAGAIN)) {
            j->decode_errors++;
            errors++;
            continue;
        }
        if (j->demux_eof) { /* drained */
            j->dec_eof = 1;
            return 0;
        }
        if (feed(j) < 0)
            return -1;
    }
    return fail(EXIT_FAILURE_PROCESSING, "inputs[0]", "%s: the decoder keeps failing", j->fs->input->path);
}

int frames_seek(FramesJob *j, int64_t ts)
{
    int ret;
    errlog_reset();
    ret = av_seek_frame(j->fmt, j->st->index, sat_add(j->start, ts), AVSEEK_FLAG_BACKWARD);
    if (ret < 0) {
        av_log(NULL, AV_LOG_VERBOSE, "%s: cannot seek; decoding on\n", j->fs->input->path);
        return 1;
    }
    avcodec_flush_buffers(j->dec);
    j->demux_eof = j->dec_eof = 0;
    j->empty_packets = 0;
    j->first_dts = AV_NOPTS_VALUE;
    j->next_pts = ts;
    return 0;
}

int frames_restart(FramesJob *j)
{
    int idx = j->st->index;
    enum AVCodecID id = j->st->codecpar->codec_id;
    char msg[1024];
    err_kind kind;
    int ret;

    avformat_close_input(&j->fmt);
    j->st = NULL;
    ret = input_open(j->fs->input, 0, &j->fmt, msg, sizeof(msg), &kind);
    if (ret == -2)
        return -1;
    if (ret < 0)
        return fail_kind(EXIT_FAILURE_PROCESSING, kind, "inputs[0]", "%s", msg);
    if ((unsigned)idx >= j->fmt->nb_streams || j->fmt->streams[idx]->codecpar->codec_id != id)
        return fail(EXIT_FAILURE_PROCESSING, "inputs[0]", "%s: the input changed while it was read", j->fs->input->path);
    j->st = j->fmt->streams[idx];
    for (unsigned i = 0; i < j->fmt->nb_streams; i++)
        if ((int)i != idx)
            j->fmt->streams[i]->discard = AVDISCARD_ALL;
    avcodec_flush_buffers(j->dec);
    j->demux_eof = j->dec_eof = 0;
    j->empty_packets = 0;
    j->first_dts = AV_NOPTS_VALUE;
    j->next_pts = 0;
    return 0;
}

/* ------------------------------------------------------------------ graph */

static int add_filter(FramesJob *j, const char *name, AVFilterContext **out)
{
    const AVFilter *f = avfilter_get_by_name(name);
    if (!f)
        return fail_kind(EXIT_FAILURE_PROCESSING, ERR_UNSUPPORTED, NULL, "this build has no \"%s\" filter", name);
    if (!(*out = avfilter_graph_alloc_filter(j->graph, f, name)))
        return fail_oom(NULL);
    return 0;
}

static int link_after(AVFilterContext **prev, AVFilterContext *next)
{
    int ret = avfilter_link(*prev, 0, next, 0);
    if (ret < 0)
        return fail_av(EXIT_FAILURE_PROCESSING, ret, NULL, "linking the frames graph");
    *prev = next;
    return 0;
}

static int add_scale(FramesJob *j, AVFilterContext **prev)
{
    AVFilterContext *ctx;
    int ret;
    if (add_filter(j, "scale", &ctx) < 0)
        return -1;
    errlog_reset();
    /* Only the scale filter's own options: the string is not a graph. */
    if ((ret = avfilter_init_str(ctx, j->fs->scale)) < 0)
        return fail_av(EXIT_MALFORMED_SPEC, ret, "scale", "scale: \"%s\"", j->fs->scale);
    return link_after(prev, ctx);
}

static int make_source(FramesJob *j)
{
    AVBufferSrcParameters *par;
    AVRational sar = av_guess_sample_aspect_ratio(j->fmt, j->st, NULL);
    int ret;

    if (add_filter(j, "buffer", &j->src) < 0)
        return -1;
    if (!(par = av_buffersrc_parameters_alloc()))
        return fail_oom(NULL);
    par->time_base = j->st->time_base;
    par->format = j->pix_fmt;
    par->width = j->w;
    par->height = j->h;
    par->sample_aspect_ratio = sar.num > 0 ? sar : (AVRational){ 0, 1 };
    par->frame_rate = av_guess_frame_rate(j->fmt, j->st, NULL);
    par->color_space = j->dec->colorspace;
    par->color_range = j->dec->color_range;
    errlog_reset();
    ret = av_buffersrc_parameters_set(j->src, par);
    av_free(par);
    if (ret >= 0)
        ret = avfilter_init_dict(j->src, NULL);
    return ret < 0 ? fail_av(EXIT_FAILURE_PROCESSING, ret, NULL, "setting up the frames graph input") : 0;
}

/* The sink takes what the encoder takes (nothing listed: anything). */
static int make_sink(FramesJob *j, const AVCodec *codec)
{
    const void *list;
    int n, ret;

    if (add_filter(j, "buffersink", &j->sink) < 0)
        return -1;
    errlog_reset();
    list = NULL;
    n = 0;
    ret = avcodec_get_supported_config(NULL, codec, AV_CODEC_CONFIG_PIX_FORMAT, 0, &list, &n);
    if (ret >= 0 && list && n > 0)
        ret = av_opt_set_array(j->sink, "pixel_formats", AV_OPT_SEARCH_CHILDREN, 0, n, AV_OPT_TYPE_PIXEL_FMT, list);
    if (ret >= 0) {
        list = NULL;
        n = 0;
        ret = avcodec_get_supported_config(NULL, codec, AV_CODEC_CONFIG_COLOR_RANGE, 0, &list, &n);
        if (ret >= 0 && list && n > 0) {
            int ranges[8];
            n = n > 8 ? 8 : n;
            for (int i = 0; i < n; i++)
                ranges[i] = (int)((const enum AVColorRange *)list)[i];
            ret = av_opt_set_array(j->sink, "colorranges", AV_OPT_SEARCH_CHILDREN, 0, n, AV_OPT_TYPE_INT, ranges);
        }
    }
    if (ret >= 0)
        ret = avfilter_init_dict(j->sink, NULL);
    return ret < 0 ? fail_av(EXIT_FAILURE_PROCESSING, ret, NULL, "restricting the frames graph to encoder %s", codec->name)
                   : 0;
}

static int build_graph(FramesJob *j, const AVCodec *codec)
{
    const frames_spec *fs = j->fs;
    AVFilterContext *prev, *ctx;
    int ret;

    if (!(j->graph = avfilter_graph_alloc()))
        return fail_oom(NULL);
    j->graph->nb_threads = 1;
    if (make_source(j) < 0)
        return -1;
    prev = j->src;
    if (fs->select == SELECT_SCENE) {
        char expr[64];
        snprintf(expr, sizeof(expr), "gt(scene,%.17g)", fs->scene);
        if (add_filter(j, "select", &ctx) < 0)
            return -1;
        errlog_reset();
        if ((ret = av_opt_set(ctx, "expr", expr, AV_OPT_SEARCH_CHILDREN)) < 0 ||
            (ret = avfilter_init_dict(ctx, NULL)) < 0)
            return fail_av(EXIT_FAILURE_PROCESSING, ret, "select.scene", "setting up select=%s", expr);
        if (link_after(&prev, ctx) < 0)
            return -1;
    }
    /* The thumbnail filter keeps its whole batch (100 frames): scale first
     * when asked to, so the batch holds small pictures. */
    if (fs->scale && add_scale(j, &prev) < 0)
        return -1;
    if (fs->select == SELECT_THUMBNAIL) {
        if (add_filter(j, "thumbnail", &ctx) < 0)
            return -1;
        errlog_reset();
        if ((ret = avfilter_init_dict(ctx, NULL)) < 0)
            return fail_av(EXIT_FAILURE_PROCESSING, ret, "select.scene", "setting up the thumbnail filter");
        if (link_after(&prev, ctx) < 0)
            return -1;
    }
    if (make_sink(j, codec) < 0 || link_after(&prev, j->sink) < 0)
        return -1;
    errlog_reset();
    if ((ret = avfilter_graph_config(j->graph, NULL)) < 0)
        return fail_av(fs->scale && ret == AVERROR(EINVAL) ? EXIT_MALFORMED_SPEC : EXIT_FAILURE_PROCESSING, ret,
                       fs->scale ? "scale" : NULL,
                       "configuring the frames graph%s%s", fs->scale ? " with scale=" : "", fs->scale ? fs->scale : "");
    int w = av_buffersink_get_w(j->sink), h = av_buffersink_get_h(j->sink);
    if (w <= 0 || h <= 0 || (int64_t)w * h > MAX_PIXELS)
        return fail(EXIT_FAILURE_PROCESSING, fs->scale ? "scale" : NULL,
                    "output pictures of %dx%d are beyond the %d-pixel limit", w, h, MAX_PIXELS);
    return 0;
}

/* Frames must keep the size/format the source was configured with (filters
 * assume it); a stream that changes mid-way is converted back. */
static AVFrame *conform(FramesJob *j, AVFrame *f)
{
    int ret;
    if (f->width == j->w && f->height == j->h && f->format == j->pix_fmt)
        return f;
    if (!j->conv) {
        av_log(NULL, AV_LOG_WARNING, "the video changes to %dx%d mid-stream; converting to %dx%d\n",
               f->width, f->height, j->w, j->h);
        if (!(j->conv = av_frame_alloc()) || !(j->sws = sws_alloc_context())) {
            fail_oom(NULL);
            return NULL;
        }
    }
    av_frame_unref(j->conv);
    j->conv->width = j->w;
    j->conv->height = j->h;
    j->conv->format = j->pix_fmt;
    if ((ret = av_frame_get_buffer(j->conv, 0)) < 0 ||
        (ret = sws_scale_frame(j->sws, j->conv, f)) < 0 ||
        (ret = av_frame_copy_props(j->conv, f)) < 0) {
        fail_av(EXIT_FAILURE_PROCESSING, ret, "inputs[0]", "converting a frame of %dx%d", f->width, f->height);
        return NULL;
    }
    return j->conv;
}

/* ------------------------------------------------------------------ output */

static int open_encoder(FramesJob *j, const AVCodec *codec)
{
    AVCodecContext *enc;
    int ret;

    if (!(enc = j->enc = avcodec_alloc_context3(codec)))
        return fail_oom(NULL);
    enc->thread_count = 1;
    enc->width = av_buffersink_get_w(j->sink);
    enc->height = av_buffersink_get_h(j->sink);
    enc->pix_fmt = av_buffersink_get_format(j->sink);
    enc->sample_aspect_ratio = av_buffersink_get_sample_aspect_ratio(j->sink);
    enc->colorspace = av_buffersink_get_colorspace(j->sink);
    enc->color_range = av_buffersink_get_color_range(j->sink);
    enc->time_base = (AVRational){ 1, 25 }; /* each picture stands alone */
    if (codec->id == AV_CODEC_ID_MJPEG) {
        /* A fixed high quality (ffmpeg -q:v 2), not a bit rate. */
        enc->flags |= AV_CODEC_FLAG_QSCALE;
        enc->global_quality = FF_QP2LAMBDA * 2;
    }
    errlog_reset();
    if ((ret = avcodec_open2(enc, codec, NULL)) < 0)
        return fail_av(EXIT_FAILURE_PROCESSING, ret, "codec", "opening encoder %s", codec->name);
    return 0;
}

static int write_file(const char *path, const uint8_t *data, int size)
{
    AVIOContext *pb = NULL;
    AVDictionary *opts = NULL;
    char url[4400];
    int ret, ret2;

    if (av_dict_set(&opts, "protocol_whitelist", "file", 0) < 0)
        return fail_oom(NULL);
    errlog_reset();
    ret = avio_open2(&pb, path_to_url(path, url, sizeof(url)), AVIO_FLAG_WRITE, NULL, &opts);
    av_dict_free(&opts);
    if (ret == AVERROR(ENOENT))
        return fail(EXIT_FAILURE_PROCESSING, "path",
                    "%s: cannot create the file: its directory does not exist (the frames op does not create directories)",
                    path);
#ifdef ENOTCAPABLE
    if (ret == AVERROR(ENOTCAPABLE)) /* the host refused it: a symbolic link out of the root */
        return fail(EXIT_MALFORMED_SPEC, "path", "path: \"%s\" leads outside the job's filesystem", path);
#endif
    if (ret < 0)
        return fail_av(EXIT_FAILURE_PROCESSING, ret, "path", "%s", path);
    avio_write(pb, data, size);
    avio_flush(pb);
    ret = pb->error;
    ret2 = avio_closep(&pb);
    if (ret < 0 || ret2 < 0)
        return fail_av(EXIT_FAILURE_PROCESSING, ret < 0 ? ret : ret2, "path", "%s: writing", path);
    return 0;
}

/* Encode one converted frame and write it as frame `index` taken at `t` seconds. */
static int write_frame(FramesJob *j, AVFrame *f, int index, double t)
{
    AVCodecContext *enc = j->enc;
    char path[4400];
    int ret;

    if (j->nb_results >= j->fs->count)
        return fail(EXIT_FAILURE_PROCESSING, NULL, "internal error: more frames than count");
    if (f->width != enc->width || f->height != enc->height || f->format != enc->pix_fmt)
        return fail(EXIT_FAILURE_PROCESSING, j->fs->scale ? "scale" : NULL,
                    "the picture size changed to %dx%d mid-stream (the encoder was opened for %dx%d)",
                    f->width, f->height, enc->width, enc->height);
    f->pict_type = AV_PICTURE_TYPE_NONE;
    f->pts = j->nb_results;
    f->time_base = enc->time_base;
    f->duration = 1;
    if (enc->flags & AV_CODEC_FLAG_QSCALE)
        f->quality = enc->global_quality;
    errlog_reset();
    ret = avcodec_send_frame(enc, f);
    if (ret >= 0)
        ret = avcodec_receive_packet(enc, j->pkt);
    if (ret == AVERROR(EAGAIN))
        return fail(EXIT_FAILURE_PROCESSING, "codec", "encoder %s returned no picture", enc->codec->name);
    if (ret < 0)
        return fail_av(EXIT_FAILURE_PROCESSING, ret, "codec", "encoding frame %d with %s", index, enc->codec->name);
    frames_path(j->fs, index, path, sizeof(path));
    if (!strcmp(path, j->fs->input->path)) {
        av_packet_unref(j->pkt);
        return fail(EXIT_MALFORMED_SPEC, "path", "path: \"%s\" would overwrite the input", path);
    }
    ret = write_file(path, j->pkt->data, j->pkt->size);
    av_packet_unref(j->pkt);
    if (ret < 0)
        return -1;
    j->results[j->nb_results].index = index;
    j->results[j->nb_results].t = t;
    j->nb_results++;
    return 0;
}

static double seconds_of(int64_t pts, AVRational tb)
{
    return (double)pts * tb.num / tb.den;
}

int frames_emit(FramesJob *j, AVFrame *f, int index)
{
    AVFrame *in = conform(j, f);
    int ret;

    if (!in)
        return -1;
    errlog_reset();
    ret = av_buffersrc_add_frame_flags(j->src, in, AV_BUFFERSRC_FLAG_KEEP_REF);
    if (ret >= 0)
        ret = av_buffersink_get_frame(j->sink, j->filtered);
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
        return fail(EXIT_FAILURE_PROCESSING, NULL, "internal error: the frames graph kept a frame");
    if (ret < 0)
        return fail_av(EXIT_FAILURE_PROCESSING, ret, j->fs->scale ? "scale" : NULL, "converting frame %d", index);
    ret = write_frame(j, j->filtered, index, seconds_of(f->pts, j->st->time_base));
    av_frame_unref(j->filtered);
    return ret;
}

int frames_filter(FramesJob *j, AVFrame *f)
{
    AVRational tb = av_buffersink_get_time_base(j->sink);
    int ret;

    errlog_reset();
    if (f) {
        AVFrame *in = conform(j, f);
        if (!in)
            return -1;
        ret = av_buffersrc_add_frame_flags(j->src, in, AV_BUFFERSRC_FLAG_KEEP_REF);
    } else {
        ret = av_buffersrc_add_frame(j->src, NULL);
    }
    if (ret < 0 && ret != AVERROR_EOF)
        return fail_av(EXIT_FAILURE_PROCESSING, ret, NULL, "filtering");
    for (;;) {
        errlog_reset();
        ret = av_buffersink_get_frame(j->sink, j->filtered);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0)
            return fail_av(EXIT_FAILURE_PROCESSING, ret, NULL, "filtering");
        ret = write_frame(j, j->filtered, j->nb_results + 1,
                          j->filtered->pts == AV_NOPTS_VALUE ? NAN : seconds_of(j->filtered->pts, tb));
        av_frame_unref(j->filtered);
        if (ret < 0)
            return -1;
        if (j->nb_results >= j->fs->count)
            return 1;
    }
}

/* ------------------------------------------------------------------ op */

static const AVCodec *find_encoder(const frames_spec *fs)
{
    const AVCodec *codec = NULL;
    switch (fs->codec) {
    case FRAMES_PNG:   codec = avcodec_find_encoder(AV_CODEC_ID_PNG); break;
    case FRAMES_MJPEG: codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG); break;
    case FRAMES_WEBP:
        if (!(codec = avcodec_find_encoder_by_name("libwebp")))
            fail_kind(EXIT_FAILURE_PROCESSING, ERR_UNSUPPORTED, "codec",
                      "codec: \"webp\" needs the libwebp encoder, which this engine build (the lean profile) does not "
                 "include; use \"png\" or \"mjpeg\", or an engine built with libwebp (the full profile)");
        return codec;
    }
    if (!codec)
        fail_kind(EXIT_FAILURE_PROCESSING, ERR_UNSUPPORTED, "codec", "codec: this build has no %s encoder",
                  fs->codec == FRAMES_PNG ? "png" : "mjpeg");
    return codec;
}

static int cmp_result(const void *a, const void *b)
{
    const FramesResult *x = a, *y = b;
    return (x->index > y->index) - (x->index < y->index);
}

static void write_result(FramesJob *j, jw *w)
{
    char path[4400];
    qsort(j->results, j->nb_results, sizeof(*j->results), cmp_result);
    jw_obj_begin(w);
    jw_key(w, "frames");
    jw_arr_begin(w);
    for (int i = 0; i < j->nb_results; i++) {
        frames_path(j->fs, j->results[i].index, path, sizeof(path));
        jw_obj_begin(w);
        jw_kstr(w, "path", path);
        jw_kint(w, "index", j->results[i].index);
        jw_kdouble(w, "timestamp", j->results[i].t);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_kint(w, "count", j->nb_results);
    jw_obj_end(w);
}

int op_frames(const job_spec *spec, jw *w)
{
    frames_spec fs;
    FramesJob job;
    FramesJob *j = &job;
    const AVCodec *codec;
    int ret = -1;

    memset(j, 0, sizeof(*j));
    if (frames_spec_parse(spec, &fs) < 0)
        goto end;
    j->fs = &fs;
    if (!(codec = find_encoder(&fs)))
        goto end;
    if (!(j->results = av_calloc(fs.count, sizeof(*j->results))) || !(j->pkt = av_packet_alloc()) ||
        !(j->frame = av_frame_alloc()) || !(j->filtered = av_frame_alloc())) {
        fail_oom(NULL);
        goto end;
    }
    if (open_input(j) < 0 || build_graph(j, codec) < 0 || open_encoder(j, codec) < 0)
        goto end;
    if (fs.select == SELECT_TIMESTAMPS || fs.select == SELECT_INTERVAL)
        ret = frames_select_targets(j);
    else
        ret = frames_select_filtered(j);
    if (ret < 0)
        goto end;
    ret = -1;
    if (!j->nb_results && j->decode_errors) {
        fail(EXIT_FAILURE_PROCESSING, "inputs[0]", "%s: no frame written; %" PRId64 " decoding errors",
             fs.input->path, j->decode_errors);
        goto end;
    }
    if (j->decode_errors)
        av_log(NULL, AV_LOG_WARNING, "%s: %" PRId64 " decoding errors\n", fs.input->path, j->decode_errors);
    write_result(j, w);
    ret = 0;
end:
    avcodec_free_context(&j->enc);
    avfilter_graph_free(&j->graph);
    sws_freeContext(j->sws);
    av_frame_free(&j->conv);
    av_frame_free(&j->frame);
    av_frame_free(&j->filtered);
    av_packet_free(&j->pkt);
    avcodec_free_context(&j->dec);
    avformat_close_input(&j->fmt);
    av_freep(&j->results);
    frames_spec_free(&fs);
    return ret;
}
