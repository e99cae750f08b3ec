/* backend.c - mode-agnostic dispatch of backend_stream_* to the backend's ops. */
#include "backend/backend.h"

int backend_stream_start(struct backend *backend, const struct backend_exec_request *req,
                         const struct backend_stream_cbs *cbs, void *user,
                         struct backend_stream **out, char *err, size_t err_cap)
{
    return backend->ops->start(backend, req, cbs, user, out, err, err_cap);
}

ssize_t backend_stream_read(struct backend_stream *stream, int channel, uint8_t *buf, size_t cap)
{
    return stream->ops->read(stream, channel, buf, cap);
}

void backend_stream_want_read(struct backend_stream *stream, int channel, bool on)
{
    stream->ops->want_read(stream, channel, on);
}

ssize_t backend_stream_write(struct backend_stream *stream, const uint8_t *buf, size_t len)
{
    return stream->ops->write(stream, buf, len);
}

void backend_stream_close_stdin(struct backend_stream *stream)
{
    stream->ops->close_stdin(stream);
}

void backend_stream_resize(struct backend_stream *stream, uint16_t width, uint16_t height)
{
    stream->ops->resize(stream, width, height);
}

void backend_stream_stop(struct backend_stream *stream)
{
    stream->ops->stop(stream);
}

void backend_free(struct backend *backend)
{
    if (backend)
        backend->ops->free(backend);
}
