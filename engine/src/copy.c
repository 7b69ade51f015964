/* Stream copy: an input stream's packets go to a muxer as they are, through
 * the bitstream filters asked for (and those the muxer inserts itself).
 *
 * A copy starts on a keyframe and is cut in decode order: it stops at the
 * first packet whose dts is past the window end. Every frame presented before
 * the end has an earlier dts, so all of them are kept; a trailing reference
 * frame may be kept too (it cannot be removed without re-encoding). */
#include <stdio.h>

#include "errors.h"
#include "process.h"

static int expand_error(const OutputFile *of, const spec_map_entry *e, const char *fmt_msg, int code)
{
    char field[FIELD_SIZE];
    snprintf(field, sizeof(field), "outputs[%d].map", of->index);
    return fail(code, field, "%s: \"%s\": %s", field, e->text, fmt_msg);
}

int copy_add(Job *job, OutputFile *of, const spec_map_entry *e)
{
    char field[FIELD_SIZE];
    const AVFormatContext *fmt;
    int found = 0;

    snprintf(field, sizeof(field), "outputs[%d].map", of->index);
    if (e->ss.file >= job->nb_inputs)
        return fail(EXIT_MALFORMED_SPEC, field, "%s: \"%s\" refers to input %d, but the job has %d input%s", field,
                    e->text, e->ss.file, job->nb_inputs, job->nb_inputs == 1 ? "" : "s");
    fmt = job->inputs[e->ss.file].fmt;
    for (unsigned s = 0; s < job->inputs[e->ss.file].nb_streams; s++) {
        OutputStream *ost;
        InputStream *ist = &job->inputs[e->ss.file].streams[s];
        enum AVMediaType type = ist->st->codecpar->codec_type;
        if (!stream_spec_matches(&e->ss, fmt, (int)s))
            continue;
        found = 1;
        if (type != AVMEDIA_TYPE_VIDEO && type != AVMEDIA_TYPE_AUDIO && type != AVMEDIA_TYPE_SUBTITLE)
            return expand_error(of, e, "only video, audio and subtitle streams can be copied", EXIT_FAILURE_PROCESSING);
        if (job->nb_copies >= MAX_COPIES)
            return fail(EXIT_MALFORMED_SPEC, field, "%s: \"%s\": at most %d streams may be copied per job",
                        field, e->text, MAX_COPIES);
        ost = &job->ostreams[job->nb_ostreams++];
        job->nb_copies++;
        ost->of = of;
        ost->kind = OST_COPIED;
        if (type == AVMEDIA_TYPE_SUBTITLE) {
            if (++job->nb_subtitles > MAX_SUBTITLES)
                return fail(EXIT_MALFORMED_SPEC, field, "%s: \"%s\": at most %d subtitle streams are allowed per job",
                            field, e->text, MAX_SUBTITLES);
            if (subtitle_needs_transcode(of, ist->st))
                ost->kind = OST_SUBTITLE;
        }
        ost->label = e->text;
        ost->type = type;
        ost->file = e->ss.file;
        ost->stream = (int)s;
        ost->shift_file = e->ss.file;
        ost->last_us = INT64_MIN;
        ist->nb_copies++;
        of->streams[of->nb_streams++] = ost;
    }
    if (!found)
        return expand_error(of, e, "the input has no such stream", EXIT_FAILURE_PROCESSING);
    return 0;
}

static int open_bsf(OutputStream *ost, const AVStream *ist, const char *chain, const char *field)
{
    int ret;
    errlog_reset();
    ret = av_bsf_list_parse_str(chain, &ost->bsf);
    if (ret < 0)
        return fail_av(ret == AVERROR_BSF_NOT_FOUND ? EXIT_FAILURE_PROCESSING : EXIT_MALFORMED_SPEC, ret, field,
                       "%s: \"%s\"%s", field, chain,
                       ret == AVERROR_BSF_NOT_FOUND ? ": this build has no such bitstream filter" : "");
    if ((ret = avcodec_parameters_copy(ost->bsf->par_in, ist->codecpar)) < 0)
        return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "%s", field);
    ost->bsf->time_base_in = ist->time_base;
    errlog_reset();
    if ((ret = av_bsf_init(ost->bsf)) < 0)
        return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "%s: \"%s\" on stream %d", field, chain, ist->index);
    return 0;
}

