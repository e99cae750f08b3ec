/* proto_kind.c - the subprotocols podterm speaks: wire names and properties. */
#include <string.h>

#include "proto/proto.h"

static const char *const PROTO_NAMES[PROTO_KIND_COUNT] = {
    [PROTO_KIND_NONE] = "",
    [PROTO_KIND_CHANNEL] = "channel.k8s.io",
    [PROTO_KIND_BASE64] = "base64.channel.k8s.io",
    [PROTO_KIND_V4] = "v4.channel.k8s.io",
    [PROTO_KIND_V4_BASE64] = "v4.base64.channel.k8s.io",
    [PROTO_KIND_V5] = "v5.channel.k8s.io",
    [PROTO_KIND_PODTERM] = PROTO_FLOW_NAME,
};

const char *proto_kind_name(enum proto_kind kind)
{
    return kind < PROTO_KIND_COUNT ? PROTO_NAMES[kind] : "";
}

int proto_kind_from_name(const char *name, size_t len)
{
    /* "" is not an item a client can offer: it is what no header means. */
    for (int k = PROTO_KIND_CHANNEL; k < PROTO_KIND_COUNT; k++)
        if (strlen(PROTO_NAMES[k]) == len && memcmp(PROTO_NAMES[k], name, len) == 0)
            return k;
    return -1;
}

bool proto_kind_is_base64(enum proto_kind kind)
{
    return kind == PROTO_KIND_BASE64 || kind == PROTO_KIND_V4_BASE64;
}

bool proto_kind_has_json_status(enum proto_kind kind)
{
    return kind == PROTO_KIND_V4 || kind == PROTO_KIND_V4_BASE64 || kind == PROTO_KIND_V5 ||
           kind == PROTO_KIND_PODTERM;
}

bool proto_kind_has_close_signal(enum proto_kind kind)
{
    return kind == PROTO_KIND_V5 || kind == PROTO_KIND_PODTERM;
}

bool proto_frame_is_text(enum proto_kind kind)
{
    return proto_kind_is_base64(kind);
}
