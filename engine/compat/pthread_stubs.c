/* POSIX threads for the single-threaded engine module (wasm32-wasi, no threads proposal).
 *
 * zig's wasi-libc (0.17.1) already links a single-threaded pthread implementation (its thread-stub/
 * directory plus musl's attribute and key code), so most of the API needs nothing from here. Measured:
 *
 *   mutex init/destroy/unlock, cond init/destroy/signal/broadcast, once, attr init/destroy/get/set
 *   stacksize, guardsize, detachstate, stack, keys, spin locks, rwlocks, barriers, self, equal, detach:
 *       provided by libc, correct for one thread.
 *   pthread_create: provided, returns EAGAIN (no thread can ever start).
 *   pthread_cond_wait: provided, traps (__builtin_trap). Waiting with no other thread to signal is a
 *       deadlock; a trap ends the job at once, where returning an error would leave the usual
 *       `while (!ready) pthread_cond_wait(...)` loop spinning until the job's deadline. Kept as is.
 *   pthread_cond_timedwait: provided, sleeps until the deadline and returns ETIMEDOUT. Correct.
 *
 * This file adds two things, nothing else:
 *
 * 1. Corrections of three libc functions that libc defines only as weak aliases (so these strong
 *    definitions replace them without a duplicate-symbol error, in whatever order things are linked):
 *    - pthread_mutex_lock / pthread_mutex_trylock: the thread-stub tests `m->_m_type&3 !=
 *      PTHREAD_MUTEX_RECURSIVE`, which C parses as `_m_type & (3 != 1)`: recursive mutexes refuse to
 *      be locked twice (EDEADLK / EBUSY) and error-checking ones lock twice. Fixed here.
 *      (pthread_mutex_timedlock calls pthread_mutex_lock, so it gets the fix too.)
 *    - pthread_join (and the _np variants): libc returns 0 for any thread. As no thread other than
 *      the caller can exist, joining one is ESRCH, joining oneself EDEADLK.
 * 2. The functions <pthread.h> declares that libc does not define at all (scheduling, scope,
 *    priority ceilings, concurrency, CPU-time clock, atfork, and the _GNU_SOURCE affinity, name and
 *    default-attribute functions), with single-threaded semantics. They are weak, so a later libc
 *    that defines them wins.
 *
 * The mutex and attribute accessors below are musl's (src/internal/pthread_impl.h of the wasi-libc
 * zig ships): the corrected functions must read the state libc's own unlock/init write.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#if !defined(__wasi__) || defined(_REENTRANT)
#error "pthread_stubs.c is for single-threaded wasm32-wasi only (a threaded libc has real pthreads)"
#endif

_Static_assert(sizeof(pthread_mutex_t) == 6 * sizeof(int), "unexpected pthread_mutex_t layout");
_Static_assert(sizeof(pthread_attr_t) == 9 * sizeof(int), "unexpected pthread_attr_t layout");

/* musl's pthread_impl.h (wasm32: size_t is one int wide) */
#define M_TYPE(m) ((m)->__u.__i[0])
#define M_COUNT(m) ((m)->__u.__i[5])
#define A_SCHED(a) ((a)->__u.__i[3 + 1])
#define A_POLICY(a) ((a)->__u.__i[3 + 2])

#define WEAK __attribute__((weak))

/* ------------------------------------------------------------------ corrections (strong) */

int pthread_mutex_lock(pthread_mutex_t *m)
{
    if ((M_TYPE(m) & 3) == PTHREAD_MUTEX_RECURSIVE) {
        if ((unsigned)M_COUNT(m) >= INT_MAX) return EAGAIN;
        M_COUNT(m)++;
        return 0;
    }
    /* normal or error-checking: locking it again can only wait forever for ourselves */
    if (M_COUNT(m)) return EDEADLK;
    M_COUNT(m) = 1;
    return 0;
}

int pthread_mutex_trylock(pthread_mutex_t *m)
{
    if ((M_TYPE(m) & 3) == PTHREAD_MUTEX_RECURSIVE) {
        if ((unsigned)M_COUNT(m) >= INT_MAX) return EAGAIN;
        M_COUNT(m)++;
        return 0;
    }
    if (M_COUNT(m)) return EBUSY;
    M_COUNT(m) = 1;
    return 0;
}

static int join_error(pthread_t t)
{
    return pthread_equal(t, pthread_self()) ? EDEADLK : ESRCH;
}

int pthread_join(pthread_t t, void **res)
{
    (void)res;
    return join_error(t);
}

int pthread_tryjoin_np(pthread_t t, void **res)
{
    (void)res;
    return join_error(t);
}

int pthread_timedjoin_np(pthread_t t, void **res, const struct timespec *at)
{
    (void)res; (void)at;
    return join_error(t);
}

/* ------------------------------------------------------------------ missing from libc (weak) */

WEAK int pthread_attr_getscope(const pthread_attr_t *restrict a, int *restrict scope)
{
    (void)a;
    *scope = PTHREAD_SCOPE_SYSTEM;
    return 0;
}

