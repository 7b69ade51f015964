/* Subtitle streams converted to another subtitle codec (subtitle_codec set to
 * an encoder, or a format that cannot store the input's codec): each packet
 * is decoded to cues, the cues are moved to the output's clock and cut to its
 * window, then encoded one by one. Text cannot become bitmaps or back. */
#include <stdio.h>
#include <string.h>

#include <libavutil/mem.h>

#include "errors.h"
#include "process.h"

/* Room for one encoded cue (ffmpeg uses the same). */
#define SUB_BUF_SIZE (1 << 20)

/* Whether the output stream copying subtitle stream `ist` has to convert it. */
int subtitle_needs_transcode(const OutputFile *of, const AVStream *ist)
{
    const char *name = of->spec->subtitle_codec;
    if (name)
        return !codec_is_copy(name);
    /* Unset: convert to the muxer's default when it cannot store the codec as it is (srt -> vtt). */
    return avformat_query_codec(of->oc->oformat, ist->codecpar->codec_id, FF_COMPLIANCE_NORMAL) != 1 &&
           av_guess_codec(of->oc->oformat, NULL, of->spec->path, NULL, AVMEDIA_TYPE_SUBTITLE) != AV_CODEC_ID_NONE;
}

static const AVCodec *pick_encoder(const OutputFile *of, const char *field)
{
    const char *name = of->spec->subtitle_codec;
    const AVCodec *c;
    if (name) {
        if (!(c = avcodec_find_encoder_by_name(name)))
            fail_kind(EXIT_FAILURE_PROCESSING, ERR_UNSUPPORTED, field, "%s: unknown encoder \"%s\"", field, name);
        else if (c->type != AVMEDIA_TYPE_SUBTITLE)
            fail(EXIT_MALFORMED_SPEC, field, "%s: \"%s\" is not a subtitle encoder", field, name);
        else
            return c;
        return NULL;
    }
    c = avcodec_find_encoder(av_guess_codec(of->oc->oformat, NULL, of->spec->path, NULL, AVMEDIA_TYPE_SUBTITLE));
    if (!c)
        fail_kind(EXIT_FAILURE_PROCESSING, ERR_UNSUPPORTED, field,
                  "%s: this build has no encoder for the default subtitle codec of \"%s\"; "
                  "set subtitle_codec", field, of->oc->oformat->name);
    return c;
}

int subtitle_open(Job *job, OutputStream *ost)
{
    OutputFile *of = ost->of;
    const AVStream *ist = job->inputs[ost->file].fmt->streams[ost->stream];
    const AVCodec *dc = avcodec_find_decoder(ist->codecpar->codec_id), *ec;
    const AVCodecDescriptor *dd = avcodec_descriptor_get(ist->codecpar->codec_id), *ed;
    AVCodecContext *dec, *enc;
    char field[FIELD_SIZE];
    int ret;

    snprintf(field, sizeof(field), "outputs[%d].subtitle_codec", of->index);
    if (!(ec = pick_encoder(of, field)))
        return -1;
    ed = avcodec_descriptor_get(ec->id);
    if (!dc)
        return fail_kind(EXIT_FAILURE_PROCESSING, ERR_UNSUPPORTED, field,
                         "%s: this build cannot decode \"%s\" subtitles (%s)", field,
                         avcodec_get_name(ist->codecpar->codec_id), ost->label);
    if (!dd || !ed || !((dd->props & ed->props) & (AV_CODEC_PROP_TEXT_SUB | AV_CODEC_PROP_BITMAP_SUB)))
        return fail_kind(EXIT_FAILURE_PROCESSING, ERR_UNSUPPORTED, field,
                         "%s: \"%s\" subtitles cannot be converted to %s (text and bitmap "
                         "subtitles do not convert into each other)", field, avcodec_get_name(ist->codecpar->codec_id),
                         ec->name);
    if (avformat_query_codec(of->oc->oformat, ec->id, FF_COMPLIANCE_NORMAL) == 0)
        return fail_kind(EXIT_FAILURE_PROCESSING, ERR_UNSUPPORTED, field,
                         "%s: output format \"%s\" cannot store codec \"%s\"", field, of->oc->oformat->name,
                         avcodec_get_name(ec->id));

    if (!(dec = ost->sub_dec = avcodec_alloc_context3(dc)) || !(ost->sub_buf = av_malloc(SUB_BUF_SIZE)))
        return fail_oom(NULL);
    if ((ret = avcodec_parameters_to_context(dec, ist->codecpar)) < 0)
        return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "%s", ost->label);
    dec->pkt_timebase = ist->time_base;
    errlog_reset();
    if ((ret = avcodec_open2(dec, dc, NULL)) < 0)
        return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "opening the %s decoder for %s", dc->name, ost->label);

    if (!(enc = ost->enc = avcodec_alloc_context3(ec)))
        return fail_oom(NULL);
    enc->time_base = AV_TIME_BASE_Q;
    enc->width = dec->width;
    enc->height = dec->height;
    /* ASS-based encoders need the styles the decoder made. */
    if (dec->subtitle_header_size > 0) {
        if (!(enc->subtitle_header = av_mallocz(dec->subtitle_header_size + 1)))
            return fail_oom(NULL);
        memcpy(enc->subtitle_header, dec->subtitle_header, dec->subtitle_header_size);
        enc->subtitle_header_size = dec->subtitle_header_size;
    }
    if (of->oc->oformat->flags & AVFMT_GLOBALHEADER)
        enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    errlog_reset();
    if ((ret = avcodec_open2(enc, ec, NULL)) < 0)
        return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "opening encoder %s for %s", ec->name, ost->label);

    if (!(ost->st = avformat_new_stream(of->oc, NULL)))
        return fail_oom(NULL);
    if ((ret = avcodec_parameters_from_context(ost->st->codecpar, enc)) < 0)
        return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "stream parameters of %s", ost->label);
    ost->st->time_base = AV_TIME_BASE_Q;
    ost->st->disposition = ist->disposition;
    if (av_dict_copy(&ost->st->metadata, ist->metadata, 0) < 0)
        return fail_oom(NULL);
    return 0;
}

