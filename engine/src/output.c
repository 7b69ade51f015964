/* Output files: muxers, the map (which streams each file gets and in what
 * order), headers, packet writing and trailers. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libavcodec/version.h>
#include <libavutil/opt.h>

#include "confine.h"
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
                return fail_kind(EXIT_FAILURE_PROCESSING, ERR_UNSUPPORTED, field, "%s: unknown output format \"%s\"",
                                 field, so->format);
            }
            snprintf(field, sizeof(field), "outputs[%d].path", i);
            return fail_kind(EXIT_FAILURE_PROCESSING, ERR_UNSUPPORTED, field,
                             "%s: cannot tell the output format from \"%s\"; set \"format\"", field, so->path);
        }
        /* Segments, playlists and other files the muxer opens stay in the job root. */
        confine_io(of->oc);
        if (so->bsf_none)
            of->oc->flags &= ~AVFMT_FLAG_AUTO_BSF;
    }
    return 0;
}

/* The stream av_find_best_stream picks, as a K for "0:v:K", or -1. Cover art is
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

/* What an output of a job without a filter gets: input 0's best video and best
 * audio, for the types its format can hold (or whose codec is set), copied
 * ("copy") or through null/anull into `bp`; its subtitles with
 * subtitle_codec "copy". A map there may only hold copies. */
static int plan_passthrough(Job *job, OutputFile *of, AVBPrint *bp)
{
    static const struct { enum AVMediaType type; char t; const char *filter; } kinds[] = {
        { AVMEDIA_TYPE_VIDEO, 'v', "null" }, { AVMEDIA_TYPE_AUDIO, 'a', "anull" },
    };
    const AVFormatContext *fmt = job->inputs[0].fmt;
    const AVOutputFormat *ofmt = of->oc->oformat;
    const spec_output *so = of->spec;
    char field[48];

    snprintf(field, sizeof(field), "outputs[%d].map", of->index);
    if (so->has_map) {
        for (int k = 0; k < so->nb_map; k++)
            if (!so->map[k].is_copy)
                return fail(EXIT_MALFORMED_SPEC, field, "%s: a job without a filter has no [labels] to map", field);
        return 0;
    }
    for (int i = 0; i < 2; i++) {
        const char *codec = i ? so->audio_codec : so->video_codec;
        int k = best_stream_k(fmt, kinds[i].type);
        spec_map_entry *e = &of->entries[of->nb_entries];
        if (k < 0 || (!codec && av_guess_codec(ofmt, NULL, so->path, NULL, kinds[i].type) == AV_CODEC_ID_NONE))
            continue;
        e->text = of->auto_text[i];
        if (codec_is_copy(codec)) {
            snprintf(of->auto_text[i], sizeof(of->auto_text[i]), "0:%c", kinds[i].t);
            e->is_copy = 1;
            e->ss = (stream_spec){ .file = 0, .type = kinds[i].type, .index = k };
        } else {
            snprintf(of->auto_text[i], sizeof(of->auto_text[i]), "pt%d%c", of->index, kinds[i].t);
            av_bprintf(bp, "%s[0:%c:%d]%s[%s]", bp->len ? ";" : "", kinds[i].t, k, kinds[i].filter, e->text);
        }
        of->nb_entries++;
    }
    /* Subtitles with a subtitle_codec; or alone, into a format made for them (in.srt -> out.vtt). */
    if ((so->subtitle_codec || (!of->nb_entries && av_guess_codec(ofmt, NULL, so->path, NULL, AVMEDIA_TYPE_SUBTITLE) !=
                                AV_CODEC_ID_NONE)) &&
        stream_find(fmt, AVMEDIA_TYPE_SUBTITLE, 0) >= 0) {
        spec_map_entry *e = &of->entries[of->nb_entries++];
        snprintf(of->auto_text[2], sizeof(of->auto_text[2]), "0:s");
        e->text = of->auto_text[2];
        e->is_copy = 1;
        e->ss = (stream_spec){ .file = 0, .type = AVMEDIA_TYPE_SUBTITLE, .index = -1 };
    }
    if (!of->nb_entries) {
        snprintf(field, sizeof(field), "outputs[%d]", of->index);
        return fail(EXIT_FAILURE_PROCESSING, field,
                    "%s: input 0 has no video or audio stream that output format \"%s\" can hold", field, ofmt->name);
    }
    return 0;
}

