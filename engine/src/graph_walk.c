/* Facts about a parsed (not yet configured) graph, found by walking links
 * upstream from a graph output: whether it ever ends, and which inputs feed it.
 *
 * "Endless" is decided from the filters' options before anything runs, so a job
 * whose output would never end is refused instead of hanging. Unknown filters
 * are assumed to end when their inputs do (a multi-input one: when any does),
 * which can miss an endless output but never refuses a finite one. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/opt.h>

#include "process.h"

#define MAX_DEPTH 256

static int64_t opt_int(const AVFilterContext *f, const char *name, int64_t dflt)
{
    int64_t v;
    return av_opt_get_int((void *)f, name, AV_OPT_SEARCH_CHILDREN, &v) < 0 ? dflt : v;
}

static int is(const AVFilterContext *f, const char *name)
{
    return !strcmp(f->filter->name, name);
}

/* A generator with no end: sources with a "duration" option run forever
 * without one (sine: 0, the others: negative). */
static int source_endless(const AVFilterContext *f)
{
    int64_t d;
    if (av_opt_get_int((void *)f, "duration", AV_OPT_SEARCH_CHILDREN, &d) < 0)
        return 0;
    return is(f, "sine") ? d <= 0 : d < 0;
}

/* Filters that end a stream whatever their input does. */
static int bounds_output(const AVFilterContext *f)
{
    if (is(f, "trim") || is(f, "atrim"))
        return opt_int(f, "end", INT64_MAX) != INT64_MAX || opt_int(f, "duration", 0) > 0 ||
               opt_int(f, "end_pts", AV_NOPTS_VALUE) != AV_NOPTS_VALUE ||
               opt_int(f, is(f, "trim") ? "end_frame" : "end_sample", INT64_MAX) != INT64_MAX;
    return 0;
}

/* Filters that never end on their own. */
static int makes_endless(const AVFilterContext *f)
{
    if (is(f, "loop"))
        return opt_int(f, "loop", 0) < 0 && opt_int(f, "size", 0) > 0;
    if (is(f, "tpad"))
        return opt_int(f, "stop", 0) < 0;
    if (is(f, "apad"))
        return opt_int(f, "pad_len", -1) < 0 && opt_int(f, "whole_len", -1) < 0 &&
               opt_int(f, "pad_dur", -1) < 0 && opt_int(f, "whole_dur", -1) < 0;
    return 0;
}

/* Which inputs decide when a multi-input filter ends: 'a'ny of them ending
 * (it ends with the shortest), 'l'ongest (it ends when all have), or one index. */
static int end_rule(const AVFilterContext *f)
{
    if (is(f, "concat"))
        return 'l';
    if (is(f, "amix")) {
        int64_t d = opt_int(f, "duration", 0); /* longest, shortest, first */
        return d == 0 ? 'l' : d == 1 ? 'a' : 0;
    }
    /* framesync: without shortest/endall it reads every input to its end,
     * even after the main one ended. */
    if (is(f, "overlay"))
        return opt_int(f, "shortest", 0) || opt_int(f, "eof_action", 0) == 1 ? 'a' : 'l';
    if (is(f, "xfade"))
        return 1;
    return 'a';
}

/* Results per filter, so graphs that split and merge again are walked once per filter. */
typedef struct {
    struct { const AVFilterContext *f; int result; const char *culprit; } *memo;
    unsigned n, cap;
} Walk;

static int walk_init(Walk *w, const AVFilterContext *f)
{
    w->n = 0;
    w->cap = f->graph ? f->graph->nb_filters : 0;
    w->memo = w->cap ? av_calloc(w->cap, sizeof(*w->memo)) : NULL;
    return w->cap && !w->memo ? AVERROR(ENOMEM) : 0;
}

static int walk_get(const Walk *w, const AVFilterContext *f, const char **culprit)
{
    for (unsigned i = 0; i < w->n; i++) {
        if (w->memo[i].f == f) {
            if (culprit)
                *culprit = w->memo[i].culprit;
            return w->memo[i].result;
        }
    }
    return INT_MIN;
}

