/* Output files: muxer, one encoder per mapped graph output, packet writing. */
#include <stdio.h>
#include <string.h>

#include <libavfilter/buffersink.h>
#include <libavutil/avstring.h>

#include "errors.h"
#include "input.h"
#include "process.h"

int outputs_alloc(Job *job)
{
    const job_spec *spec = job->spec;
    for (int i = 0; i < spec->nb_outputs; i++) {
        OutputFile *of = &job->outputs[i];
        const spec_output *so = &spec->outputs[i];
        char url[4200], field[48];
        int ret;

        of->spec = so;
        of->index = i;
        job->nb_outputs = i + 1;
        ret = avformat_alloc_output_context2(&of->oc, NULL, so->format, path_to_url(so->path, url, sizeof(url)));
        if (ret < 0 || !of->oc) {
            if (so->format) {
                snprintf(field, sizeof(field), "outputs[%d].format", i);
                return fail(EXIT_FAILURE_PROCESSING, field, "%s: unknown output format \"%s\"", field, so->format);
            }
            snprintf(field, sizeof(field), "outputs[%d].path", i);
            return fail(EXIT_FAILURE_PROCESSING, field, "%s: cannot tell the output format from \"%s\"; set \"format\"",
                        field, so->path);
        }
    }
    return 0;
}

/* The encoder for one output stream: named in the spec, else the muxer's default. */
static int pick_encoder(OutputFile *of, OutputStream *ost)
{
    int video = ost->type == AVMEDIA_TYPE_VIDEO;
    const char *name = video ? of->spec->video_codec : of->spec->audio_codec;
    const char *key = video ? "video_codec" : "audio_codec";
    const AVOutputFormat *ofmt = of->oc->oformat;
    char field[48];

    snprintf(field, sizeof(field), "outputs[%d].%s", of->index, key);
    if (name) {
        ost->codec = avcodec_find_encoder_by_name(name);
        if (!ost->codec)
            return fail(EXIT_FAILURE_PROCESSING, field, "%s: unknown encoder \"%s\"", field, name);
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
            return fail(EXIT_FAILURE_PROCESSING, field,
                        "%s: this build has no encoder for \"%s\", the default %s codec of output format \"%s\"; set %s",
                        field, avcodec_get_name(id), av_get_media_type_string(ost->type), ofmt->name, key);
    }
    if (avformat_query_codec(ofmt, ost->codec->id, FF_COMPLIANCE_NORMAL) == 0)
        return fail(EXIT_FAILURE_PROCESSING, field, "%s: output format \"%s\" cannot store codec \"%s\"",
                    field, ofmt->name, avcodec_get_name(ost->codec->id));
    return 0;
}

static int add_stream(Job *job, OutputFile *of, GraphOutput *g)
{
    OutputStream *ost;
    if (g->type != AVMEDIA_TYPE_VIDEO && g->type != AVMEDIA_TYPE_AUDIO)
        return fail(EXIT_MALFORMED_SPEC, "filter", "filter output [%s] is neither video nor audio", g->label);
    ost = &job->ostreams[job->nb_ostreams++];
    ost->of = of;
    ost->label = g->label;
    ost->type = g->type;
    ost->last_pts = AV_NOPTS_VALUE;
    ost->last_us = INT64_MIN;
    g->ost = ost;
    of->streams[of->nb_streams++] = ost;
    return pick_encoder(of, ost);
}

int outputs_assign(Job *job)
{
    for (int i = 0; i < job->nb_outputs; i++) {
        OutputFile *of = &job->outputs[i];
        char field[48];
        snprintf(field, sizeof(field), "outputs[%d].map", i);
        if (of->take_all) {
            for (int j = 0; j < job->nb_gout; j++)
                if (add_stream(job, of, &job->gout[j]) < 0)
                    return -1;
            continue;
        }
        for (int k = 0; k < of->nb_labels; k++) {
            GraphOutput *g = NULL;
            for (int j = 0; j < job->nb_gout && !g; j++)
                if (!strcmp(job->gout[j].label, of->labels[k]))
                    g = &job->gout[j];
            if (!g)
                return fail(EXIT_MALFORMED_SPEC, field, "%s: the filter has no output labelled [%s]", field, of->labels[k]);
            if (g->ost)
                return fail(EXIT_MALFORMED_SPEC, field, "%s: [%s] is already mapped to outputs[%d]",
                            field, of->labels[k], g->ost->of->index);
            if (add_stream(job, of, g) < 0)
                return -1;
        }
    }
    for (int j = 0; j < job->nb_gout; j++) {
        if (job->gout[j].ost)
            continue;
        if (job->gout[j].label[0])
            return fail(EXIT_MALFORMED_SPEC, "filter", "filter: output [%s] is not mapped to any output",
                        job->gout[j].label);
        return fail(EXIT_MALFORMED_SPEC, "filter",
                    "filter: an unlabelled filter output needs a single output file; label it and map it");
    }
    return 0;
}

