/* op "process": inputs -> decoders -> filter graph -> encoders -> muxers.
 *
 * One thread, pull-driven (like ffmpeg before it went multi-threaded): take the
 * output stream that lags most, ask its sink for a frame; when the graph needs
 * input, read a packet from the input whose buffer source was starved most. */
#include <stdio.h>
#include <string.h>

#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/bprint.h>

#include "errors.h"
#include "input.h"
#include "ops.h"
#include "process.h"

static int open_inputs(Job *job)
{
    for (int i = 0; i < job->spec->nb_inputs; i++) {
        InputFile *in = &job->inputs[i];
        char msg[1024], field[32];
        int ret = input_open(&job->spec->inputs[i], i, &in->fmt, msg, sizeof(msg));
        job->nb_inputs = i + 1;
        if (ret == -2)
            return -1;
        if (ret < 0) {
            snprintf(field, sizeof(field), "inputs[%d]", i);
            return fail(EXIT_FAILURE_PROCESSING, field, "%s", msg);
        }
        if (!(in->streams = av_calloc(in->fmt->nb_streams ? in->fmt->nb_streams : 1, sizeof(*in->streams))))
            return fail(EXIT_FAILURE_PROCESSING, NULL, "out of memory");
        in->nb_streams = in->fmt->nb_streams;
        for (unsigned s = 0; s < in->nb_streams; s++)
            in->streams[s].st = in->fmt->streams[s];
        /* Like ffmpeg without -copyts: outputs start at 0. */
        if (in->fmt->start_time != AV_NOPTS_VALUE)
            in->ts_offset = in->fmt->start_time;
    }
    return 0;
}

int input_stream_open_decoder(Job *job, int file, int stream)
{
    InputStream *ist = &job->inputs[file].streams[stream];
    const char *path = job->spec->inputs[file].path;
    AVRational tb = ist->st->time_base;
    const AVCodec *codec;
    AVDictionary *opts;
    char field[32];
    int ret;

    if (ist->dec)
        return 0;
    snprintf(field, sizeof(field), "inputs[%d]", file);
    if (ist->st->codecpar->codec_id == AV_CODEC_ID_NONE)
        return fail(EXIT_FAILURE_PROCESSING, field, "%s: stream %d: unknown codec", path, stream);
    codec = avcodec_find_decoder(ist->st->codecpar->codec_id);
    if (!codec)
        return fail(EXIT_FAILURE_PROCESSING, field, "%s: stream %d: this build has no decoder for codec \"%s\"",
                    path, stream, avcodec_get_name(ist->st->codecpar->codec_id));
    /* Timestamps are rescaled from it; libavformat normally guarantees one. */
    if (tb.num <= 0 || tb.den <= 0)
        return fail(EXIT_FAILURE_PROCESSING, field, "%s: stream %d: invalid time base %d/%d",
                    path, stream, tb.num, tb.den);
    if (!(ist->dec = avcodec_alloc_context3(codec)) || !(opts = decoder_options()))
        return fail(EXIT_FAILURE_PROCESSING, NULL, "out of memory");
    if ((ret = avcodec_parameters_to_context(ist->dec, ist->st->codecpar)) < 0) {
        av_dict_free(&opts);
        return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "%s: stream %d", path, stream);
    }
    ist->dec->pkt_timebase = tb;
    errlog_reset();
    ret = avcodec_open2(ist->dec, codec, &opts);
    av_dict_free(&opts);
    if (ret < 0)
        return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "%s: stream %d: opening decoder %s",
                       path, stream, codec->name);
    if (ist->dec->codec_type == AVMEDIA_TYPE_VIDEO) {
        ist->w = ist->dec->width;
        ist->h = ist->dec->height;
        ist->pix_fmt = ist->dec->pix_fmt;
        if (ist->w <= 0 || ist->h <= 0 || ist->pix_fmt == AV_PIX_FMT_NONE)
            return fail(EXIT_FAILURE_PROCESSING, field,
                        "%s: stream %d: unknown picture size or pixel format (nothing could be decoded while probing)",
                        path, stream);
    } else if (ist->dec->sample_rate <= 0 || ist->dec->ch_layout.nb_channels <= 0 ||
               ist->dec->sample_fmt == AV_SAMPLE_FMT_NONE) {
        return fail(EXIT_FAILURE_PROCESSING, field,
                    "%s: stream %d: unknown sample rate, channels or sample format", path, stream);
    }
    return 0;
}

