/* The filter graph: the job's filter string with buffer sources (fed by
 * decoders) on its [N:v]/[N:a] inputs and buffer sinks (drained by encoders)
 * on its outputs. */
#include <stdio.h>
#include <string.h>

#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/avstring.h>
#include <libavutil/opt.h>

#include "errors.h"
#include "process.h"

static int make_source(Job *job, int file, int stream, AVFilterContext **out)
{
    InputFile *in = &job->inputs[file];
    InputStream *ist = &in->streams[stream];
    AVCodecContext *dec = ist->dec;
    int video = dec->codec_type == AVMEDIA_TYPE_VIDEO;
    AVBufferSrcParameters *par;
    AVFilterContext *src;
    char name[48];
    int ret = 0;

    snprintf(name, sizeof(name), "in_%d_%d_%d", file, stream, ist->nb_src);
    src = avfilter_graph_alloc_filter(job->graph, avfilter_get_by_name(video ? "buffer" : "abuffer"), name);
    if (!src || !(par = av_buffersrc_parameters_alloc()))
        return fail_oom(NULL);
    /* Audio enters the graph counted in samples (decode.c's push_frame). */
    par->time_base = video ? ist->st->time_base : (AVRational){ 1, dec->sample_rate };
    if (video) {
        AVRational sar = av_guess_sample_aspect_ratio(in->fmt, ist->st, NULL);
        par->format = ist->pix_fmt;
        par->width = ist->w;
        par->height = ist->h;
        par->sample_aspect_ratio = sar.num > 0 ? sar : (AVRational){ 0, 1 };
        par->frame_rate = av_guess_frame_rate(in->fmt, ist->st, NULL);
        par->color_space = dec->colorspace;
        par->color_range = dec->color_range;
    } else {
        par->format = dec->sample_fmt;
        par->sample_rate = dec->sample_rate;
        /* Frames with an unspecified layout get this one from the source. */
        if (dec->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC)
            av_channel_layout_default(&par->ch_layout, dec->ch_layout.nb_channels);
        else
            ret = av_channel_layout_copy(&par->ch_layout, &dec->ch_layout);
    }
    errlog_reset();
    if (ret >= 0)
        ret = av_buffersrc_parameters_set(src, par);
    av_channel_layout_uninit(&par->ch_layout);
    av_free(par);
    if (ret >= 0)
        ret = avfilter_init_dict(src, NULL);
    if (ret < 0)
        return fail_av(EXIT_FAILURE_PROCESSING, ret, "filter", "setting up the graph input for input %d stream %d",
                       file, stream);
    *out = src;
    return 0;
}

static int connect_input(Job *job, AVFilterInOut *io)
{
    enum AVMediaType pad_type = avfilter_pad_get_type(io->filter_ctx->input_pads, io->pad_idx);
    enum AVMediaType type;
    int file, k, stream;
    AVFilterContext *src;
    const char *label = io->name;
    stream_spec ss;

    if (label) {
        if (stream_spec_parse(label, 0, &ss) < 0 ||
            (ss.type != AVMEDIA_TYPE_VIDEO && ss.type != AVMEDIA_TYPE_AUDIO))
            return fail(EXIT_MALFORMED_SPEC, "filter",
                        "filter: input label [%s] is not of the form [N:v], [N:a], [N:v:K] or [N:a:K]", label);
        file = ss.file;
        type = ss.type;
        k = ss.index < 0 ? 0 : ss.index;
        if (type != pad_type)
            return fail(EXIT_MALFORMED_SPEC, "filter", "filter: [%s] is %s but feeds a %s input of filter \"%s\"",
                        label, av_get_media_type_string(type), av_get_media_type_string(pad_type),
                        io->filter_ctx->filter->name);
    } else {
        /* Like ffmpeg -filter_complex: an unlabelled input takes the first
         * stream of its type from input 0. */
        file = 0;
        k = 0;
        type = pad_type;
        if (type != AVMEDIA_TYPE_VIDEO && type != AVMEDIA_TYPE_AUDIO)
            return fail(EXIT_MALFORMED_SPEC, "filter", "filter: unsupported input pad type on filter \"%s\"",
                        io->filter_ctx->filter->name);
    }
    if (file >= job->nb_inputs)
        return fail(EXIT_MALFORMED_SPEC, "filter",
                    "filter: %s%s%s refers to input %d, but the job has %d input%s",
                    label ? "[" : "an unlabelled input of filter \"", label ? label : io->filter_ctx->filter->name,
                    label ? "]" : "\"", file, job->nb_inputs, job->nb_inputs == 1 ? "" : "s");
    stream = stream_find(job->inputs[file].fmt, type, k);
    if (stream < 0)
        return fail(EXIT_FAILURE_PROCESSING, "filter", "filter: input %d (%s) has no %s stream #%d",
                    file, job->spec->inputs[file].name, av_get_media_type_string(type), k);
    if (input_stream_open_decoder(job, file, stream) < 0 || make_source(job, file, stream, &src) < 0)
        return -1;
    InputStream *ist = &job->inputs[file].streams[stream];
    ist->src[ist->nb_src++] = src;
    job->gin[job->nb_gin].src = src;
    job->gin[job->nb_gin].file = file;
    job->gin[job->nb_gin].stream = stream;
    job->nb_gin++;
    int ret = avfilter_link(src, 0, io->filter_ctx, io->pad_idx);
    if (ret < 0)
        return fail_av(EXIT_FAILURE_PROCESSING, ret, "filter", "linking the graph input");
    return 0;
}

