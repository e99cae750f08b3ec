/* test_backend_kube_creds.c - the bearer token sources of the gateway, run
 * for real: exec credential plugins (args, env, KUBERNETES_EXEC_INFO, a
 * relative or bare command, exit codes, signals, oversized output, the
 * cache and its expiry, waiters answered by one run, shutting down while one
 * runs) and token files (trimming, size and NUL refusals, re-reading only a
 * changed file), plus every ExecCredential refusal and RFC 3339 offset. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit_tmpdir.h"

#include "backend/kube/credentials.h"
#include "backend/kube/kubeconfig.h"

#define WAIT_MS 10000 /* generous: the machine is shared */

struct waiter {
    struct kube_creds_req req; /* first: done casts back */
    bool done;
    char token[KUBE_TOKEN_MAX + 1];
    char err[KUBE_ERR_MAX];
};

static void waiter_done(struct kube_creds_req *req, const char *token, const char *err)
{
    struct waiter *w = (struct waiter *)req;
    w->done = true;
    snprintf(w->token, sizeof(w->token), "%s", token ? token : "");
    snprintf(w->err, sizeof(w->err), "%s", err ? err : "");
}

static void run_until(uv_loop_t *loop, const bool *flag)
{
    uint64_t start = uv_hrtime();
    while (!*flag) {
        uv_run(loop, UV_RUN_NOWAIT);
        if ((uv_hrtime() - start) / 1000000 > WAIT_MS)
            fail_msg("timed out");
        usleep(1000);
    }
}

/* A target whose exec plugin is command with args (NULL-terminated). */
static struct kube_target *exec_target(const char *command, const char *const *args)
{
    struct kube_target *t = calloc(1, sizeof(*t));
    t->exec = calloc(1, sizeof(*t->exec));
    t->exec->command = strdup(command);
    t->exec->dir = strdup(unit_dir);
    for (size_t i = 0; args && args[i]; i++)
        t->exec->args[t->exec->args_len++] = strdup(args[i]);
    t->source = strdup("test");
    return t;
}

static const char *plugin(const char *name, const char *body)
{
    char text[4096];
    snprintf(text, sizeof(text), "#!/bin/sh\n%s\n", body);
    const char *p = unit_tmpdir_write(name, text);
    assert_int_equal(chmod(p, 0755), 0);
    return p;
}

/* Runs the plugin once through kube_creds_get; returns the waiter. */
static void get_async(uv_loop_t *loop, struct kube_creds *c, struct waiter *w)
{
    memset(w, 0, sizeof(*w));
    w->req.done = waiter_done;
    char out[KUBE_TOKEN_MAX + 1];
    int rc = kube_creds_get(c, &w->req, out, sizeof(out));
    if (rc == 0) {
        w->done = true;
        snprintf(w->token, sizeof(w->token), "%s", out);
        return;
    }
    assert_int_equal(rc, 1);
    run_until(loop, &w->done);
}

#define CRED(tok) "{\"kind\":\"ExecCredential\",\"status\":{\"token\":\"" tok "\"}}"

static uv_loop_t loop;

static struct kube_creds *creds_for(struct kube_target *t)
{
    struct kube_creds *c = kube_creds_new(&loop, t);
    assert_non_null(c);
    return c;
}

static void creds_done(struct kube_creds *c, struct kube_target *t)
{
    kube_creds_free(c);
    kube_target_free(t);
    uv_run(&loop, UV_RUN_DEFAULT); /* the run's handles close */
}

static int loop_setup(void **state)
{
    (void)state;
    return unit_tmpdir_setup(state) || uv_loop_init(&loop);
}

static int loop_teardown(void **state)
{
    (void)state;
    return uv_loop_close(&loop) || unit_tmpdir_teardown(state);
}

static void test_plugin_args_env_and_info(void **state)
{
    (void)state;
    plugin("p-env.sh", "printf '{\"kind\":\"ExecCredential\",\"status\":{\"token\":\"%s-%s-%s\"}}' "
                       "\"$1\" \"$2\" \"$A\"\n"
                       "case \"$KUBERNETES_EXEC_INFO\" in *'\"apiVersion\":\"client.authentication."
                       "k8s.io/v1beta1\",\"kind\":\"ExecCredential\"'*) ;; *) exit 9;; esac");
    const char *args[] = {"one", "two", NULL};
    struct kube_target *t = exec_target("./p-env.sh", args); /* relative to the kubeconfig */
    t->exec->env[0].name = strdup("A");
    t->exec->env[0].value = strdup("bee");
    t->exec->env_len = 1;
    t->exec->api_version = strdup("client.authentication.k8s.io/v1beta1");
    struct kube_creds *c = creds_for(t);
    struct waiter w;
    get_async(&loop, c, &w);
    assert_string_equal(w.err, "");
    assert_string_equal(w.token, "one-two-bee");
    /* no expiry: cached until invalidated (a 401) */
    struct waiter w2;
    get_async(&loop, c, &w2);
    assert_string_equal(w2.token, "one-two-bee");
    creds_done(c, t);
}

