/* api_table.c - Table output for pod lists (kubectl get's server-side printing). */
#include "api/api_table.h"

#include "api/api_json.h"

#include <stdio.h>
#include <string.h>

void api_table_age(time_t s, char *out, size_t cap)
{
    if (s < 0)
        s = 0;
    if (s < 120)
        snprintf(out, cap, "%llds", (long long)s);
    else if (s < 600)
        snprintf(out, cap, "%lldm%llds", (long long)s / 60, (long long)s % 60);
    else if (s < 3 * 3600)
        snprintf(out, cap, "%lldm", (long long)s / 60);
    else if (s < 8 * 3600)
        snprintf(out, cap, "%lldh%lldm", (long long)s / 3600, (long long)(s % 3600) / 60);
    else if (s < 48 * 3600)
        snprintf(out, cap, "%lldh", (long long)s / 3600);
    else if (s < 8 * 86400)
        snprintf(out, cap, "%lldd%lldh", (long long)s / 86400, (long long)(s % 86400) / 3600);
    else
        snprintf(out, cap, "%lldd", (long long)s / 86400);
}

static time_t rfc3339_parse(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return time(NULL);
    return timegm(&tm);
}

json_t *api_table_row(const struct config_cluster *c, const struct config_pod *pod)
{
    bool running = strcmp(pod->phase, "Running") == 0;
    char ready[32], age[32];
    snprintf(ready, sizeof(ready), "%zu/%zu", running ? pod->containers_len : 0,
             pod->containers_len);
    api_table_age(time(NULL) - rfc3339_parse(c->created), age, sizeof(age));
    return json_pack("{s:[s, s, s, s, s], s:{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s}}}", "cells",
                     pod->name, ready, pod->phase, "0", age, "object", "kind",
                     "PartialObjectMetadata", "apiVersion", "meta.k8s.io/v1", "metadata", "name",
                     pod->name, "namespace", pod->ns, "uid", pod->uid, "resourceVersion", "1",
                     "creationTimestamp", c->created);
}

static json_t *column(const char *name, const char *format, const char *description)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", name, "type", "string", "format", format,
                     "description", description, "priority", 0);
}

json_t *api_table_wrap(json_t *rows)
{
    json_t *cols = json_array();
    cols = api_json_push(cols, column("Name", "name", "Name must be unique within a namespace."));
    cols = api_json_push(cols, column("Ready", "", "The aggregate readiness state of this pod."));
    cols = api_json_push(cols, column("Status", "", "The aggregate status of the containers."));
    cols = api_json_push(cols, column("Restarts", "",
                                      "The number of times the containers "
                                      "in this pod have been restarted."));
    cols = api_json_push(cols, column("Age", "", "CreationTimestamp of the object."));
    return json_pack("{s:s, s:s, s:{s:s}, s:o, s:o}", "kind", "Table", "apiVersion",
                     "meta.k8s.io/v1", "metadata", "resourceVersion", "1", "columnDefinitions",
                     cols, "rows", rows);
}