int outputs_plan(Job *job, AVBPrint *passthrough)
{
    for (int i = 0; i < job->nb_outputs; i++) {
        OutputFile *of = &job->outputs[i];
        const spec_output *so = of->spec;
        if (so->has_map) {
            memcpy(of->entries, so->map, so->nb_map * sizeof(*so->map));
            of->nb_entries = so->nb_map;
        }
        if (job->spec->filter)
            of->take_all = !so->has_map;
        else if (plan_passthrough(job, of, passthrough) < 0)
            return -1;
    }
    return av_bprint_is_complete(passthrough) ? 0 : fail_oom(NULL);
}

static int add_encoded(Job *job, OutputFile *of, GraphOutput *g)
{
    OutputStream *ost;
    if (g->type != AVMEDIA_TYPE_VIDEO && g->type != AVMEDIA_TYPE_AUDIO)
        return fail(EXIT_MALFORMED_SPEC, "filter", "filter output [%s] is neither video nor audio", g->label);
    ost = &job->ostreams[job->nb_ostreams++];
    ost->of = of;
    ost->kind = OST_ENCODED;
    ost->label = g->label;
    ost->type = g->type;
    ost->last_pts = AV_NOPTS_VALUE;
    ost->last_us = INT64_MIN;
    ost->shift_file = graph_output_first_input(job, g);
    ost->file = graph_output_sole_input(job, g, &ost->stream);
    ost->max_frames = g->type == AVMEDIA_TYPE_VIDEO ? of->spec->max_frames_video : of->spec->max_frames_audio;
    g->ost = ost;
    of->streams[of->nb_streams++] = ost;
    return encode_pick(of, ost);
}