/* A bare name is looked up in PATH, as client-go does; without apiVersion
 * the plugin is told v1. */
static void test_plugin_bare_name_through_path(void **state)
{
    (void)state;
    const char *args[] = {
        "-c",
        "case \"$KUBERNETES_EXEC_INFO\" in *client.authentication.k8s.io/v1\\\"*) "
        "echo '" CRED("from-path") "';; *) exit 4;; esac",
        NULL};
    struct kube_target *t = exec_target("sh", args);
    struct kube_creds *c = creds_for(t);
    struct waiter w;
    get_async(&loop, c, &w);
    assert_string_equal(w.err, "");
    assert_string_equal(w.token, "from-path");
    creds_done(c, t);
}

static void plugin_fails(const char *name, const char *body, const char *want_fmt)
{
    const char *p = plugin(name, body);
    char path[UNIT_TMPDIR_PATH_MAX], want[KUBE_ERR_MAX];
    snprintf(path, sizeof(path), "%s", p);
    struct kube_target *t = exec_target(path, NULL);
    struct kube_creds *c = creds_for(t);
    struct waiter w;
    get_async(&loop, c, &w);
    snprintf(want, sizeof(want), want_fmt, path);
    assert_string_equal(w.err, want);
    assert_string_equal(w.token, "");
    creds_done(c, t);
}

static void test_plugin_failures(void **state)
{
    (void)state;
    plugin_fails("p-exit.sh", "echo '" CRED("t") "'; exit 3",
                 "the exec credential plugin %s exited with status 3");
    plugin_fails("p-kill.sh", "kill -9 $$", "the exec credential plugin %s exited with status 137");
    plugin_fails("p-big.sh", "head -c 70000 /dev/zero | tr '\\0' x",
                 "the exec credential plugin printed more than 65536 bytes");
    plugin_fails("p-empty.sh", "exit 0",
                 "the exec plugin did not print an ExecCredential with a status");
    plugin_fails("p-kind.sh", "echo '{\"kind\":\"Pod\",\"status\":{\"token\":\"t\"}}'",
                 "the exec plugin printed kind Pod, not ExecCredential");
}

static void test_plugin_not_found(void **state)
{
    (void)state;
    struct kube_target *t = exec_target("/nonexistent/plugin", NULL);
    struct kube_creds *c = creds_for(t);
    struct kube_creds_req req = {.done = waiter_done};
    char out[KUBE_TOKEN_MAX + 1];
    assert_int_equal(kube_creds_get(c, &req, out, sizeof(out)), -1);
    assert_string_equal(out, "cannot run the exec credential plugin /nonexistent/plugin: No such "
                             "file or directory");
    creds_done(c, t);
}

/* Requests that arrive while the plugin runs wait for that one run; a
 * cancelled one is never called; an expired token runs the plugin again. */
