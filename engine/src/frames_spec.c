/* Parsing and checking the "frames" job (everything but its input, which
 * spec.c parses like any other op's). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/avstring.h>
#include <libavutil/bprint.h>
#include <libavutil/mem.h>

#include "confine.h"
#include "errors.h"
#include "frames_spec.h"

static int parse_select(const json_value *root, frames_spec *fs)
{
    static const char *const known[] = { "timestamp", "timestamps", "interval", "scene", NULL };
    const json_value *sel = json_get(root, "select"), *v;
    const char *key;

    if (!sel)
        return fail(EXIT_MALFORMED_SPEC, "select", "select: required (one of timestamp, timestamps, interval, scene)");
    if (sel->type != JSON_OBJECT)
        return fail(EXIT_MALFORMED_SPEC, "select", "select: must be an object (got %s)", json_type_name(sel->type));
    if (check_keys(sel, "select", known, NULL) < 0)
        return -1;
    if (sel->n != 1)
        return fail(EXIT_MALFORMED_SPEC, "select", "select: needs exactly one of timestamp, timestamps, interval, scene (got %zu)",
                    sel->n);
    key = sel->keys[0];
    v = sel->items[0];
    if (!strcmp(key, "timestamp")) {
        fs->select = SELECT_TIMESTAMPS;
        if (!(fs->targets = av_malloc(sizeof(*fs->targets))))
            return fail_oom(NULL);
        fs->nb_targets = 1;
        return check_seconds(v, "select.timestamp", &fs->targets[0]);
    }
    if (!strcmp(key, "timestamps")) {
        fs->select = SELECT_TIMESTAMPS;
        if (v->type != JSON_ARRAY)
            return fail(EXIT_MALFORMED_SPEC, "select.timestamps", "select.timestamps: must be an array of seconds (got %s)",
                        json_type_name(v->type));
        if (v->n == 0)
            return fail(EXIT_MALFORMED_SPEC, "select.timestamps", "select.timestamps: must not be empty");
        if (v->n > FRAMES_MAX_TARGETS)
            return fail(EXIT_MALFORMED_SPEC, "select.timestamps", "select.timestamps: at most %d entries are allowed (got %zu)",
                        FRAMES_MAX_TARGETS, v->n);
        if (!(fs->targets = av_malloc_array(v->n, sizeof(*fs->targets))))
            return fail_oom(NULL);
        for (size_t i = 0; i < v->n; i++) {
            char field[48];
            snprintf(field, sizeof(field), "select.timestamps[%zu]", i);
            if (check_seconds(v->items[i], field, &fs->targets[i]) < 0)
                return -1;
        }
        fs->nb_targets = (int)v->n;
        return 0;
    }
    if (!strcmp(key, "interval")) {
        fs->select = SELECT_INTERVAL;
        if (check_seconds(v, "select.interval", &fs->interval) < 0)
            return -1;
        if (!(fs->interval > 0))
            return fail(EXIT_MALFORMED_SPEC, "select.interval", "select.interval: must be greater than 0");
        return 0;
    }
    /* scene */
    if (v->type == JSON_STRING) {
        if (strcmp(v->str, "thumbnail") || v->len != strlen(v->str))
            return fail(EXIT_MALFORMED_SPEC, "select.scene",
                        "select.scene: must be a threshold between 0 and 1 or \"thumbnail\"");
        fs->select = SELECT_THUMBNAIL;
        return 0;
    }
    if (v->type != JSON_NUMBER || !isfinite(v->number) || v->number < 0 || v->number > 1)
        return fail(EXIT_MALFORMED_SPEC, "select.scene",
                    "select.scene: must be a threshold between 0 and 1 or \"thumbnail\" (got %s)",
                    v->type == JSON_NUMBER ? v->str : json_type_name(v->type));
    fs->select = SELECT_SCENE;
    fs->scene = v->number;
    return 0;
}

/* Digits and '%' fill the template, so the template itself says where the files go. */
static int check_path(const frames_spec *fs)
{
    if (!path_in_root(fs->path))
        return fail(EXIT_MALFORMED_SPEC, "path", "path: \"%s\" is outside the job's filesystem", fs->path);
    return 0;
}

/* At most one integer conversion: %d, or %Nd / %0Nd (zero-padded to N, like
 * image2); %% is a literal percent sign. */
static int parse_template(frames_spec *fs)
{
    const char *p = fs->path;
    for (size_t i = 0; p[i]; i++) {
        size_t j = i + 1;
        long width = 0;
        if (p[i] != '%')
            continue;
        if (p[j] == '%') {
            i = j;
            continue;
        }
        while (p[j] >= '0' && p[j] <= '9') {
            if (width <= FRAMES_MAX_PAD)
                width = width * 10 + (p[j] - '0');
            j++;
        }
        if (p[j] != 'd')
            return fail(EXIT_MALFORMED_SPEC, "path",
                        "path: \"%%%.*s\" is not allowed: the only conversion is one integer (%%d, %%03d), "
                        "and %%%% is a literal percent sign", (int)(p[j] ? j - i : j - i - 1), p + i + 1);
        if (width > FRAMES_MAX_PAD)
            return fail(EXIT_MALFORMED_SPEC, "path", "path: the frame number may be padded to at most %d digits",
                        FRAMES_MAX_PAD);
        if (fs->conv_len)
            return fail(EXIT_MALFORMED_SPEC, "path", "path: at most one integer conversion (%%d) is allowed");
        fs->conv_at = i;
        fs->conv_len = j + 1 - i;
        fs->pad = (int)width;
        i = j;
    }
    return 0;
}

