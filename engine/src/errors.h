/* The job's single error (message, optional field, exit code) and the av_log hook
 * that forwards libav messages to stderr and remembers the last error line, so a
 * failed job can carry FFmpeg's own explanation. */
#ifndef AFMPEG_ERRORS_H
#define AFMPEG_ERRORS_H

#include <stddef.h>

enum {
    EXIT_OK = 0,
    EXIT_FAILURE_PROCESSING = 1, /* the media or the build could not do the job */
    EXIT_MALFORMED_SPEC = 2,     /* the job spec itself is wrong */
    EXIT_VERSION_TOO_NEW = 3,    /* spec "version" is newer than this engine */
};

/* Record an error (first one wins) and return -1 so callers can `return fail(...)`.
 * `field` names the spec field at fault, or NULL. */
int fail(int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like fail(), with ": <av_err2str(averr)>" appended, plus the first libav error
 * line logged since errlog_reset() when it adds information. */
int fail_av(int code, int averr, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Format "<context>: <libav error> (<first libav error line>)" into buf, as fail_av
 * does, without recording a job error (probe reports per-input errors). */
void av_error_text(char *buf, size_t size, int averr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

int err_is_set(void);
int err_code(void);
const char *err_message(void);
const char *err_field(void); /* NULL when none */

/* Install the av_log callback; AFMPEG_LOG_LEVEL (quiet|error|warning|info|verbose|debug)
 * in the environment overrides the default stderr level (error). */
void errlog_install(void);
/* Forget the remembered libav error line (call before a step whose failure we report). */
void errlog_reset(void);

#endif