static void test_plugin_waiters_cache_and_expiry(void **state)
{
    (void)state;
    unit_tmpdir_write("runs", "");
    char body[1024];
    snprintf(body, sizeof(body),
             "echo x >> '%s/runs'; sleep 0.3\n"
             "echo '{\"kind\":\"ExecCredential\",\"status\":{\"token\":\"tk\","
             "\"expirationTimestamp\":\"%s\"}}'",
             unit_dir, "2000-01-01T00:00:00+01:00");
    const char *p = plugin("p-slow.sh", body);
    char path[UNIT_TMPDIR_PATH_MAX];
    snprintf(path, sizeof(path), "%s", p);
    struct kube_target *t = exec_target(path, NULL);
    struct kube_creds *c = creds_for(t);
    struct waiter a = {.req.done = waiter_done}, b = {.req.done = waiter_done},
                  x = {.req.done = waiter_done};
    char out[KUBE_TOKEN_MAX + 1];
    assert_int_equal(kube_creds_get(c, &a.req, out, sizeof(out)), 1);
    assert_int_equal(kube_creds_get(c, &x.req, out, sizeof(out)), 1);
    assert_int_equal(kube_creds_get(c, &b.req, out, sizeof(out)), 1);
    kube_creds_cancel(c, &x.req);
    run_until(&loop, &a.done);
    run_until(&loop, &b.done);
    assert_false(x.done);
    assert_string_equal(a.token, "tk");
    assert_string_equal(b.token, "tk");
    /* the token expired in 2000: the next request runs the plugin again */
    struct waiter again;
    get_async(&loop, c, &again);
    assert_string_equal(again.token, "tk");
    char *runs;
    size_t len;
    char rpath[UNIT_TMPDIR_PATH_MAX];
    snprintf(rpath, sizeof(rpath), "%s/runs", unit_dir);
    FILE *f = fopen(rpath, "r");
    assert_non_null(f);
    runs = calloc(1, 64);
    len = fread(runs, 1, 63, f);
    fclose(f);
    assert_int_equal(len, 4); /* two runs */
    free(runs);
    creds_done(c, t);
}

/* A token valid for an hour is served from the cache; a 401 drops it. */
static void test_plugin_cache_until_invalidated(void **state)
{
    (void)state;
    char stamp[64], body[512];
    time_t soon = time(NULL) + 3600;
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S.123456Z", gmtime(&soon));
    snprintf(body, sizeof(body),
             "echo '{\"kind\":\"ExecCredential\",\"status\":{\"token\":\"'$$'\","
             "\"expirationTimestamp\":\"%s\"}}'",
             stamp);
    const char *p = plugin("p-pid.sh", body);
    char path[UNIT_TMPDIR_PATH_MAX];
    snprintf(path, sizeof(path), "%s", p);
    struct kube_target *t = exec_target(path, NULL);
    struct kube_creds *c = creds_for(t);
    struct waiter w1, w2, w3;
    get_async(&loop, c, &w1);
    assert_string_equal(w1.err, "");
    char out[KUBE_TOKEN_MAX + 1];
    assert_int_equal(kube_creds_get(c, &w2.req, out, sizeof(out)), 0);
    assert_string_equal(out, w1.token);
    kube_creds_invalidate(c);
    get_async(&loop, c, &w3);
    assert_string_equal(w3.err, "");
    assert_string_not_equal(w3.token, w1.token); /* another run, another pid */
    creds_done(c, t);
}

/* Shutting down with a plugin still running answers its waiters at once. */
static void test_free_while_plugin_runs(void **state)
{
    (void)state;
    const char *p = plugin("p-sleep.sh", "sleep 30");
    char path[UNIT_TMPDIR_PATH_MAX];
    snprintf(path, sizeof(path), "%s", p);
    struct kube_target *t = exec_target(path, NULL);
    struct kube_creds *c = creds_for(t);
    struct waiter w = {.req.done = waiter_done};
    char out[KUBE_TOKEN_MAX + 1];
    assert_int_equal(kube_creds_get(c, &w.req, out, sizeof(out)), 1);
    uint64_t start = uv_hrtime();
    kube_creds_free(c);
    assert_true(w.done);
    assert_string_equal(w.err, "podterm is shutting down");
    uv_run(&loop, UV_RUN_DEFAULT); /* the killed plugin is reaped */
    assert_true((uv_hrtime() - start) / 1000000 < 5000);
    kube_target_free(t);
}

/* A relative command with no kubeconfig directory (a target built without
 * one) runs relative to the working directory, as the plugin path says. */
static void test_plugin_relative_without_dir(void **state)
{
    (void)state;
    plugin("p-rel.sh", "echo '" CRED("rel") "'");
    char cwd[UNIT_TMPDIR_PATH_MAX];
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(unit_dir), 0);
    struct kube_target *t = exec_target("./p-rel.sh", NULL);
    free(t->exec->dir);
    t->exec->dir = strdup("");
    struct kube_creds *c = creds_for(t);
    struct waiter w;
    get_async(&loop, c, &w);
    assert_int_equal(chdir(cwd), 0);
    assert_string_equal(w.err, "");
    assert_string_equal(w.token, "rel");
    creds_done(c, t);
}

/* Cancelling a request that is not (or no longer) waiting changes nothing;
 * cancelling one behind another leaves the other waiting. */
