/* Which frames the frames op writes.
 *
 * Targets (select.timestamp/timestamps/interval): for each target time T the
 * frame is the first one whose pts >= T (what ffmpeg -ss T -frames:v 1 gives);
 * a T inside the last frame's display time takes the last frame; a T at or past
 * the end of the stream gives no frame. Targets are visited in ascending order:
 * when a keyframe lies between the current position and T, the input seeks to
 * the keyframe at or before T and decodes forward; otherwise it decodes on.
 *
 * Filtered (select.scene): every frame goes through the select or thumbnail
 * filter, and what comes out is written. */
#include <math.h>
#include <stdlib.h>

#include "errors.h"
#include "frames.h"

/* Without an index, decode on rather than seek for gaps up to this long. */
#define DECODE_ON_SECONDS 10.0

typedef struct Position {
    AVFrame *cur;        /* the last decoded frame, when `have` */
    int have;
    int64_t cur_end;     /* its pts + duration */
    int at_eof;          /* decoding reached the end since the last seek */
    int64_t known_end;   /* end of the stream's last frame, once seen */
    int fresh;           /* nothing read and no seek yet */
} Position;

typedef struct Target {
    int64_t ts;          /* stream time base, relative to the input's start */
    int order;           /* position in the job's list */
} Target;

static int64_t to_ts(double seconds, AVRational tb)
{
    double v = seconds * tb.den / tb.num;
    return v < 4e18 ? llrint(v) : INT64_MAX / 2;
}

static int64_t add_sat(int64_t a, int64_t b)
{
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? (b > 0 ? INT64_MAX : INT64_MIN + 1) : r;
}

/* Is seeking to `ts` better than decoding on from the current frame? */
static int should_seek(FramesJob *j, const Position *p, int64_t ts)
{
    const AVIndexEntry *e, *last;
    int64_t abs_ts, abs_cur, cur;
    int n;

    if (j->no_seek)
        return 0;
    if (!p->fresh && !p->have)
        return 1;
    cur = p->have ? p->cur->pts : 0; /* fresh: at the start */
    abs_ts = add_sat(j->start, ts);
    abs_cur = add_sat(j->start, cur);
    e = avformat_index_get_entry_from_timestamp(j->st, abs_ts, AVSEEK_FLAG_BACKWARD);
    if (e && e->timestamp > abs_cur)
        return 1; /* a keyframe lies between here and the target */
    n = avformat_index_get_entries_count(j->st);
    last = n > 0 ? avformat_index_get_entry(j->st, n - 1) : NULL;
    if (last && last->timestamp >= abs_ts)
        return 0; /* the index covers the target: no keyframe in between */
    return ((double)ts - (double)cur) * av_q2d(j->st->time_base) > DECODE_ON_SECONDS;
}

static void take(FramesJob *j, Position *p, AVFrame *f)
{
    av_frame_unref(p->cur);
    av_frame_move_ref(p->cur, f);
    p->have = 1;
    p->cur_end = add_sat(p->cur->pts, p->cur->duration > 0 ? p->cur->duration : j->frame_dur);
}

/* Make p->cur the frame for target ts: 1, 0 when ts is past the end, -1 on error. */
static int find_frame(FramesJob *j, Position *p, int64_t ts)
{
    int after_seek = 0, retried = 0, r;

    if (p->have && p->cur->pts >= ts)
        return 1; /* every frame before it is before the previous, smaller, target */
    if (ts >= p->known_end)
        return 0;
    if (p->at_eof && p->have)
        return ts < p->cur_end;
    if (should_seek(j, p, ts)) {
        if ((r = frames_seek(j, ts)) < 0)
            return -1;
        if (r == 0) {
            p->have = p->at_eof = 0;
            after_seek = 1;
        }
    }
    p->fresh = 0;
    for (;;) {
        if ((r = frames_decode(j, j->frame)) < 0)
            return -1;
        if (r == 0) {
            p->at_eof = 1;
            if (!p->have && after_seek && !j->no_seek) {
                /* The seek found nothing (some inputs without an index or
                 * timestamps seek badly): start over and only decode on. */
                j->no_seek = 1;
                av_log(NULL, AV_LOG_WARNING, "%s: seeking found no frame; decoding from the start instead\n",
                       j->fs->input->path);
                if (frames_restart(j) < 0)
                    return -1;
                p->at_eof = after_seek = 0;
                continue;
            }
            if (!p->have)
                return 0;
            p->known_end = p->cur_end;
            return ts < p->cur_end;
        }
        if (after_seek && !retried && j->frame->pts > ts) {
            /* Landed after the target (the keyframe is shown later than it
             * is stored, or pictures before it were undecodable): once, go
             * back to the keyframe before the one we landed on. */
            int64_t back = ts;
            if (j->first_dts != AV_NOPTS_VALUE)
                back = FFMIN(back, add_sat(j->first_dts, j->start == INT64_MIN ? INT64_MAX : -j->start));
            retried = 1;
            if ((r = frames_seek(j, add_sat(back, -1))) < 0)
                return -1;
            if (r == 0) {
                av_frame_unref(j->frame);
                p->have = 0;
                continue;
            }
        }
        after_seek = 0;
        take(j, p, j->frame);
        if (p->cur->pts >= ts)
            return 1;
    }
}