static int count(const AVFilterInOut *io)
{
    int n = 0;
    for (; io; io = io->next)
        n++;
    return n;
}

/* FFmpeg's GPL-licensed filters (their configure deps say "gpl"): an LGPL module
 * never has them, so a job asking for one is told which module does. */
static const char *const gpl_filters[] = {
    "blackframe", "boxblur", "colormatrix", "cover_rect", "cropdetect", "delogo", "eq", "find_rect", "fspp",
    "histeq", "hqdn3d", "interlace", "kerndeint", "mcdeint", "mpdecimate", "mptestsrc", "nnedi", "owdenoise",
    "perspective", "phase", "pp7", "pullup", "repeatfields", "sab", "signature", "smartblur", "spp", "stereo3d",
    "super2xsai", "tinterlace", "uspp", "vaguedenoiser",
};

/* The GPL-only filter called `name` (its first n bytes), or NULL. */
static const char *gpl_filter(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof(gpl_filters) / sizeof(gpl_filters[0]); i++)
        if (strlen(gpl_filters[i]) == n && !strncmp(name, gpl_filters[i], n))
            return gpl_filters[i];
    return NULL;
}

/* The GPL-only filter named in libav's "No such filter: 'NAME'" line, or NULL. */
static const char *missing_gpl_filter(void)
{
    const char *line = errlog_first(), *name;

    if (!line || !(name = strstr(line, "No such filter: '")))
        return NULL;
    name += strlen("No such filter: '");
    return gpl_filter(name, strcspn(name, "'"));
}

static void fail_gpl_filter(const char *gpl)
{
    fail_kind(EXIT_FAILURE_PROCESSING, ERR_UNSUPPORTED, "filter",
              "filter: no filter \"%s\" in this module: %s is GPL-licensed, so only the GPL engine variant has it "
              "(afmpeg-engine-gpl-full.wasm, Runtime(variant=\"gpl\", profile=\"full\")); this module is the LGPL "
              "variant", gpl, gpl);
}

/* The first filter of `graph` this build does not have, into buf (else 0).
 * libav parses a filter's options before it looks the filter up, and options
 * given by position ("setfield=bff") cannot be parsed without the filter: it
 * then reports "No option name near ...", which would hide the real cause.
 * The walk follows graphparser.c's own tokenising. */
