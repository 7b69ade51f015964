/* Decoders: packets of the streams the graph uses become frames on the job's
 * timeline, pushed into every buffer source the stream feeds. */
#include <stdio.h>

#include <libavfilter/buffersrc.h>
#include <libavutil/samplefmt.h>

#include "errors.h"
#include "input.h"
#include "process.h"

int input_stream_open_decoder(Job *job, int file, int stream)
{
    InputStream *ist = &job->inputs[file].streams[stream];
    const char *path = job->spec->inputs[file].name;
    AVRational tb = ist->st->time_base;
    const AVCodec *codec;
    AVDictionary *opts;
    char field[32];
    int ret;

    if (ist->dec)
        return 0;
    snprintf(field, sizeof(field), "inputs[%d]", file);
    if (ist->st->codecpar->codec_id == AV_CODEC_ID_NONE)
        return fail_kind(EXIT_FAILURE_PROCESSING, ERR_UNSUPPORTED, field, "%s: stream %d: unknown codec", path, stream);
    {
        const spec_input *in = &job->spec->inputs[file];
        const char *forced = ist->st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO ? in->video_codec
                           : ist->st->codecpar->codec_type == AVMEDIA_TYPE_AUDIO ? in->audio_codec : NULL;
        codec = forced ? avcodec_find_decoder_by_name(forced) : avcodec_find_decoder(ist->st->codecpar->codec_id);
    }
    if (!codec)
        return fail_kind(EXIT_FAILURE_PROCESSING, ERR_UNSUPPORTED, field,
                         "%s: stream %d: this build has no decoder for codec \"%s\"", path, stream,
                         avcodec_get_name(ist->st->codecpar->codec_id));
    /* Timestamps are rescaled from it; libavformat normally guarantees one. */
    if (tb.num <= 0 || tb.den <= 0)
        return fail(EXIT_FAILURE_PROCESSING, field, "%s: stream %d: invalid time base %d/%d",
                    path, stream, tb.num, tb.den);
    if (!(ist->dec = avcodec_alloc_context3(codec)) ||
        !(opts = decoder_options_for(&job->spec->inputs[file], ist->st->codecpar->codec_type)))
        return fail_oom(NULL);
    if ((ret = avcodec_parameters_to_context(ist->dec, ist->st->codecpar)) < 0) {
        av_dict_free(&opts);
        return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "%s: stream %d", path, stream);
    }
    ist->dec->pkt_timebase = tb;
    errlog_reset();
    ret = avcodec_open2(ist->dec, codec, &opts);
    decoder_options_used(&job->spec->inputs[file], ist->st->codecpar->codec_type, opts, job->inputs[file].dec_used);
    av_dict_free(&opts);
    if (ret < 0)
        return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "%s: stream %d: opening decoder %s",
                       path, stream, codec->name);
    if (ist->dec->codec_type == AVMEDIA_TYPE_VIDEO) {
        ist->w = ist->dec->width;
        ist->h = ist->dec->height;
        ist->pix_fmt = ist->dec->pix_fmt;
        if (ist->w <= 0 || ist->h <= 0 || ist->pix_fmt == AV_PIX_FMT_NONE)
            return fail_kind(EXIT_FAILURE_PROCESSING, ERR_INVALID_DATA, field,
                             "%s: stream %d: unknown picture size or pixel format "
                             "(nothing could be decoded while probing)", path, stream);
    } else if (ist->dec->sample_rate <= 0 || ist->dec->ch_layout.nb_channels <= 0 ||
               ist->dec->sample_fmt == AV_SAMPLE_FMT_NONE) {
        return fail_kind(EXIT_FAILURE_PROCESSING, ERR_INVALID_DATA, field,
                         "%s: stream %d: unknown sample rate, channels or sample format", path, stream);
    }
    return 0;
}

/* After a seek, the timeline starts at 0: video frames before it are dropped,
 * audio is cut to the sample. Returns 1 to push `*f` (maybe replaced by
 * ist->conv), 0 to drop it, <0 on error. */
static int trim_start(InputStream *ist, AVFrame **f)
{
    AVFrame *frame = *f, *cut;
    AVRational tb = frame->time_base;
    int64_t skip;
    int ret;

    if (frame->pts >= 0)
        return 1;
    if (ist->dec->codec_type == AVMEDIA_TYPE_VIDEO || frame->sample_rate <= 0)
        return 0;
    skip = av_rescale_q_rnd(-frame->pts, tb, (AVRational){ 1, frame->sample_rate }, AV_ROUND_NEAR_INF);
    if (skip >= frame->nb_samples)
        return 0;
    if (skip <= 0) {
        frame->pts = 0;
        return 1;
    }
    if (!ist->conv && !(ist->conv = av_frame_alloc()))
        return AVERROR(ENOMEM);
    cut = ist->conv;
    av_frame_unref(cut);
    cut->format = frame->format;
    cut->sample_rate = frame->sample_rate;
    cut->nb_samples = frame->nb_samples - (int)skip;
    if ((ret = av_channel_layout_copy(&cut->ch_layout, &frame->ch_layout)) < 0 ||
        (ret = av_frame_get_buffer(cut, 0)) < 0 ||
        (ret = av_frame_copy_props(cut, frame)) < 0)
        return ret;
    av_samples_copy(cut->extended_data, frame->extended_data, 0, (int)skip, cut->nb_samples,
                    frame->ch_layout.nb_channels, frame->format);
    cut->pts = 0;
    cut->duration = av_rescale_q(cut->nb_samples, (AVRational){ 1, frame->sample_rate }, tb);
    *f = cut;
    return 1;
}