/* Record (or update) the result for f. A filter is recorded before its inputs
 * are walked, so a cycle ends the walk instead of recursing. */
static int walk_put(Walk *w, const AVFilterContext *f, int result, const char *culprit)
{
    unsigned i = 0;
    while (i < w->n && w->memo[i].f != f)
        i++;
    if (i == w->n) {
        if (w->n == w->cap)
            return result;
        w->n++;
    }
    w->memo[i].f = f;
    w->memo[i].result = result;
    w->memo[i].culprit = culprit;
    return result;
}

static int endless(Walk *w, const AVFilterContext *f, int depth, const char **culprit);

static int endless_inputs(Walk *w, const AVFilterContext *f, int depth, const char **culprit)
{
    int rule, any = 0, all = 1;

    if (!f->nb_inputs) {
        if (source_endless(f))
            *culprit = f->filter->name;
        return *culprit != NULL;
    }
    if (bounds_output(f))
        return 0;
    if (makes_endless(f)) {
        *culprit = f->filter->name;
        return 1;
    }
    rule = f->nb_inputs == 1 ? 0 : end_rule(f);
    if (rule != 'a' && rule != 'l') {
        const AVFilterLink *l = (unsigned)rule < f->nb_inputs ? f->inputs[rule] : NULL;
        return l && endless(w, l->src, depth + 1, culprit);
    }
    for (unsigned i = 0; i < f->nb_inputs; i++) {
        const char *c = NULL;
        int e = f->inputs[i] && endless(w, f->inputs[i]->src, depth + 1, &c);
        if (e && !*culprit)
            *culprit = c;
        any |= e;
        all &= e;
    }
    if (rule == 'a' ? all : any)
        return 1;
    *culprit = NULL;
    return 0;
}

static int endless(Walk *w, const AVFilterContext *f, int depth, const char **culprit)
{
    int r = walk_get(w, f, culprit);
    if (r != INT_MIN)
        return r;
    if (depth > MAX_DEPTH)
        return 0;
    *culprit = NULL;
    walk_put(w, f, 0, NULL);
    r = endless_inputs(w, f, depth, culprit);
    return walk_put(w, f, r, *culprit);
}

int graph_output_endless(Job *job, const GraphOutput *g, char *why, size_t size)
{
    const char *culprit = NULL;
    Walk w;
    int r;
    if (walk_init(&w, g->filter) < 0)
        return 0;
    r = endless(&w, g->filter, 0, &culprit);
    av_free(w.memo);
    if (r)
        snprintf(why, size, "filter \"%s\" never ends", culprit ? culprit : "?");
    return r;
}

static int first_input(Job *job, Walk *w, const AVFilterContext *f, int depth)
{
    int best = walk_get(w, f, NULL);
    if (best != INT_MIN)
        return best;
    best = -1;
    if (depth > MAX_DEPTH)
        return -1;
    walk_put(w, f, -1, NULL);
    for (int i = 0; i < job->nb_gin; i++)
        if (job->gin[i].src == f)
            return walk_put(w, f, job->gin[i].file, NULL);
    for (unsigned i = 0; i < f->nb_inputs; i++) {
        int n = f->inputs[i] ? first_input(job, w, f->inputs[i]->src, depth + 1) : -1;
        if (n >= 0 && (best < 0 || n < best))
            best = n;
    }
    return walk_put(w, f, best, NULL);
}

int graph_output_first_input(Job *job, const GraphOutput *g)
{
    Walk w;
    int r;
    if (walk_init(&w, g->filter) < 0)
        return -1;
    r = first_input(job, &w, g->filter, 0);
    av_free(w.memo);
    return r;
}

int graph_output_sole_input(Job *job, const GraphOutput *g, int *stream)
{
    const AVFilterContext *f = g->filter;
    for (int depth = 0; depth <= MAX_DEPTH; depth++) {
        for (int i = 0; i < job->nb_gin; i++) {
            if (job->gin[i].src == f) {
                *stream = job->gin[i].stream;
                return job->gin[i].file;
            }
        }
        if (f->nb_inputs != 1 || !f->inputs[0])
            return -1;
        f = f->inputs[0]->src;
    }
    return -1;
}
