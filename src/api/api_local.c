/* api_local.c - the Kubernetes REST subset for local pods (DESIGN.md "The API
 * subset"): discovery, namespaces, pods (list and get), as real apiserver
 * JSON that kubectl, the client libraries and the web UI accept. When a
 * client asks for a Table (kubectl get), it gets the apiserver's columns. */
#include "server/server_internal.h"

#include "api/api.h"
#include "server/http_reply.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api_json.h"
#include "api/api_select.h"
#include "api/api_table.h"
#include "util/util_json.h"

#define API_VERSION_MINOR "33" /* the Kubernetes API level podterm follows */
#define API_ACCEPT_MAX 1024
#define API_QUERY_VALUE_MAX 1024

static json_t *api_kv_object(const struct config_kv *kv, size_t n)
{
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++)
        o = api_json_put(o, kv[i].key, json_string(kv[i].value));
    return o;
}

static json_t *api_pod_metadata(const struct config_cluster *c, const struct config_pod *pod)
{
    json_t *md =
        json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", pod->name, "namespace", pod->ns, "uid",
                  pod->uid, "resourceVersion", "1", "creationTimestamp", c->created);
    if (pod->labels_len)
        md = api_json_put(md, "labels", api_kv_object(pod->labels, pod->labels_len));
    if (pod->default_container)
        md = api_json_put(
            md, "annotations",
            json_pack("{s:s}", "kubectl.kubernetes.io/default-container", pod->default_container));
    return md;
}

static json_t *api_container_json(const struct config_container *ct)
{
    json_t *o = json_pack("{s:s, s:s}", "name", ct->name, "image", "podterm/local");
    json_t *cmd = json_array();
    if (ct->command_len)
        for (size_t i = 0; i < ct->command_len; i++)
            cmd = api_json_push(cmd, json_string(ct->command[i]));
    else
        cmd = api_json_push(cmd, json_string("/bin/sh"));
    o = api_json_put(o, "command", cmd);
    if (ct->workdir)
        o = api_json_put(o, "workingDir", json_string(ct->workdir));
    if (ct->env_len) {
        json_t *env = json_array();
        for (size_t i = 0; i < ct->env_len; i++)
            env = api_json_push(
                env, json_pack("{s:s, s:s}", "name", ct->env[i].key, "value", ct->env[i].value));
        o = api_json_put(o, "env", env);
    }
    if (ct->tty)
        o = api_json_put(o, "tty", json_true());
    if (ct->stdin_open)
        o = api_json_put(o, "stdin", json_true());
    return o;
}

static json_t *api_pod_status(const struct config_cluster *c, const struct config_pod *pod)
{
    bool running = strcmp(pod->phase, "Running") == 0;
    json_t *statuses = json_array();
    for (size_t i = 0; i < pod->containers_len; i++) {
        json_t *state = running ? json_pack("{s:{s:s}}", "running", "startedAt", c->created)
                                : json_pack("{s:{s:i, s:s}}", "terminated", "exitCode", 0, "reason",
                                            "Completed");
        statuses =
            api_json_push(statuses, json_pack("{s:s, s:b, s:i, s:s, s:s, s:b, s:o}", "name",
                                              pod->containers[i].name, "ready", running,
                                              "restartCount", 0, "image", "podterm/local",
                                              "imageID", "", "started", running, "state", state));
    }
    return json_pack("{s:s, s:s, s:s, s:s, s:[{s:s, s:s}], s:o}", "phase", pod->phase, "hostIP",
                     "127.0.0.1", "podIP", "127.0.0.1", "startTime", c->created, "conditions",
                     "type", "Ready", "status", running ? "True" : "False", "containerStatuses",
                     statuses);
}

static json_t *api_pod_json(const struct config_cluster *c, const struct config_pod *pod,
                            bool with_type)
{
    json_t *containers = json_array();
    for (size_t i = 0; i < pod->containers_len; i++)
        containers = api_json_push(containers, api_container_json(&pod->containers[i]));
    char host[256] = "localhost";
    gethostname(host, sizeof(host) - 1);
    json_t *pod_json =
        json_pack("{s:o, s:{s:o, s:s}, s:o}", "metadata", api_pod_metadata(c, pod), "spec",
                  "containers", containers, "nodeName", host, "status", api_pod_status(c, pod));
    if (with_type) {
        pod_json = api_json_put(pod_json, "kind", json_string("Pod"));
        pod_json = api_json_put(pod_json, "apiVersion", json_string("v1"));
    }
    return pod_json;
}