WEAK int pthread_attr_setscope(pthread_attr_t *a, int scope)
{
    (void)a;
    if (scope == PTHREAD_SCOPE_SYSTEM) return 0;
    return scope == PTHREAD_SCOPE_PROCESS ? ENOTSUP : EINVAL;
}

WEAK int pthread_attr_getschedpolicy(const pthread_attr_t *restrict a, int *restrict policy)
{
    *policy = A_POLICY(a);
    return 0;
}

/* WASI's <sched.h> names no policies; stored unchecked, as musl does. */
WEAK int pthread_attr_setschedpolicy(pthread_attr_t *a, int policy)
{
    A_POLICY(a) = policy;
    return 0;
}

WEAK int pthread_attr_getinheritsched(const pthread_attr_t *restrict a, int *restrict inherit)
{
    *inherit = A_SCHED(a);
    return 0;
}

WEAK int pthread_attr_setinheritsched(pthread_attr_t *a, int inherit)
{
    if (inherit != PTHREAD_INHERIT_SCHED && inherit != PTHREAD_EXPLICIT_SCHED) return EINVAL;
    A_SCHED(a) = inherit;
    return 0;
}

/* Priority ceilings need PTHREAD_PRIO_PROTECT, which no mutex here has (musl answers EINVAL too). */
WEAK int pthread_mutex_setprioceiling(pthread_mutex_t *restrict m, int ceiling, int *restrict old)
{
    (void)m; (void)ceiling; (void)old;
    return EINVAL;
}

WEAK int pthread_mutexattr_getprioceiling(const pthread_mutexattr_t *restrict a, int *restrict ceiling)
{
    (void)a; (void)ceiling;
    return EINVAL;
}

WEAK int pthread_mutexattr_setprioceiling(pthread_mutexattr_t *a, int ceiling)
{
    (void)a; (void)ceiling;
    return EINVAL;
}

/* The only thread runs under the default policy (SCHED_OTHER), whose one static priority is 0. */
WEAK int pthread_setschedprio(pthread_t t, int prio)
{
    if (!pthread_equal(t, pthread_self())) return ESRCH;
    return prio == 0 ? 0 : EINVAL;
}

/* WASI has no fork(), so registered handlers could never run: registering is a no-op. */
WEAK int pthread_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void))
{
    (void)prepare; (void)parent; (void)child;
    return 0;
}

static int concurrency_level;

WEAK int pthread_getconcurrency(void)
{
    return concurrency_level;
}

WEAK int pthread_setconcurrency(int level)
{
    if (level < 0) return EINVAL;
    concurrency_level = level;  /* a hint; POSIX only asks that getconcurrency return it */
    return 0;
}

/* WASI preview 1 (as this libc exposes it) has only CLOCK_REALTIME and CLOCK_MONOTONIC. */
WEAK int pthread_getcpuclockid(pthread_t t, clockid_t *clock)
{
    (void)clock;
    return pthread_equal(t, pthread_self()) ? ENOENT : ESRCH;
}

/* One CPU, number 0. WASI's <sched.h> has no cpu_set_t or CPU_* macros (pthread.h only names the
 * struct), so the set is read as musl lays it out: CPU n is bit n%8 of byte n/8 (little-endian longs). */
WEAK int pthread_getaffinity_np(pthread_t t, size_t size, struct cpu_set_t *set)
{
    if (!pthread_equal(t, pthread_self())) return ESRCH;
    if (size == 0) return EINVAL;
    memset(set, 0, size);
    ((unsigned char *)set)[0] = 1;
    return 0;
}

WEAK int pthread_setaffinity_np(pthread_t t, size_t size, const struct cpu_set_t *set)
{
    if (!pthread_equal(t, pthread_self())) return ESRCH;
    return size > 0 && (((const unsigned char *)set)[0] & 1) ? 0 : EINVAL;
}

static char thread_name[16];  /* Linux's limit, terminating NUL included */

WEAK int pthread_setname_np(pthread_t t, const char *name)
{
    size_t n = strlen(name);
    if (!pthread_equal(t, pthread_self())) return ESRCH;
    if (n >= sizeof thread_name) return ERANGE;
    memcpy(thread_name, name, n + 1);
    return 0;
}

WEAK int pthread_getname_np(pthread_t t, char *name, size_t len)
{
    size_t n = strlen(thread_name);
    if (!pthread_equal(t, pthread_self())) return ESRCH;
    if (len <= n) return ERANGE;
    memcpy(name, thread_name, n + 1);
    return 0;
}

static pthread_attr_t default_attr;
static int default_attr_set;

WEAK int pthread_getattr_default_np(pthread_attr_t *a)
{
    if (!default_attr_set) return pthread_attr_init(a);
    *a = default_attr;
    return 0;
}

WEAK int pthread_setattr_default_np(const pthread_attr_t *a)
{
    default_attr = *a;
    default_attr_set = 1;
    return 0;
}