/* Hand a decoded frame to every buffer source the stream feeds. */
static int push_frame(Job *job, int file, InputStream *ist, AVFrame *frame)
{
    InputFile *in = &job->inputs[file];
    AVRational tb = ist->st->time_base;
    AVFrame *f = frame;
    int ret;

    int64_t pts = frame->best_effort_timestamp;
    if (pts != AV_NOPTS_VALUE && in->ts_offset)
        pts = ts_sub(pts, ts_rescale(in->ts_offset, AV_TIME_BASE_Q, tb));
    if (ist->dec->codec_type == AVMEDIA_TYPE_AUDIO) {
        /* Counted in samples, as ffmpeg does: a container's coarse timestamps
         * (mkv's milliseconds) would otherwise make contiguous audio jitter. */
        AVRational tb_s = { 1, ist->dec->sample_rate };
        if (pts == AV_NOPTS_VALUE) {
            pts = ist->next_pts == AV_NOPTS_VALUE ? 0 : ist->next_pts;
        } else {
            /* A gap (not rounding) starts the contiguous count anew. */
            if (ist->next_pts != AV_NOPTS_VALUE &&
                pts > av_rescale_q_rnd(ist->next_pts, tb_s, tb, AV_ROUND_UP | AV_ROUND_PASS_MINMAX))
                ist->rescale_last = AV_NOPTS_VALUE;
            /* av_rescale_delta doubles timestamps: keep untrusted ones in range */
            pts = av_rescale_delta(tb, av_clip64(pts, -(INT64_C(1) << 61), INT64_C(1) << 61), tb_s,
                                   frame->nb_samples, &ist->rescale_last, tb_s);
        }
        frame->pts = pts;
        frame->time_base = tb_s;
        frame->duration = frame->nb_samples;
        ist->next_pts = ts_add(pts, frame->nb_samples);
    } else {
        if (pts == AV_NOPTS_VALUE)
            pts = ist->next_pts == AV_NOPTS_VALUE ? 0 : ist->next_pts;
        frame->pts = pts;
        frame->time_base = tb;
        if (frame->duration > 0)
            ist->next_pts = ts_add(pts, frame->duration);
    }
    ist->frames++;

    if (in->trim_start && (ret = trim_start(ist, &f)) <= 0) {
        av_frame_unref(frame);
        return ret < 0 ? fail_av(EXIT_FAILURE_PROCESSING, ret, "filter", "cutting input %d stream %d at the seek point",
                                 file, ist->st->index) : 0;
    }
    if (ist->dec->codec_type == AVMEDIA_TYPE_VIDEO &&
        (frame->width != ist->w || frame->height != ist->h || frame->format != ist->pix_fmt)) {
        /* The graph was configured for the first size/format; filters assume it. */
        if (!ist->sws) {
            av_log(NULL, AV_LOG_WARNING, "input %d stream %d changes to %dx%d mid-stream; converting to %dx%d\n",
                   file, ist->st->index, frame->width, frame->height, ist->w, ist->h);
            if ((!ist->conv && !(ist->conv = av_frame_alloc())) || !(ist->sws = sws_alloc_context()))
                return fail_oom(NULL);
        }
        av_frame_unref(ist->conv);
        ist->conv->width = ist->w;
        ist->conv->height = ist->h;
        ist->conv->format = ist->pix_fmt;
        if ((ret = av_frame_get_buffer(ist->conv, 0)) < 0 ||
            (ret = sws_scale_frame(ist->sws, ist->conv, frame)) < 0 ||
            (ret = av_frame_copy_props(ist->conv, frame)) < 0)
            return fail_av(EXIT_FAILURE_PROCESSING, ret, "filter", "converting input %d stream %d", file, ist->st->index);
        f = ist->conv;
    }
    for (int i = 0; i < ist->nb_src; i++) {
        errlog_reset();
        /* PUSH: the frame travels through the graph now, so the sinks can be
         * drained after every packet and nothing piles up in the graph. */
        ret = av_buffersrc_add_frame_flags(ist->src[i], f, AV_BUFFERSRC_FLAG_KEEP_REF | AV_BUFFERSRC_FLAG_PUSH);
        if (ret < 0 && ret != AVERROR_EOF) /* EOF: that branch of the graph is done */
            return fail_av(EXIT_FAILURE_PROCESSING, ret, "filter", "filtering input %d stream %d",
                           file, ist->st->index);
    }
    av_frame_unref(frame);
    if (f != frame)
        av_frame_unref(f);
    return 0;
}

/* Decode one packet (NULL: drain at end of file) and push what comes out.
 * Corrupt data is counted and skipped, as ffmpeg does, but the decoder is still
 * drained after an error: frames left in it would be lost at end of file or make
 * it refuse the next packet with EAGAIN. Running out of memory is not corrupt
 * data: it fails the job instead of silently dropping frames. */
int decode_packet(Job *job, int file, InputStream *ist, const AVPacket *pkt)
{
    char field[32];
    int ret = avcodec_send_packet(ist->dec, pkt);
    if (ret == AVERROR(ENOMEM))
        goto nomem;
    if (ret < 0 && ret != AVERROR_EOF)
        ist->decode_errors++;
    /* libavcodec consumes the packet on each error; the cap is a backstop. */
    for (int errors = 0; errors < 1000;) {
        ret = avcodec_receive_frame(ist->dec, job->frame);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret == AVERROR(ENOMEM))
            goto nomem;
        if (ret < 0) {
            ist->decode_errors++;
            errors++;
            continue;
        }
        if (push_frame(job, file, ist, job->frame) < 0)
            return -1;
    }
    return 0;
nomem:
    snprintf(field, sizeof(field), "inputs[%d]", file);
    return fail_av(EXIT_FAILURE_PROCESSING, AVERROR(ENOMEM), field, "%s: decoding stream %d",
                   job->spec->inputs[file].name, ist->st->index);
}
