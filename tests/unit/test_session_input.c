/* test_session_input.c - a session's input side (src/session/session.c)
 * against a fake connection and a fake process: stdin the process does not
 * take yet waits (the socket paused) and a v5 close signal behind it waits
 * for it; a process that closed its stdin has the bytes dropped, not
 * buffered forever; resize goes to a tty only; a write the connection cuts
 * short ends the connection.
 *
 * The connection and the process are fixtures/session_fake.h's fakes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/server_internal.h"
#include "session/exec_request.h"
#include "session/session.h"

#include "fixtures/session_fake.h"

/* v5 stdin (channel 0) and the close signal (255, 0) as one message each. */
static void receive(struct session *s, const char *msg, size_t len)
{
    assert_int_equal(session_on_receive(s, msg, len), 0);
}

static void test_stdin_waits_and_close_follows_it(void **state)
{
    struct session *s = fake_session_open(true, false);
    assert_int_equal(session_on_writeable(s), 0);
    assert_int_equal(nframes, 1); /* the initial frame */
    assert_memory_equal(frames[0].data, "\x01", 1);
    fake_stream.stdin_full = true;
    receive(s, "\x00hello", 6);
    assert_int_equal(rx_flow, 0); /* paused: the process has not taken it */
    assert_int_equal(fake_stream.in_len, 0);
    receive(s, "\xff\x00", 2);                        /* v5: close stdin */
    assert_int_equal(fake_stream.stdin_closed_at, 0); /* not before the bytes */
    fake_stream.stdin_full = false;
    fake_stream.cbs->writable(fake_stream.user);
    assert_int_equal(fake_stream.in_len, 5);
    assert_memory_equal(fake_stream.in, "hello", 5);
    assert_int_equal(rx_flow, 1);                     /* reading again */
    assert_int_equal(fake_stream.stdin_closed_at, 6); /* closed right after them */
    /* once closed, stdin is dropped */
    receive(s, "\x00late", 5);
    assert_int_equal(fake_stream.in_len, 5);
    fake_session_finish(s);
}

/* A process that closed its stdin: what the client sends is dropped (not
 * kept, the socket not paused); a second close signal changes nothing. */
static void test_stdin_to_a_closed_pipe_is_dropped(void **state)
{
    struct session *s = fake_session_open(true, false);
    fake_stream.stdin_gone = true;
    receive(s, "\x00lost", 5);
    assert_int_equal(rx_flow, -1); /* never paused */
    fake_stream.stdin_gone = false;
    receive(s, "\x00kept", 5);
    assert_int_equal(fake_stream.in_len, 4);
    assert_memory_equal(fake_stream.in, "kept", 4);
    receive(s, "\xff\x00", 2);
    receive(s, "\xff\x00", 2);
    assert_int_equal(fake_stream.stdin_closed_at, 5);
    fake_session_finish(s);
}

static void test_resize_reaches_a_tty_only(void **state)
{
    static const char resize[] = "\x04{\"Width\":100,\"Height\":30}";
    struct session *s = fake_session_open(true, false);
    receive(s, resize, sizeof(resize) - 1);
    assert_int_equal(fake_stream.resizes, 0);
    fake_session_finish(s);
    s = fake_session_open(true, true);
    receive(s, resize, sizeof(resize) - 1);
    assert_int_equal(fake_stream.resizes, 1);
    fake_session_finish(s);
}

static void test_short_write_ends_the_connection(void **state)
{
    struct session *s = fake_session_open(false, false);
    write_short = true;
    assert_int_equal(session_on_writeable(s), -1);
    assert_int_equal(nframes, 0);
    fake_session_finish(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stdin_waits_and_close_follows_it),
        cmocka_unit_test(test_stdin_to_a_closed_pipe_is_dropped),
        cmocka_unit_test(test_resize_reaches_a_tty_only),
        cmocka_unit_test(test_short_write_ends_the_connection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
