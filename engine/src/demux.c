/* Inputs: opening, seeking, and reading packets to their consumers (decoders
 * and stream copies). */
#include <stdio.h>

#include <libavfilter/buffersrc.h>

#include "errors.h"
#include "input.h"
#include "process.h"

int inputs_open(Job *job)
{
    for (int i = 0; i < job->spec->nb_inputs; i++) {
        InputFile *in = &job->inputs[i];
        char msg[1024], field[32];
        err_kind kind;
        int ret = input_open(&job->spec->inputs[i], i, &in->fmt, msg, sizeof(msg), &kind);
        job->nb_inputs = i + 1;
        if (ret == -2)
            return -1;
        if (ret < 0) {
            snprintf(field, sizeof(field), "inputs[%d]", i);
            return fail_kind(EXIT_FAILURE_PROCESSING, kind, field, "%s", msg);
        }
        if (!(in->streams = av_calloc(in->fmt->nb_streams ? in->fmt->nb_streams : 1, sizeof(*in->streams))))
            return fail_oom(NULL);
        in->nb_streams = in->fmt->nb_streams;
        for (unsigned s = 0; s < in->nb_streams; s++) {
            in->streams[s].st = in->fmt->streams[s];
            in->streams[s].next_pts = AV_NOPTS_VALUE;
            in->streams[s].rescale_last = AV_NOPTS_VALUE;
        }
        /* Like ffmpeg without -copyts: outputs start at 0. */
        if (in->fmt->start_time != AV_NOPTS_VALUE)
            in->ts_offset = in->fmt->start_time;
    }
    return 0;
}

/* The stream whose first keyframe after a fast seek becomes timeline 0: the
 * first video stream in use (the one the demuxer seeks on), else any in use. */
static int anchor_stream(const InputFile *in)
{
    int any = -1;
    for (unsigned s = 0; s < in->nb_streams; s++) {
        const InputStream *ist = &in->streams[s];
        if (!ist->dec && !ist->nb_copies)
            continue;
        if (ist->st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
            !(ist->st->disposition & AV_DISPOSITION_ATTACHED_PIC))
            return (int)s;
        if (any < 0)
            any = (int)s;
    }
    return any;
}

int inputs_seek(Job *job)
{
    for (int i = 0; i < job->nb_inputs; i++) {
        InputFile *in = &job->inputs[i];
        const spec_input *si = &job->spec->inputs[i];
        int64_t target;
        char field[32];
        int ret;

        if (!si->has_seek)
            continue;
        snprintf(field, sizeof(field), "inputs[%d].seek", i);
        target = ts_add(si->seek_us, in->fmt->start_time != AV_NOPTS_VALUE ? in->fmt->start_time : 0);
        in->trim_start = 1;
        in->ts_offset = target;
        if (si->seek_us > 0) {
            errlog_reset();
            ret = avformat_seek_file(in->fmt, -1, INT64_MIN, target, target, 0);
            /* Accurate seeking can still decode from the start; fast cannot be honest. */
            if (ret < 0 && !si->seek_accurate)
                return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "%s: cannot seek to %.6f s", si->name,
                               si->seek_us / 1e6);
        }
        if (!si->seek_accurate && (in->anchor_stream = anchor_stream(in)) >= 0) {
            in->anchoring = 1;
            if (!(in->pending = av_calloc(MAX_PENDING + 1, sizeof(*in->pending))))
                return fail_oom(NULL);
        }
    }
    return 0;
}

static int hold(InputFile *in, AVPacket *pkt)
{
    AVPacket *held = av_packet_alloc();
    if (!held)
        return fail_oom(NULL);
    av_packet_move_ref(held, pkt);
    in->pending[in->nb_pending++] = held;
    return 0;
}

/* Timeline 0 of a fast seek is the first keyframe of the anchor stream. Until
 * it arrives, packets are held (at most MAX_PENDING) and then replayed in the
 * order they were read. Takes the packet. */
static int anchor(InputFile *in, AVPacket *pkt)
{
    AVStream *st = in->fmt->streams[pkt->stream_index];
    int64_t ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;

    if (pkt->stream_index != in->anchor_stream) {
        if (in->nb_pending >= MAX_PENDING) {
            av_log(NULL, AV_LOG_WARNING, "no keyframe within %d packets of the seek point; starting at the seek point\n",
                   MAX_PENDING);
            in->anchoring = 0;
        }
        return hold(in, pkt);
    }
    if (!(pkt->flags & AV_PKT_FLAG_KEY)) {
        av_packet_unref(pkt); /* before the frame the seek landed on */
        return 0;
    }
    if (ts != AV_NOPTS_VALUE)
        in->ts_offset = ts_rescale(ts, st->time_base, AV_TIME_BASE_Q);
    in->anchoring = 0;
    return hold(in, pkt);
}

