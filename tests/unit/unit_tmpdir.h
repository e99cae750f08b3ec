/* unit_tmpdir.h - one temporary folder per unit test program, for the loaders
 * that read files: the group setup makes it, the group teardown removes it,
 * and files are written into it by name. Include after <cmocka.h>. */
#ifndef PODTERM_UNIT_TMPDIR_H
#define PODTERM_UNIT_TMPDIR_H

#include <stdio.h>
#include <stdlib.h>

#define UNIT_TMPDIR_PATH_MAX 512

static char unit_dir[] = "/tmp/podterm-unit-XXXXXX";

static inline int unit_tmpdir_setup(void **state)
{
    return mkdtemp(unit_dir) ? 0 : -1;
}

static inline int unit_tmpdir_teardown(void **state)
{
    char cmd[UNIT_TMPDIR_PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", unit_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Write text to unit_dir/name; the path stays valid until the next call. */
static inline const char *unit_tmpdir_write(const char *name, const char *text)
{
    static char path[UNIT_TMPDIR_PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", unit_dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

#endif