static void test_cancel_is_precise(void **state)
{
    (void)state;
    const char *p = plugin("p-cancel.sh", "sleep 0.2; echo '" CRED("ok") "'");
    char path[UNIT_TMPDIR_PATH_MAX];
    snprintf(path, sizeof(path), "%s", p);
    struct kube_target *t = exec_target(path, NULL);
    struct kube_creds *c = creds_for(t);
    struct waiter first = {.req.done = waiter_done}, second = {.req.done = waiter_done},
                  stranger = {.req.done = waiter_done};
    char out[KUBE_TOKEN_MAX + 1];
    assert_int_equal(kube_creds_get(c, &first.req, out, sizeof(out)), 1);
    assert_int_equal(kube_creds_get(c, &second.req, out, sizeof(out)), 1);
    kube_creds_cancel(c, &stranger.req); /* never asked */
    kube_creds_cancel(c, &first.req);    /* the older one, behind the newer */
    run_until(&loop, &second.done);
    assert_false(first.done);
    assert_false(stranger.done);
    assert_string_equal(second.token, "ok");
    kube_creds_cancel(c, &second.req); /* answered already */
    creds_done(c, t);
}

/* ---- token files ---- */

static struct kube_target *file_target(const char *name)
{
    struct kube_target *t = calloc(1, sizeof(*t));
    char p[UNIT_TMPDIR_PATH_MAX];
    snprintf(p, sizeof(p), "%s/%s", unit_dir, name);
    t->token_file = strdup(p);
    return t;
}

static int file_get(struct kube_creds *c, char *out)
{
    struct kube_creds_req req = {.done = waiter_done};
    return kube_creds_get(c, &req, out, KUBE_TOKEN_MAX + 1);
}

static void test_token_file_trim_and_refusals(void **state)
{
    (void)state;
    char out[KUBE_TOKEN_MAX + 1], want[KUBE_ERR_MAX + UNIT_TMPDIR_PATH_MAX];
    unit_tmpdir_write("tf", "abc \t\r\n");
    struct kube_target *t = file_target("tf");
    struct kube_creds *c = creds_for(t);
    assert_int_equal(file_get(c, out), 0);
    assert_string_equal(out, "abc");
    /* whitespace only: no token at all */
    unit_tmpdir_write("blank", " \r\n\t\n");
    struct kube_target *bt = file_target("blank");
    struct kube_creds *bc = creds_for(bt);
    assert_int_equal(file_get(bc, out), -1);
    snprintf(want, sizeof(want),
             "token file %s/blank: a bearer token is visible ASCII (0x21-0x7E) only", unit_dir);
    assert_string_equal(out, want);
    creds_done(bc, bt);
    /* the same file again: served from the cache, even if read would differ */
    assert_int_equal(file_get(c, out), 0);
    assert_string_equal(out, "abc");
    /* rewritten in place, longer: read again */
    unit_tmpdir_write("tf", "abcdef");
    assert_int_equal(file_get(c, out), 0);
    assert_string_equal(out, "abcdef");
    /* a NUL byte would hide what follows it */
    char p[UNIT_TMPDIR_PATH_MAX];
    snprintf(p, sizeof(p), "%s/tf", unit_dir);
    FILE *f = fopen(p, "w");
    fwrite("ab\0cd", 1, 5, f);
    fclose(f);
    assert_int_equal(file_get(c, out), -1);
    snprintf(want, sizeof(want), "token file %s: a bearer token is visible ASCII (0x21-0x7E) only",
             p);
    assert_string_equal(out, want);
    /* longer than any token */
    f = fopen(p, "w");
    for (int i = 0; i <= KUBE_TOKEN_MAX; i++)
        fputc('t', f);
    fclose(f);
    assert_int_equal(file_get(c, out), -1);
    snprintf(want, sizeof(want), "cannot read token file %s: longer than a token can be", p);
    assert_string_equal(out, want);
    /* a directory opens but cannot be read */
    assert_int_equal(unlink(p), 0);
    assert_int_equal(mkdir(p, 0700), 0);
    assert_int_equal(file_get(c, out), -1);
    snprintf(want, sizeof(want), "cannot read token file %s: Input/output error", p);
    assert_string_equal(out, want);
    assert_int_equal(rmdir(p), 0);
    creds_done(c, t);
}

