/* authz_parse_exec.c - podterm.dev/v1alpha1 ExecPolicy documents. */
#include "authz/authz_parse.h"

int authz_parse_exec_policy(struct authz_parse *p, struct fy_node *root, int line)
{
    return authz_fail(p, line, "ExecPolicy is not supported yet");
}