int outputs_assign(Job *job)
{
    for (int i = 0; i < job->nb_outputs; i++) {
        OutputFile *of = &job->outputs[i];
        char field[48];
        snprintf(field, sizeof(field), "outputs[%d].map", i);
        if (of->take_all) {
            for (int j = 0; j < job->nb_gout; j++)
                if (add_encoded(job, of, &job->gout[j]) < 0)
                    return -1;
            continue;
        }
        for (int k = 0; k < of->nb_entries; k++) {
            const spec_map_entry *e = &of->entries[k];
            GraphOutput *g = NULL;
            if (e->is_copy) {
                if (copy_add(job, of, e) < 0)
                    return -1;
                continue;
            }
            for (int j = 0; j < job->nb_gout && !g; j++)
                if (!strcmp(job->gout[j].label, e->text))
                    g = &job->gout[j];
            if (!g)
                return fail(EXIT_MALFORMED_SPEC, field, "%s: the filter has no output labelled [%s]", field, e->text);
            if (g->ost)
                return fail(EXIT_MALFORMED_SPEC, field, "%s: [%s] is already mapped to outputs[%d]",
                            field, e->text, g->ost->of->index);
            if (add_encoded(job, of, g) < 0)
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

/* A codec set to an encoder for a type whose streams are all copied would be
 * silently ignored. */
static int check_codec(const OutputFile *of, enum AVMediaType type, const char *name, const char *key)
{
    int copied = 0, encoded = 0;
    char field[48];
    if (!name || codec_is_copy(name))
        return 0;
    for (int i = 0; i < of->nb_streams; i++) {
        if (of->streams[i]->type != type)
            continue;
        copied |= of->streams[i]->kind == OST_COPIED;
        encoded |= of->streams[i]->kind == OST_ENCODED;
    }
    if (!copied || encoded)
        return 0;
    snprintf(field, sizeof(field), "outputs[%d].%s", of->index, key);
    return fail(EXIT_MALFORMED_SPEC, field,
                "%s: \"%s\" is not used: this output's %s streams are copied (unbracketed map entries); "
                "to encode one, route it through the filter and map its [label]", field, name,
                av_get_media_type_string(type));
}

int outputs_check(Job *job)
{
    for (int i = 0; i < job->nb_outputs; i++) {
        const OutputFile *of = &job->outputs[i];
        const AVDictionaryEntry *e = NULL;
        char field[64];
        if (check_codec(of, AVMEDIA_TYPE_VIDEO, of->spec->video_codec, "video_codec") < 0 ||
            check_codec(of, AVMEDIA_TYPE_AUDIO, of->spec->audio_codec, "audio_codec") < 0)
            return -1;
        /* Every bitstream filter key names a copy of this output. */
        while ((e = av_dict_iterate(of->spec->bsf, e))) {
            int used = 0;
            for (int k = 0; k < of->nb_streams && !used; k++)
                used = of->streams[k]->kind == OST_COPIED && !strcmp(of->streams[k]->label, e->key);
            snprintf(field, sizeof(field), "outputs[%d].bitstream_filters", i);
            if (!used)
                return fail(EXIT_MALFORMED_SPEC, field, "%s: \"%s\" is not a copied map entry of this output",
                            field, e->key);
        }
    }
    /* Copying starts on a keyframe; an accurate seek starts between them. */
    for (int i = 0; i < job->nb_ostreams; i++) {
        const OutputStream *ost = &job->ostreams[i];
        const spec_input *si;
        char field[32];
        if (ost->kind != OST_COPIED)
            continue;
        si = &job->spec->inputs[ost->file];
        if (!si->has_seek || !si->seek_accurate)
            continue;
        snprintf(field, sizeof(field), "inputs[%d].seek", ost->file);
        return fail(EXIT_MALFORMED_SPEC, field,
                    "%s: an accurate seek starts between keyframes, but outputs[%d] copies \"%s\" from this input "
                    "and copying can only start on a keyframe; use \"mode\": \"fast\" or encode the stream",
                    field, ost->of->index, ost->label);
    }
    return outputs_check_windows(job);
}

/* Files the muxer of `of` opened by itself (segments, playlists, lists): one
 * it was refused or could not create fails the job, though some muxers (hls)
 * only log it and carry on. Asked after every muxer call. */
static int muxer_files_ok(const OutputFile *of)
{
    const confine_failure *f = confine_take_failure();
    char field[64], errbuf[AV_ERROR_MAX_STRING_SIZE];

    if (!f)
        return 0;
#ifdef ENOTCAPABLE
    if (f->averr == AVERROR(ENOTCAPABLE)) { /* the host refused it: a symbolic link out of the root */
        snprintf(field, sizeof(field), "outputs[%d]", of->index);
        return fail(EXIT_MALFORMED_SPEC, field, "%s: \"%s\", a file the %s muxer opens, leads outside the job's "
                    "filesystem", field, f->url, f->muxer);
    }
#endif
    if (f->refused) {
        snprintf(field, sizeof(field), "outputs[%d].format_options", of->index);
        return fail(EXIT_MALFORMED_SPEC, field, "outputs[%d]: \"%s\", a file the %s muxer opens, is outside the job's "
                    "filesystem", of->index, f->url, f->muxer);
    }
    snprintf(field, sizeof(field), "outputs[%d]", of->index);
    av_strerror(f->averr, errbuf, sizeof(errbuf));
    return fail_kind(EXIT_FAILURE_PROCESSING, averror_kind(f->averr, field), field,
                     "%s: the %s muxer could not create \"%s\": %s%s", field, f->muxer, f->url, errbuf,
                     f->averr == AVERROR(ENOENT) ? " (its directory does not exist)" : "");
}


/* Each encoded stream's "encoder" tag, as ffmpeg writes it: "Lavc<version> <encoder>",
 * or "Lavc <encoder>" when the output or the encoder is bitexact (kept if the job
 * set one). */
static int tag_encoders(OutputFile *of)
{
    for (int j = 0; j < of->nb_streams; j++) {
        const OutputStream *ost = of->streams[j];
        char tag[64];
        int bitexact;
        if (ost->kind != OST_ENCODED || !ost->enc || !ost->st)
            continue;
        bitexact = (of->oc->flags & AVFMT_FLAG_BITEXACT) || (ost->enc->flags & AV_CODEC_FLAG_BITEXACT);
        snprintf(tag, sizeof(tag), "%s %s", bitexact ? "Lavc" : LIBAVCODEC_IDENT, ost->codec->name);
        if (av_dict_set(&ost->st->metadata, "encoder", tag, AV_DICT_DONT_OVERWRITE) < 0)
            return fail_oom(NULL);
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
        /* WASI has no FIFO file type: tell the file protocol a stream device cannot seek. */
        if (av_dict_set(&opts, "protocol_whitelist", "file", 0) < 0 ||
            (path_is_stream(of->spec->path) && av_dict_set(&opts, "seekable", "0", 0) < 0)) {
            av_dict_free(&opts);
            return fail_oom(NULL);
        }
        errlog_reset();
        ret = avio_open2(&oc->pb, path_to_url(of->spec->path, url, sizeof(url)), AVIO_FLAG_WRITE, NULL, &opts);
        av_dict_free(&opts);
        if (ret < 0) {
            snprintf(field, sizeof(field), "outputs[%d].path", of->index);
#ifdef ENOTCAPABLE
            if (ret == AVERROR(ENOTCAPABLE)) /* the host refused it: a symbolic link out of the root */
                return fail(EXIT_MALFORMED_SPEC, field, "%s: \"%s\" leads outside the job's filesystem", field,
                            of->spec->path);
#endif
            return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "%s", of->spec->path);
        }
    }
    /* Nested files (segments, playlists) are opened with the same restriction. */
    if (av_dict_copy(&opts, of->spec->format_options, 0) < 0 ||
        av_dict_set(&opts, "protocol_whitelist", "file", 0) < 0) {
        av_dict_free(&opts);
        return fail_oom(NULL);
    }
    errlog_reset();
    /* ffmpeg's -muxdelay default (mpegts and mpeg-ps offset timestamps by
     * it); "max_delay" in format_options overrides it. */
    oc->max_delay = 700000;
    /* The generic muxer options first (what avformat_init_output would do),
     * so the encoder tags can follow the output's bitexact flag. */
    if ((ret = av_opt_set_dict(oc, &opts)) < 0) {
        av_dict_free(&opts);
        snprintf(field, sizeof(field), "outputs[%d].format_options", of->index);
        return fail_av(EXIT_MALFORMED_SPEC, ret, field, "%s", field);
    }
    if (of->spec->duration_us >= 0) /* the expected length, a hint for muxers (as ffmpeg's -t) */
        oc->duration = of->spec->duration_us;
    if (tag_encoders(of) < 0) {
        av_dict_free(&opts);
        return -1;
    }
    ret = avformat_init_output(oc, &opts); /* the header itself: write_header() */
    if (muxer_files_ok(of) < 0) {
        av_dict_free(&opts);
        return -1;
    }
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
        unsigned char consumed[MAX_CODEC_OPTIONS] = { 0 };
        const AVDictionaryEntry *e = NULL;
        char field[48];

        snprintf(field, sizeof(field), "outputs[%d].options", i);
        if (av_dict_count(of->spec->options) > (int)sizeof(consumed))
            return fail(EXIT_MALFORMED_SPEC, field, "%s: more than %d options", field, (int)sizeof(consumed));
        for (int j = 0; j < of->nb_streams; j++) {
            OutputStream *ost = of->streams[j];
            if ((ost->kind == OST_ENCODED ? encode_open(job, ost, consumed) :
                 ost->kind == OST_SUBTITLE ? subtitle_open(job, ost) : copy_open(job, ost)) < 0)
                return -1;
        }
        for (int k = 0; (e = av_dict_iterate(of->spec->options, e)); k++)
            if (!consumed[k])
                return fail(EXIT_MALFORMED_SPEC, field, "%s: unknown key \"%s\" (no encoder of this output uses it)",
                            field, e->key);
        if (metadata_apply(job, of) < 0 || open_file(of) < 0)
            return -1;
    }
    return 0;
}

/* Some muxers set their time bases only when writing the header (nut), so
 * packets are rescaled here, from pkt->time_base. */
static int mux(OutputFile *of, AVPacket *pkt)
{
    int index = pkt->stream_index; /* the muxer takes the packet */
    int ret;
    av_packet_rescale_ts(pkt, pkt->time_base, of->oc->streams[index]->time_base);
    pkt->time_base = of->oc->streams[index]->time_base;
    ret = av_interleaved_write_frame(of->oc, pkt);
    if (muxer_files_ok(of) < 0)
        return -1;
    if (ret < 0) {
        const char *label = "?";
        char field[48];
        for (int j = 0; j < of->nb_streams; j++)
            if (of->streams[j]->st && of->streams[j]->st->index == index)
                label = of->streams[j]->label;
        snprintf(field, sizeof(field), "outputs[%d]", of->index);
        return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "%s: writing a packet of \"%s\"", of->spec->path, label);
    }
    return 0;
}

