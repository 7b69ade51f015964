#include <math.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/avstring.h>
#include <libavutil/mem.h>

#include "concat.h"
#include "confine.h"
#include "errors.h"
#include "spec.h"

/* Vocabulary keys this engine does not implement yet (none left of vocabulary
 * 9): named as such, so a valid job for a newer engine is not reported as a typo. */
static const char *const top_later[] = { NULL };
static const char *const output_later[] = { NULL };
/* Option keys that would loosen the sandbox's I/O rules. */
static const char *const denied_options[] = { "protocol_whitelist", "protocol_blacklist", "safe", NULL };

static int in_list(const char *const *list, const char *s)
{
    for (; list && *list; list++)
        if (!strcmp(*list, s))
            return 1;
    return 0;
}

static const char *join(char *buf, size_t size, const char *where, const char *key)
{
    snprintf(buf, size, "%s%s%s", where, where[0] ? "." : "", key);
    return buf;
}

int check_keys(const json_value *obj, const char *where,
                      const char *const *known, const char *const *later)
{
    char field[160];
    for (size_t i = 0; i < obj->n; i++) {
        const char *k = obj->keys[i];
        if (in_list(known, k))
            continue;
        join(field, sizeof(field), where, k);
        if (in_list(later, k))
            return fail(EXIT_MALFORMED_SPEC, field, "%s: not supported by engine %s yet", field, ENGINE_VERSION);
        if (where[0])
            return fail(EXIT_MALFORMED_SPEC, field, "%s: unknown key \"%s\"", where, k);
        return fail(EXIT_MALFORMED_SPEC, field, "unknown key \"%s\"", k);
    }
    return 0;
}

static int type_error(const char *field, const char *want, const json_value *v)
{
    return fail(EXIT_MALFORMED_SPEC, field, "%s: must be %s (got %s)", field, want, json_type_name(v->type));
}

/* Longest path, name or label we accept; filter strings may be longer. */
#define MAX_STRING 4096
#define MAX_FILTER (1 << 20)

/* Optional (or required) non-empty string without NUL characters. */
int get_string(const json_value *obj, const char *key, const char *where, int required, const char **out)
{
    size_t max = strcmp(key, "filter") ? MAX_STRING : MAX_FILTER;
    char field[160];
    const json_value *v = json_get(obj, key);
    join(field, sizeof(field), where, key);
    *out = NULL;
    if (!v) {
        if (required)
            return fail(EXIT_MALFORMED_SPEC, field, "%s: required", field);
        return 0;
    }
    if (v->type != JSON_STRING)
        return type_error(field, "a string", v);
    if (strlen(v->str) != v->len)
        return fail(EXIT_MALFORMED_SPEC, field, "%s: must not contain NUL characters", field);
    if (!v->len)
        return fail(EXIT_MALFORMED_SPEC, field, "%s: must not be empty", field);
    if (v->len > max)
        return fail(EXIT_MALFORMED_SPEC, field, "%s: longer than %zu bytes", field, max);
    *out = v->str;
    return 0;
}

/* A path the job names: it must stay in the job root, or be one of the
 * host's stream devices (confine.h). */
static int get_path(const json_value *obj, const char *key, const char *where, int required, const char **out)
{
    char field[160];
    if (get_string(obj, key, where, required, out) < 0)
        return -1;
    join(field, sizeof(field), where, key);
    if (*out && !path_in_root(*out) && !path_is_stream(*out))
        return fail(EXIT_MALFORMED_SPEC, field, "%s: \"%s\" is outside the job's filesystem", field, *out);
    return 0;
}

/* A seconds value: a finite JSON number in [0, MAX_SECONDS]. */
int check_seconds(const json_value *v, const char *field, double *out)
{
    if (v->type != JSON_NUMBER)
        return type_error(field, "a number of seconds", v);
    if (!isfinite(v->number) || v->number < 0 || v->number > MAX_SECONDS)
        return fail(EXIT_MALFORMED_SPEC, field, "%s: must be a finite number of seconds from 0 to %g (got %s)",
                    field, MAX_SECONDS, v->str);
    *out = v->number;
    return 0;
}

