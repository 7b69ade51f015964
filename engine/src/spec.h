/* The job spec, parsed and validated into plain C structs. Everything the engine
 * can check without touching media is checked here, with errors that name the
 * field (exit 2), so the op code can trust the structs. */
#ifndef AFMPEG_SPEC_H
#define AFMPEG_SPEC_H

#include <libavutil/dict.h>

#include "json.h"

#define VOCAB_VERSION 9
#define ENGINE_VERSION "0.1.0"

/* Bounds per job (DESIGN section 3). */
#define MAX_INPUTS 32
#define MAX_OUTPUTS 8
#define MAX_GRAPH_INPUTS 32
#define MAX_GRAPH_OUTPUTS 16
#define MAX_MAP_ENTRIES 48

typedef enum { OP_VERSION, OP_PROBE, OP_PROCESS } job_op;

typedef struct {
    const char *path;
    const char *format;    /* forced demuxer, or NULL */
    AVDictionary *options; /* demuxer options (strict) */
} spec_input;

typedef struct {
    const char *path;
    const char *format;            /* muxer, or NULL to guess from path */
    int has_map;
    int nb_map;
    char *map[MAX_MAP_ENTRIES];    /* graph output labels, brackets removed */
    const char *video_codec;       /* encoder names, or NULL for the muxer default */
    const char *audio_codec;
    AVDictionary *options;         /* encoder options (strict); "key:v"/"key:a" target one type */
    AVDictionary *format_options;  /* muxer options (strict) */
} spec_output;

typedef struct {
    json_value *root;
    job_op op;
    int version;
    int nb_inputs;
    spec_input inputs[MAX_INPUTS];
    const char *filter;            /* filter_complex string, or NULL */
    int nb_outputs;
    spec_output outputs[MAX_OUTPUTS];
} job_spec;

/* Parse and validate. On failure returns -1 with the error recorded (errors.h). */
int spec_parse(const char *text, job_spec *spec);
void spec_free(job_spec *spec);

#endif
