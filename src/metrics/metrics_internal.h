/* metrics_internal.h - the label sets' names, shared by the registry and
 * its rendering. Not for use outside src/metrics/. */
#ifndef PODTERM_METRICS_INTERNAL_H
#define PODTERM_METRICS_INTERNAL_H

#include "metrics/metrics.h"

const char *metrics_verb_name(enum metrics_verb v);
const char *metrics_result_name(enum metrics_result r);
int metrics_code_value(size_t i); /* 0: the "other" slot */

#endif