static int has_ext(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n > e && !av_strcasecmp(path + n - e, ext);
}

static int parse_codec(const json_value *root, frames_spec *fs)
{
    const char *codec;
    if (get_string(root, "codec", "", 0, &codec) < 0)
        return -1;
    if (!codec) {
        /* From the extension, like image2; PNG otherwise. */
        fs->codec = has_ext(fs->path, ".jpg") || has_ext(fs->path, ".jpeg") ? FRAMES_MJPEG
                  : has_ext(fs->path, ".webp")                               ? FRAMES_WEBP
                                                                             : FRAMES_PNG;
        return 0;
    }
    if (!strcmp(codec, "png"))
        fs->codec = FRAMES_PNG;
    else if (!strcmp(codec, "mjpeg"))
        fs->codec = FRAMES_MJPEG;
    else if (!strcmp(codec, "webp"))
        fs->codec = FRAMES_WEBP;
    else
        return fail(EXIT_MALFORMED_SPEC, "codec", "codec: must be \"png\", \"mjpeg\" or \"webp\" (got \"%s\")", codec);
    return 0;
}

static int parse_count(const json_value *root, frames_spec *fs)
{
    const json_value *v = json_get(root, "count");
    if (!v) {
        fs->count = fs->select == SELECT_TIMESTAMPS ? fs->nb_targets : FRAMES_DEFAULT_COUNT;
        return 0;
    }
    if (v->type != JSON_NUMBER || !v->is_integer)
        return fail(EXIT_MALFORMED_SPEC, "count", "count: must be an integer (got %s)",
                    v->type == JSON_NUMBER ? v->str : json_type_name(v->type));
    if (v->number < 1 || v->number > FRAMES_MAX_COUNT)
        return fail(EXIT_MALFORMED_SPEC, "count", "count: must be between 1 and %d (got %s)", FRAMES_MAX_COUNT, v->str);
    fs->count = (int)v->number;
    /* A list is cut to its first `count` entries. */
    if (fs->select == SELECT_TIMESTAMPS && fs->nb_targets > fs->count)
        fs->nb_targets = fs->count;
    return 0;
}

int frames_spec_parse(const job_spec *spec, frames_spec *fs)
{
    static const char *const known[] = { "op", "version", "inputs", "select", "path", "codec", "scale", "count", NULL };
    const json_value *root = spec->root, *in;
    int most;

    memset(fs, 0, sizeof(*fs));
    if (check_keys(root, "", known, NULL) < 0)
        return -1;
    if (spec->nb_inputs != 1)
        return fail(EXIT_MALFORMED_SPEC, "inputs", "inputs: the frames op takes exactly one input (got %d)", spec->nb_inputs);
    /* Timestamps are positions in the input, and one file is read. */
    in = json_get(root, "inputs")->items[0];
    if (json_get(in, "seek"))
        return fail(EXIT_MALFORMED_SPEC, "inputs[0].seek",
                    "inputs[0].seek: not used by the frames op (select.timestamp/timestamps seek themselves)");
    if (json_get(in, "concat"))
        return fail(EXIT_MALFORMED_SPEC, "inputs[0].concat", "inputs[0].concat: not supported by the frames op; give a path");
    if (!spec->inputs[0].path)
        return fail(EXIT_MALFORMED_SPEC, "inputs[0].path", "inputs[0].path: required");
    fs->input = &spec->inputs[0];

    if (parse_select(root, fs) < 0 ||
        get_string(root, "path", "", 1, &fs->path) < 0 ||
        check_path(fs) < 0 ||
        parse_template(fs) < 0 ||
        parse_codec(root, fs) < 0 ||
        get_string(root, "scale", "", 0, &fs->scale) < 0 ||
        parse_count(root, fs) < 0)
        return -1;
    most = fs->select == SELECT_TIMESTAMPS ? fs->nb_targets : fs->count;
    if (!fs->conv_len && most > 1)
        return fail(EXIT_MALFORMED_SPEC, "path",
                    "path: \"%s\" has no frame number but up to %d frames may be written; "
                    "add one (e.g. \"f_%%03d.png\")%s", fs->path, most,
                    fs->select == SELECT_TIMESTAMPS ? "" : " or set count to 1");
    return 0;
}

void frames_spec_free(frames_spec *fs)
{
    av_freep(&fs->targets);
}

void frames_path(const frames_spec *fs, int index, char *buf, size_t size)
{
    AVBPrint bp;
    const char *p = fs->path;
    av_bprint_init_for_buffer(&bp, buf, (unsigned)size);
    for (size_t i = 0; p[i]; i++) {
        if (fs->conv_len && i == fs->conv_at) {
            av_bprintf(&bp, "%0*d", fs->pad, index);
            i += fs->conv_len - 1;
        } else if (p[i] == '%' && p[i + 1] == '%') {
            av_bprint_chars(&bp, '%', 1);
            i++;
        } else {
            av_bprint_chars(&bp, p[i], 1);
        }
    }
}