/* Optional seconds, as microseconds (-1 when absent). */
static int get_seconds(const json_value *obj, const char *key, const char *where, int64_t *out_us)
{
    char field[160];
    double secs;
    const json_value *v = json_get(obj, key);
    join(field, sizeof(field), where, key);
    *out_us = -1;
    if (!v)
        return 0;
    if (check_seconds(v, field, &secs) < 0)
        return -1;
    *out_us = llround(secs * 1e6);
    return 0;
}

static int get_bool(const json_value *obj, const char *key, const char *where, int *out)
{
    char field[160];
    const json_value *v = json_get(obj, key);
    join(field, sizeof(field), where, key);
    *out = 0;
    if (!v)
        return 0;
    if (v->type != JSON_BOOL)
        return type_error(field, "true or false", v);
    *out = v->boolean;
    return 0;
}

/* A strict option dictionary: object of string values. */
static int get_options(const json_value *obj, const char *key, const char *where, AVDictionary **out)
{
    char field[160];
    const json_value *v = json_get(obj, key);
    join(field, sizeof(field), where, key);
    if (!v)
        return 0;
    if (v->type != JSON_OBJECT)
        return type_error(field, "an object of strings", v);
    for (size_t i = 0; i < v->n; i++) {
        const char *k = v->keys[i];
        const json_value *val = v->items[i];
        if (!k[0])
            return fail(EXIT_MALFORMED_SPEC, field, "%s: empty option name", field);
        if (in_list(denied_options, k))
            return fail(EXIT_MALFORMED_SPEC, field, "%s: option \"%s\" may not be set", field, k);
        if (val->type == JSON_NUMBER)
            return fail(EXIT_MALFORMED_SPEC, field, "%s.%s: option values must be strings (quote it: \"%s\")",
                        field, k, val->str);
        if (val->type == JSON_BOOL)
            return fail(EXIT_MALFORMED_SPEC, field, "%s.%s: option values must be strings (quote it: \"%s\")",
                        field, k, val->boolean ? "true" : "false");
        if (val->type != JSON_STRING)
            return fail(EXIT_MALFORMED_SPEC, field, "%s.%s: option values must be strings (got %s)",
                        field, k, json_type_name(val->type));
        if (strlen(val->str) != val->len)
            return fail(EXIT_MALFORMED_SPEC, field, "%s.%s: must not contain NUL characters", field, k);
        if (av_dict_set(out, k, val->str, 0) < 0)
            return fail_oom(field);
    }
    return 0;
}

static const json_value *get_array(const json_value *obj, const char *key, const char *where, int max,
                                   int required, int *err)
{
    char field[160];
    const json_value *v = json_get(obj, key);
    join(field, sizeof(field), where, key);
    *err = 0;
    if (!v) {
        if (required)
            *err = fail(EXIT_MALFORMED_SPEC, field, "%s: required", field);
        return NULL;
    }
    if (v->type != JSON_ARRAY) {
        *err = type_error(field, "an array", v);
        return NULL;
    }
    if (v->n > (size_t)max) {
        *err = fail(EXIT_MALFORMED_SPEC, field, "%s: at most %d entries are allowed (got %zu)", field, max, v->n);
        return NULL;
    }
    return v;
}

