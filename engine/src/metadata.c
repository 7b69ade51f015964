/* Output metadata: container tags ("metadata"), chapters ("chapters") and
 * per-stream language, disposition and tags ("stream_metadata"). The spec's
 * JSON is checked when the job is parsed (metadata_check) and applied once the
 * output's streams exist, before its header is written (metadata_apply). */
#include <stdio.h>
#include <string.h>

#include <libavutil/mem.h>

#include "errors.h"
#include "process.h"

/* An object of non-empty-keyed strings. */
static int check_tags(const json_value *v, const char *field)
{
    if (v->type != JSON_OBJECT)
        return fail(EXIT_MALFORMED_SPEC, field, "%s: must be an object of strings (got %s)", field,
                    json_type_name(v->type));
    for (size_t i = 0; i < v->n; i++) {
        const json_value *t = v->items[i];
        if (!v->keys[i][0])
            return fail(EXIT_MALFORMED_SPEC, field, "%s: empty tag name", field);
        if (t->type != JSON_STRING)
            return fail(EXIT_MALFORMED_SPEC, field, "%s.%s: tag values must be strings (got %s)", field, v->keys[i],
                        json_type_name(t->type));
        if (strlen(t->str) != t->len)
            return fail(EXIT_MALFORMED_SPEC, field, "%s.%s: must not contain NUL characters", field, v->keys[i]);
    }
    return 0;
}

static int check_disposition(const json_value *v, const char *field)
{
    char bad[512] = "";
    int nbad = 0;
    if (v->type != JSON_ARRAY)
        return fail(EXIT_MALFORMED_SPEC, field, "%s: must be an array of names like [\"default\", \"forced\"]", field);
    for (size_t i = 0; i < v->n; i++) {
        const json_value *d = v->items[i];
        if (d->type != JSON_STRING)
            return fail(EXIT_MALFORMED_SPEC, field, "%s[%zu]: must be a disposition name", field, i);
        if (av_disposition_from_string(d->str) < 0) {
            size_t n = strlen(bad);
            snprintf(bad + n, sizeof(bad) - n, "%s\"%s\"", nbad++ ? ", " : "", d->str);
        }
    }
    if (nbad)
        return fail(EXIT_MALFORMED_SPEC, field,
                    "%s: unknown disposition name%s %s (known: default, dub, original, comment, lyrics, karaoke, "
                    "forced, hearing_impaired, visual_impaired, clean_effects, attached_pic, captions, "
                    "descriptions, metadata, dependent, still_image, ...)", field, nbad > 1 ? "s" : "", bad);
    return 0;
}

int metadata_check(const json_value *o, const char *where, spec_output *out)
{
    static const char *const known[] = { "language", "disposition", "tags", NULL };
    const json_value *v;
    char field[FIELD_SIZE];

    out->chapters = CHAPTERS_DEFAULT;
    if ((v = json_get(o, "metadata"))) {
        snprintf(field, sizeof(field), "%s.metadata", where);
        if (check_tags(v, field) < 0)
            return -1;
        out->metadata = v;
    }
    if ((v = json_get(o, "chapters"))) {
        snprintf(field, sizeof(field), "%s.chapters", where);
        if (v->type == JSON_STRING && !strcmp(v->str, "copy"))
            out->chapters = 0;
        else if (v->type == JSON_STRING && !strcmp(v->str, "none"))
            out->chapters = CHAPTERS_NONE;
        else if (v->type == JSON_NUMBER && v->is_integer && v->number >= 0 && v->number < MAX_INPUTS)
            out->chapters = (int)v->number;
        else
            return fail(EXIT_MALFORMED_SPEC, field, "%s: must be \"copy\", \"none\" or an input index", field);
    }
    if (!(v = json_get(o, "stream_metadata")))
        return 0;
    snprintf(field, sizeof(field), "%s.stream_metadata", where);
    if (v->type != JSON_OBJECT)
        return fail(EXIT_MALFORMED_SPEC, field, "%s: must be an object keyed by map entries (\"0:a\", \"[v]\")", field);
    for (size_t i = 0; i < v->n; i++) {
        const json_value *s = v->items[i], *x;
        char sfield[FIELD_SIZE * 2], sub[FIELD_SIZE * 3];
        snprintf(sfield, sizeof(sfield), "%s.%s", field, v->keys[i]);
        if (s->type != JSON_OBJECT)
            return fail(EXIT_MALFORMED_SPEC, field, "%s: must be an object with language, disposition, tags", sfield);
        if (check_keys(s, sfield, known, NULL) < 0)
            return -1;
        if ((x = json_get(s, "language")) && (x->type != JSON_STRING || !x->len || strlen(x->str) != x->len))
            return fail(EXIT_MALFORMED_SPEC, field, "%s.language: must be a language code like \"eng\"", sfield);
        snprintf(sub, sizeof(sub), "%s.disposition", sfield);
        if ((x = json_get(s, "disposition")) && check_disposition(x, sub) < 0)
            return -1;
        snprintf(sub, sizeof(sub), "%s.tags", sfield);
        if ((x = json_get(s, "tags")) && check_tags(x, sub) < 0)
            return -1;
    }
    out->stream_metadata = v;
    return 0;
}

static int set_tags(AVDictionary **dict, const json_value *tags)
{
    for (size_t i = 0; tags && i < tags->n; i++)
        if (av_dict_set(dict, tags->keys[i], tags->items[i]->str, 0) < 0)
            return fail_oom(NULL);
    return 0;
}

