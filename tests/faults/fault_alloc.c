/* fault_alloc.c - test-only allocation-failure injector, linked into podterm-faults.
 *
 * podterm-faults is podterm linked with -Wl,--wrap=malloc,calloc,realloc,strdup,strndup,
 * asprintf (cmake/faults.cmake): every allocation podterm's own code makes goes through
 * the __wrap_* functions below, which count it and fail exactly one of them. jansson is
 * routed here too (json_set_alloc_funcs), because podterm builds every Status and REST
 * answer with it and must cope with json_pack() returning NULL.
 *
 * Why a link-time wrap rather than an LD_PRELOAD shim: the wrap works in the ASan+UBSan
 * build (ASan's malloc interceptor lives in the executable, so a preloaded malloc would
 * never be called), so every injected failure is also checked for leaks (LSan at exit),
 * use-after-free and double free on the error path, which is where they hide. It also
 * limits injection to podterm's code and jansson: a failure inside libwebsockets or
 * OpenSSL tests those libraries, not podterm. The same holds for the allocations the
 * screen model makes on libvterm's behalf (its allocator, called from inside libvterm):
 * libvterm 0.1.4 dereferences an allocation it is refused, so failing one tests
 * libvterm. vterm_new_with_allocator is wrapped too, and those are neither counted nor
 * failed (a sweep once failed one when a loaded machine moved it to the N-th place).
 *
 *   PODTERM_FAULT_ALLOC_AT=N   fail the N-th counted allocation (1-based), once
 *   PODTERM_FAULT_ALLOC_LOG=1  at exit, print the number of allocations counted
 *
 * The failed allocation is announced on stderr as "fault: failing allocation #N (...)"
 * with its stack (ASan's symbolizer), so a sweep failure names the site.
 *
 * Global state is unavoidable here (malloc has no context argument); it is set once
 * before main and only the counter changes, atomically.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <vterm.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_asprintf(char **out, const char *fmt, ...);

/* Weak: present in sanitizer builds, absent in the gcc build. */
void __sanitizer_print_stack_trace(void) __attribute__((weak));

VTerm *__real_vterm_new_with_allocator(int rows, int cols, VTermAllocatorFunctions *funcs,
                                       void *allocdata);
VTerm *__wrap_vterm_new_with_allocator(int rows, int cols, VTermAllocatorFunctions *funcs,
                                       void *allocdata);

static atomic_ulong fault_count;
static unsigned long fault_at; /* 0: never fail */
static bool fault_log;
static VTermAllocatorFunctions *fault_vt_funcs; /* the screen model's allocator for libvterm */
static atomic_int fault_vt_depth;               /* > 0: inside it, called by libvterm */

static bool fault_should_fail(const char *fn, size_t n)
{
    if (atomic_load(&fault_vt_depth) > 0)
        return false;
    unsigned long k = atomic_fetch_add(&fault_count, 1) + 1;
    if (k != fault_at)
        return false;
    char line[160];
    int len = snprintf(line, sizeof(line), "fault: failing allocation #%lu (%s of %zu bytes)\n", k,
                       fn, n);
    if (len > 0)
        (void)!write(STDERR_FILENO, line, (size_t)len < sizeof(line) ? (size_t)len : sizeof(line));
    if (__sanitizer_print_stack_trace)
        __sanitizer_print_stack_trace();
    return true;
}

void *__wrap_malloc(size_t n)
{
    return fault_should_fail("malloc", n) ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return fault_should_fail("calloc", n * size) ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    return fault_should_fail("realloc", n) ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return fault_should_fail("strdup", strlen(s) + 1) ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return fault_should_fail("strndup", strnlen(s, n) + 1) ? NULL : __real_strndup(s, n);
}

int __wrap_asprintf(char **out, const char *fmt, ...)
{
    if (fault_should_fail("asprintf", 0))
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int rc = vasprintf(out, fmt, ap);
    va_end(ap);
    return rc;
}

static void *fault_json_malloc(size_t n)
{
    return fault_should_fail("json_malloc", n) ? NULL : __real_malloc(n);
}

static void fault_json_free(void *p)
{
    free(p);
}

static void *fault_vt_malloc(size_t size, void *allocdata)
{
    atomic_fetch_add(&fault_vt_depth, 1);
    void *p = fault_vt_funcs->malloc(size, allocdata);
    atomic_fetch_sub(&fault_vt_depth, 1);
    return p;
}

static void fault_vt_free(void *p, void *allocdata)
{
    fault_vt_funcs->free(p, allocdata);
}

static VTermAllocatorFunctions fault_vt_wrapped = {fault_vt_malloc, fault_vt_free};

/* The screen model passes one allocator to every terminal: it is kept, and libvterm
 * gets one that marks the calls as its own. */
VTerm *__wrap_vterm_new_with_allocator(int rows, int cols, VTermAllocatorFunctions *funcs,
                                       void *allocdata)
{
    fault_vt_funcs = funcs;
    return __real_vterm_new_with_allocator(rows, cols, &fault_vt_wrapped, allocdata);
}

static void fault_report(void)
{
    if (fault_log)
        fprintf(stderr, "fault: %lu allocations counted\n", atomic_load(&fault_count));
}

__attribute__((constructor)) static void fault_init(void)
{
    const char *at = getenv("PODTERM_FAULT_ALLOC_AT");
    fault_at = at ? strtoul(at, NULL, 10) : 0;
    const char *log = getenv("PODTERM_FAULT_ALLOC_LOG");
    fault_log = log && strcmp(log, "1") == 0;
    json_set_alloc_funcs(fault_json_malloc, fault_json_free);
    atexit(fault_report);
}
