/* test_spdy_conn_oom.c - a SPDY connection (src/spdy/spdy_conn.c) refused
 * its memory: spdy_conn_new is NULL, nothing half-made leaks; the clean run
 * gives a connection that works (a PING out). zlib's own contexts are
 * allocated by zlib (not podterm's allocator): not swept here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "spdy/spdy_conn.h"
#include "unit_oom.h"

static void on_event(void *user, const struct spdy_event *ev)
{
    (void)user;
    (void)ev;
}

static void new_step(void *ctx)
{
    long *refused = ctx;
    struct spdy_conn_config cfg = {.role = SPDY_ROLE_SERVER, .flow = SPDY_FLOW_ADVISORY};
    struct spdy_conn *c = spdy_conn_new(&cfg, on_event, NULL);
    if (unit_oom_hit()) {
        assert_null(c);
        (*refused)++;
        return;
    }
    assert_non_null(c);
    assert_int_equal(spdy_conn_ping(c), 2);
    const uint8_t *p;
    assert_int_equal(spdy_conn_out(c, &p), 12);
    assert_memory_equal(p, "\x80\x03\x00\x06\x00\x00\x00\x04\x00\x00\x00\x02", 12);
    spdy_conn_free(c);
}

static void test_conn_new_out_of_memory(void **state)
{
    long refused = 0;
    assert_int_equal(unit_oom_sweep(new_step, &refused), 1);
    assert_int_equal(refused, 1);
    spdy_conn_free(NULL); /* as free(NULL) */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conn_new_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