/* No token source at all: an empty token, and no request waits. */
static void test_no_token_source(void **state)
{
    (void)state;
    struct kube_target *t = calloc(1, sizeof(*t));
    struct kube_creds *c = creds_for(t);
    char out[KUBE_TOKEN_MAX + 1] = "x";
    assert_int_equal(file_get(c, out), 0);
    assert_string_equal(out, "");
    kube_creds_free(NULL);
    creds_done(c, t);
}

/* ---- ExecCredential ---- */

static int parse(const char *json, char *token, size_t cap, time_t *exp, char *err)
{
    return kube_exec_credential_parse(json, strlen(json), token, cap, exp, err, KUBE_ERR_MAX);
}

#define WITH_EXP(stamp)                                                                            \
    "{\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\",\"expirationTimestamp\":\"" stamp    \
    "\"}}"

static void test_expiry_offsets(void **state)
{
    (void)state;
    char token[16], err[KUBE_ERR_MAX];
    time_t exp;
    const time_t base = 1893553445; /* 2030-01-02T03:04:05Z */
    assert_int_equal(parse(WITH_EXP("2030-01-02T03:04:05.5Z"), token, sizeof(token), &exp, err), 0);
    assert_int_equal(exp, base);
    assert_int_equal(parse(WITH_EXP("2030-01-02T08:34:05+05:30"), token, sizeof(token), &exp, err),
                     0);
    assert_int_equal(exp, base);
    assert_int_equal(parse(WITH_EXP("2030-01-01T23:04:05-04:00"), token, sizeof(token), &exp, err),
                     0);
    assert_int_equal(exp, base);
    const char *bad[] = {WITH_EXP("2030-01-02T03:04:05"), WITH_EXP("2030-01-02T03:04:05Zjunk"),
                         WITH_EXP("2030-01-02T03:04:05+ab:cd"), WITH_EXP("2030-01-02"),
                         WITH_EXP("tomorrow")};
    const char *stamp[] = {"2030-01-02T03:04:05", "2030-01-02T03:04:05Zjunk",
                           "2030-01-02T03:04:05+ab:cd", "2030-01-02", "tomorrow"};
    for (size_t i = 0; i < 5; i++) {
        char want[KUBE_ERR_MAX];
        assert_int_equal(parse(bad[i], token, sizeof(token), &exp, err), -1);
        snprintf(want, sizeof(want), "the exec plugin's expirationTimestamp \"%s\" is not RFC 3339",
                 stamp[i]);
        assert_string_equal(err, want);
    }
}

static void test_credential_refusals(void **state)
{
    (void)state;
    char token[8], err[KUBE_ERR_MAX];
    time_t exp = 5;
    /* no kind is accepted (older plugins), status is required */
    assert_int_equal(parse("{\"status\":{\"token\":\"abc\"}}", token, sizeof(token), &exp, err), 0);
    assert_string_equal(token, "abc");
    assert_int_equal(exp, 0);
    assert_int_equal(parse("{\"kind\":\"ExecCredential\"}", token, sizeof(token), &exp, err), -1);
    assert_string_equal(err, "the exec plugin did not print an ExecCredential with a status");
    assert_int_equal(parse("{\"status\":{\"token\":\"\"}}", token, sizeof(token), &exp, err), -1);
    assert_string_equal(err, "the exec plugin's ExecCredential has no status.token (client "
                             "certificates from plugins are not supported)");
    assert_int_equal(parse("{\"status\":{\"token\":\"1234567\"}}", token, sizeof(token), &exp, err),
                     0);
    assert_int_equal(
        parse("{\"status\":{\"token\":\"12345678\"}}", token, sizeof(token), &exp, err), -1);
    assert_string_equal(err, "the exec plugin's token is longer than 7 bytes");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plugin_args_env_and_info),
        cmocka_unit_test(test_plugin_bare_name_through_path),
        cmocka_unit_test(test_plugin_failures),
        cmocka_unit_test(test_plugin_not_found),
        cmocka_unit_test(test_plugin_waiters_cache_and_expiry),
        cmocka_unit_test(test_plugin_cache_until_invalidated),
        cmocka_unit_test(test_free_while_plugin_runs),
        cmocka_unit_test(test_plugin_relative_without_dir),
        cmocka_unit_test(test_cancel_is_precise),
        cmocka_unit_test(test_token_file_trim_and_refusals),
        cmocka_unit_test(test_no_token_source),
        cmocka_unit_test(test_expiry_offsets),
        cmocka_unit_test(test_credential_refusals),
    };
    return cmocka_run_group_tests(tests, loop_setup, loop_teardown);
}
