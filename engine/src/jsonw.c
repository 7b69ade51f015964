#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"

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

/* Length of a valid UTF-8 sequence at p, 0 if invalid. */
static size_t utf8_len(const unsigned char *p)
{
    size_t n;
    uint32_t cp, min;
    if (p[0] < 0x80) return 1;
    if ((p[0] & 0xE0) == 0xC0) { n = 2; cp = p[0] & 0x1F; min = 0x80; }
    else if ((p[0] & 0xF0) == 0xE0) { n = 3; cp = p[0] & 0x0F; min = 0x800; }
    else if ((p[0] & 0xF8) == 0xF0) { n = 4; cp = p[0] & 0x07; min = 0x10000; }
    else return 0;
    for (size_t i = 1; i < n; i++) { /* stops at the NUL terminator too */
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
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
            size_t n = utf8_len(p);
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