int copy_open(Job *job, OutputStream *ost)
{
    OutputFile *of = ost->of;
    const AVOutputFormat *ofmt = of->oc->oformat;
    const AVStream *ist = job->inputs[ost->file].fmt->streams[ost->stream];
    const AVDictionaryEntry *chain = av_dict_get(of->spec->bsf, ost->label, NULL, AV_DICT_MATCH_CASE);
    const AVCodecParameters *par = ist->codecpar;
    unsigned tag;
    char field[FIELD_SIZE];
    int ret;

    snprintf(field, sizeof(field), "outputs[%d].map", of->index);
    if (ist->time_base.num <= 0 || ist->time_base.den <= 0)
        return fail(EXIT_FAILURE_PROCESSING, field, "%s: \"%s\": input stream %d has an invalid time base",
                    field, ost->label, ost->stream);
    if (avformat_query_codec(ofmt, par->codec_id, FF_COMPLIANCE_NORMAL) == 0)
        return fail(EXIT_FAILURE_PROCESSING, field, "%s: \"%s\": output format \"%s\" cannot store codec \"%s\"%s",
                    field, ost->label, ofmt->name, avcodec_get_name(par->codec_id),
                    ost->type == AVMEDIA_TYPE_SUBTITLE ? "; set subtitle_codec to convert it (e.g. \"mov_text\")" : "");
    if (chain) {
        char bsf_field[FIELD_SIZE];
        snprintf(bsf_field, sizeof(bsf_field), "outputs[%d].bitstream_filters.%s", of->index, ost->label);
        if (open_bsf(ost, ist, chain->value, bsf_field) < 0)
            return -1;
        par = ost->bsf->par_out;
    }
    if (!(ost->st = avformat_new_stream(of->oc, NULL)))
        return fail_oom(NULL);
    if ((ret = avcodec_parameters_copy(ost->st->codecpar, par)) < 0)
        return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "%s: \"%s\"", field, ost->label);
    /* Keep the codec tag only where this muxer knows it for this codec (as ffmpeg does). */
    tag = par->codec_tag;
    if (ofmt->codec_tag && tag && av_codec_get_id(ofmt->codec_tag, tag) != par->codec_id &&
        av_codec_get_tag2(ofmt->codec_tag, par->codec_id, &tag))
        ost->st->codecpar->codec_tag = 0;
    ost->st->time_base = ost->bsf ? ost->bsf->time_base_out : ist->time_base;
    if (ist->duration > 0) /* a hint for the muxer, as in encode_open */
        ost->st->duration = ts_rescale(ist->duration, ist->time_base, ost->st->time_base);
    ost->st->avg_frame_rate = ist->avg_frame_rate;
    ost->st->r_frame_rate = ist->r_frame_rate;
    ost->st->sample_aspect_ratio = ist->sample_aspect_ratio;
    ost->st->disposition = ist->disposition;
    if ((ret = av_dict_copy(&ost->st->metadata, ist->metadata, 0)) < 0)
        return fail_oom(NULL);
    return 0;
}

/* Packets without a duration lose the last frame in some muxers (mp4). */
static void fill_duration(const AVStream *ist, AVPacket *pkt)
{
    if (pkt->duration > 0)
        return;
    if (ist->codecpar->codec_type == AVMEDIA_TYPE_VIDEO && ist->avg_frame_rate.num > 0 && ist->avg_frame_rate.den > 0)
        pkt->duration = av_rescale_q(1, av_inv_q(ist->avg_frame_rate), ist->time_base);
    else if (ist->codecpar->codec_type == AVMEDIA_TYPE_AUDIO && ist->codecpar->frame_size > 0 &&
             ist->codecpar->sample_rate > 0)
        pkt->duration = av_rescale_q(ist->codecpar->frame_size, (AVRational){ 1, ist->codecpar->sample_rate },
                                     ist->time_base);
}

