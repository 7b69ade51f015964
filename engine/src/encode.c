/* Output streams encoded from a graph output: the encoder, frames through the
 * output's window, and packets to the muxer. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavfilter/buffersink.h>
#include <libavutil/avstring.h>

#include "errors.h"
#include "process.h"

/* The encoder for one output stream: named in the spec, else the muxer's default. */
int encode_pick(OutputFile *of, OutputStream *ost)
{
    int video = ost->type == AVMEDIA_TYPE_VIDEO;
    const char *name = video ? of->spec->video_codec : of->spec->audio_codec;
    const char *key = video ? "video_codec" : "audio_codec";
    const AVOutputFormat *ofmt = of->oc->oformat;
    char field[48];

    snprintf(field, sizeof(field), "outputs[%d].%s", of->index, key);
    if (codec_is_copy(name))
        return fail(EXIT_MALFORMED_SPEC, field,
                    "%s: \"copy\" applies to input streams (unbracketed map entries like \"0:v\"); "
                    "filter output [%s] is encoded", field, ost->label);
    if (name) {
        ost->codec = avcodec_find_encoder_by_name(name);
        /* libx264 is GPL: the LGPL module cannot have it, so say which module does. */
        if (!ost->codec && !strcmp(name, "libx264") && !strncmp(avcodec_license(), "LGPL", 4))
            return fail_kind(EXIT_FAILURE_PROCESSING, ERR_UNSUPPORTED, field,
                             "%s: unknown encoder \"libx264\": libx264 is only in the GPL engine variant "
                             "(afmpeg-engine-gpl.wasm); this module is the LGPL variant (H.264 encoder: libopenh264)",
                             field);
        if (!ost->codec)
            return fail_kind(EXIT_FAILURE_PROCESSING, ERR_UNSUPPORTED, field, "%s: unknown encoder \"%s\"", field,
                             name);
        if (ost->codec->type != ost->type)
            return fail(EXIT_MALFORMED_SPEC, field, "%s: \"%s\" is not a %s encoder", field, name,
                        av_get_media_type_string(ost->type));
    } else {
        enum AVCodecID id = av_guess_codec(ofmt, NULL, of->spec->path, NULL, ost->type);
        if (id == AV_CODEC_ID_NONE)
            return fail(EXIT_FAILURE_PROCESSING, field, "%s: output format \"%s\" has no default %s codec; set %s",
                        field, ofmt->name, av_get_media_type_string(ost->type), key);
        ost->codec = avcodec_find_encoder(id);
        /* The null muxer's default (wrapped_avframe) may not be built in; raw
         * video costs one copy per frame and is discarded all the same. */
        if (!ost->codec && id == AV_CODEC_ID_WRAPPED_AVFRAME)
            ost->codec = avcodec_find_encoder(AV_CODEC_ID_RAWVIDEO);
        if (!ost->codec)
            return fail_kind(EXIT_FAILURE_PROCESSING, ERR_UNSUPPORTED, field,
                             "%s: this build has no encoder for \"%s\", the default %s codec of output format \"%s\"; set %s",
                             field, avcodec_get_name(id), av_get_media_type_string(ost->type), ofmt->name, key);
    }
    if (avformat_query_codec(ofmt, ost->codec->id, FF_COMPLIANCE_NORMAL) == 0)
        return fail_kind(EXIT_FAILURE_PROCESSING, ERR_UNSUPPORTED, field,
                         "%s: output format \"%s\" cannot store codec \"%s\"", field, ofmt->name,
                         avcodec_get_name(ost->codec->id));
    return 0;
}

/* "qscale" in an output's options: a fixed quantiser, like ffmpeg's -q:v / -q:a
 * (-qscale). It is no AVOption but the CLI's shorthand for the "qscale" flag
 * plus global_quality = FF_QP2LAMBDA * q; video frames then carry it as their
 * quality (encode_frame), which is what mpegvideo encoders (mjpeg, mpeg4, ...)
 * quantise with. Taken out of `opts`. */