static int parse_concat(const json_value *o, const char *where, spec_input *in)
{
    char field[160];
    int err;
    const json_value *arr = get_array(o, "concat", where, MAX_CONCAT, 0, &err);
    if (!arr)
        return err;
    join(field, sizeof(field), where, "concat");
    if (!arr->n)
        return fail(EXIT_MALFORMED_SPEC, field, "%s: must not be empty", field);
    if (!(in->concat = av_calloc(arr->n, sizeof(*in->concat))))
        return fail_oom(NULL);
    for (size_t i = 0; i < arr->n; i++) {
        const json_value *v = arr->items[i];
        const char *why;
        char item[176];
        snprintf(item, sizeof(item), "%s[%zu]", field, i);
        if (v->type != JSON_STRING)
            return fail(EXIT_MALFORMED_SPEC, field, "%s: must be a path (got %s)", item, json_type_name(v->type));
        if (strlen(v->str) != v->len || !v->len || v->len > MAX_STRING)
            return fail(EXIT_MALFORMED_SPEC, field, "%s: must be a non-empty path without NUL characters", item);
        if ((why = concat_name_problem(v->str)))
            return fail(EXIT_MALFORMED_SPEC, field, "%s: \"%s\" %s", item, v->str, why);
        in->concat[in->nb_concat++] = v->str;
    }
    return 0;
}

static int parse_seek(const json_value *o, const char *where, spec_input *in)
{
    static const char *const known[] = { "start", "mode", NULL };
    const json_value *v = json_get(o, "seek");
    const char *mode;
    char field[160];
    join(field, sizeof(field), where, "seek");
    if (!v)
        return 0;
    if (v->type != JSON_OBJECT)
        return type_error(field, "an object like {\"start\": 10.5, \"mode\": \"fast\"}", v);
    if (check_keys(v, field, known, NULL) < 0 || get_seconds(v, "start", field, &in->seek_us) < 0 ||
        get_string(v, "mode", field, 0, &mode) < 0)
        return -1;
    if (in->seek_us < 0)
        return fail(EXIT_MALFORMED_SPEC, field, "%s.start: required", field);
    if (mode && strcmp(mode, "fast") && strcmp(mode, "accurate"))
        return fail(EXIT_MALFORMED_SPEC, field, "%s.mode: must be \"fast\" or \"accurate\" (got \"%s\")",
                    field, mode);
    in->has_seek = 1;
    in->seek_accurate = !mode || !strcmp(mode, "accurate");
    return 0;
}

/* `process` adds the keys only processing uses. */
static int parse_inputs(const json_value *root, job_spec *spec, int required, int process)
{
    static const char *const known_probe[] = { "path", "concat", "format", "options", NULL };
    static const char *const known_process[] = { "path", "concat", "format", "options", "seek", "video_codec",
                                                 "audio_codec", "decoder_options", NULL };
    int err;
    const json_value *arr = get_array(root, "inputs", "", MAX_INPUTS, required, &err);
    if (!arr)
        return err;
    if (required && arr->n == 0)
        return fail(EXIT_MALFORMED_SPEC, "inputs", "inputs: at least one input is required");
    for (size_t i = 0; i < arr->n; i++) {
        char where[32];
        spec_input *in = &spec->inputs[i];
        const json_value *o = arr->items[i];
        snprintf(where, sizeof(where), "inputs[%zu]", i);
        spec->nb_inputs = (int)i + 1;
        if (o->type != JSON_OBJECT)
            return type_error(where, "an object", o);
        if (check_keys(o, where, process ? known_process : known_probe, NULL) < 0 ||
            get_path(o, "path", where, 0, &in->path) < 0 ||
            parse_concat(o, where, in) < 0 ||
            get_string(o, "format", where, 0, &in->format) < 0 ||
            get_options(o, "options", where, &in->options) < 0 ||
            parse_seek(o, where, in) < 0 ||
            get_string(o, "video_codec", where, 0, &in->video_codec) < 0 ||
            get_string(o, "audio_codec", where, 0, &in->audio_codec) < 0 ||
            get_options(o, "decoder_options", where, &in->decoder_options) < 0)
            return -1;
        if (av_dict_count(in->decoder_options) > MAX_CODEC_OPTIONS)
            return fail(EXIT_MALFORMED_SPEC, where, "%s.decoder_options: more than %d options", where,
                        MAX_CODEC_OPTIONS);
        if ((in->video_codec || in->audio_codec) && in->nb_concat)
            return fail(EXIT_MALFORMED_SPEC, where, "%s: decoders cannot be forced on a concat input", where);
        if (!in->path == !in->nb_concat)
            return fail(EXIT_MALFORMED_SPEC, where, "%s: needs either \"path\" or \"concat\"%s", where,
                        in->path ? ", not both" : "");
        if (in->nb_concat && in->format)
            return fail(EXIT_MALFORMED_SPEC, where, "%s.format: cannot be set on a concat input", where);
        in->name = in->path ? in->path : in->concat[0];
    }
    return 0;
}