/* Hand a decoded frame to every buffer source the stream feeds. */
static int push_frame(Job *job, int file, InputStream *ist, AVFrame *frame)
{
    InputFile *in = &job->inputs[file];
    AVRational tb = ist->st->time_base;
    AVFrame *f = frame;
    int ret;

    int64_t pts = frame->best_effort_timestamp;
    if (pts == AV_NOPTS_VALUE)
        pts = ist->next_pts;
    else if (in->ts_offset)
        pts = ts_sub(pts, av_rescale_q(in->ts_offset, AV_TIME_BASE_Q, tb));
    frame->pts = pts;
    frame->time_base = tb;
    if (frame->duration > 0)
        ist->next_pts = ts_add(pts, frame->duration);
    else if (ist->dec->codec_type == AVMEDIA_TYPE_AUDIO && frame->sample_rate > 0)
        ist->next_pts = ts_add(pts, av_rescale_q(frame->nb_samples, (AVRational){ 1, frame->sample_rate }, tb));
    ist->frames++;

    if (ist->dec->codec_type == AVMEDIA_TYPE_VIDEO &&
        (frame->width != ist->w || frame->height != ist->h || frame->format != ist->pix_fmt)) {
        /* The graph was configured for the first size/format; filters assume it. */
        if (!ist->conv) {
            av_log(NULL, AV_LOG_WARNING, "input %d stream %d changes to %dx%d mid-stream; converting to %dx%d\n",
                   file, ist->st->index, frame->width, frame->height, ist->w, ist->h);
            if (!(ist->conv = av_frame_alloc()) || !(ist->sws = sws_alloc_context()))
                return fail(EXIT_FAILURE_PROCESSING, NULL, "out of memory");
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
        ret = av_buffersrc_add_frame_flags(ist->src[i], f, AV_BUFFERSRC_FLAG_KEEP_REF);
        if (ret < 0 && ret != AVERROR_EOF) /* EOF: that branch of the graph is done */
            return fail_av(EXIT_FAILURE_PROCESSING, ret, "filter", "filtering input %d stream %d",
                           file, ist->st->index);
    }
    av_frame_unref(frame);
    return 0;
}

/* Decode one packet (NULL: drain at end of file) and push what comes out.
 * Corrupt data is counted and skipped, as ffmpeg does, but the decoder is still
 * drained after an error: frames left in it would be lost at end of file or make
 * it refuse the next packet with EAGAIN. Running out of memory is not corrupt
 * data: it fails the job instead of silently dropping frames. */
static int decode(Job *job, int file, InputStream *ist, const AVPacket *pkt)
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
                   job->spec->inputs[file].path, ist->st->index);
}

/* Read one packet from input `file`; at its end, drain decoders and close sources. */
static int read_input(Job *job, int file)
{
    InputFile *in = &job->inputs[file];
    AVPacket *pkt = job->pkt;
    char field[32];
    int ret;

    errlog_reset();
    ret = av_read_frame(in->fmt, pkt);
    if (ret == AVERROR_EOF) {
        in->eof = 1;
        for (unsigned s = 0; s < in->nb_streams; s++) {
            InputStream *ist = &in->streams[s];
            if (!ist->dec)
                continue;
            if (decode(job, file, ist, NULL) < 0)
                return -1;
            for (int i = 0; i < ist->nb_src; i++)
                if ((ret = av_buffersrc_add_frame(ist->src[i], NULL)) < 0 && ret != AVERROR_EOF)
                    return fail_av(EXIT_FAILURE_PROCESSING, ret, "filter", "closing input %d stream %u", file, s);
        }
        return 0;
    }
    if (ret < 0) {
        snprintf(field, sizeof(field), "inputs[%d]", file);
        return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "%s: reading", job->spec->inputs[file].path);
    }
    /* Empty packets carry nothing to decode (ffmpeg skips them too). The count
     * stops a demuxer that is stuck making only empty ones. */
    if (pkt->size == 0) {
        av_packet_unref(pkt);
        if (++in->empty_packets < MAX_EMPTY_PACKETS)
            return 0;
        snprintf(field, sizeof(field), "inputs[%d]", file);
        return fail(EXIT_FAILURE_PROCESSING, field, "%s: the demuxer returned %d empty packets in a row",
                    job->spec->inputs[file].path, MAX_EMPTY_PACKETS);
    }
    in->empty_packets = 0;
    /* Streams the demuxer adds after opening are not in in->streams: unused. */
    if (pkt->stream_index >= 0 && (unsigned)pkt->stream_index < in->nb_streams) {
        InputStream *ist = &in->streams[pkt->stream_index];
        if (ist->dec)
            ret = decode(job, file, ist, pkt);
    }
    av_packet_unref(pkt);
    return ret < 0 ? -1 : 0;
}

