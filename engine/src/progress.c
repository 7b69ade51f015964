/* "progress": true: NDJSON records on /dev/afmpeg-progress, one per 100 ms of
 * media time written plus a final one. The device is a courtesy to the host:
 * failing to open or write it never fails the job, it just stops reporting. */
#include <stdio.h>

#include "process.h"

#define PROGRESS_PATH "/dev/afmpeg-progress"
#define PROGRESS_STEP_US 100000

/* What the job is expected to last, in microseconds of output, or 0. Windows
 * bound it; inputs with a known length bound it too (a window longer than the
 * input ends with the input). */
static int64_t expected_duration(const Job *job)
{
    int64_t inputs = -1, best = 0;
    for (int i = 0; i < job->nb_inputs; i++) {
        const AVFormatContext *fmt = job->inputs[i].fmt;
        const spec_input *si = &job->spec->inputs[i];
        int64_t d;
        if (!fmt || fmt->duration == AV_NOPTS_VALUE || fmt->duration <= 0)
            continue;
        d = si->has_seek ? ts_sub(fmt->duration, si->seek_us) : fmt->duration;
        inputs = FFMAX(inputs, FFMAX(d, 0));
    }
    for (int i = 0; i < job->nb_outputs; i++) {
        const spec_output *so = job->outputs[i].spec;
        int64_t d = inputs;
        if (so->duration_us >= 0 || so->end_us >= 0) {
            int64_t w = so->duration_us >= 0 ? so->duration_us : so->end_us;
            /* With copy_ts "end" is on the input's clock. */
            if (so->duration_us < 0 && so->copy_ts && job->nb_inputs)
                w = FFMAX(ts_sub(w, job->inputs[0].ts_offset), 0);
            d = inputs >= 0 ? FFMIN(w, inputs) : w;
        }
        best = FFMAX(best, d);
    }
    return best;
}

void progress_open(Job *job)
{
    if (!job->spec->progress)
        return;
    job->progress.f = fopen(PROGRESS_PATH, "w");
    job->progress.duration_us = expected_duration(job);
    job->progress.next_us = PROGRESS_STEP_US;
}

/* Furthest output time written, on the output's own zero-based clock. */
static int64_t out_time(const Job *job)
{
    int64_t t = 0;
    for (int i = 0; i < job->nb_ostreams; i++) {
        const OutputStream *ost = &job->ostreams[i];
        if (ost->packets)
            t = FFMAX(t, ts_sub(ost->written_us, window_shift(job, ost)));
    }
    return t;
}

static void emit(Job *job, int64_t t, int final)
{
    int64_t frames = 0, size = 0;
    int have_video = 0;
    for (int i = 0; i < job->nb_ostreams && !have_video; i++) {
        if (job->ostreams[i].type == AVMEDIA_TYPE_VIDEO) {
            frames = job->ostreams[i].packets;
            have_video = 1;
        }
    }
    for (int i = 0; i < job->nb_outputs; i++) {
        const OutputFile *of = &job->outputs[i];
        int64_t pos = of->oc && of->oc->pb ? avio_tell(of->oc->pb) : -1;
        size = ts_add(size, pos >= 0 ? FFMAX(pos, of->closed_size) : FFMAX(of->bytes, of->closed_size));
    }
    if (fprintf(job->progress.f, "{\"frame\":%" PRId64 ",\"out_time_us\":%" PRId64 ",\"total_size\":%" PRId64
                ",\"duration_us\":%" PRId64 "%s}\n", frames, t, size, job->progress.duration_us,
                final ? ",\"final\":true" : "") < 0 ||
        fflush(job->progress.f) != 0)
        progress_close(job);
}

void progress_tick(Job *job)
{
    int64_t t;
    if (!job->progress.f)
        return;
    t = out_time(job);
    if (t < job->progress.next_us)
        return;
    job->progress.next_us = ts_add(t, PROGRESS_STEP_US);
    emit(job, t, 0);
}

void progress_final(Job *job)
{
    if (job->progress.f)
        emit(job, out_time(job), 1);
}

void progress_close(Job *job)
{
    if (job->progress.f)
        fclose(job->progress.f);
    job->progress.f = NULL;
}