/* Whether every video encoder of `of` has seen its first frame (or ended). */
static int header_ready(const OutputFile *of)
{
    for (int j = 0; j < of->nb_streams; j++) {
        const OutputStream *ost = of->streams[j];
        if (ost->kind == OST_ENCODED && ost->type == AVMEDIA_TYPE_VIDEO && !ost->finished &&
            ost->st->codecpar->field_order == AV_FIELD_UNKNOWN)
            return 0;
    }
    return 1;
}

static int write_header(OutputFile *of)
{
    char field[48];
    int ret;
    errlog_reset();
    ret = avformat_write_header(of->oc, NULL);
    of->header_written = 1;
    if (muxer_files_ok(of) < 0)
        return -1;
    if (ret < 0) {
        snprintf(field, sizeof(field), "outputs[%d]", of->index);
        return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "%s: writing the header", of->spec->path);
    }
    for (int i = 0; i < of->nb_queued; i++) {
        ret = mux(of, of->queue[i]);
        av_packet_free(&of->queue[i]);
        if (ret < 0)
            return -1;
    }
    of->nb_queued = 0;
    of->queued_bytes = 0;
    return 0;
}

int output_write(OutputStream *ost, AVPacket *pkt, AVRational tb)
{
    OutputFile *of = ost->of;
    if (pkt->pts != AV_NOPTS_VALUE) {
        int64_t end = ts_rescale(ts_add(pkt->pts, FFMAX(pkt->duration, 0)), tb, AV_TIME_BASE_Q);
        ost->written_us = ost->packets ? FFMAX(ost->written_us, end) : end;
    }
    ost->packets++;
    of->bytes = ts_add(of->bytes, pkt->size);
    pkt->stream_index = ost->st->index;
    pkt->time_base = tb;
    if (!of->header_written) {
        if (of->nb_queued < MAX_HEADER_QUEUE && of->queued_bytes + pkt->size <= MAX_HEADER_QUEUE_BYTES &&
            !header_ready(of)) {
            if (!(of->queue[of->nb_queued] = av_packet_alloc()))
                return fail_oom(NULL);
            of->queued_bytes += pkt->size;
            av_packet_move_ref(of->queue[of->nb_queued++], pkt);
            return 0;
        }
        if (write_header(of) < 0)
            return -1;
    }
    return mux(of, pkt);
}