static json_t *api_namespace_json(const struct config_cluster *c, const char *ns, bool with_type)
{
    json_t *o = json_pack("{s:{s:s, s:s, s:s}, s:{s:[s]}, s:{s:s}}", "metadata", "name", ns,
                          "resourceVersion", "1", "creationTimestamp", c->created, "spec",
                          "finalizers", "kubernetes", "status", "phase", "Active");
    if (with_type) {
        o = api_json_put(o, "kind", json_string("Namespace"));
        o = api_json_put(o, "apiVersion", json_string("v1"));
    }
    return o;
}

/* json serialized into a new buffer (NUL-terminated), or NULL: all of it
 * or none (util_json.h), never corrupt JSON with a 200. */
static char *api_json_text(const json_t *json, size_t *len)
{
    return util_json_text(json, JSON_COMPACT | JSON_PRESERVE_ORDER, false, len);
}

/* api.h: answer with json (consumed); one that could not be built (NULL) or
 * serialized (out of memory) is a 500 Status, not a dropped connection. */
int api_send(struct lws *wsi, int code, json_t *json)
{
    size_t len = 0;
    char *text = api_json_text(json, &len);
    json_decref(json);
    if (!text)
        return http_reply_status(wsi, 500, "InternalError", "out of memory", NULL, NULL) < 0 ? -1
                                                                                             : 1;
    int rc = http_reply_json(wsi, code, text, len);
    free(text);
    return rc < 0 ? -1 : 1;
}

static int api_status(struct lws *wsi, int code, const char *reason, const char *message,
                      const char *name, const char *kind)
{
    return http_reply_status(wsi, code, reason, message, name, kind) < 0 ? -1 : 1;
}

/* ---- discovery ---- */

static int api_discovery(struct lws *wsi, const char *path)
{
    if (strcmp(path, "/version") == 0)
        return api_send(wsi, 200,
                        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "major", "1",
                                  "minor", API_VERSION_MINOR, "gitVersion",
                                  "v1." API_VERSION_MINOR ".0-podterm", "gitCommit", "",
                                  "gitTreeState", "clean", "buildDate", __DATE__, "goVersion", "",
                                  "compiler", "podterm", "platform", "linux/amd64"));
    if (strcmp(path, "/api") == 0 || strcmp(path, "/api/") == 0) {
        char host[SERVER_HEADER_VALUE_MAX] = "127.0.0.1";
        http_header_copy(wsi, WSI_TOKEN_HOST, host, sizeof(host));
        return api_send(wsi, 200,
                        json_pack("{s:s, s:[s], s:[{s:s, s:s}]}", "kind", "APIVersions", "versions",
                                  "v1", "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0",
                                  "serverAddress", host));
    }
    /* The one group: podterm's sessions (api_sessions.h), so discovery
     * (kubectl api-resources, auth can-i, get) knows its resources. */
    if (strcmp(path, "/apis") == 0 || strcmp(path, "/apis/") == 0)
        return api_send(wsi, 200,
                        json_pack("{s:s, s:s, s:[{s:s, s:[{s:s, s:s}], s:{s:s, s:s}}]}", "kind",
                                  "APIGroupList", "apiVersion", "v1", "groups", "name",
                                  "podterm.dev", "versions", "groupVersion", "podterm.dev/v1alpha1",
                                  "version", "v1alpha1", "preferredVersion", "groupVersion",
                                  "podterm.dev/v1alpha1", "version", "v1alpha1"));
    if (strcmp(path, "/api/v1") == 0 || strcmp(path, "/api/v1/") == 0)
        return api_send(wsi, 200,
                        json_pack("{s:s, s:s, s:[{s:s, s:s, s:b, s:s, s:[s, s], s:[s]}, "
                                  "{s:s, s:s, s:b, s:s, s:[s, s]}, {s:s, s:s, s:b, s:s, s:[s, s]}, "
                                  "{s:s, s:s, s:b, s:s, s:[s, s], s:[s]}]}",
                                  "kind", "APIResourceList", "groupVersion", "v1", "resources",
                                  "name", "pods", "singularName", "pod", "namespaced", 1, "kind",
                                  "Pod", "verbs", "get", "list", "shortNames", "po", "name",
                                  "pods/exec", "singularName", "", "namespaced", 1, "kind",
                                  "PodExecOptions", "verbs", "create", "get", "name", "pods/attach",
                                  "singularName", "", "namespaced", 1, "kind", "PodAttachOptions",
                                  "verbs", "create", "get", "name", "namespaces", "singularName",
                                  "namespace", "namespaced", 0, "kind", "Namespace", "verbs", "get",
                                  "list", "shortNames", "ns"));
    return 0;
}

/* ---- lists ---- */

static bool api_wants_table(struct lws *wsi)
{
    char accept[API_ACCEPT_MAX];
    return http_header_copy(wsi, WSI_TOKEN_HTTP_ACCEPT, accept, sizeof(accept)) > 0 &&
           strstr(accept, "as=Table") != NULL;
}

