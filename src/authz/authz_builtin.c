/* authz_builtin.c - the apiserver's bootstrap discovery policy, always
 * loaded, so that the Roles a team pastes are all it needs: every
 * authenticated identity may read discovery, version and health, and ask
 * what it may do; anyone may read version and health. Names, rules and
 * subjects are the apiserver's own (bootstrappolicy), so the reasons read
 * the same ("... by ClusterRoleBinding "system:discovery" of ClusterRole
 * "system:discovery" to Group "system:authenticated""). A policy file that
 * defines an object of the same kind and name replaces it. */
#include "authz/authz_parse.h"

static const char builtin_text[] =
    "apiVersion: rbac.authorization.k8s.io/v1\n"
    "kind: ClusterRole\n"
    "metadata: {name: \"system:basic-user\"}\n"
    "rules:\n"
    "- verbs: [create]\n"
    "  apiGroups: [authorization.k8s.io]\n"
    "  resources: [selfsubjectaccessreviews, selfsubjectrulesreviews]\n"
    "- verbs: [create]\n"
    "  apiGroups: [authentication.k8s.io]\n"
    "  resources: [selfsubjectreviews]\n"
    "---\n"
    "apiVersion: rbac.authorization.k8s.io/v1\n"
    "kind: ClusterRole\n"
    "metadata: {name: \"system:discovery\"}\n"
    "rules:\n"
    "- verbs: [get]\n"
    "  nonResourceURLs: [/livez, /readyz, /healthz, /version, /version/, /openapi, /openapi/*,\n"
    "                    /api, /api/*, /apis, /apis/*]\n"
    "---\n"
    "apiVersion: rbac.authorization.k8s.io/v1\n"
    "kind: ClusterRole\n"
    "metadata: {name: \"system:public-info-viewer\"}\n"
    "rules:\n"
    "- verbs: [get]\n"
    "  nonResourceURLs: [/livez, /readyz, /healthz, /version, /version/]\n"
    "---\n"
    "apiVersion: rbac.authorization.k8s.io/v1\n"
    "kind: ClusterRoleBinding\n"
    "metadata: {name: \"system:basic-user\"}\n"
    "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "
    "\"system:basic-user\"}\n"
    "subjects:\n"
    "- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: \"system:authenticated\"}\n"
    "---\n"
    "apiVersion: rbac.authorization.k8s.io/v1\n"
    "kind: ClusterRoleBinding\n"
    "metadata: {name: \"system:discovery\"}\n"
    "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "
    "\"system:discovery\"}\n"
    "subjects:\n"
    "- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: \"system:authenticated\"}\n"
    "---\n"
    "apiVersion: rbac.authorization.k8s.io/v1\n"
    "kind: ClusterRoleBinding\n"
    "metadata: {name: \"system:public-info-viewer\"}\n"
    "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "
    "\"system:public-info-viewer\"}\n"
    "subjects:\n"
    "- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: \"system:authenticated\"}\n"
    "- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: \"system:unauthenticated\"}\n";

const char *authz_builtin_yaml(void)
{
    return builtin_text;
}