static int parse_map(const json_value *o, const char *where, spec_output *out)
{
    char field[160];
    int err;
    const json_value *arr = get_array(o, "map", where, MAX_MAP_ENTRIES, 0, &err);
    if (!arr)
        return err;
    join(field, sizeof(field), where, "map");
    out->has_map = 1;
    for (size_t i = 0; i < arr->n; i++) {
        const json_value *v = arr->items[i];
        spec_map_entry *e = &out->map[out->nb_map];
        if (v->type != JSON_STRING || strlen(v->str) != v->len)
            return fail(EXIT_MALFORMED_SPEC, field, "%s[%zu]: must be a string like \"[v]\" or \"0:a\"", field, i);
        if (v->len >= 3 && v->str[0] == '[' && v->str[v->len - 1] == ']') {
            e->text = av_strndup(v->str + 1, v->len - 2);
        } else if (stream_spec_parse(v->str, 1, &e->ss) == 0) {
            e->is_copy = 1;
            e->text = av_strdup(v->str);
        } else {
            return fail(EXIT_MALFORMED_SPEC, field,
                        "%s[%zu]: \"%s\" is neither a [label] nor an input stream like \"0:v\", \"0:a:1\", "
                        "\"0:s\" or \"0:3\"", field, i, v->str);
        }
        if (!e->text)
            return fail_oom(field);
        out->nb_map++;
        for (int j = 0; j < out->nb_map - 1; j++)
            if (!strcmp(out->map[j].text, e->text) && out->map[j].is_copy == e->is_copy)
                return fail(EXIT_MALFORMED_SPEC, field, "%s: \"%s\" is mapped twice", field, v->str);
    }
    if (!out->nb_map)
        return fail(EXIT_MALFORMED_SPEC, field, "%s: must not be empty", field);
    return 0;
}

/* {"<copied map key>": "bsf1,bsf2=opt=val"} or "none". */
static int parse_bsf(const json_value *o, const char *where, spec_output *out)
{
    const json_value *v = json_get(o, "bitstream_filters");
    char field[160];
    join(field, sizeof(field), where, "bitstream_filters");
    if (!v)
        return 0;
    if (v->type == JSON_STRING) {
        if (strcmp(v->str, "none"))
            return fail(EXIT_MALFORMED_SPEC, field,
                        "%s: must be \"none\" or an object of filter chains per copied map entry", field);
        out->bsf_none = 1;
        return 0;
    }
    if (v->type != JSON_OBJECT)
        return type_error(field, "\"none\" or an object of strings", v);
    for (size_t i = 0; i < v->n; i++) {
        const json_value *val = v->items[i];
        if (val->type != JSON_STRING || !val->len || strlen(val->str) != val->len)
            return fail(EXIT_MALFORMED_SPEC, field, "%s.%s: must be a non-empty string such as \"h264_mp4toannexb\"",
                        field, v->keys[i]);
        if (!strcmp(val->str, "none"))
            return fail(EXIT_MALFORMED_SPEC, field,
                        "%s.%s: \"none\" cannot be set per stream (libavformat inserts automatic filters per "
                        "file); use \"bitstream_filters\": \"none\"", field, v->keys[i]);
        if (av_dict_set(&out->bsf, v->keys[i], val->str, 0) < 0)
            return fail_oom(field);
    }
    return 0;
}

