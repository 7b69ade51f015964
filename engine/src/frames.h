/* State of one "frames" job, shared by its parts:
 *   op_frames.c      input, decoder, conversion graph, encoder, files, result
 *   frames_select.c  which decoded frames are written (seeking or filtering). */
#ifndef AFMPEG_FRAMES_H
#define AFMPEG_FRAMES_H

#include <libavcodec/avcodec.h>
#include <libavfilter/avfilter.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>

#include "frames_spec.h"

/* Consecutive empty packets after which the input is taken to be stuck. */
#define FRAMES_MAX_EMPTY_PACKETS 100000

typedef struct FramesResult {
    int index;                  /* number in the file name (1-based) */
    double t;                   /* frame time, seconds from the input's start */
} FramesResult;

typedef struct FramesJob {
    const frames_spec *fs;
    AVFormatContext *fmt;
    AVStream *st;
    AVCodecContext *dec;
    int64_t start;              /* input start in st->time_base; frame pts are relative to it */
    int64_t next_pts;           /* for frames without a timestamp */
    int64_t frame_dur;          /* for frames without a duration (stream time base, >= 1) */
    int64_t last_dur;           /* the last duration a frame came with */
    int no_seek;                /* seeking proved useless: decode on only */
    int demux_eof, dec_eof;
    int empty_packets;
    int64_t decode_errors;
    int64_t first_dts;          /* dts of the first packet read after a seek (absolute) */

    AVFilterGraph *graph;       /* buffer -> [select | thumbnail] -> [scale] -> buffersink */
    AVFilterContext *src, *sink;
    int w, h, pix_fmt;          /* what the buffer source was configured with */
    struct SwsContext *sws;     /* frames that change size mid-stream are converted back */
    AVFrame *conv;

    AVCodecContext *enc;
    AVPacket *pkt;
    AVFrame *frame, *filtered;
    int nb_results;
    FramesResult *results;      /* fs->count entries */
} FramesJob;

/* op_frames.c */
/* Next decoded frame into f (pts relative to the input's start, stream time
 * base): 1, or 0 at the end of the stream; -1 on a job error. */
int frames_decode(FramesJob *j, AVFrame *f);
/* Seek to the keyframe at or before `ts` (relative, stream time base):
 * 0, or 1 when the input cannot seek there (the caller decodes on). */
int frames_seek(FramesJob *j, int64_t ts);
/* Reopen the input and decode from its start (when seeking does not work). */
int frames_restart(FramesJob *j);
/* Convert/scale one chosen frame and write it as frame `index`. */
int frames_emit(FramesJob *j, AVFrame *f, int index);
/* Feed the selecting graph a frame (NULL: end of stream) and write what it
 * lets through. Returns 1 once `count` frames are written, 0, or -1. */
int frames_filter(FramesJob *j, AVFrame *f);

/* frames_select.c */
int frames_select_targets(FramesJob *j);   /* SELECT_TIMESTAMPS, SELECT_INTERVAL */
int frames_select_filtered(FramesJob *j);  /* SELECT_SCENE, SELECT_THUMBNAIL */

#endif
