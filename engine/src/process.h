/* State of one "process" job, shared by its parts:
 *   graph.c   builds the filter graph (sources fed by decoders, sinks to encoders)
 *   output.c  sets up muxers and encoders, encodes and writes packets
 *   op_process.c  opens inputs, decodes, and runs the pull loop. */
#ifndef AFMPEG_PROCESS_H
#define AFMPEG_PROCESS_H

#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>

#include "spec.h"

/* Consecutive empty packets after which an input is taken to be stuck. */
#define MAX_EMPTY_PACKETS 100000

typedef struct InputStream {
    AVStream *st;
    AVCodecContext *dec;          /* opened when a graph input uses the stream */
    int nb_src;
    AVFilterContext *src[MAX_GRAPH_INPUTS]; /* buffer sources this stream feeds */
    /* Video frames are converted to the size/format the sources were configured
     * with if the stream changes mid-way (filters assume a fixed link format). */
    int w, h, pix_fmt;
    struct SwsContext *sws;
    AVFrame *conv;
    int64_t next_pts;             /* for frames without a timestamp */
    int64_t frames;               /* decoded frames */
    int64_t decode_errors;
} InputStream;

typedef struct InputFile {
    AVFormatContext *fmt;
    InputStream *streams;
    unsigned nb_streams;          /* streams known after opening; later ones are ignored */
    int64_t ts_offset;            /* subtracted from timestamps (AV_TIME_BASE), so outputs start at 0 */
    int empty_packets;            /* read in a row; bounded (MAX_EMPTY_PACKETS) */
    int eof;
} InputFile;

typedef struct OutputFile OutputFile;

typedef struct OutputStream {
    OutputFile *of;
    AVFilterContext *sink;
    const char *label;            /* graph output label ("" when unlabelled) */
    enum AVMediaType type;
    const AVCodec *codec;
    AVCodecContext *enc;
    AVStream *st;
    int64_t next_pts;             /* encoder time base */
    int64_t last_pts;             /* last pts sent; AV_NOPTS_VALUE before the first frame */
    int64_t last_us;              /* position of the last frame, to pick the stream that lags */
    int64_t dropped;              /* video frames dropped for a repeated timestamp */
    int finished;
} OutputStream;

struct OutputFile {
    const spec_output *spec;
    int index;
    int take_all;                 /* no map, one output: every graph output */
    int nb_labels;                /* else these graph outputs, in this order */
    const char *labels[MAX_MAP_ENTRIES];
    char auto_labels[2][16];      /* storage for the passthrough graph's labels */
    AVFormatContext *oc;
    int nb_streams;
    OutputStream *streams[MAX_GRAPH_OUTPUTS];
};

typedef struct GraphOutput {      /* an unconnected graph output pad */
    AVFilterContext *filter;
    int pad;
    char *label;                  /* av_malloc'd; "" when unlabelled */
    enum AVMediaType type;
    OutputStream *ost;            /* who consumes it */
} GraphOutput;

typedef struct Job {
    const job_spec *spec;
    int nb_inputs;
    InputFile inputs[MAX_INPUTS];
    int nb_outputs;
    OutputFile outputs[MAX_OUTPUTS];
    int nb_ostreams;
    OutputStream ostreams[MAX_GRAPH_OUTPUTS];

    AVFilterGraph *graph;
    int nb_gin;
    struct { AVFilterContext *src; int file, stream; } gin[MAX_GRAPH_INPUTS];
    int nb_gout;
    GraphOutput gout[MAX_GRAPH_OUTPUTS];

    AVFrame *frame;
    AVPacket *pkt;
} Job;

/* Timestamp arithmetic that saturates instead of overflowing (signed overflow
 * is undefined, and timestamps come from untrusted files). Never yields
 * AV_NOPTS_VALUE. */
static inline int64_t ts_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN + 1;
    return r == INT64_MIN ? INT64_MIN + 1 : r;
}

static inline int64_t ts_sub(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r))
        return b < 0 ? INT64_MAX : INT64_MIN + 1;
    return r == INT64_MIN ? INT64_MIN + 1 : r;
}

/* graph.c */
int graph_parse(Job *job, const char *filter);   /* parse, attach sources, list outputs */
int graph_configure(Job *job);                   /* sinks with encoder constraints, then config */

/* input side (op_process.c) */
int input_stream_open_decoder(Job *job, int file, int stream);

/* output.c */
int outputs_alloc(Job *job);                     /* muxer contexts */
int outputs_assign(Job *job);                    /* map graph outputs to output streams, pick encoders */
int outputs_open(Job *job);                      /* open encoders, write headers */
int output_encode(Job *job, OutputStream *ost, AVFrame *frame); /* frame NULL flushes */
int outputs_finish(Job *job);                    /* trailers */
void outputs_free(Job *job);

#endif
