/* The "frames" job: its fields parsed and checked (exit 2 naming the field)
 * before any media is touched, and the output path template. */
#ifndef AFMPEG_FRAMES_SPEC_H
#define AFMPEG_FRAMES_SPEC_H

#include <stddef.h>

#include "spec.h"

#define FRAMES_DEFAULT_COUNT 1000
#define FRAMES_MAX_COUNT 4096      /* frames per job */
#define FRAMES_MAX_TARGETS 4096    /* entries of "timestamps" */
#define FRAMES_MAX_PAD 32          /* width of the path's integer conversion */

typedef enum {
    SELECT_TIMESTAMPS,  /* "timestamp" (one target) or "timestamps" */
    SELECT_INTERVAL,    /* one frame every `interval` seconds from the start */
    SELECT_SCENE,       /* select filter, gt(scene, threshold) */
    SELECT_THUMBNAIL,   /* thumbnail filter with its defaults (one frame per 100) */
} frames_select;

typedef enum { FRAMES_PNG, FRAMES_MJPEG, FRAMES_WEBP } frames_codec;

typedef struct {
    const spec_input *input;   /* the job's single input (spec->inputs[0]) */
    frames_select select;
    int nb_targets;            /* SELECT_TIMESTAMPS: targets in the given order (seconds) */
    double *targets;
    double interval;           /* SELECT_INTERVAL (> 0) */
    double scene;              /* SELECT_SCENE threshold, 0..1 */
    const char *path;          /* template */
    size_t conv_at, conv_len;  /* the integer conversion in path (conv_len 0: none) */
    int pad;                   /* its zero-padded width */
    frames_codec codec;
    const char *scale;         /* scale filter arguments, or NULL */
    int count;                 /* most frames written */
} frames_spec;

/* Parse the frames fields of spec->root. -1 with the error recorded on failure;
 * frames_spec_free() is safe either way. */
int frames_spec_parse(const job_spec *spec, frames_spec *fs);
void frames_spec_free(frames_spec *fs);

/* The path of frame `index` (the template with its conversion filled in, "%%" made "%"). */
void frames_path(const frames_spec *fs, int index, char *buf, size_t size);

#endif