/* The first value of query parameter `name` ("" if absent or too long). */
static void api_query_value(struct lws *wsi, const char *name, char *out, size_t cap)
{
    char key[64], buf[API_QUERY_VALUE_MAX + 64];
    snprintf(key, sizeof(key), "%s=", name);
    const char *v = lws_get_urlarg_by_name(wsi, key, buf, (int)sizeof(buf));
    snprintf(out, cap, "%s", v ? v : "");
}

static int api_pod_list(struct server *server, struct lws *wsi, const char *ns)
{
    const struct config_cluster *c = server->opts.cluster;
    char label_sel[API_QUERY_VALUE_MAX] = "", field_sel[API_QUERY_VALUE_MAX] = "";
    api_query_value(wsi, "labelSelector", label_sel, sizeof(label_sel));
    api_query_value(wsi, "fieldSelector", field_sel, sizeof(field_sel));
    struct api_selector sel;
    char err[256];
    if (api_selector_parse(&sel, label_sel, field_sel, err, sizeof(err)) < 0)
        return api_status(wsi, 400, "BadRequest", err, NULL, NULL);
    bool table = api_wants_table(wsi);
    json_t *items = json_array();
    for (size_t i = 0; i < c->pods_len; i++) {
        const struct config_pod *pod = &c->pods[i];
        if ((ns && strcmp(pod->ns, ns) != 0) || !api_selector_match(&sel, pod))
            continue;
        items = api_json_push(items, table ? api_table_row(c, pod) : api_pod_json(c, pod, false));
    }
    if (table)
        return api_send(wsi, 200, api_table_wrap(items));
    return api_send(wsi, 200,
                    json_pack("{s:s, s:s, s:{s:s}, s:o}", "kind", "PodList", "apiVersion", "v1",
                              "metadata", "resourceVersion", "1", "items", items));
}

static int api_namespace_list(struct server *server, struct lws *wsi)
{
    const struct config_cluster *c = server->opts.cluster;
    json_t *items = json_array();
    for (size_t i = 0; i < c->namespaces_len; i++)
        items = api_json_push(items, api_namespace_json(c, c->namespaces[i], false));
    return api_send(wsi, 200,
                    json_pack("{s:s, s:s, s:{s:s}, s:o}", "kind", "NamespaceList", "apiVersion",
                              "v1", "metadata", "resourceVersion", "1", "items", items));
}

/* Split "/api/v1/namespaces/NS[/pods[/NAME]]" into its segments. */
static int api_namespaced(struct server *server, struct lws *wsi, const char *rest)
{
    const struct config_cluster *c = server->opts.cluster;
    char ns[CONFIG_NAME_MAX + 1], name[CONFIG_NAME_MAX + 1];
    const char *slash = strchr(rest, '/');
    size_t nslen = slash ? (size_t)(slash - rest) : strlen(rest);
    if (nslen == 0 || nslen > CONFIG_NAME_MAX)
        return 0;
    snprintf(ns, sizeof(ns), "%.*s", (int)nslen, rest);
    if (!slash || strcmp(slash, "/") == 0) {
        if (!config_namespace_exists(c, ns)) {
            char msg[CONFIG_NAME_MAX + 64];
            snprintf(msg, sizeof(msg), "namespaces \"%s\" not found", ns);
            return api_status(wsi, 404, "NotFound", msg, ns, "namespaces");
        }
        return api_send(wsi, 200, api_namespace_json(c, ns, true));
    }
    if (strcmp(slash, "/pods") == 0 || strcmp(slash, "/pods/") == 0)
        return api_pod_list(server, wsi, ns);
    if (strncmp(slash, "/pods/", 6) != 0)
        return 0;
    const char *pod = slash + 6;
    if (strchr(pod, '/') || strlen(pod) > CONFIG_NAME_MAX)
        return 0;
    snprintf(name, sizeof(name), "%s", pod);
    const struct config_pod *p = config_pod_find(c, ns, name);
    if (!p) {
        char msg[CONFIG_NAME_MAX + 64];
        snprintf(msg, sizeof(msg), "pods \"%s\" not found", name);
        return api_status(wsi, 404, "NotFound", msg, name, "pods");
    }
    return api_send(wsi, 200, api_pod_json(c, p, true));
}

int api_local_handle(struct server *server, struct lws *wsi, const char *path)
{
    int rc = api_discovery(wsi, path);
    if (rc != 0)
        return rc;
    if (strcmp(path, "/api/v1/namespaces") == 0)
        return api_namespace_list(server, wsi);
    if (strcmp(path, "/api/v1/pods") == 0)
        return api_pod_list(server, wsi, NULL);
    if (strncmp(path, "/api/v1/namespaces/", 19) == 0)
        return api_namespaced(server, wsi, path + 19);
    return 0;
}
