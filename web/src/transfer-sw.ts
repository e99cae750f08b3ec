// The download service worker (transfer-sw.js, scope podterm-transfer/):
// it answers one URL per download, podterm-transfer/<random id>/<name>, with a
// stream the page feeds over a MessagePort, so the browser's own download
// writes the file to disk as it arrives and the page never holds it whole.
// The id is made by the page, used once and forgotten; no token or path of
// the container is in the URL. Nothing here reaches the network.
//
// Backpressure: the stream asks the page for bytes only while less than
// STREAM_QUEUE_MAX bytes wait for the browser's download writer (the page
// sends no more than it was asked for), and the page acks the server's output
// only once it has passed it on here.

/** Bytes queued in the response stream before it stops asking the page for more. */
const STREAM_QUEUE_MAX = 1024 * 1024;
/** A registered download that is never fetched is forgotten after this long. */
const PENDING_TTL_MS = 60 * 1000;
/** Most downloads registered and not yet fetched (ids are one-time). */
const PENDING_MAX = 16;

interface Pending {
  port: MessagePort;
  name: string;
  size: number | null;
  at: number;
}

interface SwScope {
  addEventListener(type: 'install' | 'activate', fn: (ev: { waitUntil(p: Promise<unknown>): void }) => void): void;
  addEventListener(type: 'message', fn: (ev: { data: unknown; ports: readonly MessagePort[] }) => void): void;
  addEventListener(type: 'fetch', fn: (ev: { request: Request; respondWith(r: Promise<Response> | Response): void }) => void): void;
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
  registration: { scope: string };
}

const sw = self as unknown as SwScope;
const pending = new Map<string, Pending>();

sw.addEventListener('install', (ev) => ev.waitUntil(sw.skipWaiting()));
sw.addEventListener('activate', (ev) => ev.waitUntil(sw.clients.claim()));

sw.addEventListener('message', (ev) => {
  const m = ev.data as { type?: unknown; id?: unknown; name?: unknown; size?: unknown } | null;
  if (!m || m.type !== 'download' || typeof m.id !== 'string' || !/^[0-9a-f]{32}$/.test(m.id)) return; // pings too
  const port = ev.ports[0];
  if (!port) return;
  const now = Date.now();
  for (const [id, p] of pending) if (now - p.at > PENDING_TTL_MS) pending.delete(id);
  if (pending.size >= PENDING_MAX) {
    port.postMessage({ type: 'refused' });
    return;
  }
  const size = typeof m.size === 'number' && Number.isSafeInteger(m.size) && m.size >= 0 ? m.size : null;
  pending.set(m.id, { port, name: typeof m.name === 'string' ? m.name : 'download', size, at: now });
  port.postMessage({ type: 'ready' });
});

/** RFC 6266 / 5987: an ASCII fallback and the UTF-8 name. */
function disposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_') || 'download';
  const utf8 = encodeURIComponent(name).replace(/['()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  return `attachment; filename="${fallback}"; filename*=UTF-8''${utf8}`;
}

sw.addEventListener('fetch', (ev) => {
  const url = new URL(ev.request.url);
  const base = new URL(sw.registration.scope);
  if (!url.pathname.startsWith(base.pathname)) return;
  const id = url.pathname.slice(base.pathname.length).split('/')[0];
  const p = pending.get(id);
  if (!p) {
    ev.respondWith(new Response('This download is over or was never started.', { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' } }));
    return;
  }
  pending.delete(id); // one-time
  const port = p.port;
  let wake: (() => void) | null = null;
  // Bytes asked of the page and not yet arrived: the page may send that much
  // (plus the rest of one chunk), so the queue stays near STREAM_QUEUE_MAX
  // while several chunks are on their way at once.
  let asked = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      start(ctrl) {
        port.onmessage = (e: MessageEvent) => {
          const d = e.data as { type?: string; chunk?: ArrayBuffer; offset?: number; message?: string };
          if (d.type === 'data' && d.chunk instanceof ArrayBuffer) {
            const bytes = new Uint8Array(d.chunk, Math.min(d.offset ?? 0, d.chunk.byteLength));
            asked -= bytes.length; // below 0 by the rest of a chunk: the page counts alike
            ctrl.enqueue(bytes);
          } else if (d.type === 'end') ctrl.close();
          else if (d.type === 'error') ctrl.error(new Error(d.message || 'download failed'));
          else return;
          wake?.();
          wake = null;
        };
      },
      pull(ctrl) {
        const want = (ctrl.desiredSize ?? 0) - asked;
        if (want > 0) {
          asked += want;
          port.postMessage({ type: 'pull', bytes: want });
        }
        return new Promise<void>((r) => (wake = r));
      },
      cancel() {
        port.postMessage({ type: 'cancel' });
      },
    },
    { highWaterMark: STREAM_QUEUE_MAX, size: (c) => c?.byteLength ?? 0 },
  );
  const headers: Record<string, string> = {
    'Content-Type': 'application/octet-stream',
    'Content-Disposition': disposition(p.name),
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  };
  if (p.size !== null) headers['Content-Length'] = String(p.size);
  port.postMessage({ type: 'started' });
  ev.respondWith(new Response(stream, { headers }));
});