static int write_filtered(OutputStream *ost, AVPacket *pkt)
{
    int ret;
    if (!ost->bsf)
        return output_write(ost, pkt, pkt->time_base);
    errlog_reset();
    ret = av_bsf_send_packet(ost->bsf, pkt); /* NULL flushes */
    if (ret < 0) {
        char field[FIELD_SIZE];
        if (pkt)
            av_packet_unref(pkt);
        snprintf(field, sizeof(field), "outputs[%d].bitstream_filters.%s", ost->of->index, ost->label);
        return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "%s", field);
    }
    for (;;) {
        AVPacket *out = pkt ? pkt : av_packet_alloc();
        if (!out)
            return fail_oom(NULL);
        ret = av_bsf_receive_packet(ost->bsf, out);
        if (ret < 0) {
            if (!pkt)
                av_packet_free(&out);
            if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
                return 0;
            char field[FIELD_SIZE];
            snprintf(field, sizeof(field), "outputs[%d].bitstream_filters.%s", ost->of->index, ost->label);
            return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "%s", field);
        }
        ret = output_write(ost, out, ost->bsf->time_base_out);
        if (!pkt)
            av_packet_free(&out);
        if (ret < 0)
            return ret;
    }
}

int copy_packet(Job *job, OutputStream *ost, const AVPacket *pkt)
{
    InputFile *in = &job->inputs[ost->file];
    const AVStream *ist = in->fmt->streams[ost->stream];
    AVRational tb = ist->time_base;
    AVPacket *out = job->out_pkt;
    int64_t off, shift, dts;
    int ret;

    if (ost->finished)
        return 0;
    if (!ost->started && ost->type == AVMEDIA_TYPE_VIDEO && !(pkt->flags & AV_PKT_FLAG_KEY))
        return 0; /* a copy cannot start between keyframes */
    off = ts_rescale(in->ts_offset, AV_TIME_BASE_Q, tb);
    /* After a seek, what ends before timeline 0 is dropped (audio and
     * subtitles; video starts on the keyframe the seek landed on). */
    if (!ost->started && in->trim_start && ost->type != AVMEDIA_TYPE_VIDEO && pkt->pts != AV_NOPTS_VALUE) {
        int64_t end = ts_add(ts_sub(pkt->pts, off), FFMAX(pkt->duration, 0));
        if (pkt->duration > 0 ? end <= 0 : end < 0)
            return 0;
    }
    dts = pkt->dts != AV_NOPTS_VALUE ? pkt->dts : pkt->pts;
    if (dts != AV_NOPTS_VALUE) {
        int64_t t = ts_rescale(ts_sub(dts, off), tb, AV_TIME_BASE_Q);
        if (t >= window_end(job, ost))
            return copy_finish(job, ost);
        ost->last_us = t;
    }
    ost->started = 1;
    if ((ret = av_packet_ref(out, pkt)) < 0)
        return fail_oom(NULL);
    shift = ts_rescale(window_shift(job, ost), AV_TIME_BASE_Q, tb);
    if (out->pts != AV_NOPTS_VALUE)
        out->pts = ts_add(ts_sub(out->pts, off), shift);
    if (out->dts != AV_NOPTS_VALUE)
        out->dts = ts_add(ts_sub(out->dts, off), shift);
    fill_duration(ist, out);
    out->time_base = tb;
    return write_filtered(ost, out);
}

int copy_finish(Job *job, OutputStream *ost)
{
    if (ost->finished)
        return 0;
    ost->finished = 1;
    return ost->bsf ? write_filtered(ost, NULL) : 0;
}