/* "max_frames": {"video": N, "audio": N}: at most N frames encoded per stream of that type. */
static int parse_max_frames(const json_value *o, const char *where, spec_output *out)
{
    static const char *const known[] = { "video", "audio", NULL };
    char field[160];
    const json_value *v = json_get(o, "max_frames");

    out->max_frames_video = out->max_frames_audio = -1;
    if (!v)
        return 0;
    join(field, sizeof(field), where, "max_frames");
    if (v->type != JSON_OBJECT)
        return type_error(field, "an object like {\"video\": 5}", v);
    if (check_keys(v, field, known, NULL) < 0)
        return -1;
    for (int i = 0; known[i]; i++) {
        const json_value *n = json_get(v, known[i]);
        if (!n)
            continue;
        if (n->type != JSON_NUMBER || !n->is_integer || n->number < 1 || n->number > 1e12)
            return fail(EXIT_MALFORMED_SPEC, field, "%s.%s: must be a whole number of frames, at least 1", field,
                        known[i]);
        *(i ? &out->max_frames_audio : &out->max_frames_video) = (int64_t)n->number;
    }
    return 0;
}

static int parse_outputs(const json_value *root, job_spec *spec)
{
    static const char *const known[] = {
        "path", "format", "map", "video_codec", "audio_codec", "subtitle_codec", "options", "format_options",
        "bitstream_filters", "duration", "end", "copy_ts", "metadata", "chapters", "stream_metadata",
        "max_frames", NULL,
    };
    int err;
    const json_value *arr = get_array(root, "outputs", "", MAX_OUTPUTS, 1, &err);
    if (!arr)
        return err;
    if (arr->n == 0)
        return fail(EXIT_MALFORMED_SPEC, "outputs", "outputs: at least one output is required");
    for (size_t i = 0; i < arr->n; i++) {
        char where[32];
        spec_output *out = &spec->outputs[i];
        const json_value *o = arr->items[i];
        snprintf(where, sizeof(where), "outputs[%zu]", i);
        spec->nb_outputs = (int)i + 1;
        if (o->type != JSON_OBJECT)
            return type_error(where, "an object", o);
        if (check_keys(o, where, known, output_later) < 0 ||
            get_path(o, "path", where, 1, &out->path) < 0 ||
            get_string(o, "format", where, 0, &out->format) < 0 ||
            parse_map(o, where, out) < 0 ||
            get_string(o, "video_codec", where, 0, &out->video_codec) < 0 ||
            get_string(o, "audio_codec", where, 0, &out->audio_codec) < 0 ||
            get_options(o, "options", where, &out->options) < 0 ||
            get_string(o, "subtitle_codec", where, 0, &out->subtitle_codec) < 0 ||
            get_options(o, "format_options", where, &out->format_options) < 0 ||
            parse_bsf(o, where, out) < 0 ||
            get_seconds(o, "duration", where, &out->duration_us) < 0 ||
            get_seconds(o, "end", where, &out->end_us) < 0 ||
            get_bool(o, "copy_ts", where, &out->copy_ts) < 0 ||
            parse_max_frames(o, where, out) < 0 ||
            metadata_check(o, where, out) < 0)
            return -1;
        if (out->duration_us >= 0 && out->end_us >= 0)
            return fail(EXIT_MALFORMED_SPEC, where, "%s: \"duration\" and \"end\" are mutually exclusive", where);
    }
    /* Several outputs cannot share "all graph outputs". */
    for (int i = 0; spec->nb_outputs > 1 && i < spec->nb_outputs; i++) {
        if (!spec->outputs[i].has_map && spec->filter) {
            char field[32];
            snprintf(field, sizeof(field), "outputs[%d].map", i);
            return fail(EXIT_MALFORMED_SPEC, field, "%s: required when a filtered job has several outputs", field);
        }
    }
    return 0;
}

static int parse_version(const json_value *root, job_spec *spec)
{
    const json_value *v = json_get(root, "version");
    spec->version = VOCAB_VERSION;
    if (!v)
        return 0;
    if (v->type != JSON_NUMBER || !v->is_integer || v->number < 1)
        return fail(EXIT_MALFORMED_SPEC, "version", "version: must be a positive integer");
    if (v->number > VOCAB_VERSION)
        return fail(EXIT_VERSION_TOO_NEW, "version", "job spec version %s is newer than this engine (%d)",
                    v->str, VOCAB_VERSION);
    spec->version = (int)v->number;
    return 0;
}

