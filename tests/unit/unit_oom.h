/* unit_oom.h - fail the Nth allocation podterm's own code makes, for the
 * out-of-memory paths no real run reaches.
 *
 * Include it in exactly one test named tests/unit/test_*_oom.c: CMakeLists.txt
 * links those with GNU ld's --wrap for malloc, calloc, realloc, strdup and
 * strndup, so every call from podterm's static libraries and the test goes
 * through the __wrap_ functions below. Shared libraries (jansson, OpenSSL,
 * libyaml, lws) keep the real allocator: their own failures are theirs.
 *
 * unit_oom_sweep() runs a step once per N = 0, 1, 2, ... with the Nth
 * allocation failing, until a run makes fewer than N+1 allocations (the step
 * ran clean); the step itself asserts what a failure must look like (an error
 * return, nothing half-built), and LeakSanitizer checks that nothing leaked
 * when the test exits. */
#ifndef PODTERM_UNIT_OOM_H
#define PODTERM_UNIT_OOM_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Test-only state: one countdown per test process, reset by every run. */
static long unit_oom_fail_at = -1; /* index of the allocation to fail; -1: none */
static long unit_oom_count;        /* allocations seen since the last arm */
static bool unit_oom_failed;       /* the armed allocation was failed */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);

static bool unit_oom_fails(void)
{
    if (unit_oom_fail_at < 0 || unit_oom_count++ != unit_oom_fail_at)
        return false;
    unit_oom_failed = true;
    return true;
}

void *__wrap_malloc(size_t n);
void *__wrap_malloc(size_t n)
{
    return unit_oom_fails() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size)
{
    return unit_oom_fails() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n)
{
    return unit_oom_fails() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s);
char *__wrap_strdup(const char *s)
{
    return unit_oom_fails() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n);
char *__wrap_strndup(const char *s, size_t n)
{
    return unit_oom_fails() ? NULL : __real_strndup(s, n);
}

/* Arms the countdown: the allocation with index n (0-based) fails; n < 0
 * disarms it. */
static inline void unit_oom_arm(long n)
{
    unit_oom_fail_at = n;
    unit_oom_count = 0;
    unit_oom_failed = false;
}

/* Whether the armed allocation was failed since unit_oom_arm(). */
static inline bool unit_oom_hit(void)
{
    return unit_oom_failed;
}

/* The bound of a sweep: a step that still allocates after this many runs is
 * a test bug (an allocation per byte, a loop), not a path worth sweeping. */
#define UNIT_OOM_SWEEP_MAX 4096

/* Runs step(ctx) with allocation N failing, for N = 0, 1, ...: the step
 * calls the code under test, then asks unit_oom_hit() whether an allocation
 * was refused in that run and asserts the error path or the success path
 * accordingly. Stops after the first run that refused nothing (the clean
 * run, whose success the step asserted) and returns its N, the number of
 * allocations the step makes; -1 past UNIT_OOM_SWEEP_MAX. */
static inline long unit_oom_sweep(void (*step)(void *ctx), void *ctx)
{
    for (long n = 0; n < UNIT_OOM_SWEEP_MAX; n++) {
        unit_oom_arm(n);
        step(ctx);
        bool hit = unit_oom_hit();
        unit_oom_arm(-1);
        if (!hit)
            return n;
    }
    return -1;
}

#endif
