/* api_select.c - equality-based label and field selectors for pod lists. */
#include "api/api_select.h"

#include <stdio.h>
#include <string.h>

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    size_t i = 0;
    while (s[i] == ' ' || s[i] == '\t')
        i++;
    memmove(s, s + i, n - i + 1);
}

static int text_copy(char *dst, size_t cap, const char *src, char *err, size_t err_cap)
{
    size_t n = strlen(src);
    if (n >= cap) {
        snprintf(err, err_cap, "selector key or value too long (limit %zu)", cap - 1);
        return -1;
    }
    memcpy(dst, src, n + 1);
    return 0;
}

static int term_parse(struct api_term *t, const char *text, size_t len, bool field, char *err,
                      size_t err_cap)
{
    char buf[2 * API_SELECTOR_TEXT_MAX];
    if (len >= sizeof(buf)) {
        snprintf(err, err_cap, "selector term too long");
        return -1;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    trim(buf);
    memset(t, 0, sizeof(*t));
    t->field = field;
    char *op = strstr(buf, "!=");
    size_t oplen = 2;
    t->op = API_TERM_NE;
    if (!op) {
        op = strstr(buf, "==");
        t->op = API_TERM_EQ;
    }
    if (!op) {
        op = strchr(buf, '=');
        oplen = 1;
    }
    if (!op) {
        if (field) {
            snprintf(err, err_cap, "invalid field selector: \"%s\"", buf);
            return -1;
        }
        t->op = buf[0] == '!' ? API_TERM_NOT_EXISTS : API_TERM_EXISTS;
        if (text_copy(t->key, sizeof(t->key), buf + (buf[0] == '!'), err, err_cap) < 0)
            return -1;
        trim(t->key);
        if (!t->key[0]) {
            snprintf(err, err_cap, "invalid label selector: empty key");
            return -1;
        }
        return 0;
    }
    *op = '\0';
    if (text_copy(t->key, sizeof(t->key), buf, err, err_cap) < 0 ||
        text_copy(t->value, sizeof(t->value), op + oplen, err, err_cap) < 0)
        return -1;
    trim(t->key);
    trim(t->value);
    if (!t->key[0] || strpbrk(t->value, "!=()<>")) {
        snprintf(err, err_cap, "unable to parse selector term \"%.*s\"", (int)len, text);
        return -1;
    }
    if (field && strcmp(t->key, "metadata.name") && strcmp(t->key, "metadata.namespace") &&
        strcmp(t->key, "status.phase")) {
        snprintf(err, err_cap, "field label not supported: %s", t->key);
        return -1;
    }
    return 0;
}

static int terms_parse(struct api_selector *sel, const char *text, bool field, char *err,
                       size_t err_cap)
{
    const char *p = text;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (sel->len == API_SELECTOR_TERMS_MAX) {
            snprintf(err, err_cap, "too many selector terms (limit %d)", API_SELECTOR_TERMS_MAX);
            return -1;
        }
        if (len && term_parse(&sel->terms[sel->len++], p, len, field, err, err_cap) < 0)
            return -1;
        p += len + (comma != NULL);
    }
    return 0;
}

int api_selector_parse(struct api_selector *sel, const char *labels, const char *fields, char *err,
                       size_t err_cap)
{
    sel->len = 0;
    if (labels && terms_parse(sel, labels, false, err, err_cap) < 0)
        return -1;
    if (fields && terms_parse(sel, fields, true, err, err_cap) < 0)
        return -1;
    return 0;
}

static const char *pod_value(const struct api_term *t, const struct config_pod *pod)
{
    if (t->field) {
        if (strcmp(t->key, "metadata.name") == 0)
            return pod->name;
        if (strcmp(t->key, "metadata.namespace") == 0)
            return pod->ns;
        return pod->phase;
    }
    for (size_t i = 0; i < pod->labels_len; i++)
        if (strcmp(pod->labels[i].key, t->key) == 0)
            return pod->labels[i].value;
    return NULL;
}

bool api_selector_match(const struct api_selector *sel, const struct config_pod *pod)
{
    for (size_t i = 0; i < sel->len; i++) {
        const struct api_term *t = &sel->terms[i];
        const char *v = pod_value(t, pod);
        bool ok;
        switch (t->op) {
        case API_TERM_EQ:
            ok = v && strcmp(v, t->value) == 0;
            break;
        case API_TERM_NE:
            ok = !v || strcmp(v, t->value) != 0;
            break;
        case API_TERM_EXISTS:
            ok = v != NULL;
            break;
        default:
            ok = v == NULL;
            break;
        }
        if (!ok)
            return false;
    }
    return true;
}
