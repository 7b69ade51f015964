/* A streaming JSON writer. Strings are escaped so the output is always valid
 * JSON, whatever bytes they hold: media tags are untrusted, and invalid UTF-8
 * becomes U+FFFD. */
#ifndef AFMPEG_JSONW_H
#define AFMPEG_JSONW_H

#include <stdint.h>
#include <libavutil/bprint.h>

#define JW_MAX_DEPTH 32

typedef struct jw {
    AVBPrint bp;
    int depth;
    int after_key;
    int overflow;
    unsigned char need_comma[JW_MAX_DEPTH];
} jw;

void jw_init(jw *w);
void jw_free(jw *w);
/* The document so far; NULL if memory ran out (or nesting overflowed). */
const char *jw_result(jw *w);

void jw_obj_begin(jw *w);
void jw_obj_end(jw *w);
void jw_arr_begin(jw *w);
void jw_arr_end(jw *w);
void jw_key(jw *w, const char *key);
void jw_str(jw *w, const char *s);
void jw_int(jw *w, int64_t v);
void jw_double(jw *w, double v); /* non-finite values are written as null */
void jw_bool(jw *w, int v);
void jw_null(jw *w);

/* key + value shorthands */
void jw_kstr(jw *w, const char *key, const char *s);
void jw_kint(jw *w, const char *key, int64_t v);
void jw_kdouble(jw *w, const char *key, double v);

/* Append s as a JSON string literal (with quotes) to any AVBPrint. */
void jw_escape(AVBPrint *bp, const char *s);

#endif
