/* api_table.h - meta.k8s.io/v1 Table rows for pods, the form `kubectl get`
 * asks for (Accept: ...;as=Table), with the apiserver's default columns. */
#ifndef PODTERM_API_TABLE_H
#define PODTERM_API_TABLE_H

#include <jansson.h>
#include <time.h>

#include "config/config.h"

json_t *api_table_row(const struct config_cluster *cluster, const struct config_pod *pod);
/* Wrap rows (consumed) in a Table with the pod column definitions. */
json_t *api_table_wrap(json_t *rows);
/* kubectl's short human durations: "45s", "5m12s", "3h", "2d4h", ... */
void api_table_age(time_t seconds, char *out, size_t cap);

#endif
