/* The job's single error (message, optional field, exit code, kind) and the av_log
 * hook that forwards libav messages to stderr and remembers the last error line, so
 * a failed job can carry FFmpeg's own explanation. */
#ifndef AFMPEG_ERRORS_H
#define AFMPEG_ERRORS_H

#include <stddef.h>

enum {
    EXIT_OK = 0,
    EXIT_FAILURE_PROCESSING = 1, /* the media or the build could not do the job */
    EXIT_MALFORMED_SPEC = 2,     /* the job spec itself is wrong */
    EXIT_VERSION_TOO_NEW = 3,    /* spec "version" is newer than this engine */
};

/* What went wrong, for machines: printed as "kind" next to "error" so the host
 * can pick an exception class without parsing English. ERR_DEFAULT follows the
 * exit code (spec, version, processing). */
typedef enum {
    ERR_DEFAULT = 0,
    ERR_SPEC,         /* "spec": the job spec is wrong (exit 2) */
    ERR_VERSION,      /* "version": spec vocabulary newer than the engine (exit 3) */
    ERR_UNSUPPORTED,  /* "unsupported": this build lacks the codec, format, filter, ... */
    ERR_NOT_FOUND,    /* "not_found": an input file (or one it names) does not exist */
    ERR_INVALID_DATA, /* "invalid_data": corrupt, truncated or unrecognised media */
    ERR_NO_MEMORY,    /* "no_memory": an allocation failed (with a host memory limit: the limit) */
    ERR_PROCESSING,   /* "processing": any other failure while doing the work */
} err_kind;

/* Record an error (first one wins) and return -1 so callers can `return fail(...)`.
 * `field` names the spec field at fault, or NULL. */
int fail(int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* fail() with an explicit kind (call sites that look codecs, formats and filters
 * up by name know it is ERR_UNSUPPORTED). */
int fail_kind(int code, err_kind kind, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* fail_kind(EXIT_FAILURE_PROCESSING, ERR_NO_MEMORY, field, "out of memory"). */
int fail_oom(const char *field);

/* Like fail(), with ": <av_err2str(averr)>" appended, plus the first libav error
 * line logged since errlog_reset() when it adds information. The kind comes from
 * averror_kind(averr, field). */
int fail_av(int code, int averr, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The kind of an exit-1 failure caused by the libav error `averr`: *_NOT_FOUND
 * codes, OPTION_NOT_FOUND, PROTOCOL_NOT_FOUND and PATCHWELCOME are unsupported;
 * INVALIDDATA and EOF (media ending where more was needed) are invalid data;
 * ENOMEM is no_memory;
 * ENOENT is a missing input when `field` names an input ("inputs..."), and
 * otherwise a missing output directory (processing). */
err_kind averror_kind(int averr, const char *field);

/* Format "<context>: <libav error> (<first libav error line>)" into buf, as fail_av
 * does, without recording a job error (probe reports per-input errors). */
void av_error_text(char *buf, size_t size, int averr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

int err_is_set(void);
int err_code(void);
const char *err_message(void);
const char *err_field(void); /* NULL when none */
const char *err_kind_name(void); /* the recorded kind, ERR_DEFAULT resolved from the exit code */
const char *err_kind_str(err_kind kind, int code); /* the wire name of a kind */

/* Install the av_log callback; AFMPEG_LOG_LEVEL (quiet|error|warning|info|verbose|debug)
 * in the environment overrides the default stderr level (error). */
void errlog_install(void);
/* Forget the remembered libav error line (call before a step whose failure we report). */
void errlog_reset(void);
/* The first libav error line since errlog_reset(), or NULL. */
const char *errlog_first(void);

#endif
