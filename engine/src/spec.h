/* The job spec, parsed and validated into plain C structs. Everything the engine
 * can check without touching media is checked here, with errors that name the
 * field (exit 2), so the op code can trust the structs. */
#ifndef AFMPEG_SPEC_H
#define AFMPEG_SPEC_H

#include <stdint.h>
#include <string.h>
#include <libavutil/avutil.h>
#include <libavutil/dict.h>

#include "json.h"
#include "streamspec.h"

#define VOCAB_VERSION 9
#define ENGINE_VERSION "0.1.0"

/* Bounds per job (DESIGN section 3). */
#define MAX_INPUTS 32
#define MAX_OUTPUTS 8
#define MAX_GRAPH_INPUTS 32
#define MAX_GRAPH_OUTPUTS 16
#define MAX_COPIES 32
#define MAX_SUBTITLES 16
#define MAX_MAP_ENTRIES (MAX_GRAPH_OUTPUTS + MAX_COPIES)
#define MAX_CONCAT 1024
#define MAX_SECONDS 3.2e10
#define MAX_CODEC_OPTIONS 256 /* keys of one encoder or decoder options object */

typedef enum { OP_VERSION, OP_PROBE, OP_PROCESS, OP_FRAMES, OP_CAPABILITIES } job_op;

typedef struct {
    const char *path;      /* NULL for a concat input */
    const char *name;      /* path, or the first concat entry: for messages */
    int nb_concat;
    const char **concat;   /* files joined by the concat demuxer (av_malloc'd array) */
    const char *format;    /* forced demuxer, or NULL */
    AVDictionary *options; /* demuxer options (strict) */
    int has_seek;
    int64_t seek_us;       /* from the input's start */
    int seek_accurate;     /* decode and drop up to the exact point (else: keyframe at or before) */
    const char *video_codec; /* forced decoders (like ffmpeg's -c:v before -i), or NULL */
    const char *audio_codec;
    AVDictionary *decoder_options; /* for its video/audio decoders (strict: some decoder must take each
                                    * key); "key:v"/"key:a" target one type */
} spec_input;

typedef struct {
    char *text;            /* as written; a [label] without its brackets */
    int is_copy;           /* unbracketed: input stream(s), copied */
    stream_spec ss;        /* what a copy entry names */
} spec_map_entry;

typedef struct {
    const char *path;
    const char *format;            /* muxer, or NULL to guess from path */
    int has_map;
    int nb_map;
    spec_map_entry map[MAX_MAP_ENTRIES];
    const char *video_codec;       /* encoder names, "copy", or NULL for the muxer default */
    const char *audio_codec;
    const char *subtitle_codec;    /* encoder name, "copy", or NULL (convert only what the muxer cannot store) */
    AVDictionary *options;         /* encoder options (strict); "key:v"/"key:a" target one type */
    AVDictionary *format_options;  /* muxer options (strict) */
    AVDictionary *bsf;             /* bitstream filter chain per copied map key */
    int bsf_none;                  /* "bitstream_filters": "none": no automatic ones either */
    int64_t duration_us;           /* window; -1 when unset */
    int64_t end_us;                /* window end as an output timestamp; -1 when unset */
    int64_t max_frames_video;      /* encoded frames per video / audio stream (ffmpeg -frames:v/-frames:a); -1 */
    int64_t max_frames_audio;
    int copy_ts;                   /* keep input timestamps */
    const json_value *metadata;    /* container tags (checked object of strings), or NULL */
    int chapters;                  /* input index to copy from, CHAPTERS_DEFAULT or CHAPTERS_NONE */
    const json_value *stream_metadata; /* per map key {language, disposition, tags} (checked), or NULL */
} spec_output;

#define CHAPTERS_DEFAULT (-2)      /* the first input that has chapters (ffmpeg's default) */
#define CHAPTERS_NONE (-1)

/* metadata.c: check "metadata", "chapters" and "stream_metadata" of output `o`. */
int metadata_check(const json_value *o, const char *where, spec_output *out);

typedef struct {
    json_value *root;
    job_op op;
    int version;
    int progress;                  /* write progress records (progress.c) */
    int nb_inputs;
    spec_input inputs[MAX_INPUTS];
    const char *filter;            /* filter_complex string, or NULL */
    int nb_outputs;
    spec_output outputs[MAX_OUTPUTS];
} job_spec;

/* Parse and validate. On failure returns -1 with the error recorded (errors.h). */
int spec_parse(const char *text, job_spec *spec);
void spec_free(job_spec *spec);

/* Shared with frames_spec.c: strict key check and string field (spec.c). */
int check_keys(const json_value *obj, const char *where, const char *const *known, const char *const *later);
int check_seconds(const json_value *v, const char *field, double *out);
int get_string(const json_value *obj, const char *key, const char *where, int required, const char **out);

/* Codec field value meaning "copy the stream". */
static inline int codec_is_copy(const char *name)
{
    return name && !strcmp(name, "copy");
}

/* Codec option key `k` stripped of a ":v"/":a" suffix into `base`; 0 if the
 * key targets the other type than `type`. */
int spec_option_applies(const char *k, enum AVMediaType type, char *base, size_t size);

#endif
