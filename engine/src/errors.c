#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/error.h>
#include <libavutil/log.h>

#include "errors.h"

static struct {
    int set, code;
    err_kind kind;
    char msg[1024];
    char field[160];
} err;

/* First libav line at AV_LOG_ERROR or worse since errlog_reset() (the cause;
 * later lines tend to be generic), and the line being assembled (av_log callers
 * sometimes emit one line in several calls). */
static char first_log[512];
static char line[1024];
static size_t line_len;
static int line_level;
static int stderr_level = AV_LOG_ERROR;

static void vrecord(int code, err_kind kind, const char *field, const char *fmt, va_list ap)
{
    if (err.set)
        return;
    err.set = 1;
    err.code = code;
    err.kind = kind;
    vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
    snprintf(err.field, sizeof(err.field), "%s", field ? field : "");
}

int fail(int code, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vrecord(code, ERR_DEFAULT, field, fmt, ap);
    va_end(ap);
    return -1;
}

int fail_kind(int code, err_kind kind, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vrecord(code, kind, field, fmt, ap);
    va_end(ap);
    return -1;
}

int fail_oom(const char *field)
{
    return fail_kind(EXIT_FAILURE_PROCESSING, ERR_NO_MEMORY, field, "out of memory");
}

err_kind averror_kind(int averr, const char *field)
{
    switch (averr) {
    case AVERROR_DECODER_NOT_FOUND:
    case AVERROR_ENCODER_NOT_FOUND:
    case AVERROR_DEMUXER_NOT_FOUND:
    case AVERROR_MUXER_NOT_FOUND:
    case AVERROR_FILTER_NOT_FOUND:
    case AVERROR_BSF_NOT_FOUND:
    case AVERROR_OPTION_NOT_FOUND:
    case AVERROR_PROTOCOL_NOT_FOUND:
    case AVERROR_PATCHWELCOME:
        return ERR_UNSUPPORTED;
    case AVERROR_INVALIDDATA:
    case AVERROR_EOF:
        return ERR_INVALID_DATA;
    case AVERROR(ENOMEM):
        return ERR_NO_MEMORY;
    case AVERROR(ENOENT):
        /* On the output side ENOENT means a missing directory, not a missing input. */
        return field && !strncmp(field, "inputs", 6) ? ERR_NOT_FOUND : ERR_PROCESSING;
    default:
        return ERR_PROCESSING;
    }
}

static void vav_error_text(char *buf, size_t size, int averr, const char *fmt, va_list ap)
{
    char ctx[600], errbuf[AV_ERROR_MAX_STRING_SIZE];

    vsnprintf(ctx, sizeof(ctx), fmt, ap);
    av_strerror(averr, errbuf, sizeof(errbuf));
    /* The logged line usually says more ("moov atom not found", "No such
     * filter: 'x'"); skip it when it only repeats the error string. */
    if (first_log[0] && !strstr(first_log, errbuf))
        snprintf(buf, size, "%s: %s (%s)", ctx, errbuf, first_log);
    else
        snprintf(buf, size, "%s: %s", ctx, errbuf);
}

void av_error_text(char *buf, size_t size, int averr, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vav_error_text(buf, size, averr, fmt, ap);
    va_end(ap);
}

int fail_av(int code, int averr, const char *field, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vav_error_text(msg, sizeof(msg), averr, fmt, ap);
    va_end(ap);
    return fail_kind(code, code == EXIT_FAILURE_PROCESSING ? averror_kind(averr, field) : ERR_DEFAULT, field, "%s",
                     msg);
}

int err_is_set(void) { return err.set; }
int err_code(void) { return err.code; }
const char *err_message(void) { return err.msg; }
const char *err_field(void) { return err.field[0] ? err.field : NULL; }

const char *err_kind_str(err_kind kind, int code)
{
    switch (kind) {
    case ERR_SPEC:         return "spec";
    case ERR_VERSION:      return "version";
    case ERR_UNSUPPORTED:  return "unsupported";
    case ERR_NOT_FOUND:    return "not_found";
    case ERR_INVALID_DATA: return "invalid_data";
    case ERR_NO_MEMORY:    return "no_memory";
    case ERR_PROCESSING:   return "processing";
    case ERR_DEFAULT:      break;
    }
    return code == EXIT_MALFORMED_SPEC ? "spec" : code == EXIT_VERSION_TOO_NEW ? "version" : "processing";
}

const char *err_kind_name(void) { return err_kind_str(err.kind, err.code); }

void errlog_reset(void)
{
    first_log[0] = '\0';
}

const char *errlog_first(void) { return first_log[0] ? first_log : NULL; }

static void flush_line(void)
{
    /* Trim the newline and trailing blanks. */
    while (line_len && (line[line_len - 1] == '\n' || line[line_len - 1] == ' ' || line[line_len - 1] == '\r'))
        line_len--;
    line[line_len] = '\0';
    if (line_len) {
        if (line_level <= stderr_level)
            fprintf(stderr, "%s\n", line);
        if (line_level <= AV_LOG_ERROR && !first_log[0])
            snprintf(first_log, sizeof(first_log), "%s", line);
    }
    line_len = 0;
}

static void log_callback(void *avcl, int level, const char *fmt, va_list vl)
{
    char buf[1024];
    int n;

    level &= 0xff; /* strip AV_LOG_C() colour bits */
    if (level > stderr_level && level > AV_LOG_ERROR)
        return;
    if (line_len == 0) {
        /* Start of a line: prefix with the component name (no pointer, so logs
         * are reproducible). */
        const AVClass *cls = avcl ? *(const AVClass **)avcl : NULL;
        const char *name = cls && cls->item_name ? cls->item_name(avcl) : NULL;
        line_level = level;
        if (name) {
            n = snprintf(line, sizeof(line) - 1, "[%s] ", name);
            line_len = n < 0 ? 0 : (size_t)n >= sizeof(line) - 1 ? sizeof(line) - 2 : (size_t)n;
        }
    }
    n = vsnprintf(buf, sizeof(buf), fmt, vl);
    if (n < 0)
        return;
    for (const char *p = buf; *p; p++) {
        if (line_len < sizeof(line) - 1)
            line[line_len++] = *p;
        if (*p == '\n')
            flush_line();
    }
}

void errlog_install(void)
{
    static const struct { const char *name; int level; } levels[] = {
        { "quiet", AV_LOG_QUIET }, { "error", AV_LOG_ERROR }, { "warning", AV_LOG_WARNING },
        { "info", AV_LOG_INFO }, { "verbose", AV_LOG_VERBOSE }, { "debug", AV_LOG_DEBUG },
    };
    const char *env = getenv("AFMPEG_LOG_LEVEL");
    for (size_t i = 0; env && i < sizeof(levels) / sizeof(levels[0]); i++)
        if (!strcmp(env, levels[i].name))
            stderr_level = levels[i].level;
    av_log_set_level(stderr_level > AV_LOG_ERROR ? stderr_level : AV_LOG_ERROR);
    av_log_set_callback(log_callback);
}