int spec_parse(const char *text, job_spec *spec)
{
    char err[256];
    const char *op;
    json_value *root;

    memset(spec, 0, sizeof(*spec));
    root = spec->root = json_parse(text, strlen(text), err, sizeof(err));
    if (!root)
        return fail(EXIT_MALFORMED_SPEC, NULL, "%s", err);
    if (root->type != JSON_OBJECT)
        return fail(EXIT_MALFORMED_SPEC, NULL, "the job spec must be a JSON object (got %s)", json_type_name(root->type));
    /* The version comes first: a newer spec may use keys we do not know. */
    if (parse_version(root, spec) < 0 || get_string(root, "op", "", 1, &op) < 0)
        return -1;

    if (!strcmp(op, "version")) {
        static const char *const known[] = { "op", "version", NULL };
        spec->op = OP_VERSION;
        return check_keys(root, "", known, NULL);
    }
    if (!strcmp(op, "capabilities")) {
        /* Additive: a vocabulary-9 spec may ask, so no version bump. */
        static const char *const known[] = { "op", "version", NULL };
        spec->op = OP_CAPABILITIES;
        return check_keys(root, "", known, NULL);
    }
    if (!strcmp(op, "probe")) {
        static const char *const known[] = { "op", "version", "inputs", NULL };
        spec->op = OP_PROBE;
        return check_keys(root, "", known, NULL) < 0 ? -1 : parse_inputs(root, spec, 1, 0);
    }
    if (!strcmp(op, "process")) {
        static const char *const known[] = { "op", "version", "progress", "inputs", "filter", "outputs", NULL };
        spec->op = OP_PROCESS;
        if (check_keys(root, "", known, top_later) < 0 ||
            get_bool(root, "progress", "", &spec->progress) < 0 ||
            get_string(root, "filter", "", 0, &spec->filter) < 0 ||
            parse_inputs(root, spec, 0, 1) < 0 ||
            parse_outputs(root, spec) < 0)
            return -1;
        if (!spec->filter && !spec->nb_inputs)
            return fail(EXIT_MALFORMED_SPEC, "inputs", "inputs: a job without a filter needs an input");
        return 0;
    }
    if (!strcmp(op, "frames")) {
        spec->op = OP_FRAMES; /* op_frames() parses the rest (frames_spec.c) */
        return parse_inputs(root, spec, 1, 1); /* it refuses seek and concat itself */
    }
    return fail(EXIT_MALFORMED_SPEC, "op", "unknown op \"%s\"", op);
}

void spec_free(job_spec *spec)
{
    for (int i = 0; i < spec->nb_inputs; i++) {
        av_dict_free(&spec->inputs[i].options);
        av_dict_free(&spec->inputs[i].decoder_options);
        av_freep(&spec->inputs[i].concat);
    }
    for (int i = 0; i < spec->nb_outputs; i++) {
        spec_output *o = &spec->outputs[i];
        for (int j = 0; j < o->nb_map; j++)
            av_freep(&o->map[j].text);
        av_dict_free(&o->options);
        av_dict_free(&o->bsf);
        av_dict_free(&o->format_options);
    }
    json_free(spec->root);
    spec->root = NULL;
}

int spec_option_applies(const char *k, enum AVMediaType type, char *base, size_t size)
{
    size_t n = strlen(k);
    av_strlcpy(base, k, size);
    if (n > 2 && k[n - 2] == ':' && (k[n - 1] == 'v' || k[n - 1] == 'a')) {
        base[n - 2 < size ? n - 2 : size - 1] = '\0';
        return k[n - 1] == 'v' ? type == AVMEDIA_TYPE_VIDEO : type == AVMEDIA_TYPE_AUDIO;
    }
    return 1;
}
