/* "analysis": the lavfi.* metadata measuring filters (silencedetect, ebur128,
 * blackdetect, astats, ...) attach to frames, collected as frames leave the
 * graph. A key is recorded only when its value differs from the last one
 * recorded for it, and the list is capped: a filter tagging every frame of a
 * long file must not grow memory without bound. */
#include <math.h>
#include <string.h>

#include <libavutil/mem.h>

#include "errors.h"
#include "process.h"

#define ANALYSIS_PREFIX "lavfi."

static int add(Analysis *a, double t, const char *key, const char *value)
{
    AnalysisEntry *e;
    if (a->nb == MAX_ANALYSIS) {
        a->truncated = 1;
        return 0;
    }
    if (a->nb == a->cap) {
        int cap = a->cap ? FFMIN(a->cap * 2, MAX_ANALYSIS) : 256;
        AnalysisEntry *n = av_realloc_array(a->entries, cap, sizeof(*n));
        if (!n)
            return -1;
        a->entries = n;
        a->cap = cap;
    }
    e = &a->entries[a->nb];
    e->t = t;
    e->key = av_strdup(key);
    e->value = av_strdup(value);
    if (!e->key || !e->value) {
        av_freep(&e->key);
        av_freep(&e->value);
        return -1;
    }
    a->nb++;
    return 0;
}

int analysis_frame(Job *job, const AVFrame *frame, AVRational tb)
{
    Analysis *a = &job->analysis;
    const AVDictionaryEntry *e = NULL;
    /* Via whole microseconds, so times print as 0.4 rather than 0.39999999999999997. */
    double t = frame->pts == AV_NOPTS_VALUE ? NAN : (double)ts_rescale(frame->pts, tb, AV_TIME_BASE_Q) / 1e6;

    while ((e = av_dict_iterate(frame->metadata, e))) {
        const AVDictionaryEntry *last;
        if (strncmp(e->key, ANALYSIS_PREFIX, strlen(ANALYSIS_PREFIX)))
            continue;
        last = av_dict_get(a->last, e->key, NULL, AV_DICT_MATCH_CASE);
        if (last && !strcmp(last->value, e->value))
            continue;
        if (a->truncated)
            return 0;
        /* The last-value table only holds keys that were recorded, so it
         * stays as small as the set of keys the filters use. */
        if (add(a, t, e->key, e->value) < 0 || av_dict_set(&a->last, e->key, e->value, 0) < 0)
            return fail_oom(NULL);
    }
    return 0;
}

void analysis_write(const Job *job, jw *w)
{
    const Analysis *a = &job->analysis;
    if (!a->nb && !a->truncated)
        return;
    jw_key(w, "analysis");
    jw_arr_begin(w);
    for (int i = 0; i < a->nb; i++) {
        jw_obj_begin(w);
        jw_kdouble(w, "t", a->entries[i].t);
        jw_kstr(w, "key", a->entries[i].key);
        jw_kstr(w, "value", a->entries[i].value);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    if (a->truncated) {
        jw_key(w, "analysis_truncated");
        jw_bool(w, 1);
    }
}

void analysis_free(Job *job)
{
    Analysis *a = &job->analysis;
    for (int i = 0; i < a->nb; i++) {
        av_freep(&a->entries[i].key);
        av_freep(&a->entries[i].value);
    }
    av_freep(&a->entries);
    av_dict_free(&a->last);
    memset(a, 0, sizeof(*a));
}
