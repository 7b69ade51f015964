#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "utf8.h"

void jw_init(jw *w)
{
    memset(w, 0, sizeof(*w));
    av_bprint_init(&w->bp, 0, AV_BPRINT_SIZE_UNLIMITED);
}

void jw_free(jw *w)
{
    av_bprint_finalize(&w->bp, NULL);
}

const char *jw_result(jw *w)
{
    return av_bprint_is_complete(&w->bp) && !w->overflow ? w->bp.str : NULL;
}

/* Comma before a value or key, unless it follows a key or opens a container. */
static void sep(jw *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth > 0 && w->depth <= JW_MAX_DEPTH) {
        if (w->need_comma[w->depth - 1])
            av_bprint_chars(&w->bp, ',', 1);
        w->need_comma[w->depth - 1] = 1;
    }
}

static void open_c(jw *w, char c)
{
    sep(w);
    av_bprint_chars(&w->bp, c, 1);
    if (w->depth < JW_MAX_DEPTH)
        w->need_comma[w->depth] = 0;
    else
        w->overflow = 1; /* nesting this deep is a bug; jw_result() reports it */
    w->depth++;
}

static void close_c(jw *w, char c)
{
    av_bprint_chars(&w->bp, c, 1);
    w->depth--;
}

void jw_obj_begin(jw *w) { open_c(w, '{'); }
void jw_obj_end(jw *w) { close_c(w, '}'); }
void jw_arr_begin(jw *w) { open_c(w, '['); }
void jw_arr_end(jw *w) { close_c(w, ']'); }

void jw_key(jw *w, const char *key)
{
    sep(w);
    jw_escape(&w->bp, key);
    av_bprint_chars(&w->bp, ':', 1);
    w->after_key = 1;
}

/* Bytes before the NUL terminator, looking at most 4 ahead (one UTF-8 sequence). */
static size_t avail4(const unsigned char *p)
{
    size_t n = 0;
    while (n < 4 && p[n])
        n++;
    return n;
}

void jw_escape(AVBPrint *bp, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    av_bprint_chars(bp, '"', 1);
    while (*p) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            av_bprint_chars(bp, '\\', 1);
            av_bprint_chars(bp, (char)c, 1);
            p++;
        } else if (c < 0x20 || c == 0x7F) {
            switch (c) {
            case '\n': av_bprintf(bp, "\\n"); break;
            case '\r': av_bprintf(bp, "\\r"); break;
            case '\t': av_bprintf(bp, "\\t"); break;
            default: av_bprintf(bp, "\\u%04x", c); break;
            }
            p++;
        } else {
            size_t n = utf8_seq_len(p, avail4(p));
            if (n) {
                av_bprint_append_data(bp, (const char *)p, (unsigned)n);
                p += n;
            } else {
                av_bprintf(bp, "\\ufffd");
                p++;
            }
        }
    }
    av_bprint_chars(bp, '"', 1);
}

void jw_str(jw *w, const char *s)
{
    sep(w);
    jw_escape(&w->bp, s);
}

void jw_int(jw *w, int64_t v)
{
    sep(w);
    av_bprintf(&w->bp, "%" PRId64, v);
}

void jw_double(jw *w, double v)
{
    char tmp[40];
    sep(w);
    if (!isfinite(v)) {
        av_bprintf(&w->bp, "null");
        return;
    }
    /* Shortest of %.15g / %.17g that reads back exactly. */
    snprintf(tmp, sizeof(tmp), "%.15g", v);
    if (strtod(tmp, NULL) != v)
        snprintf(tmp, sizeof(tmp), "%.17g", v);
    av_bprintf(&w->bp, "%s", tmp);
}

void jw_bool(jw *w, int v)
{
    sep(w);
    av_bprintf(&w->bp, v ? "true" : "false");
}

void jw_null(jw *w)
{
    sep(w);
    av_bprintf(&w->bp, "null");
}

void jw_kstr(jw *w, const char *key, const char *s) { jw_key(w, key); jw_str(w, s); }
void jw_kint(jw *w, const char *key, int64_t v) { jw_key(w, key); jw_int(w, v); }
void jw_kdouble(jw *w, const char *key, double v) { jw_key(w, key); jw_double(w, v); }
