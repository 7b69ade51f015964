/* op "probe": describe each input's container, chapters and streams. A file
 * that cannot be opened is reported in its own entry; the job still succeeds. */
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/pixdesc.h>

#include "errors.h"
#include "input.h"
#include "ops.h"

static void write_tags(jw *w, const AVDictionary *d)
{
    const AVDictionaryEntry *e = NULL;
    jw_key(w, "tags");
    jw_obj_begin(w);
    while ((e = av_dict_iterate(d, e))) {
        /* Some demuxers store repeated keys; JSON objects should not. */
        if (av_dict_get(d, e->key, NULL, AV_DICT_MATCH_CASE) != e)
            continue;
        jw_kstr(w, e->key, e->value);
    }
    jw_obj_end(w);
}

static int valid_q(AVRational q) { return q.num > 0 && q.den > 0; }

static void write_ts(jw *w, const char *key, int64_t ts, AVRational tb)
{
    /* One rounding (ts * num is exact below 2^53), so 975233 us prints as 0.975233. */
    if (ts != AV_NOPTS_VALUE && valid_q(tb))
        jw_kdouble(w, key, (double)ts * tb.num / tb.den);
}

static void write_stream(jw *w, const AVStream *st)
{
    const AVCodecParameters *par = st->codecpar;
    const char *type = av_get_media_type_string(par->codec_type);
    const char *s;
    char buf[128];

    jw_obj_begin(w);
    jw_kint(w, "index", st->index);
    jw_kstr(w, "type", type ? type : "unknown");
    jw_kstr(w, "codec", avcodec_get_name(par->codec_id));
    if (par->profile != AV_PROFILE_UNKNOWN && (s = avcodec_profile_name(par->codec_id, par->profile)))
        jw_kstr(w, "profile", s);
    if (par->codec_type == AVMEDIA_TYPE_VIDEO) {
        AVRational fr = valid_q(st->avg_frame_rate) ? st->avg_frame_rate : st->r_frame_rate;
        if (par->width > 0 && par->height > 0) {
            jw_kint(w, "width", par->width);
            jw_kint(w, "height", par->height);
        }
        if ((s = av_get_pix_fmt_name(par->format)))
            jw_kstr(w, "pix_fmt", s);
        if (valid_q(fr))
            jw_kdouble(w, "frame_rate", av_q2d(fr));
    } else if (par->codec_type == AVMEDIA_TYPE_AUDIO) {
        if (par->sample_rate > 0)
            jw_kint(w, "sample_rate", par->sample_rate);
        if (par->ch_layout.nb_channels > 0)
            jw_kint(w, "channels", par->ch_layout.nb_channels);
        if (par->ch_layout.order != AV_CHANNEL_ORDER_UNSPEC &&
            av_channel_layout_describe(&par->ch_layout, buf, sizeof(buf)) > 0)
            jw_kstr(w, "channel_layout", buf);
        if ((s = av_get_sample_fmt_name(par->format)))
            jw_kstr(w, "sample_fmt", s);
    }
    if (par->bit_rate > 0)
        jw_kint(w, "bit_rate", par->bit_rate);
    write_ts(w, "duration_sec", st->duration, st->time_base);
    if (st->nb_frames > 0)
        jw_kint(w, "nb_frames", st->nb_frames);
    snprintf(buf, sizeof(buf), "%d/%d", st->time_base.num, st->time_base.den);
    jw_kstr(w, "time_base", buf);
    const AVDictionaryEntry *lang = av_dict_get(st->metadata, "language", NULL, 0);
    if (lang)
        jw_kstr(w, "language", lang->value);
    jw_key(w, "disposition");
    jw_arr_begin(w);
    for (int bit = 0; bit < 31; bit++)
        if ((st->disposition & (1 << bit)) && (s = av_disposition_to_string(1 << bit)))
            jw_str(w, s);
    jw_arr_end(w);
    write_tags(w, st->metadata);
    jw_obj_end(w);
}

static void write_input(jw *w, const AVFormatContext *fmt)
{
    jw_kstr(w, "format", fmt->iformat->name);
    if (fmt->iformat->long_name)
        jw_kstr(w, "format_long", fmt->iformat->long_name);
    write_ts(w, "duration_sec", fmt->duration, AV_TIME_BASE_Q);
    write_ts(w, "start_sec", fmt->start_time, AV_TIME_BASE_Q);
    if (fmt->bit_rate > 0)
        jw_kint(w, "bit_rate", fmt->bit_rate);
    write_tags(w, fmt->metadata);
    jw_key(w, "chapters");
    jw_arr_begin(w);
    for (unsigned i = 0; i < fmt->nb_chapters; i++) {
        const AVChapter *ch = fmt->chapters[i];
        jw_obj_begin(w);
        write_ts(w, "start_sec", ch->start, ch->time_base);
        write_ts(w, "end_sec", ch->end, ch->time_base);
        write_tags(w, ch->metadata);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    jw_key(w, "streams");
    jw_arr_begin(w);
    for (unsigned i = 0; i < fmt->nb_streams; i++)
        write_stream(w, fmt->streams[i]);
    jw_arr_end(w);
}

int op_probe(const job_spec *spec, jw *w)
{
    jw_obj_begin(w);
    jw_key(w, "inputs");
    jw_arr_begin(w);
    for (int i = 0; i < spec->nb_inputs; i++) {
        AVFormatContext *fmt = NULL;
        char msg[1024];
        err_kind kind;
        int ret = input_open(&spec->inputs[i], i, &fmt, msg, sizeof(msg), &kind);
        if (ret == -2)
            return -1;
        jw_obj_begin(w);
        jw_kstr(w, "path", spec->inputs[i].name);
        if (spec->inputs[i].nb_concat) {
            jw_key(w, "concat");
            jw_arr_begin(w);
            for (int k = 0; k < spec->inputs[i].nb_concat; k++)
                jw_str(w, spec->inputs[i].concat[k]);
            jw_arr_end(w);
        }
        if (ret < 0) {
            jw_kstr(w, "error", msg);
            jw_kstr(w, "error_kind", err_kind_str(kind, EXIT_FAILURE_PROCESSING));
        } else
            write_input(w, fmt);
        jw_obj_end(w);
        input_close(&fmt);
    }
    jw_arr_end(w);
    jw_obj_end(w);
    return 0;
}