static OutputStream *choose_output(Job *job)
{
    OutputStream *best = NULL;
    for (int i = 0; i < job->nb_ostreams; i++) {
        OutputStream *ost = &job->ostreams[i];
        if (!ost->finished && (!best || ost->last_us < best->last_us))
            best = ost;
    }
    return best;
}

/* The graph input that asked for data most often (and can still get some). */
static int choose_input(Job *job)
{
    int best = -1;
    unsigned most = 0;
    for (int i = 0; i < job->nb_gin; i++) {
        unsigned n;
        if (job->inputs[job->gin[i].file].eof)
            continue;
        n = av_buffersrc_get_nb_failed_requests(job->gin[i].src);
        if (best < 0 || n > most) {
            best = i;
            most = n;
        }
    }
    return best;
}

static int transcode(Job *job)
{
    OutputStream *ost;
    int ret;

    while ((ost = choose_output(job))) {
        errlog_reset();
        ret = av_buffersink_get_frame_flags(ost->sink, job->frame, 0);
        if (ret >= 0) {
            if (job->frame->pts != AV_NOPTS_VALUE)
                ost->last_us = av_rescale_q(job->frame->pts, av_buffersink_get_time_base(ost->sink), AV_TIME_BASE_Q);
            ret = output_encode(job, ost, job->frame);
            av_frame_unref(job->frame);
            if (ret < 0)
                return -1;
        } else if (ret == AVERROR_EOF) {
            if (output_encode(job, ost, NULL) < 0)
                return -1;
            ost->finished = 1;
            if (ost->dropped)
                av_log(NULL, AV_LOG_WARNING, "[%s]: dropped %" PRId64 " frames that had the timestamp of the frame before\n",
                       ost->label, ost->dropped);
        } else if (ret == AVERROR(EAGAIN)) {
            int g = choose_input(job);
            if (g < 0)
                return fail(EXIT_FAILURE_PROCESSING, "filter",
                            "the filter graph stalled: filter output [%s] waits for input that has ended", ost->label);
            if (read_input(job, job->gin[g].file) < 0)
                return -1;
        } else {
            return fail_av(EXIT_FAILURE_PROCESSING, ret, "filter", "filtering [%s]", ost->label);
        }
    }
    return 0;
}

/* The stream av_find_best_stream picks, as "[0:v:K]"'s K, or -1. Cover art is
 * not a video track. */
static int best_stream_k(const AVFormatContext *fmt, enum AVMediaType type)
{
    int idx = av_find_best_stream((AVFormatContext *)fmt, type, -1, -1, NULL, 0), k = 0;
    if (idx < 0 || (fmt->streams[idx]->disposition & AV_DISPOSITION_ATTACHED_PIC))
        return -1;
    for (int i = 0; i < idx; i++)
        k += fmt->streams[i]->codecpar->codec_type == type;
    return k;
}

/* Without a filter: input 0's best video through null and best audio through
 * anull, once per output, for the stream types the output format can hold. */
static int passthrough_graph(Job *job, AVBPrint *bp)
{
    const AVFormatContext *fmt = job->inputs[0].fmt;
    int kv = best_stream_k(fmt, AVMEDIA_TYPE_VIDEO), ka = best_stream_k(fmt, AVMEDIA_TYPE_AUDIO);
    for (int i = 0; i < job->nb_outputs; i++) {
        OutputFile *of = &job->outputs[i];
        const AVOutputFormat *ofmt = of->oc->oformat;
        char field[32];
        snprintf(field, sizeof(field), "outputs[%d].map", i);
        if (of->spec->has_map)
            return fail(EXIT_MALFORMED_SPEC, field, "%s: a job without a filter has no [labels] to map", field);
        if (kv >= 0 && (of->spec->video_codec ||
                        av_guess_codec(ofmt, NULL, of->spec->path, NULL, AVMEDIA_TYPE_VIDEO) != AV_CODEC_ID_NONE)) {
            snprintf(of->auto_labels[0], sizeof(of->auto_labels[0]), "pt%dv", i);
            av_bprintf(bp, "%s[0:v:%d]null[%s]", bp->len ? ";" : "", kv, of->auto_labels[0]);
            of->labels[of->nb_labels++] = of->auto_labels[0];
        }
        if (ka >= 0 && (of->spec->audio_codec ||
                        av_guess_codec(ofmt, NULL, of->spec->path, NULL, AVMEDIA_TYPE_AUDIO) != AV_CODEC_ID_NONE)) {
            snprintf(of->auto_labels[1], sizeof(of->auto_labels[1]), "pt%da", i);
            av_bprintf(bp, "%s[0:a:%d]anull[%s]", bp->len ? ";" : "", ka, of->auto_labels[1]);
            of->labels[of->nb_labels++] = of->auto_labels[1];
        }
        if (!of->nb_labels) {
            snprintf(field, sizeof(field), "outputs[%d]", i);
            return fail(EXIT_FAILURE_PROCESSING, field,
                        "%s: input 0 has no video or audio stream that output format \"%s\" can hold", field, ofmt->name);
        }
    }
    return av_bprint_is_complete(bp) ? 0 : fail(EXIT_FAILURE_PROCESSING, NULL, "out of memory");
}

