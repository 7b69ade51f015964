/* Opening inputs the same safe way for every op: file protocol only, files
 * confined to the job root, strict demuxer options, and decoder limits during
 * stream probing. */
#ifndef AFMPEG_INPUT_H
#define AFMPEG_INPUT_H

#include <stddef.h>
#include <libavformat/avformat.h>

#include "errors.h"
#include "spec.h"

/* Largest picture a decoder may allocate (64 Mpx): huge headers fail early. */
#define MAX_PIXELS (64 * 1024 * 1024)

/* Open inputs[index] and read its stream info.
 * Returns 0; -1 when the media cannot be opened (message in errbuf, its kind in
 * *kind — not found, invalid data, ...; the job may go on: probe reports it per
 * input); -2 on a job error already recorded (e.g. an option nothing consumed). */
int input_open(const spec_input *in, int index, AVFormatContext **out, char *errbuf, size_t errsize,
               err_kind *kind);

/* When opening or reading inputs[index] failed with `averr` because the engine
 * refused something: a probed format that reads files named inside the input
 * (a concat list the job did not ask for) -> -1, message in errbuf, *kind
 * invalid data; a path the host refused as leading outside the job's
 * filesystem -> -2, a spec error recorded. 0 when it was no refusal. */
int input_refusal(const spec_input *in, int index, int averr, char *errbuf, size_t errsize, err_kind *kind);

/* Close what input_open opened (a concat input's list too; its AVIOContext
 * rides in fmt->opaque, as custom I/O outlives the context). */
void input_close(AVFormatContext **fmt);

/* A guest path as a libav URL: paths that look like "proto:..." get "file:" so
 * they are never taken for another protocol. */
const char *path_to_url(const char *path, char *buf, size_t size);

/* Fail (exit 2, naming field and key) if libav left a key in d unconsumed. */
int leftover_option(AVDictionary *d, const char *field);

/* The options a decoder of a `type` stream of input `in` gets: the input's
 * "decoder_options" that apply to the type, then the engine's own, which win
 * (one thread, pixel limit). Caller frees; NULL when out of memory. */
AVDictionary *decoder_options_for(const spec_input *in, enum AVMediaType type);
/* After avcodec_open2 left `left` unconsumed: mark in used[] (indexed like
 * in->decoder_options) the keys this decoder took. */
void decoder_options_used(const spec_input *in, enum AVMediaType type, const AVDictionary *left, unsigned char *used);
/* Fail (exit 2, naming the key) if some key of in->decoder_options is unused. */
int decoder_options_check(const spec_input *in, int index, const unsigned char *used);

#endif
