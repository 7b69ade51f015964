#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

/* Number literals longer than this are refused: nobody needs them and they are a
 * classic parser torture case. */
#define MAX_NUMBER_LEN 40

typedef struct {
    const char *p, *end, *start;
    char *err;
    size_t errsize;
    int failed;
} parser;

static void perr(parser *ps, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    if (ps->failed)
        return;
    ps->failed = 1;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(ps->err, ps->errsize, "invalid JSON at offset %zu: %s", (size_t)(ps->p - ps->start), msg);
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static json_value *new_value(json_type t)
{
    json_value *v = calloc(1, sizeof(*v));
    if (v)
        v->type = t;
    return v;
}

void json_free(json_value *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        json_free(v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->str);
    free(v);
}

/* Growable byte buffer for string decoding. */
typedef struct { char *d; size_t len, cap; } buf;

static int buf_put(buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 32;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->d, cap);
        if (!d)
            return -1;
        b->d = d;
        b->cap = cap;
    }
    memcpy(b->d + b->len, s, n);
    b->len += n;
    b->d[b->len] = '\0';
    return 0;
}

static int put_utf8(buf *b, uint32_t cp)
{
    char s[4];
    size_t n;
    if (cp < 0x80) { s[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { s[0] = (char)(0xC0 | (cp >> 6)); s[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
    else if (cp < 0x10000) {
        s[0] = (char)(0xE0 | (cp >> 12)); s[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        s[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
    } else {
        s[0] = (char)(0xF0 | (cp >> 18)); s[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        s[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); s[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
    }
    return buf_put(b, s, n);
}

static int hex4(parser *ps, uint32_t *out)
{
    uint32_t v = 0;
    if (ps->end - ps->p < 4) {
        perr(ps, "truncated \\u escape");
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        char c = *ps->p++;
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
        else { perr(ps, "bad hex digit in \\u escape"); return -1; }
    }
    *out = v;
    return 0;
}

/* Parses a string starting at the opening quote; returns 0 and fills *out. */
static int parse_string(parser *ps, char **out, size_t *outlen)
{
    buf b = { 0 };
    ps->p++; /* opening quote */
    if (buf_put(&b, "", 0) < 0)
        goto nomem;
    for (;;) {
        if (ps->p >= ps->end) { perr(ps, "unterminated string"); goto fail; }
        unsigned char c = (unsigned char)*ps->p;
        if (c == '"') { ps->p++; break; }
        if (c < 0x20) { perr(ps, "control character in string"); goto fail; }
        if (c == '\\') {
            ps->p++;
            if (ps->p >= ps->end) { perr(ps, "unterminated string"); goto fail; }
            char e = *ps->p++;
            const char *simple = NULL;
            switch (e) {
            case '"': simple = "\""; break;
            case '\\': simple = "\\"; break;
            case '/': simple = "/"; break;
            case 'b': simple = "\b"; break;
            case 'f': simple = "\f"; break;
            case 'n': simple = "\n"; break;
            case 'r': simple = "\r"; break;
            case 't': simple = "\t"; break;
            case 'u': {
                uint32_t cp, lo;
                if (hex4(ps, &cp) < 0) goto fail;
                if (cp >= 0xDC00 && cp <= 0xDFFF) { perr(ps, "unpaired low surrogate"); goto fail; }
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u') {
                        perr(ps, "unpaired high surrogate");
                        goto fail;
                    }
                    ps->p += 2;
                    if (hex4(ps, &lo) < 0) goto fail;
                    if (lo < 0xDC00 || lo > 0xDFFF) { perr(ps, "unpaired high surrogate"); goto fail; }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                if (put_utf8(&b, cp) < 0) goto nomem;
                continue;
            }
            default:
                ps->p--;
                perr(ps, "bad escape \\%c", e);
                goto fail;
            }
            if (buf_put(&b, simple, 1) < 0) goto nomem;
            continue;
        }
        size_t n = utf8_seq_len((const unsigned char *)ps->p, (size_t)(ps->end - ps->p));
        if (!n) { perr(ps, "invalid UTF-8 in string"); goto fail; }
        if (buf_put(&b, ps->p, n) < 0) goto nomem;
        ps->p += n;
    }
    *out = b.d;
    *outlen = b.len;
    return 0;
nomem:
    perr(ps, "out of memory");
fail:
    free(b.d);
    return -1;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static json_value *parse_number(parser *ps)
{
    const char *s = ps->p;
    int integer = 1;
    if (ps->p < ps->end && *ps->p == '-') ps->p++;
    if (ps->p >= ps->end || !is_digit(*ps->p)) { perr(ps, "bad number"); return NULL; }
    if (*ps->p == '0') ps->p++;
    else while (ps->p < ps->end && is_digit(*ps->p)) ps->p++;
    if (ps->p < ps->end && *ps->p == '.') {
        integer = 0;
        ps->p++;
        if (ps->p >= ps->end || !is_digit(*ps->p)) { perr(ps, "bad number"); return NULL; }
        while (ps->p < ps->end && is_digit(*ps->p)) ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        integer = 0;
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
        if (ps->p >= ps->end || !is_digit(*ps->p)) { perr(ps, "bad number"); return NULL; }
        while (ps->p < ps->end && is_digit(*ps->p)) ps->p++;
    }
    size_t n = (size_t)(ps->p - s);
    if (n > MAX_NUMBER_LEN) { ps->p = s; perr(ps, "number literal too long"); return NULL; }
    json_value *v = new_value(JSON_NUMBER);
    if (!v || !(v->str = malloc(n + 1))) { free(v); perr(ps, "out of memory"); return NULL; }
    memcpy(v->str, s, n);
    v->str[n] = '\0';
    v->len = n;
    v->number = strtod(v->str, NULL);
    v->is_integer = integer;
    if (!isfinite(v->number)) { json_free(v); ps->p = s; perr(ps, "number out of range"); return NULL; }
    return v;
}

static int literal(parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n)) return 0;
    ps->p += n;
    return 1;
}

static int push_item(json_value *v, json_value *item, char *key)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4;
        json_value **items = realloc(v->items, cap * sizeof(*items));
        if (!items) return -1;
        v->items = items;
        if (v->type == JSON_OBJECT) {
            char **keys = realloc(v->keys, cap * sizeof(*keys));
            if (!keys) return -1;
            v->keys = keys;
        }
        v->cap = cap;
    }
    v->items[v->n] = item;
    if (v->type == JSON_OBJECT) v->keys[v->n] = key;
    v->n++;
    return 0;
}

static json_value *parse_value(parser *ps, int depth);

static json_value *parse_container(parser *ps, int depth, int object)
{
    json_value *v = new_value(object ? JSON_OBJECT : JSON_ARRAY);
    char close = object ? '}' : ']';
    if (!v) { perr(ps, "out of memory"); return NULL; }
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) { ps->p++; return v; }
    for (;;) {
        char *key = NULL;
        size_t keylen;
        skip_ws(ps);
        if (object) {
            if (ps->p >= ps->end || *ps->p != '"') { perr(ps, "expected a string key"); goto fail; }
            const char *at = ps->p;
            if (parse_string(ps, &key, &keylen) < 0) goto fail;
            if (strlen(key) != keylen) { ps->p = at; perr(ps, "NUL character in key"); free(key); goto fail; }
            if (v->n >= JSON_MAX_MEMBERS) { ps->p = at; perr(ps, "object has more than %d members", JSON_MAX_MEMBERS); free(key); goto fail; }
            if (json_get(v, key)) { ps->p = at; perr(ps, "duplicate key \"%s\"", key); free(key); goto fail; }
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') { perr(ps, "expected ':'"); free(key); goto fail; }
            ps->p++;
        }
        json_value *item = parse_value(ps, depth + 1);
        if (!item) { free(key); goto fail; }
        if (push_item(v, item, key) < 0) { json_free(item); free(key); perr(ps, "out of memory"); goto fail; }
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
        if (ps->p < ps->end && *ps->p == close) { ps->p++; return v; }
        perr(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
        goto fail;
    }
fail:
    json_free(v);
    return NULL;
}

static json_value *parse_value(parser *ps, int depth)
{
    json_value *v;
    if (depth > JSON_MAX_DEPTH) { perr(ps, "nesting deeper than %d", JSON_MAX_DEPTH); return NULL; }
    skip_ws(ps);
    if (ps->p >= ps->end) { perr(ps, "unexpected end of input"); return NULL; }
    switch (*ps->p) {
    case '{': return parse_container(ps, depth, 1);
    case '[': return parse_container(ps, depth, 0);
    case '"':
        if (!(v = new_value(JSON_STRING))) { perr(ps, "out of memory"); return NULL; }
        if (parse_string(ps, &v->str, &v->len) < 0) { free(v); return NULL; }
        return v;
    case 't': case 'f': case 'n':
        if (literal(ps, "true")) { v = new_value(JSON_BOOL); if (v) v->boolean = 1; }
        else if (literal(ps, "false")) v = new_value(JSON_BOOL);
        else if (literal(ps, "null")) v = new_value(JSON_NULL);
        else { perr(ps, "unexpected character"); return NULL; }
        if (!v) perr(ps, "out of memory");
        return v;
    default:
        if (*ps->p == '-' || is_digit(*ps->p))
            return parse_number(ps);
        perr(ps, "unexpected character");
        return NULL;
    }
}

json_value *json_parse(const char *text, size_t len, char *err, size_t errsize)
{
    parser ps = { text, text + len, text, err, errsize, 0 };
    json_value *v = parse_value(&ps, 1);
    if (!v)
        return NULL;
    skip_ws(&ps);
    if (ps.p != ps.end) {
        perr(&ps, "trailing characters after the JSON value");
        json_free(v);
        return NULL;
    }
    return v;
}

const json_value *json_get(const json_value *obj, const char *key)
{
    if (!obj || obj->type != JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (!strcmp(obj->keys[i], key))
            return obj->items[i];
    return NULL;
}

const char *json_type_name(json_type t)
{
    static const char *const names[] = { "null", "boolean", "number", "string", "array", "object" };
    return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}
