/* config_flags.h - podterm's flags read from the --config file's `flags:`
 * mapping, so that a ConfigMap can hold a whole configuration:
 *
 *   flags:
 *     listen: 0.0.0.0:8443
 *     in-cluster: true                 # a switch: true sets it, false leaves it off
 *     allowed-host: [podterm.example.com, podterm.podterm.svc]   # repeatable: a list
 *     audit-log-path: "-"
 *   pods: [...]                        # optional: local mode's pods (config.h)
 *
 * The keys are the long flag names without "--"; the caller describes them
 * (config_flag_spec), so a flag added to podterm is settable here at once.
 * The result is a list of "--name=value" arguments that the caller puts
 * before the command line's own and parses with the same code: a value given
 * on the command line wins over the file's (the later one counts), and a
 * repeatable flag's values add up. */
#ifndef PODTERM_CONFIG_FLAGS_H
#define PODTERM_CONFIG_FLAGS_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_FLAGS_MAX 256       /* arguments one file may produce */
#define CONFIG_FLAG_VALUE_MAX 4096 /* bytes of one flag's value */
#define CONFIG_FLAG_NAME_MAX 64    /* bytes of one flag's name */

enum config_flag_kind {
    CONFIG_FLAG_SWITCH, /* no value: true or false */
    CONFIG_FLAG_VALUE,  /* one value: a string or a number */
    CONFIG_FLAG_LIST,   /* repeatable: one value or a list of them */
};

struct config_flag_spec {
    const char *name; /* the long name without "--"; first member, see yaml_key_index */
    enum config_flag_kind kind;
};

struct config_flags {
    char **args; /* "--name=value" or "--name", malloc'd, in the file's order */
    size_t len;
    bool has_pods; /* the file also has pods: or namespaces: (local mode's pods) */
};

/* Read path's `flags:` mapping into out (zeroed first). A file without one
 * gives no arguments. Errors are "path:line: reason" in err: an unknown flag
 * (naming the known ones), a value of the wrong shape, a value with a NUL
 * byte or longer than CONFIG_FLAG_VALUE_MAX, more than CONFIG_FLAGS_MAX
 * arguments. Other top-level keys are left to the pods loader. */
int config_flags_load(const char *path, const struct config_flag_spec *specs, size_t nspecs,
                      struct config_flags *out, char *err, size_t err_cap);
void config_flags_free(struct config_flags *flags);

#endif
