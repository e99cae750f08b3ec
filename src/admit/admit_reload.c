/* admit_reload.c - the RBAC and ExecPolicy files, loaded at start-up (a
 * broken file stops podterm with file, line and reason) and again whenever
 * they change on disk; the same for the static token file and the JWT key
 * (main read them at start-up). A reload is all or nothing: a broken edit
 * keeps what is in force and says why, once per edit.
 *
 * Changes are found by polling (every ADMIT_RELOAD_MS): a signature of the
 * names, sizes, inodes and modification times of the files and folders
 * given and of the policy files inside the folders. Polling, not inotify,
 * because ConfigMap volumes swap a symlink, which watches on the files miss. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "admit/admit_internal.h"

#define ADMIT_PATH_MAX 4096

static uint64_t admit_mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull; /* FNV-1a */
    return h;
}

static uint64_t admit_mix_stat(uint64_t h, const char *path)
{
    struct stat st;
    h = admit_mix(h, path, strlen(path) + 1);
    if (stat(path, &st) != 0)
        return admit_mix(h, "-", 1);
    uint64_t f[5] = {(uint64_t)st.st_ino, (uint64_t)st.st_size, (uint64_t)st.st_mtim.tv_sec,
                     (uint64_t)st.st_mtim.tv_nsec, (uint64_t)st.st_mode};
    return admit_mix(h, f, sizeof(f));
}

static uint64_t admit_signature(const struct admit *a)
{
    uint64_t h = 14695981039346656037ull;
    size_t files = 0;
    for (size_t i = 0; i < a->opts.rbac_files_len; i++) {
        const char *p = a->opts.rbac_files[i];
        h = admit_mix_stat(h, p);
        DIR *d = opendir(p);
        struct dirent *e;
        while (d && (e = readdir(d)) && files < ADMIT_SIGNATURE_FILES_MAX) {
            if (e->d_name[0] == '.' && strcmp(e->d_name, "..data") != 0)
                continue;
            char full[ADMIT_PATH_MAX];
            snprintf(full, sizeof(full), "%s/%s", p, e->d_name);
            h = admit_mix_stat(h, full);
            files++;
        }
        if (d)
            closedir(d);
    }
    return h;
}

static uint64_t admit_auth_signature(const struct admit *a)
{
    uint64_t h = 14695981039346656037ull;
    if (a->opts.token_auth_file)
        h = admit_mix_stat(h, a->opts.token_auth_file);
    if (a->opts.jwt_key_file)
        h = admit_mix_stat(h, a->opts.jwt_key_file);
    return h;
}

static bool admit_auth_files(const struct admit *a)
{
    return a->opts.token_auth_file || a->opts.jwt_key_file;
}

/* The token file and the JWT key, read again when either changed. */
static void admit_reload_auth(struct admit *a)
{
    uint64_t sig = admit_auth_signature(a);
    if (!admit_auth_files(a) || sig == a->auth_signature || sig == a->auth_failed)
        return;
    char err[AUTH_ERR_MAX];
    struct auth *next = auth_new(a->opts.jwt_key_file, a->opts.token_auth_file, err, sizeof(err));
    if (!next) {
        a->auth_failed = sig;
        fprintf(stderr,
                "podterm: the token file or JWT key changed but does not load, the previous "
                "ones stay in force: %s\n",
                err);
        return;
    }
    auth_free(a->auth);
    a->auth = next;
    a->auth_signature = sig;
    a->auth_failed = 0;
    a->authn_generation++;
    fprintf(stderr, "podterm: token file and JWT key reloaded\n");
}

static void admit_reload_tick(uv_timer_t *t)
{
    struct admit *a = t->data;
    admit_reload_auth(a);
    if (!a->authz)
        return;
    uint64_t sig = admit_signature(a);
    if (sig == a->authz_signature || sig == a->authz_failed)
        return;
    char err[AUTHZ_ERR_MAX];
    struct authz *next = authz_load(a->opts.rbac_files, a->opts.rbac_files_len, err, sizeof(err));
    if (!next) {
        a->authz_failed = sig;
        fprintf(stderr,
                "podterm: the authorization policy changed but does not load, the "
                "previous one stays in force: %s\n",
                err);
        return;
    }
    authz_free(a->authz);
    a->authz = next;
    a->authz_signature = sig;
    a->authz_failed = 0;
    a->authz_generation++;
    fprintf(stderr, "podterm: authorization policy reloaded\n");
}

int admit_reload_start(struct admit *a, char *err, size_t err_cap)
{
    a->auth_signature = admit_auth_signature(a);
    if (a->opts.rbac_files_len == 0)
        return 0;
    a->authz_signature = admit_signature(a);
    a->authz = authz_load(a->opts.rbac_files, a->opts.rbac_files_len, err, err_cap);
    return a->authz ? 0 : -1;
}

void admit_reload_watch(struct admit *a)
{
    if (!a->authz && !admit_auth_files(a))
        return;
    uv_timer_init(a->loop, &a->reload);
    a->reload.data = a;
    uv_timer_start(&a->reload, admit_reload_tick, ADMIT_RELOAD_MS, ADMIT_RELOAD_MS);
    uv_unref((uv_handle_t *)&a->reload);
    a->reload_running = true;
}

void admit_reload_stop(struct admit *a)
{
    if (!a->reload_running)
        return;
    a->reload_running = false;
    uv_close((uv_handle_t *)&a->reload, NULL);
}
