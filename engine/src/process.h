/* State of one "process" job, shared by its parts:
 *   demux.c      opens inputs, seeks, reads packets and routes them
 *   decode.c     decoders feeding the filter graph's buffer sources
 *   graph.c      builds the filter graph (sources fed by decoders, sinks to encoders)
 *   graph_walk.c facts about the parsed graph (outputs that never end, inputs feeding a pad)
 *   output.c     muxers, and the map: which output streams each file gets
 *   encode.c     output streams encoded from a graph output
 *   copy.c       output streams copied from an input stream
 *   window.c     output windows (duration/end) and copy_ts shifts
 *   op_process.c the pull loop.
 *
 * Time: every input has a ts_offset subtracted from its timestamps, so the
 * job's timeline starts at 0 at the input's start, fast-seek keyframe or
 * accurate-seek point. Outputs with copy_ts add it back. */
#ifndef AFMPEG_PROCESS_H
#define AFMPEG_PROCESS_H

#include <stdio.h>

#include <libavcodec/avcodec.h>
#include <libavcodec/bsf.h>
#include <libavfilter/avfilter.h>
#include <libavformat/avformat.h>
#include <libavutil/bprint.h>
#include <libswscale/swscale.h>

#include "jsonw.h"
#include "spec.h"

/* Consecutive empty packets after which an input is taken to be stuck. */
#define MAX_EMPTY_PACKETS 100000
/* Packets held back while a fast seek looks for the keyframe it landed on. */
#define MAX_PENDING 1024
#define MAX_OUTPUT_STREAMS (MAX_GRAPH_OUTPUTS + MAX_COPIES)
/* Packets (and their bytes) an output holds while its header waits for the
 * first video frames; past either, the header is written without waiting. */
#define MAX_HEADER_QUEUE 1024
#define MAX_HEADER_QUEUE_BYTES (32 << 20)

typedef struct InputStream {
    AVStream *st;
    AVCodecContext *dec;          /* opened when a graph input uses the stream */
    int nb_src;
    AVFilterContext *src[MAX_GRAPH_INPUTS]; /* buffer sources this stream feeds */
    int nb_copies;                /* output streams copying it */
    /* Video frames are converted to the size/format the sources were configured
     * with if the stream changes mid-way (filters assume a fixed link format). */
    int w, h, pix_fmt;
    struct SwsContext *sws;
    AVFrame *conv;
    int64_t next_pts;             /* for frames without a timestamp (audio: in samples), or AV_NOPTS_VALUE */
    int64_t rescale_last;         /* audio: av_rescale_delta's state, so samples stay contiguous */
    int64_t frames;               /* decoded frames */
    int64_t decode_errors;
} InputStream;

typedef struct InputFile {
    AVFormatContext *fmt;
    InputStream *streams;
    unsigned nb_streams;          /* streams known after opening; later ones are ignored */
    int64_t ts_offset;            /* subtracted from timestamps (AV_TIME_BASE) */
    int trim_start;               /* seeked: data before timeline 0 is dropped */
    int anchoring;                /* fast seek: ts_offset waits for the first keyframe */
    int anchor_stream;            /* ... of this stream */
    int nb_pending, pending_pos;  /* packets read while anchoring, replayed after */
    AVPacket **pending;
    int empty_packets;            /* read in a row; bounded (MAX_EMPTY_PACKETS) */
    unsigned char dec_used[MAX_CODEC_OPTIONS]; /* decoder_options keys some decoder took */
    int eof;
} InputFile;

typedef struct OutputFile OutputFile;

/* OST_SUBTITLE: an input subtitle stream decoded and encoded to another codec. */
typedef enum { OST_ENCODED, OST_COPIED, OST_SUBTITLE } OutputKind;

/* One stream of an output file: encoded from a graph output pad, or copied
 * from an input stream. Later features (metadata, subtitles, progress) attach
 * here whatever the kind. */