static int apply_qscale(OutputStream *ost, AVDictionary **opts)
{
    const AVDictionaryEntry *q = av_dict_get(*opts, "qscale", NULL, AV_DICT_MATCH_CASE);
    char field[48], *end;
    double v;

    if (!q)
        return 0;
    snprintf(field, sizeof(field), "outputs[%d].options", ost->of->index);
    if (av_dict_get(*opts, "global_quality", NULL, AV_DICT_MATCH_CASE))
        return fail(EXIT_MALFORMED_SPEC, field,
                    "%s: \"qscale\" and \"global_quality\" both set the quality of [%s]; use one", field, ost->label);
    v = strtod(q->value, &end);
    if (end == q->value || *end || !isfinite(v) || v < 0 || v > INT_MAX / FF_QP2LAMBDA)
        return fail(EXIT_MALFORMED_SPEC, field, "%s: qscale must be a number from 0 to %d (got \"%s\")", field,
                    INT_MAX / FF_QP2LAMBDA, q->value);
    ost->enc->flags |= AV_CODEC_FLAG_QSCALE;
    ost->enc->global_quality = (int)(FF_QP2LAMBDA * v); /* truncated, as ffmpeg does */
    return av_dict_set(opts, "qscale", NULL, 0) < 0 ? fail_oom(NULL) : 0;
}

int encode_open(Job *job, OutputStream *ost, unsigned char *consumed)
{
    OutputFile *of = ost->of;
    AVFilterContext *sink = ost->sink;
    AVCodecContext *enc;
    AVDictionary *opts = NULL;
    const AVDictionaryEntry *e = NULL;
    char field[48], base[256];
    int ret;

    snprintf(field, sizeof(field), "outputs[%d]", of->index);
    if (!(enc = ost->enc = avcodec_alloc_context3(ost->codec)))
        return fail_oom(NULL);
    enc->thread_count = 1; /* the module is single-threaded */
    if (ost->type == AVMEDIA_TYPE_VIDEO) {
        AVRational fr = av_buffersink_get_frame_rate(sink);
        enc->width = av_buffersink_get_w(sink);
        enc->height = av_buffersink_get_h(sink);
        enc->pix_fmt = av_buffersink_get_format(sink);
        enc->sample_aspect_ratio = av_buffersink_get_sample_aspect_ratio(sink);
        enc->colorspace = av_buffersink_get_colorspace(sink);
        enc->color_range = av_buffersink_get_color_range(sink);
        if (fr.num > 0 && fr.den > 0) {
            enc->framerate = fr;
            enc->time_base = av_inv_q(fr);
        } else {
            enc->time_base = av_buffersink_get_time_base(sink);
        }
    } else {
        enc->sample_fmt = av_buffersink_get_format(sink);
        enc->sample_rate = av_buffersink_get_sample_rate(sink);
        if ((ret = av_buffersink_get_ch_layout(sink, &enc->ch_layout)) < 0)
            return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "channel layout of [%s]", ost->label);
        enc->time_base = (AVRational){ 1, enc->sample_rate };
    }
    if (of->oc->oformat->flags & AVFMT_GLOBALHEADER)
        enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;

    while ((e = av_dict_iterate(of->spec->options, e))) {
        if (spec_option_applies(e->key, ost->type, base, sizeof(base)) && av_dict_set(&opts, base, e->value, 0) < 0) {
            av_dict_free(&opts);
            return fail_oom(NULL);
        }
    }
    if (apply_qscale(ost, &opts) < 0) {
        av_dict_free(&opts);
        return -1;
    }
    errlog_reset();
    ret = avcodec_open2(enc, ost->codec, &opts);
    if (ret < 0) {
        av_dict_free(&opts);
        return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "opening encoder %s for [%s]", ost->codec->name, ost->label);
    }
    /* Frames carry their durations (set in encode_frame, in the encoder's time
     * base): packets get them, so a padded last audio frame ends where the
     * audio does (ffmpeg sets this flag too). Read at each send, so setting it
     * after the options cannot be undone by an absolute "flags" value. */
    enc->flags |= AV_CODEC_FLAG_FRAME_DURATION;
    /* An option counts as used if some encoder it was given took it. */
    e = NULL;
    for (int i = 0; (e = av_dict_iterate(of->spec->options, e)); i++)
        if (spec_option_applies(e->key, ost->type, base, sizeof(base)) && !av_dict_get(opts, base, NULL, AV_DICT_MATCH_CASE))
            consumed[i] = 1;
    av_dict_free(&opts);

    if (ost->type == AVMEDIA_TYPE_AUDIO && !(ost->codec->capabilities & AV_CODEC_CAP_VARIABLE_FRAME_SIZE) &&
        enc->frame_size > 0)
        av_buffersink_set_frame_size(sink, enc->frame_size);

    if (!(ost->st = avformat_new_stream(of->oc, NULL)))
        return fail_oom(NULL);
    if ((ret = avcodec_parameters_from_context(ost->st->codecpar, enc)) < 0)
        return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "stream parameters of [%s]", ost->label);
    ost->st->time_base = enc->time_base;
    if (ost->file >= 0) { /* as ffmpeg: the source's estimated duration, a hint for the muxer (avi sizes its index) */
        const AVStream *ist = job->inputs[ost->file].fmt->streams[ost->stream];
        if (ist->duration > 0)
            ost->st->duration = ts_rescale(ist->duration, ist->time_base, ost->st->time_base);
    }
    if (ost->type == AVMEDIA_TYPE_VIDEO) {
        ost->st->avg_frame_rate = enc->framerate;
        ost->st->sample_aspect_ratio = enc->sample_aspect_ratio;
    }
    return 0;
}