static int unknown_filter(const char *graph, char *buf, size_t size)
{
    const char *p = graph + strspn(graph, " \n\t\r");
    if (!strncmp(p, "sws_flags=", 10) && strchr(p, ';'))
        p = strchr(p, ';') + 1;
    while (*p) {
        char *name, *opts, *at;
        int found;
        p += strspn(p, " \n\t\r");
        while (*p == '[') { /* input labels */
            p += strcspn(p, "]");
            p += *p == ']';
            p += strspn(p, " \n\t\r");
        }
        if (!(name = av_get_token(&p, "=,;[")))
            return 0;
        if (*p == '=') {
            p++;
            if (!(opts = av_get_token(&p, "[],;"))) {
                av_free(name);
                return 0;
            }
            av_free(opts);
        }
        if ((at = strchr(name, '@')))
            *at = '\0';
        found = !name[0] || avfilter_get_by_name(name) != NULL;
        if (!found)
            av_strlcpy(buf, name, size);
        av_free(name);
        if (!found)
            return 1;
        while (*p == '[') { /* output labels */
            p += strcspn(p, "]");
            p += *p == ']';
            p += strspn(p, " \n\t\r");
        }
        p += strspn(p, " \n\t\r");
        if (*p != ',' && *p != ';')
            break;
        p++;
    }
    return 0;
}

int graph_parse(Job *job, const char *filter)
{
    AVFilterInOut *ins = NULL, *outs = NULL, *io;
    int ret = -1;

    if (!(job->graph = avfilter_graph_alloc()))
        return fail_oom(NULL);
    job->graph->nb_threads = 1;
    errlog_reset();
    ret = avfilter_graph_parse2(job->graph, filter, &ins, &outs);
    if (ret == AVERROR(EINVAL)) {
        char name[64];
        if (unknown_filter(filter, name, sizeof(name))) {
            const char *gpl = gpl_filter(name, strlen(name));
            if (gpl && !strncmp(avfilter_license(), "LGPL", 4))
                fail_gpl_filter(gpl);
            else
                fail_kind(EXIT_FAILURE_PROCESSING, ERR_UNSUPPORTED, "filter",
                          "filter: Filter not found (no filter \"%s\" in this build)", name);
            goto end;
        }
    }
    if (ret < 0) {
        const char *gpl = ret == AVERROR_FILTER_NOT_FOUND ? missing_gpl_filter() : NULL;

        if (gpl && !strncmp(avfilter_license(), "LGPL", 4)) {
            fail_gpl_filter(gpl);
            goto end;
        }
        /* A filter missing from this build is like an unknown encoder (exit 1);
         * anything else is a bad filter string. */
        fail_av(ret == AVERROR_FILTER_NOT_FOUND ? EXIT_FAILURE_PROCESSING : EXIT_MALFORMED_SPEC, ret,
                "filter", "filter");
        goto end;
    }
    ret = -1;
    if (count(ins) > MAX_GRAPH_INPUTS) {
        fail(EXIT_MALFORMED_SPEC, "filter", "filter: at most %d graph inputs are allowed (got %d)",
             MAX_GRAPH_INPUTS, count(ins));
        goto end;
    }
    if (count(outs) > MAX_GRAPH_OUTPUTS) {
        fail(EXIT_MALFORMED_SPEC, "filter", "filter: at most %d graph outputs are allowed (got %d)",
             MAX_GRAPH_OUTPUTS, count(outs));
        goto end;
    }
    if (!outs) {
        fail(EXIT_MALFORMED_SPEC, "filter", "filter: the graph has no unconnected output to encode");
        goto end;
    }
    for (io = ins; io; io = io->next)
        if (connect_input(job, io) < 0)
            goto end;
    for (io = outs; io; io = io->next) {
        GraphOutput *g = &job->gout[job->nb_gout];
        const char *label = io->name ? io->name : "";
        for (int i = 0; label[0] && i < job->nb_gout; i++) {
            if (!strcmp(job->gout[i].label, label)) {
                fail(EXIT_MALFORMED_SPEC, "filter", "filter: output label [%s] is used twice", label);
                goto end;
            }
        }
        if (!(g->label = av_strdup(label))) {
            fail_oom(NULL);
            goto end;
        }
        g->filter = io->filter_ctx;
        g->pad = io->pad_idx;
        g->type = avfilter_pad_get_type(io->filter_ctx->output_pads, io->pad_idx);
        job->nb_gout++;
    }
    ret = 0;
end:
    avfilter_inout_free(&ins);
    avfilter_inout_free(&outs);
    return ret;
}