/* The cue on the job's timeline [start, end) in microseconds, then cut and encoded. */
static int write_cue(Job *job, OutputStream *ost, AVSubtitle *sub, int64_t start, int64_t end)
{
    InputFile *in = &job->inputs[ost->file];
    AVPacket *out = job->out_pkt;
    int64_t win = window_end(job, ost);
    int n, ret;

    if (in->trim_start && end <= 0)
        return 0; /* shown before the seek point */
    start = FFMAX(start, 0);
    if (start >= win)
        return copy_finish(job, ost); /* cues come in order: the window is full */
    end = FFMIN(end, win);
    ost->last_us = start;
    sub->pts = ts_add(start, window_shift(job, ost));
    sub->start_display_time = 0;
    sub->end_display_time = (uint32_t)FFMIN((end - start) / 1000, UINT32_MAX - 1);
    errlog_reset();
    n = avcodec_encode_subtitle(ost->enc, ost->sub_buf, SUB_BUF_SIZE, sub);
    if (n < 0) {
        char field[FIELD_SIZE];
        snprintf(field, sizeof(field), "outputs[%d]", ost->of->index);
        return fail_av(EXIT_FAILURE_PROCESSING, n, field, "encoding %s with %s", ost->label, ost->enc->codec->name);
    }
    if (n == 0)
        return 0;
    if ((ret = av_new_packet(out, n)) < 0)
        return fail_oom(NULL);
    memcpy(out->data, ost->sub_buf, n);
    out->pts = out->dts = sub->pts;
    out->duration = end - start;
    out->time_base = AV_TIME_BASE_Q;
    return output_write(ost, out, AV_TIME_BASE_Q);
}

int subtitle_packet(Job *job, OutputStream *ost, const AVPacket *pkt)
{
    InputFile *in = &job->inputs[ost->file];
    const AVStream *ist = in->fmt->streams[ost->stream];
    AVSubtitle sub;
    int64_t base, start, end;
    int got = 0, ret;

    if (ost->finished)
        return 0;
    memset(&sub, 0, sizeof(sub));
    ret = avcodec_decode_subtitle2(ost->sub_dec, &sub, &got, pkt);
    if (ret < 0) {
        /* A broken cue is skipped, as ffmpeg does; the rest still converts. */
        av_log(NULL, AV_LOG_WARNING, "%s: a subtitle packet could not be decoded\n", ost->label);
        return 0;
    }
    if (!got)
        return 0;
    base = sub.pts != AV_NOPTS_VALUE ? sub.pts : ts_rescale(pkt->pts, ist->time_base, AV_TIME_BASE_Q);
    if (base == AV_NOPTS_VALUE || !sub.num_rects) {
        avsubtitle_free(&sub);
        return 0;
    }
    base = ts_sub(base, in->ts_offset);
    start = ts_add(base, (int64_t)sub.start_display_time * 1000);
    if (sub.end_display_time && sub.end_display_time != UINT32_MAX)
        end = ts_add(base, (int64_t)sub.end_display_time * 1000);
    else if (pkt->duration > 0)
        end = ts_add(base, ts_rescale(pkt->duration, ist->time_base, AV_TIME_BASE_Q));
    else
        end = ts_add(start, 5 * AV_TIME_BASE); /* no end given: shown for 5 s */
    ret = end > start ? write_cue(job, ost, &sub, start, end) : 0;
    avsubtitle_free(&sub);
    return ret;
}