static int write_packets(OutputStream *ost, AVPacket *pkt)
{
    AVCodecContext *enc = ost->enc;
    char field[48];
    int ret;

    snprintf(field, sizeof(field), "outputs[%d]", ost->of->index);
    for (;;) {
        ret = avcodec_receive_packet(enc, pkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0)
            return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "encoding [%s] with %s", ost->label, enc->codec->name);
        /* mp4 and others drop a last packet without a duration. */
        if (pkt->duration <= 0) {
            if (ost->type == AVMEDIA_TYPE_VIDEO && enc->framerate.num > 0)
                pkt->duration = av_rescale_q(1, av_inv_q(enc->framerate), enc->time_base);
            else if (ost->type == AVMEDIA_TYPE_AUDIO && enc->frame_size > 0)
                pkt->duration = enc->frame_size; /* time base is 1/sample_rate */
        }
        if (output_write(ost, pkt, enc->time_base) < 0)
            return -1;
    }
}

static int send_frame(Job *job, OutputStream *ost, AVFrame *frame)
{
    int ret;
    errlog_reset(); /* a failure below should carry the encoder's or muxer's reason */
    ret = avcodec_send_frame(ost->enc, frame);
    if (ret < 0 && ret != AVERROR_EOF) {
        char field[48];
        snprintf(field, sizeof(field), "outputs[%d]", ost->of->index);
        return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "encoding [%s] with %s", ost->label,
                       ost->enc->codec->name);
    }
    return write_packets(ost, job->out_pkt);
}

int encode_finish(Job *job, OutputStream *ost)
{
    if (ost->finished)
        return 0;
    ost->finished = 1;
    if (ost->dropped)
        av_log(NULL, AV_LOG_WARNING, "[%s]: dropped %" PRId64 " frames that had the timestamp of the frame before\n",
               ost->label, ost->dropped);
    return send_frame(job, ost, NULL);
}

/* Cut an audio frame at the window end (pts and end in samples). Returns 0
 * (the window has room after it), 1 (it fills the window) or 2 (it starts
 * past the end: drop it). A cut frame is the last one sent, so an encoder
 * with a fixed frame size takes it too (libavcodec pads a short last frame
 * with silence and gives its packet the frame's real duration). */
static int cut_audio(AVFrame *frame, int64_t pts, int64_t end)
{
    int64_t left = ts_sub(end, pts);
    if (left <= 0)
        return 2;
    if (left < frame->nb_samples) {
        frame->nb_samples = (int)left;
        return 1;
    }
    return left == frame->nb_samples;
}

/* The stream's field order, known from the first frame as ffmpeg knows it,
 * for the muxer (whose header waits for it, output.c). The encoder, already
 * open, keeps what it was opened with: some read it at init (avui's extradata)
 * and again per frame, and must not see it change. */
