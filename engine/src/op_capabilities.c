/* op "capabilities": everything actually linked into this module, read from
 * libav's own registries (never a hand-written list), plus the library
 * versions. The host uses it to tell "not in this build" from "bad input",
 * and tests compare it with the allowlist the build was given. */
#include <limits.h>

#include <libavcodec/avcodec.h>
#include <libavcodec/bsf.h>
#include <libavfilter/avfilter.h>
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>

#include "ops.h"

static void media_type(jw *w, const char *key, enum AVMediaType type)
{
    const char *s = av_get_media_type_string(type);
    jw_kstr(w, key, s ? s : "unknown");
}

static void library(jw *w, const char *name, unsigned v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%u.%u.%u", AV_VERSION_MAJOR(v), AV_VERSION_MINOR(v), AV_VERSION_MICRO(v));
    jw_kstr(w, name, buf);
}

/* Optional strings are left out rather than written as "" (NULL in libav). */
static void kstr_opt(jw *w, const char *key, const char *s)
{
    if (s && *s)
        jw_kstr(w, key, s);
}

static void codec_id_list(jw *w, const char *key, const enum AVCodecID *ids, int max)
{
    jw_key(w, key);
    jw_arr_begin(w);
    for (int i = 0; ids && i < max && ids[i] != AV_CODEC_ID_NONE; i++)
        jw_str(w, avcodec_get_name(ids[i]));
    jw_arr_end(w);
}

static void write_codecs(jw *w, int encoders)
{
    const AVCodec *c;
    void *it = NULL;
    jw_key(w, encoders ? "encoders" : "decoders");
    jw_arr_begin(w);
    while ((c = av_codec_iterate(&it))) {
        if (encoders ? !av_codec_is_encoder(c) : !av_codec_is_decoder(c))
            continue;
        jw_obj_begin(w);
        jw_kstr(w, "name", c->name);
        kstr_opt(w, "long_name", c->long_name);
        media_type(w, "type", c->type);
        jw_kstr(w, "codec", avcodec_get_name(c->id)); /* e.g. libopenh264 encodes "h264" */
        if (c->capabilities & AV_CODEC_CAP_EXPERIMENTAL) {
            jw_key(w, "experimental");
            jw_bool(w, 1);
        }
        jw_obj_end(w);
    }
    jw_arr_end(w);
}

static void write_muxers(jw *w)
{
    const AVOutputFormat *f;
    void *it = NULL;
    jw_key(w, "muxers");
    jw_arr_begin(w);
    while ((f = av_muxer_iterate(&it))) {
        jw_obj_begin(w);
        jw_kstr(w, "name", f->name);
        kstr_opt(w, "long_name", f->long_name);
        kstr_opt(w, "extensions", f->extensions);
        kstr_opt(w, "mime_type", f->mime_type);
        if (f->video_codec != AV_CODEC_ID_NONE)
            jw_kstr(w, "video_codec", avcodec_get_name(f->video_codec));
        if (f->audio_codec != AV_CODEC_ID_NONE)
            jw_kstr(w, "audio_codec", avcodec_get_name(f->audio_codec));
        if (f->subtitle_codec != AV_CODEC_ID_NONE)
            jw_kstr(w, "subtitle_codec", avcodec_get_name(f->subtitle_codec));
        jw_obj_end(w);
    }
    jw_arr_end(w);
}

static void write_demuxers(jw *w)
{
    const AVInputFormat *f;
    void *it = NULL;
    jw_key(w, "demuxers");
    jw_arr_begin(w);
    while ((f = av_demuxer_iterate(&it))) {
        jw_obj_begin(w);
        jw_kstr(w, "name", f->name); /* may be a comma-separated list, e.g. "matroska,webm" */
        kstr_opt(w, "long_name", f->long_name);
        kstr_opt(w, "extensions", f->extensions);
        kstr_opt(w, "mime_type", f->mime_type);
        jw_obj_end(w);
    }
    jw_arr_end(w);
}

static void write_filters(jw *w)
{
    const AVFilter *f;
    void *it = NULL;
    jw_key(w, "filters");
    jw_arr_begin(w);
    while ((f = av_filter_iterate(&it))) {
        jw_obj_begin(w);
        jw_kstr(w, "name", f->name);
        kstr_opt(w, "description", f->description);
        /* Static pad counts; a dynamic side (amix, split, concat) is sized by its options. */
        jw_kint(w, "inputs", avfilter_filter_pad_count(f, 0));
        jw_kint(w, "outputs", avfilter_filter_pad_count(f, 1));
        jw_key(w, "dynamic_inputs");
        jw_bool(w, !!(f->flags & AVFILTER_FLAG_DYNAMIC_INPUTS));
        jw_key(w, "dynamic_outputs");
        jw_bool(w, !!(f->flags & AVFILTER_FLAG_DYNAMIC_OUTPUTS));
        jw_obj_end(w);
    }
    jw_arr_end(w);
}

static void write_bsfs(jw *w)
{
    const AVBitStreamFilter *b;
    void *it = NULL;
    jw_key(w, "bitstream_filters");
    jw_arr_begin(w);
    while ((b = av_bsf_iterate(&it))) {
        jw_obj_begin(w);
        jw_kstr(w, "name", b->name);
        /* An empty list means "any codec" (e.g. null, extract_extradata lists its own). */
        codec_id_list(w, "codecs", b->codec_ids, INT_MAX);
        jw_obj_end(w);
    }
    jw_arr_end(w);
}

static void write_protocols(jw *w)
{
    jw_key(w, "protocols");
    jw_obj_begin(w);
    for (int output = 0; output <= 1; output++) {
        const char *name;
        void *it = NULL;
        jw_key(w, output ? "output" : "input");
        jw_arr_begin(w);
        while ((name = avio_enum_protocols(&it, output)))
            jw_str(w, name);
        jw_arr_end(w);
    }
    jw_obj_end(w);
}

static void write_parsers(jw *w)
{
    const AVCodecParser *p;
    void *it = NULL;
    jw_key(w, "parsers");
    jw_arr_begin(w);
    /* Parsers have no public name; they are known by the codecs they split. */
    while ((p = av_parser_iterate(&it))) {
        jw_obj_begin(w);
        codec_id_list(w, "codecs", p->codec_ids, (int)FF_ARRAY_ELEMS(p->codec_ids));
        jw_obj_end(w);
    }
    jw_arr_end(w);
}

int op_capabilities(const job_spec *spec, jw *w)
{
    (void)spec;
    jw_obj_begin(w);
    jw_kint(w, "vocab_version", VOCAB_VERSION);
    jw_kstr(w, "engine_version", ENGINE_VERSION);
    jw_kstr(w, "ffmpeg_version", av_version_info());
    jw_kstr(w, "license", avcodec_license());
    jw_key(w, "libraries");
    jw_obj_begin(w);
    library(w, "libavutil", avutil_version());
    library(w, "libavcodec", avcodec_version());
    library(w, "libavformat", avformat_version());
    library(w, "libavfilter", avfilter_version());
    library(w, "libswscale", swscale_version());
    library(w, "libswresample", swresample_version());
    jw_obj_end(w);
    write_codecs(w, 1);
    write_codecs(w, 0);
    write_muxers(w);
    write_demuxers(w);
    write_filters(w);
    write_bsfs(w);
    write_protocols(w);
    write_parsers(w);
    jw_obj_end(w);
    return 0;
}
