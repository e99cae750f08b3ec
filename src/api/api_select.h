/* api_select.h - label and field selectors for pod lists (equality-based, as
 * kubectl -l and --field-selector send them). Pure. */
#ifndef PODTERM_API_SELECT_H
#define PODTERM_API_SELECT_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

#define API_SELECTOR_TERMS_MAX 16 /* terms of one selector */
#define API_SELECTOR_TEXT_MAX 256 /* one key or value */

enum api_term_op { API_TERM_EQ, API_TERM_NE, API_TERM_EXISTS, API_TERM_NOT_EXISTS };

struct api_term {
    enum api_term_op op;
    bool field; /* a field selector term (metadata.name, metadata.namespace, status.phase) */
    char key[API_SELECTOR_TEXT_MAX];
    char value[API_SELECTOR_TEXT_MAX];
};

struct api_selector {
    struct api_term terms[API_SELECTOR_TERMS_MAX];
    size_t len;
};

/* Parse "app=web,tier!=db,canary,!legacy" and "metadata.name=x". 0 or -1 with err. */
int api_selector_parse(struct api_selector *sel, const char *labels, const char *fields, char *err,
                       size_t err_cap);
bool api_selector_match(const struct api_selector *sel, const struct config_pod *pod);

#endif