int output_is_segmented(const OutputFile *of)
{
    static const char *const names[] = { "hls", "segment", "stream_segment", "dash", NULL };
    for (int i = 0; names[i]; i++)
        if (!strcmp(of->oc->oformat->name, names[i]))
            return 1;
    return 0;
}

int outputs_finish(Job *job)
{
    for (int i = 0; i < job->nb_outputs; i++) {
        OutputFile *of = &job->outputs[i];
        char field[48];
        int ret;
        snprintf(field, sizeof(field), "outputs[%d]", i);
        if (!of->header_written && write_header(of) < 0)
            return -1;
        errlog_reset();
        ret = av_write_trailer(of->oc);
        if (muxer_files_ok(of) < 0)
            return -1;
        if (ret < 0)
            return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "%s: finishing the file", of->spec->path);
        if (of->oc->pb)
            of->closed_size = avio_tell(of->oc->pb);
        if (!(of->oc->oformat->flags & AVFMT_NOFILE) && (ret = avio_closep(&of->oc->pb)) < 0)
            return fail_av(EXIT_FAILURE_PROCESSING, ret, field, "%s: closing the file", of->spec->path);
    }
    return 0;
}

void outputs_free(Job *job)
{
    for (int i = 0; i < job->nb_ostreams; i++) {
        avcodec_free_context(&job->ostreams[i].enc);
        avcodec_free_context(&job->ostreams[i].sub_dec);
        av_freep(&job->ostreams[i].sub_buf);
        av_bsf_free(&job->ostreams[i].bsf);
    }
    for (int i = 0; i < job->nb_outputs; i++) {
        AVFormatContext *oc = job->outputs[i].oc;
        for (int j = 0; j < job->outputs[i].nb_queued; j++)
            av_packet_free(&job->outputs[i].queue[j]);
        if (!oc)
            continue;
        if (!(oc->oformat->flags & AVFMT_NOFILE))
            avio_closep(&oc->pb);
        avformat_free_context(oc);
        job->outputs[i].oc = NULL;
    }
}