typedef struct OutputStream {
    OutputFile *of;
    OutputKind kind;
    const char *label;            /* graph label, or the copy's map key (messages, bsf keys) */
    enum AVMediaType type;
    AVStream *st;
    int shift_file;               /* input whose ts_offset copy_ts restores, or -1 */
    int64_t last_us;              /* timeline position of the last data, to pick the stream that lags */
    int finished;                 /* nothing more is written (end of data or window full) */
    int64_t packets;              /* written to the muxer (video: frames) */
    int64_t written_us;           /* furthest end (pts + duration) written, output clock */

    /* OST_ENCODED */
    AVFilterContext *sink;
    int sink_eof;                 /* the sink reported EOF (nothing left to drain) */
    const AVCodec *codec;
    AVCodecContext *enc;
    int64_t next_pts;             /* encoder time base */
    int64_t last_pts;             /* last pts sent; AV_NOPTS_VALUE before the first frame */
    int64_t dropped;              /* video frames dropped for a repeated timestamp */
    int64_t frames_sent;          /* frames given to the encoder */
    int64_t max_frames;           /* the output's "max_frames" for this type; -1: no limit */

    /* OST_COPIED, OST_SUBTITLE: the input stream; OST_ENCODED: the one it is
     * a plain filter chain from, or file -1 (for the muxer's duration hint) */
    int file, stream;
    AVCodecContext *sub_dec;      /* OST_SUBTITLE: its decoder (the encoder is enc) */
    uint8_t *sub_buf;             /* OST_SUBTITLE: one encoded cue */
    AVBSFContext *bsf;            /* bitstream filters asked for, or NULL */
    int started;                  /* first packet written (copies start on a keyframe) */
} OutputStream;

struct OutputFile {
    const spec_output *spec;
    int index;
    int take_all;                 /* filter without map: every graph output */
    int nb_entries;               /* else these, in this order: the spec's map, */
    spec_map_entry entries[MAX_MAP_ENTRIES]; /* or what a job without a filter implies */
    char auto_text[3][16];        /* storage for implied entries' text */
    AVFormatContext *oc;
    int nb_streams;
    OutputStream *streams[MAX_OUTPUT_STREAMS];
    int64_t bytes;                /* packet payload written (for muxers without a file of their own) */
    /* The muxer is initialised when the job starts, but (as in ffmpeg) its
     * header is written once each video encoder has seen its first frame, so
     * the header can say what only frames tell (field order); packets that
     * come before wait here. */
    int header_written;
    int nb_queued;
    int64_t queued_bytes;
    AVPacket *queue[MAX_HEADER_QUEUE];
    int64_t closed_size;          /* file size when it was closed */
};

typedef struct GraphOutput {      /* an unconnected graph output pad */
    AVFilterContext *filter;
    int pad;
    char *label;                  /* av_malloc'd; "" when unlabelled */
    enum AVMediaType type;
    OutputStream *ost;            /* who consumes it */
} GraphOutput;

/* Measurements collected for the result's "analysis" (analysis.c). */
#define MAX_ANALYSIS 100000
typedef struct AnalysisEntry {
    double t;                     /* seconds on the graph's clock; NaN when the frame had no timestamp */
    char *key, *value;
} AnalysisEntry;

typedef struct Analysis {
    AnalysisEntry *entries;
    int nb, cap;
    int truncated;                /* MAX_ANALYSIS reached: later entries were dropped */
    AVDictionary *last;           /* last value recorded per key */
} Analysis;