static int cmp_target(const void *a, const void *b)
{
    const Target *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts > y->ts ? 1 : -1;
    return (x->order > y->order) - (x->order < y->order);
}

static int run_list(FramesJob *j, Position *p)
{
    const frames_spec *fs = j->fs;
    Target *t = av_malloc_array(fs->nb_targets, sizeof(*t));
    int ret = 0;

    if (!t)
        return fail_oom(NULL);
    for (int i = 0; i < fs->nb_targets; i++) {
        t[i].ts = to_ts(fs->targets[i], j->st->time_base);
        t[i].order = i;
    }
    /* Ascending for the seeks; files are numbered (and listed) in the job's order. */
    qsort(t, fs->nb_targets, sizeof(*t), cmp_target);
    for (int i = 0; i < fs->nb_targets; i++) {
        int r = find_frame(j, p, t[i].ts);
        if (r <= 0) { /* past the end: so are the rest */
            ret = r;
            break;
        }
        if ((ret = frames_emit(j, p->cur, t[i].order + 1)) < 0)
            break;
    }
    av_free(t);
    return ret < 0 ? -1 : 0;
}

/* Frame k is the one for target k * interval; a frame is written once (a
 * target that lands on the frame just written moves on to the first target
 * after it), so an interval shorter than a frame writes every frame. */
static int run_interval(FramesJob *j, Position *p)
{
    const frames_spec *fs = j->fs;
    AVRational tb = j->st->time_base;
    int64_t last = INT64_MIN; /* pts of the last frame written */
    double k = 0;

    while (j->nb_results < fs->count) {
        double t = k * fs->interval;
        int64_t ts;
        int r;
        if (!(t <= MAX_SECONDS))
            break;
        ts = to_ts(t, tb);
        if (ts <= last) {
            double next = ceil(((double)last + 1) * tb.num / tb.den / fs->interval);
            k = next > k ? next : k + 1;
            if (!(k < 9007199254740992.0)) /* 2^53: the interval is too small to move on */
                break;
            continue;
        }
        if ((r = find_frame(j, p, ts)) < 0)
            return -1;
        if (r == 0 || p->cur->pts <= last) /* past the end, or the last frame again */
            break;
        if (frames_emit(j, p->cur, j->nb_results + 1) < 0)
            return -1;
        last = p->cur->pts;
        k += 1;
    }
    return 0;
}

int frames_select_targets(FramesJob *j)
{
    Position p = { .fresh = 1, .known_end = INT64_MAX };
    int ret;

    if (!(p.cur = av_frame_alloc()))
        return fail_oom(NULL);
    ret = j->fs->select == SELECT_INTERVAL ? run_interval(j, &p) : run_list(j, &p);
    av_frame_free(&p.cur);
    return ret;
}

int frames_select_filtered(FramesJob *j)
{
    for (;;) {
        int r = frames_decode(j, j->frame);
        if (r < 0)
            return -1;
        if (r == 0)
            return frames_filter(j, NULL) < 0 ? -1 : 0;
        r = frames_filter(j, j->frame);
        av_frame_unref(j->frame);
        if (r < 0)
            return -1;
        if (r == 1) /* count reached */
            return 0;
    }
}