/* Option key `k` stripped of a ":v"/":a" suffix; returns 0 if it does not apply to `type`. */
static int option_applies(const char *k, enum AVMediaType type, char *base, size_t size)
{
    size_t n = strlen(k);
    av_strlcpy(base, k, size);
    if (n > 2 && k[n - 2] == ':' && (k[n - 1] == 'v' || k[n - 1] == 'a')) {
        base[n - 2 < size ? n - 2 : size - 1] = '\0';
        return (k[n - 1] == 'v') == (type == AVMEDIA_TYPE_VIDEO);
    }
    return 1;
}

static int open_encoder(Job *job, OutputStream *ost, unsigned char *consumed)
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
        return fail(EXIT_FAILURE_PROCESSING, NULL, "out of memory");
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
        if (option_applies(e->key, ost->type, base, sizeof(base)) && av_dict_set(&opts, base, e->value, 0) < 0) {
            av_dict_free(&opts);
            return fail(EXIT_FAILURE_PROCESSING, NULL, "out of memory");
        }
    }
    errlog_reset();
    ret = avcodec_open2(enc, ost->codec, &opts);
    if (ret < 0) {
        av_dict_free(&opts);
        return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "opening encoder %s for [%s]", ost->codec->name, ost->label);
    }
    /* An option counts as used if some encoder it was given took it. */
    e = NULL;
    for (int i = 0; (e = av_dict_iterate(of->spec->options, e)); i++)
        if (option_applies(e->key, ost->type, base, sizeof(base)) && !av_dict_get(opts, base, NULL, AV_DICT_MATCH_CASE))
            consumed[i] = 1;
    av_dict_free(&opts);

    if (ost->type == AVMEDIA_TYPE_AUDIO && !(ost->codec->capabilities & AV_CODEC_CAP_VARIABLE_FRAME_SIZE) &&
        enc->frame_size > 0)
        av_buffersink_set_frame_size(sink, enc->frame_size);

    if (!(ost->st = avformat_new_stream(of->oc, NULL)))
        return fail(EXIT_FAILURE_PROCESSING, NULL, "out of memory");
    if ((ret = avcodec_parameters_from_context(ost->st->codecpar, enc)) < 0)
        return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "stream parameters of [%s]", ost->label);
    ost->st->time_base = enc->time_base;
    if (ost->type == AVMEDIA_TYPE_VIDEO) {
        ost->st->avg_frame_rate = enc->framerate;
        ost->st->sample_aspect_ratio = enc->sample_aspect_ratio;
    }
    return 0;
}

static int open_file(OutputFile *of)
{
    AVFormatContext *oc = of->oc;
    AVDictionary *opts = NULL;
    char url[4200], field[48];
    int ret;

    if (!(oc->oformat->flags & AVFMT_NOFILE)) {
        if (av_dict_set(&opts, "protocol_whitelist", "file", 0) < 0)
            return fail(EXIT_FAILURE_PROCESSING, NULL, "out of memory");
        errlog_reset();
        ret = avio_open2(&oc->pb, path_to_url(of->spec->path, url, sizeof(url)), AVIO_FLAG_WRITE, NULL, &opts);
        av_dict_free(&opts);
        if (ret < 0) {
            snprintf(field, sizeof(field), "outputs[%d].path", of->index);
            return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "%s", of->spec->path);
        }
    }
    /* Nested files (segments, playlists) are opened with the same restriction. */
    if (av_dict_copy(&opts, of->spec->format_options, 0) < 0 ||
        av_dict_set(&opts, "protocol_whitelist", "file", 0) < 0) {
        av_dict_free(&opts);
        return fail(EXIT_FAILURE_PROCESSING, NULL, "out of memory");
    }
    errlog_reset();
    ret = avformat_write_header(oc, &opts); /* may return 1 on success */
    if (ret < 0) {
        av_dict_free(&opts);
        snprintf(field, sizeof(field), "outputs[%d]", of->index);
        return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "%s: writing the header", of->spec->path);
    }
    snprintf(field, sizeof(field), "outputs[%d].format_options", of->index);
    ret = leftover_option(opts, field);
    av_dict_free(&opts);
    return ret;
}