typedef struct Job {
    const job_spec *spec;
    int nb_inputs;
    InputFile inputs[MAX_INPUTS];
    int nb_outputs;
    OutputFile outputs[MAX_OUTPUTS];
    int nb_ostreams;
    OutputStream ostreams[MAX_OUTPUT_STREAMS];
    int nb_copies;
    int nb_subtitles;             /* subtitle output streams (MAX_SUBTITLES) */

    AVFilterGraph *graph;         /* NULL when every stream is copied */
    int nb_gin;
    struct { AVFilterContext *src; int file, stream; } gin[MAX_GRAPH_INPUTS];
    int nb_gout;
    GraphOutput gout[MAX_GRAPH_OUTPUTS];

    AVFrame *frame;
    AVPacket *pkt;                /* demuxed */
    AVPacket *out_pkt;            /* encoded or copied, on its way to a muxer */

    Analysis analysis;

    struct {
        FILE *f;                  /* /dev/afmpeg-progress, NULL when off or broken */
        int64_t next_us;          /* out_time that triggers the next record */
        int64_t duration_us;      /* expected, 0 when unknown */
    } progress;
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

/* av_rescale_q() (rounding to nearest) that keeps AV_NOPTS_VALUE and saturates
 * instead of answering AV_NOPTS_VALUE for results out of range. Time bases are
 * positive (checked where streams are opened). */
static inline int64_t ts_rescale(int64_t ts, AVRational from, AVRational to)
{
    int64_t r;
    if (ts == AV_NOPTS_VALUE)
        return ts;
    r = av_rescale_q_rnd(ts, from, to, AV_ROUND_NEAR_INF | AV_ROUND_PASS_MINMAX);
    if (r == AV_NOPTS_VALUE)
        return ts < 0 ? INT64_MIN + 1 : INT64_MAX;
    return r;
}

/* "outputs[N]"-style field names for messages. */
#define FIELD_SIZE 160

/* graph.c */
int graph_parse(Job *job, const char *filter);   /* parse, attach sources, list outputs */
int graph_configure(Job *job);                   /* sinks with encoder constraints, then config */

/* graph_walk.c */
/* 1 if graph output `g` never ends (why: the filter that makes it endless). */
int graph_output_endless(Job *job, const GraphOutput *g, char *why, size_t size);
/* Lowest input file feeding graph output `g`, or -1 (only source filters). */
int graph_output_first_input(Job *job, const GraphOutput *g);
/* The input file (and *stream) graph output `g` is a plain chain from (each
 * filter on the way has one input, as in ffmpeg's simple filtergraphs), or -1. */
int graph_output_sole_input(Job *job, const GraphOutput *g, int *stream);

/* demux.c */
int inputs_open(Job *job);                       /* open, read stream info */
int inputs_seek(Job *job);                       /* seek; after the streams in use are known */
int input_read(Job *job, int file);              /* one packet to its consumers; EOF ends them */
void inputs_free(Job *job);

/* decode.c */
int input_stream_open_decoder(Job *job, int file, int stream);
int decode_packet(Job *job, int file, InputStream *ist, const AVPacket *pkt); /* NULL drains */

/* output.c */
int outputs_alloc(Job *job);                     /* muxer contexts */
int outputs_plan(Job *job, AVBPrint *passthrough); /* map entries; the graph a filterless job needs */
int outputs_assign(Job *job);                    /* output streams for graph outputs and copies */
int outputs_check(Job *job);                     /* settings that contradict the streams */
int outputs_open(Job *job);                      /* open encoders/copies, write headers */
int outputs_finish(Job *job);                    /* trailers */
int output_is_segmented(const OutputFile *of);
void outputs_free(Job *job);
/* To the muxer, timestamps in `tb`; takes the packet's reference. */
int output_write(OutputStream *ost, AVPacket *pkt, AVRational tb);

/* encode.c */
int encode_pick(OutputFile *of, OutputStream *ost);
int encode_open(Job *job, OutputStream *ost, unsigned char *consumed);
int encode_frame(Job *job, OutputStream *ost, AVFrame *frame); /* applies the window */
int encode_finish(Job *job, OutputStream *ost);  /* flush; the stream is finished */

/* copy.c */
int copy_add(Job *job, OutputFile *of, const spec_map_entry *e); /* every stream e names */
int copy_open(Job *job, OutputStream *ost);
int copy_packet(Job *job, OutputStream *ost, const AVPacket *pkt);
int copy_finish(Job *job, OutputStream *ost);

/* analysis.c */
int analysis_frame(Job *job, const AVFrame *frame, AVRational tb); /* lavfi.* metadata of a sink's frame */
void analysis_write(const Job *job, jw *w);
void analysis_free(Job *job);

/* metadata.c */
int metadata_apply(Job *job, OutputFile *of);    /* tags, dispositions, chapters; before the header */

/* progress.c ("progress": true; never fails the job) */
void progress_open(Job *job);                    /* after seeking: durations are known */
void progress_tick(Job *job);                    /* a record when out_time moved on enough */
void progress_final(Job *job);
void progress_close(Job *job);

/* subtitles.c */
int subtitle_needs_transcode(const OutputFile *of, const AVStream *ist);
int subtitle_open(Job *job, OutputStream *ost);
int subtitle_packet(Job *job, OutputStream *ost, const AVPacket *pkt); /* ends with copy_finish() */

/* window.c */
int64_t window_end(const Job *job, const OutputStream *ost);   /* timeline us; INT64_MAX: none */
int64_t window_shift(const Job *job, const OutputStream *ost); /* us added by copy_ts */
int outputs_check_windows(Job *job);             /* endless graph outputs need a window */

#endif
