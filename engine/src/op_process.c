/* op "process": inputs -> (decoders -> filter graph -> encoders | stream copy) -> muxers.
 *
 * One thread, pull-driven (like ffmpeg before it went multi-threaded): take the
 * output stream that lags most; an encoded one asks its sink for a frame and,
 * when the graph needs input, a packet is read from the input whose buffer
 * source was starved most; a copied one reads its own input. After every
 * packet read and frame pulled, every sink is drained, so no frame waits in
 * the graph for a stream that is not being pulled (or has finished). */
#include <stdio.h>
#include <string.h>

#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/bprint.h>

#include "errors.h"
#include "input.h"
#include "ops.h"
#include "process.h"

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

/* One frame from a sink (flags: 0 or AV_BUFFERSINK_FLAG_NO_REQUEST) to its
 * encoder. Returns what av_buffersink_get_frame_flags() did; <0 other than
 * EAGAIN/EOF is an error already recorded. */
static int pull(Job *job, OutputStream *ost, int flags)
{
    int ret;
    errlog_reset();
    ret = av_buffersink_get_frame_flags(ost->sink, job->frame, flags);
    if (ret >= 0) {
        /* A finished stream's frames are dropped: stop feeding it (and measuring it). */
        if (!ost->finished && analysis_frame(job, job->frame, av_buffersink_get_time_base(ost->sink)) < 0) {
            av_frame_unref(job->frame);
            return -1;
        }
        ret = ost->finished ? 0 : encode_frame(job, ost, job->frame);
        av_frame_unref(job->frame);
        return ret < 0 ? -1 : 0;
    }
    if (ret == AVERROR_EOF) {
        ost->sink_eof = 1;
        return encode_finish(job, ost) < 0 ? -1 : AVERROR_EOF;
    }
    if (ret == AVERROR(EAGAIN))
        return ret;
    return fail_av(EXIT_FAILURE_PROCESSING, ret, "filter", "filtering [%s]", ost->label);
}

/* Frames already waiting at the sinks go to their encoders (or are dropped). */
static int drain_sinks(Job *job)
{
    for (int i = 0; i < job->nb_ostreams; i++) {
        OutputStream *ost = &job->ostreams[i];
        int ret = 0;
        if (ost->kind != OST_ENCODED)
            continue;
        while (!ost->sink_eof && (ret = pull(job, ost, AV_BUFFERSINK_FLAG_NO_REQUEST)) >= 0)
            ;
        if (ret == -1)
            return -1;
    }
    return 0;
}

static int read_and_drain(Job *job, int file)
{
    return input_read(job, file) < 0 ? -1 : drain_sinks(job);
}

static int transcode(Job *job)
{
    OutputStream *ost;
    int ret;

    while ((ost = choose_output(job))) {
        progress_tick(job);
        if (ost->kind != OST_ENCODED) {
            if (read_and_drain(job, ost->file) < 0)
                return -1;
            continue;
        }
        ret = pull(job, ost, 0);
        if (ret == -1 || (ret == 0 && drain_sinks(job) < 0))
            return -1;
        if (ret == AVERROR(EAGAIN)) {
            int g = choose_input(job);
            if (g < 0)
                return fail(EXIT_FAILURE_PROCESSING, "filter",
                            "the filter graph stalled: filter output [%s] waits for input that has ended", ost->label);
            if (read_and_drain(job, job->gin[g].file) < 0)
                return -1;
        }
    }
    return 0;
}

static int setup_graph(Job *job)
{
    AVBPrint bp;
    int ret;

    av_bprint_init(&bp, 0, AV_BPRINT_SIZE_UNLIMITED);
    ret = outputs_plan(job, &bp);
    if (ret == 0 && (job->spec->filter || bp.len))
        ret = graph_parse(job, job->spec->filter ? job->spec->filter : bp.str);
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
                        job->spec->inputs[i].name, s, ist->decode_errors);
        }
    }
    return 0;
}

static int run(Job *job)
{
    if (!(job->frame = av_frame_alloc()) || !(job->pkt = av_packet_alloc()) || !(job->out_pkt = av_packet_alloc()))
        return fail_oom(NULL);
    if (inputs_open(job) < 0 || outputs_alloc(job) < 0 || setup_graph(job) < 0 || outputs_assign(job) < 0 ||
        outputs_check(job) < 0)
        return -1;
    for (int i = 0; i < job->nb_inputs; i++) /* the graph opened every decoder; no output file exists yet */
        if (decoder_options_check(&job->spec->inputs[i], i, job->inputs[i].dec_used) < 0)
            return -1;
    /* Demux only what is decoded or copied. */
    for (int i = 0; i < job->nb_inputs; i++)
        for (unsigned s = 0; s < job->inputs[i].nb_streams; s++)
            if (!job->inputs[i].streams[s].dec && !job->inputs[i].streams[s].nb_copies)
                job->inputs[i].fmt->streams[s]->discard = AVDISCARD_ALL;
    if ((job->graph && graph_configure(job) < 0) || outputs_open(job) < 0 || inputs_seek(job) < 0)
        return -1;
    progress_open(job);
    if (transcode(job) < 0 || check_decoding(job) < 0 || outputs_finish(job) < 0)
        return -1;
    progress_final(job);
    return 0;
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
        if (output_is_segmented(of)) {
            jw_key(w, "segmented");
            jw_bool(w, 1);
        }
        jw_key(w, "streams");
        jw_arr_begin(w);
        for (int j = 0; j < of->nb_streams; j++) {
            const OutputStream *ost = of->streams[j];
            jw_obj_begin(w);
            jw_kstr(w, "type", av_get_media_type_string(ost->type));
            jw_kstr(w, "codec", avcodec_get_name(ost->st->codecpar->codec_id));
            if (ost->kind == OST_COPIED) {
                jw_key(w, "copied");
                jw_bool(w, 1);
            }
            jw_obj_end(w);
        }
        jw_arr_end(w);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    analysis_write(job, w);
    jw_obj_end(w);
}

static void job_free(Job *job)
{
    progress_close(job);
    analysis_free(job);
    outputs_free(job);
    avfilter_graph_free(&job->graph);
    for (int i = 0; i < job->nb_gout; i++)
        av_freep(&job->gout[i].label);
    inputs_free(job);
    av_frame_free(&job->frame);
    av_packet_free(&job->pkt);
    av_packet_free(&job->out_pkt);
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
