/* test_session_resume_oom.c - out of memory around a resumable session
 * (src/session/session_resume.c, src/screen/screen_tap.c): a screen model
 * refused leaves the session without a screen (and a full tap table
 * refuses one cleanly); an owner name refused leaves the session not
 * resumable, never resumable by nobody; a repaint buffer refused at a
 * resume ends the session with an InternalError Status saying so, never a
 * page left with a blank screen.
 *
 * The allocation wraps are unit_oom.h's; the connection and the process
 * are fixtures/session_fake.h's fakes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "screen/screen_tap.h"
#include "server/server_internal.h"
#include "session/exec_request.h"
#include "session/session.h"
#include "session/session_internal.h"
#include "session/session_tap.h"
#include "unit_oom.h"

#include "fixtures/session_fake.h"

static void tap_step(void *ctx)
{
    struct session *s = ctx;
    int rc = screen_tap_attach(s);
    if (unit_oom_hit()) {
        assert_int_equal(rc, -1);
        assert_null(session_screen(s));
        return;
    }
    assert_int_equal(rc, 0);
    assert_non_null(session_screen(s));
}

static void test_screen_tap_out_of_memory(void **state)
{
    struct session *s = fake_session_open(true, true);
    assert_int_equal(unit_oom_sweep(tap_step, s), 1);
    /* the table full: a model is refused and freed (LeakSanitizer checks) */
    int more = 0;
    while (screen_tap_attach(s) == 0)
        more++;
    assert_int_equal(more, SESSION_TAPS_MAX - 1); /* the sweep's own is one */
    fake_session_finish(s);
}

static void identify_step(void *ctx)
{
    struct session *s = ctx;
    session_identify(s, "0a1b2c3d-1111-4222-8333-444455556666", "alice", 5000);
    assert_string_equal(session_id(s), "0a1b2c3d-1111-4222-8333-444455556666");
    if (unit_oom_hit()) {
        assert_null(s->owner);
        assert_int_equal(s->grace_ms, 0); /* nobody could resume it */
        return;
    }
    assert_string_equal(s->owner, "alice");
    assert_int_equal(s->grace_ms, 5000);
    assert_int_equal(strlen(s->resume_token), 64);
}

static void test_identify_out_of_memory(void **state)
{
    struct session *s = fake_session_open(true, true);
    assert_int_equal(unit_oom_sweep(identify_step, s), 1);
    fake_session_finish(s);
}

#define REPAINT_STATUS                                                                             \
    "\x03{\"metadata\":{},\"status\":\"Failure\",\"message\":\"Internal error occurred: "          \
    "podterm: the screen could not be repainted\",\"reason\":\"InternalError\",\"details\":{"      \
    "\"causes\":[{\"message\":\"podterm: the screen could not be repainted\"}]},\"code\":500}"

static void test_resume_repaint_out_of_memory(void **state)
{
    struct session *s = fake_session_open(true, true);
    assert_int_equal(screen_tap_attach(s), 0);
    assert_int_equal(session_on_writeable(s), 0); /* the initial frame */
    nframes = 0;
    writable_requests = 0;
    unit_oom_arm(0);
    assert_int_equal(session_resume_attach(s, fake_wsi), 0);
    assert_true(unit_oom_hit());
    unit_oom_arm(-1);
    assert_null(s->repaint);
    assert_true(writable_requests > 0);
    assert_int_equal(session_on_writeable(s), 0);
    assert_int_equal(nframes, 1);
    assert_int_equal(frames[0].len, strlen(REPAINT_STATUS));
    assert_memory_equal(frames[0].data, REPAINT_STATUS, strlen(REPAINT_STATUS));
    assert_int_equal(close_status, LWS_CLOSE_STATUS_NORMAL);
    assert_true(fake_stream.stopped);
    fake_session_finish(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_screen_tap_out_of_memory),
        cmocka_unit_test(test_identify_out_of_memory),
        cmocka_unit_test(test_resume_repaint_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