int outputs_open(Job *job)
{
    for (int i = 0; i < job->nb_outputs; i++) {
        OutputFile *of = &job->outputs[i];
        unsigned char consumed[256] = { 0 };
        const AVDictionaryEntry *e = NULL;
        char field[48];

        snprintf(field, sizeof(field), "outputs[%d].options", i);
        if (av_dict_count(of->spec->options) > (int)sizeof(consumed))
            return fail(EXIT_MALFORMED_SPEC, field, "%s: more than %d options", field, (int)sizeof(consumed));
        for (int j = 0; j < of->nb_streams; j++)
            if (open_encoder(job, of->streams[j], consumed) < 0)
                return -1;
        for (int k = 0; (e = av_dict_iterate(of->spec->options, e)); k++)
            if (!consumed[k])
                return fail(EXIT_MALFORMED_SPEC, field, "%s: unknown key \"%s\" (no encoder of this output uses it)",
                            field, e->key);
        if (open_file(of) < 0)
            return -1;
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
        pkt->stream_index = ost->st->index;
        /* mp4 and others drop a last packet without a duration. */
        if (pkt->duration <= 0) {
            if (ost->type == AVMEDIA_TYPE_VIDEO && enc->framerate.num > 0)
                pkt->duration = av_rescale_q(1, av_inv_q(enc->framerate), enc->time_base);
            else if (ost->type == AVMEDIA_TYPE_AUDIO && enc->frame_size > 0)
                pkt->duration = enc->frame_size; /* time base is 1/sample_rate */
        }
        av_packet_rescale_ts(pkt, enc->time_base, ost->st->time_base);
        ret = av_interleaved_write_frame(ost->of->oc, pkt);
        if (ret < 0)
            return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "%s: writing a packet", ost->of->spec->path);
    }
}

int output_encode(Job *job, OutputStream *ost, AVFrame *frame)
{
    AVCodecContext *enc = ost->enc;
    int ret;

    errlog_reset(); /* a failure below should carry the encoder's or muxer's reason */
    if (frame) {
        AVRational tb = av_buffersink_get_time_base(ost->sink);
        /* av_rescale_q() answers INT64_MIN (AV_NOPTS_VALUE) when the result does not fit. */
        int64_t pts = frame->pts == AV_NOPTS_VALUE ? AV_NOPTS_VALUE : av_rescale_q(frame->pts, tb, enc->time_base);
        if (pts == AV_NOPTS_VALUE)
            pts = ost->next_pts;
        if (ost->type == AVMEDIA_TYPE_VIDEO) {
            /* Variable-rate input on a 1/fps time base can round two frames to
             * one timestamp; keep the first (like ffmpeg -fps_mode vfr). */
            if (ost->last_pts != AV_NOPTS_VALUE && pts <= ost->last_pts) {
                ost->dropped++;
                return 0;
            }
            ost->last_pts = pts;
            frame->duration = frame->duration > 0 ? FFMAX(av_rescale_q(frame->duration, tb, enc->time_base), 0) : 0;
            /* A decoded frame's type would force keyframes at the source's. */
            frame->pict_type = AV_PICTURE_TYPE_NONE;
            ost->next_pts = ts_add(pts, 1);
        } else {
            /* Audio that steps back in time (broken input timestamps) would make
             * the muxer refuse its packets: play it on from where the last frame ended. */
            if (ost->last_pts != AV_NOPTS_VALUE && pts < ost->next_pts)
                pts = ost->next_pts;
            ost->last_pts = pts;
            frame->duration = frame->nb_samples;
            ost->next_pts = ts_add(pts, frame->nb_samples);
        }
        frame->pts = pts;
        frame->time_base = enc->time_base;
    }
    ret = avcodec_send_frame(enc, frame);
    if (ret < 0 && ret != AVERROR_EOF) {
        char field[48];
        snprintf(field, sizeof(field), "outputs[%d]", ost->of->index);
        return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "encoding [%s] with %s", ost->label, enc->codec->name);
    }
    return write_packets(ost, job->pkt);
}

int outputs_finish(Job *job)
{
    for (int i = 0; i < job->nb_outputs; i++) {
        OutputFile *of = &job->outputs[i];
        char field[48];
        int ret;
        snprintf(field, sizeof(field), "outputs[%d]", i);
        errlog_reset();
        ret = av_write_trailer(of->oc);
        if (ret < 0)
            return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "%s: finishing the file", of->spec->path);
        if (!(of->oc->oformat->flags & AVFMT_NOFILE) && (ret = avio_closep(&of->oc->pb)) < 0)
            return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "%s: closing the file", of->spec->path);
    }
    return 0;
}

void outputs_free(Job *job)
{
    for (int i = 0; i < job->nb_ostreams; i++)
        avcodec_free_context(&job->ostreams[i].enc);
    for (int i = 0; i < job->nb_outputs; i++) {
        AVFormatContext *oc = job->outputs[i].oc;
        if (!oc)
            continue;
        if (!(oc->oformat->flags & AVFMT_NOFILE))
            avio_closep(&oc->pb);
        avformat_free_context(oc);
        job->outputs[i].oc = NULL;
    }
}