static int setup_graph(Job *job)
{
    const job_spec *spec = job->spec;
    AVBPrint bp;
    int ret;

    if (spec->filter) {
        for (int i = 0; i < job->nb_outputs; i++) {
            OutputFile *of = &job->outputs[i];
            of->take_all = !of->spec->has_map;
            for (int k = 0; k < of->spec->nb_map; k++)
                of->labels[of->nb_labels++] = of->spec->map[k];
        }
        return graph_parse(job, spec->filter);
    }
    av_bprint_init(&bp, 0, AV_BPRINT_SIZE_UNLIMITED);
    ret = passthrough_graph(job, &bp);
    if (ret == 0)
        ret = graph_parse(job, bp.str);
    av_bprint_finalize(&bp, NULL);
    return ret;
}

/* A stream that fed the graph but never decoded a frame, though it had data. */
static int check_decoding(Job *job)
{
    for (int i = 0; i < job->nb_inputs; i++) {
        InputFile *in = &job->inputs[i];
        for (unsigned s = 0; s < in->nb_streams; s++) {
            InputStream *ist = &in->streams[s];
            char field[32];
            if (!ist->dec || ist->frames || !ist->decode_errors)
                continue;
            snprintf(field, sizeof(field), "inputs[%d]", i);
            return fail(EXIT_FAILURE_PROCESSING, field,
                        "%s: no frame of stream %u could be decoded (%" PRId64 " errors)",
                        job->spec->inputs[i].path, s, ist->decode_errors);
        }
    }
    return 0;
}

static int run(Job *job)
{
    if (!(job->frame = av_frame_alloc()) || !(job->pkt = av_packet_alloc()))
        return fail(EXIT_FAILURE_PROCESSING, NULL, "out of memory");
    if (open_inputs(job) < 0 || outputs_alloc(job) < 0 || setup_graph(job) < 0)
        return -1;
    /* Demux only what the graph uses. */
    for (int i = 0; i < job->nb_inputs; i++)
        for (unsigned s = 0; s < job->inputs[i].nb_streams; s++)
            if (!job->inputs[i].streams[s].dec)
                job->inputs[i].fmt->streams[s]->discard = AVDISCARD_ALL;
    if (outputs_assign(job) < 0 || graph_configure(job) < 0 || outputs_open(job) < 0 ||
        transcode(job) < 0 || check_decoding(job) < 0)
        return -1;
    return outputs_finish(job);
}

static void write_result(const Job *job, jw *w)
{
    jw_obj_begin(w);
    jw_key(w, "outputs");
    jw_arr_begin(w);
    for (int i = 0; i < job->nb_outputs; i++) {
        const OutputFile *of = &job->outputs[i];
        jw_obj_begin(w);
        jw_kstr(w, "path", of->spec->path);
        jw_key(w, "streams");
        jw_arr_begin(w);
        for (int j = 0; j < of->nb_streams; j++) {
            jw_obj_begin(w);
            jw_kstr(w, "type", av_get_media_type_string(of->streams[j]->type));
            jw_kstr(w, "codec", avcodec_get_name(of->streams[j]->codec->id));
            jw_obj_end(w);
        }
        jw_arr_end(w);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_obj_end(w);
}

static void job_free(Job *job)
{
    outputs_free(job);
    avfilter_graph_free(&job->graph);
    for (int i = 0; i < job->nb_gout; i++)
        av_freep(&job->gout[i].label);
    for (int i = 0; i < job->nb_inputs; i++) {
        InputFile *in = &job->inputs[i];
        for (unsigned s = 0; s < in->nb_streams; s++) {
            avcodec_free_context(&in->streams[s].dec);
            sws_free_context(&in->streams[s].sws);
            av_frame_free(&in->streams[s].conv);
        }
        av_freep(&in->streams);
        avformat_close_input(&in->fmt);
    }
    av_frame_free(&job->frame);
    av_packet_free(&job->pkt);
}

int op_process(const job_spec *spec, jw *w)
{
    static Job job; /* large; one job per process */
    int ret;

    memset(&job, 0, sizeof(job));
    job.spec = spec;
    ret = run(&job);
    if (ret == 0)
        write_result(&job, w);
    job_free(&job);
    return ret;
}
