/* A small strict JSON parser (RFC 8259) into a tree. Strict on purpose: the job
 * spec is the engine's attack surface, so anything odd is rejected, not guessed. */
#ifndef AFMPEG_JSON_H
#define AFMPEG_JSON_H

#include <stddef.h>

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json_value json_value;
struct json_value {
    json_type type;
    int boolean;          /* JSON_BOOL */
    double number;        /* JSON_NUMBER */
    int is_integer;       /* JSON_NUMBER written without fraction or exponent */
    char *str;            /* JSON_STRING: UTF-8, NUL-terminated; JSON_NUMBER: the literal */
    size_t len;           /* length of str (a string may contain NUL via \u0000) */
    json_value **items;   /* JSON_ARRAY values / JSON_OBJECT values */
    char **keys;          /* JSON_OBJECT keys, in document order, no duplicates */
    size_t n;             /* number of items */
    size_t cap;           /* allocated item slots */
};

#define JSON_MAX_DEPTH 64
/* Duplicate keys are checked pairwise, so objects are capped to keep that cheap. */
#define JSON_MAX_MEMBERS 4096

/* Parse `len` bytes. Returns NULL and fills `err` on failure. */
json_value *json_parse(const char *text, size_t len, char *err, size_t errsize);
void json_free(json_value *v);

/* Object member by key, or NULL. */
const json_value *json_get(const json_value *obj, const char *key);
const char *json_type_name(json_type t);

#endif