static void tag_field_order(OutputStream *ost, const AVFrame *frame)
{
    const AVCodecContext *enc = ost->enc;
    enum AVFieldOrder fo = AV_FIELD_PROGRESSIVE;
    if ((enc->flags & (AV_CODEC_FLAG_INTERLACED_DCT | AV_CODEC_FLAG_INTERLACED_ME)) ||
        (frame->flags & AV_FRAME_FLAG_INTERLACED)) {
        int tff = !!(frame->flags & AV_FRAME_FLAG_TOP_FIELD_FIRST);
        fo = enc->codec_id == AV_CODEC_ID_MJPEG ? (tff ? AV_FIELD_TT : AV_FIELD_BB) : (tff ? AV_FIELD_TB : AV_FIELD_BT);
    }
    if (ost->st->codecpar->field_order == AV_FIELD_UNKNOWN)
        ost->st->codecpar->field_order = fo;
}

/* Whether sink time `ts` (+ `dur`) reaches the window end `end` (microseconds), exactly. */
static int reaches(int64_t ts, int64_t dur, AVRational tb, int64_t end)
{
    return end != INT64_MAX && av_compare_ts(ts_add(ts, dur), tb, end, AV_TIME_BASE_Q) >= 0;
}

int encode_frame(Job *job, OutputStream *ost, AVFrame *frame)
{
    AVCodecContext *enc = ost->enc;
    AVRational tb = av_buffersink_get_time_base(ost->sink);
    int64_t end = window_end(job, ost), shift = ts_rescale(window_shift(job, ost), AV_TIME_BASE_Q, enc->time_base);
    int64_t pts;
    int full = 0, ret;

    if (ost->finished)
        return 0;
    if (ost->max_frames >= 0 && ost->frames_sent >= ost->max_frames)
        return encode_finish(job, ost);
    if (frame->pts == AV_NOPTS_VALUE) {
        pts = ts_sub(ost->next_pts, shift); /* follows the last frame */
        if (reaches(pts, 0, enc->time_base, end))
            return encode_finish(job, ost);
    } else {
        if (reaches(frame->pts, 0, tb, end))
            return encode_finish(job, ost);
        pts = ts_rescale(frame->pts, tb, enc->time_base);
    }
    ost->last_us = ts_rescale(pts, enc->time_base, AV_TIME_BASE_Q);
    pts = ts_add(pts, shift); /* copy_ts */

    if (ost->type == AVMEDIA_TYPE_VIDEO) {
        /* Variable-rate input on a 1/fps time base can round two frames to
         * one timestamp; keep the first (like ffmpeg -fps_mode vfr). */
        if (ost->last_pts != AV_NOPTS_VALUE && pts <= ost->last_pts) {
            ost->dropped++;
            return 0;
        }
        full = frame->pts != AV_NOPTS_VALUE && frame->duration > 0 && reaches(frame->pts, frame->duration, tb, end);
        ost->last_pts = pts;
        frame->duration = frame->duration > 0 ? FFMAX(ts_rescale(frame->duration, tb, enc->time_base), 0) : 0;
        /* A decoded frame's type would force keyframes at the source's. */
        frame->pict_type = AV_PICTURE_TYPE_NONE;
        /* With the "qscale" flag, mpegvideo encoders quantise each frame with
         * its quality: give it global_quality (as ffmpeg does for every frame). */
        frame->quality = enc->global_quality;
        ost->next_pts = ts_add(pts, 1);
        if (!ost->frames_sent)
            tag_field_order(ost, frame);
    } else {
        /* Audio that steps back in time (broken input timestamps) would make
         * the muxer refuse its packets: play it on from where the last frame ended. */
        if (ost->last_pts != AV_NOPTS_VALUE && pts < ost->next_pts)
            pts = ost->next_pts;
        /* The time base is 1/sample_rate: cut to the sample. */
        if (end != INT64_MAX &&
            (full = cut_audio(frame, pts, ts_add(ts_rescale(end, AV_TIME_BASE_Q, enc->time_base), shift))) == 2)
            return encode_finish(job, ost);
        ost->last_pts = pts;
        frame->duration = frame->nb_samples;
        ost->next_pts = ts_add(pts, frame->nb_samples);
    }
    frame->pts = pts;
    frame->time_base = enc->time_base;
    if ((ret = send_frame(job, ost, frame)) < 0)
        return ret;
    ost->frames_sent++;
    return full || (ost->max_frames >= 0 && ost->frames_sent >= ost->max_frames) ? encode_finish(job, ost) : 0;
}