/* Restrict a sink option to what the encoder supports (nothing listed = anything). */
static int constrain(AVFilterContext *sink, const char *opt, const AVCodec *codec, enum AVCodecConfig cfg)
{
    const void *list = NULL;
    int n = 0, ret;
    ret = avcodec_get_supported_config(NULL, codec, cfg, 0, &list, &n);
    if (ret < 0 || !list || n <= 0)
        return ret < 0 ? ret : 0;
    switch (cfg) {
    case AV_CODEC_CONFIG_PIX_FORMAT:
        return av_opt_set_array(sink, opt, AV_OPT_SEARCH_CHILDREN, 0, n, AV_OPT_TYPE_PIXEL_FMT, list);
    case AV_CODEC_CONFIG_SAMPLE_FORMAT:
        return av_opt_set_array(sink, opt, AV_OPT_SEARCH_CHILDREN, 0, n, AV_OPT_TYPE_SAMPLE_FMT, list);
    case AV_CODEC_CONFIG_SAMPLE_RATE:
        return av_opt_set_array(sink, opt, AV_OPT_SEARCH_CHILDREN, 0, n, AV_OPT_TYPE_INT, list);
    case AV_CODEC_CONFIG_CHANNEL_LAYOUT:
        return av_opt_set_array(sink, opt, AV_OPT_SEARCH_CHILDREN, 0, n, AV_OPT_TYPE_CHLAYOUT, list);
    case AV_CODEC_CONFIG_COLOR_SPACE:
    case AV_CODEC_CONFIG_COLOR_RANGE: {
        /* Enum lists, copied to the int array the option expects. */
        int vals[64];
        if (n > 64)
            n = 64;
        for (int i = 0; i < n; i++)
            vals[i] = cfg == AV_CODEC_CONFIG_COLOR_SPACE ? (int)((const enum AVColorSpace *)list)[i]
                                                         : (int)((const enum AVColorRange *)list)[i];
        return av_opt_set_array(sink, opt, AV_OPT_SEARCH_CHILDREN, 0, n, AV_OPT_TYPE_INT, vals);
    }
    default:
        return 0;
    }
}

int graph_configure(Job *job)
{
    static const struct { const char *opt; enum AVCodecConfig cfg; } limits[2][3] = {
        { { "sample_formats", AV_CODEC_CONFIG_SAMPLE_FORMAT }, { "samplerates", AV_CODEC_CONFIG_SAMPLE_RATE },
          { "channel_layouts", AV_CODEC_CONFIG_CHANNEL_LAYOUT } },
        { { "pixel_formats", AV_CODEC_CONFIG_PIX_FORMAT }, { "colorspaces", AV_CODEC_CONFIG_COLOR_SPACE },
          { "colorranges", AV_CODEC_CONFIG_COLOR_RANGE } },
    };
    int ret;
    for (int i = 0; i < job->nb_gout; i++) {
        GraphOutput *g = &job->gout[i];
        OutputStream *ost = g->ost;
        int video = g->type == AVMEDIA_TYPE_VIDEO;
        char name[32];

        snprintf(name, sizeof(name), "out_%d", i);
        ost->sink = avfilter_graph_alloc_filter(job->graph,
                                                avfilter_get_by_name(video ? "buffersink" : "abuffersink"), name);
        if (!ost->sink)
            return fail_oom(NULL);
        errlog_reset();
        ret = 0;
        for (int k = 0; k < 3 && ret >= 0; k++)
            ret = constrain(ost->sink, limits[video][k].opt, ost->codec, limits[video][k].cfg);
        if (ret < 0)
            return fail_av(EXIT_FAILURE_PROCESSING, ret, "filter",
                           "restricting filter output [%s] to the formats of encoder %s", g->label, ost->codec->name);
        if ((ret = avfilter_init_dict(ost->sink, NULL)) < 0 ||
            (ret = avfilter_link(g->filter, g->pad, ost->sink, 0)) < 0)
            return fail_av(EXIT_FAILURE_PROCESSING, ret, "filter", "setting up filter output [%s]", g->label);
    }
    errlog_reset();
    ret = avfilter_graph_config(job->graph, NULL);
    if (ret < 0)
        return fail_av(EXIT_FAILURE_PROCESSING, ret, "filter", "configuring the filter graph");
    return 0;
}