/* Whether map key `key` (as written in the spec) names output stream `ost`. */
static int names_stream(const Job *job, const OutputStream *ost, const char *key)
{
    size_t n = strlen(key);
    stream_spec ss;
    if (n >= 3 && key[0] == '[' && key[n - 1] == ']')
        return ost->kind == OST_ENCODED && !strncmp(ost->label, key + 1, n - 2) && !ost->label[n - 2];
    if (ost->kind != OST_ENCODED)
        return !strcmp(ost->label, key);
    /* A job without a filter or map encodes input 0's video and audio: "0:v" / "0:a" name them. */
    return !job->spec->filter && !ost->of->spec->has_map && stream_spec_parse(key, 0, &ss) == 0 && ss.file == 0 &&
           ss.type == ost->type && ss.index <= 0;
}

static int apply_stream(const Job *job, OutputFile *of, const char *key, const json_value *s)
{
    const json_value *lang = json_get(s, "language"), *disp = json_get(s, "disposition"), *tags = json_get(s, "tags");
    int found = 0;
    for (int i = 0; i < of->nb_streams; i++) {
        AVStream *st = of->streams[i]->st;
        if (!names_stream(job, of->streams[i], key))
            continue;
        found = 1;
        if (set_tags(&st->metadata, tags) < 0 ||
            (lang && av_dict_set(&st->metadata, "language", lang->str, 0) < 0))
            return fail_oom(NULL);
        if (disp) {
            /* The list replaces the stream's disposition (as ffmpeg -disposition does). */
            st->disposition = 0;
            for (size_t k = 0; k < disp->n; k++)
                st->disposition |= av_disposition_from_string(disp->items[k]->str);
        }
    }
    if (!found) {
        char field[FIELD_SIZE];
        snprintf(field, sizeof(field), "outputs[%d].stream_metadata", of->index);
        return fail(EXIT_MALFORMED_SPEC, field, "%s: \"%s\" is not a map entry of this output (use \"0:a\" for a "
                    "copied entry, \"[label]\" for a graph output)", field, key);
    }
    return 0;
}

/* Chapters of input `file`, on the output's clock, cut to its window. */
static int copy_chapters(const Job *job, OutputFile *of, int file)
{
    const AVFormatContext *in = job->inputs[file].fmt;
    AVFormatContext *oc = of->oc;
    const spec_output *so = of->spec;
    const spec_input *si = &job->spec->inputs[file];
    int64_t offset = job->inputs[file].ts_offset, end = INT64_MAX;

    /* Headers are written before inputs seek, so the seek is added here; a
     * fast seek's keyframe is not known yet: chapters follow the requested start. */
    if (si->has_seek)
        offset = ts_add(offset, si->seek_us);
    if (so->duration_us >= 0)
        end = so->copy_ts ? ts_add(so->duration_us, offset) : so->duration_us;
    else if (so->end_us >= 0)
        end = so->end_us;
    if (so->copy_ts) /* chapters keep the input's clock, like the streams */
        offset = 0;
    for (unsigned i = 0; i < in->nb_chapters; i++) {
        const AVChapter *c = in->chapters[i];
        AVChapter **list;
        AVChapter *n;
        int64_t off = ts_rescale(offset, AV_TIME_BASE_Q, c->time_base);
        int64_t lim = end == INT64_MAX ? INT64_MAX : ts_rescale(end, AV_TIME_BASE_Q, c->time_base);
        int64_t start = ts_sub(c->start, off), stop = ts_sub(c->end, off);
        if (stop <= 0 || start >= lim || c->time_base.num <= 0 || c->time_base.den <= 0)
            continue;
        if (!(list = av_realloc_array(oc->chapters, oc->nb_chapters + 1, sizeof(*list))))
            return fail_oom(NULL);
        oc->chapters = list;
        if (!(n = av_mallocz(sizeof(*n))))
            return fail_oom(NULL);
        oc->chapters[oc->nb_chapters++] = n;
        n->id = c->id;
        n->time_base = c->time_base;
        n->start = FFMAX(start, 0);
        n->end = FFMIN(stop, lim);
        if (av_dict_copy(&n->metadata, c->metadata, 0) < 0)
            return fail_oom(NULL);
    }
    return 0;
}

int metadata_apply(Job *job, OutputFile *of)
{
    const spec_output *so = of->spec;
    const json_value *sm = so->stream_metadata;
    int file = so->chapters;

    if (set_tags(&of->oc->metadata, so->metadata) < 0)
        return -1;
    for (size_t i = 0; sm && i < sm->n; i++)
        if (apply_stream(job, of, sm->keys[i], sm->items[i]) < 0)
            return -1;
    if (file == CHAPTERS_DEFAULT) {
        /* ffmpeg's default: the chapters of the first input that has some. */
        for (file = 0; file < job->nb_inputs && !job->inputs[file].fmt->nb_chapters; file++)
            ;
        if (file == job->nb_inputs)
            return 0;
    } else if (file == CHAPTERS_NONE) {
        return 0;
    } else if (file >= job->nb_inputs) {
        char field[FIELD_SIZE];
        snprintf(field, sizeof(field), "outputs[%d].chapters", of->index);
        return fail(EXIT_MALFORMED_SPEC, field, "%s: the job has no input %d", field, file);
    }
    return copy_chapters(job, of, file);
}