/* The next packet: a held one, or one from the demuxer. */
static int next_packet(InputFile *in, AVPacket *pkt)
{
    int ret, at_end;

    for (;;) {
        if (!in->anchoring && in->pending_pos < in->nb_pending) {
            av_packet_move_ref(pkt, in->pending[in->pending_pos]);
            av_packet_free(&in->pending[in->pending_pos++]);
            return 0;
        }
        errlog_reset();
        at_end = in->fmt->pb && avio_feof(in->fmt->pb);
        ret = av_read_frame(in->fmt, pkt);
        /* Some demuxers are called again after their end marker (smjpeg's
         * DONE) and fail on what lies past the end of the file: everything was
         * read. Only a read that itself hit the end counts (a concat list,
         * read to its end when opened, is no sign that its members were). */
        if (ret == AVERROR_INVALIDDATA && !at_end && in->fmt->pb && avio_feof(in->fmt->pb) &&
            (!in->fmt->pb->error || in->fmt->pb->error == AVERROR_EOF)) {
            av_log(NULL, AV_LOG_WARNING, "the demuxer failed past the end of the file; taking it as the end\n");
            ret = AVERROR_EOF;
        }
        if (ret == AVERROR_EOF && in->anchoring) {
            in->anchoring = 0; /* no keyframe at all: keep the seek point */
            continue;
        }
        /* Others report a failed read as the end of the file. */
        if (ret == AVERROR_EOF && in->fmt->pb && in->fmt->pb->error < 0 && in->fmt->pb->error != AVERROR_EOF)
            ret = in->fmt->pb->error;
        if (ret < 0 || !in->anchoring || pkt->size == 0)
            return ret;
        if ((unsigned)pkt->stream_index >= in->nb_streams)
            av_packet_unref(pkt);
        else if (anchor(in, pkt) < 0)
            return AVERROR(ENOMEM);
    }
}

static int end_of_input(Job *job, int file)
{
    InputFile *in = &job->inputs[file];
    int ret;

    in->eof = 1;
    for (unsigned s = 0; s < in->nb_streams; s++) {
        InputStream *ist = &in->streams[s];
        if (!ist->dec)
            continue;
        if (decode_packet(job, file, ist, NULL) < 0)
            return -1;
        for (int i = 0; i < ist->nb_src; i++)
            if ((ret = av_buffersrc_add_frame_flags(ist->src[i], NULL, AV_BUFFERSRC_FLAG_PUSH)) < 0 &&
                ret != AVERROR_EOF)
                return fail_av(EXIT_FAILURE_PROCESSING, ret, "filter", "closing input %d stream %u", file, s);
    }
    for (int i = 0; i < job->nb_ostreams; i++) {
        OutputStream *ost = &job->ostreams[i];
        if (ost->kind != OST_ENCODED && ost->file == file && copy_finish(job, ost) < 0)
            return -1;
    }
    return 0;
}

int input_read(Job *job, int file)
{
    InputFile *in = &job->inputs[file];
    AVPacket *pkt = job->pkt;
    char field[32];
    int ret;

    ret = next_packet(in, pkt);
    if (ret == AVERROR_EOF)
        return end_of_input(job, file);
    if (ret < 0) {
        char msg[1024];
        err_kind kind;
        int refused = input_refusal(&job->spec->inputs[file], file, ret, msg, sizeof(msg), &kind);
        snprintf(field, sizeof(field), "inputs[%d]", file);
        if (refused)
            return refused == -2 ? -1 : fail_kind(EXIT_FAILURE_PROCESSING, kind, field, "%s", msg);
        return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "%s: reading", job->spec->inputs[file].name);
    }
    /* Empty packets carry nothing to decode (ffmpeg skips them too). The count
     * stops a demuxer that is stuck making only empty ones. */
    if (pkt->size == 0) {
        av_packet_unref(pkt);
        if (++in->empty_packets < MAX_EMPTY_PACKETS)
            return 0;
        snprintf(field, sizeof(field), "inputs[%d]", file);
        return fail(EXIT_FAILURE_PROCESSING, field, "%s: the demuxer returned %d empty packets in a row",
                    job->spec->inputs[file].name, MAX_EMPTY_PACKETS);
    }
    in->empty_packets = 0;
    /* Streams the demuxer adds after opening are not in in->streams: unused. */
    if (pkt->stream_index >= 0 && (unsigned)pkt->stream_index < in->nb_streams) {
        InputStream *ist = &in->streams[pkt->stream_index];
        for (int i = 0; ret >= 0 && ist->nb_copies && i < job->nb_ostreams; i++) {
            OutputStream *ost = &job->ostreams[i];
            if (ost->kind != OST_ENCODED && ost->file == file && ost->stream == pkt->stream_index)
                ret = ost->kind == OST_SUBTITLE ? subtitle_packet(job, ost, pkt) : copy_packet(job, ost, pkt);
        }
        if (ret >= 0 && ist->dec)
            ret = decode_packet(job, file, ist, pkt);
    }
    av_packet_unref(pkt);
    return ret < 0 ? -1 : 0;
}

void inputs_free(Job *job)
{
    for (int i = 0; i < job->nb_inputs; i++) {
        InputFile *in = &job->inputs[i];
        for (unsigned s = 0; s < in->nb_streams; s++) {
            avcodec_free_context(&in->streams[s].dec);
            sws_free_context(&in->streams[s].sws);
            av_frame_free(&in->streams[s].conv);
        }
        for (int p = in->pending_pos; in->pending && p < in->nb_pending; p++)
            av_packet_free(&in->pending[p]);
        av_freep(&in->pending);
        av_freep(&in->streams);
        input_close(&in->fmt);
    }
}
