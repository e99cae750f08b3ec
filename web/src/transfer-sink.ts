// Where a download's bytes go: the browser's own download, fed through the
// service worker (transfer-sw.ts) as a stream, so a file of any size passes
// through page memory a slice at a time. Where service workers are not
// available (a page not served from a secure context), the bytes are kept as
// Blob parts up to BLOB_FALLBACK_MAX and saved at the end.

/** The service worker's script and the URL space its downloads live under (relative to the page). */
export const SW_SCRIPT = 'transfer-sw.js';
export const SW_SCOPE = 'podterm-transfer/';
/** Without a service worker, the largest download kept in page memory. */
export const BLOB_FALLBACK_MAX = 256 * 1024 * 1024;
/** Longest wait for the service worker to take a download. */
const SW_READY_MS = 10000;
/** A message to the worker at least this often keeps it running during a long download. */
const KEEPALIVE_MS = 10000;

export interface DownloadSink {
  /** Hand over bytes (their buffer may be moved away); resolves once they are passed on (the caller acks the server then). */
  push(chunk: Uint8Array): Promise<void>;
  /** All bytes were verified: let the browser finish the file. */
  end(): void;
  /** Verification or the transfer failed: the browser discards the file. */
  fail(message: string): void;
  /** The person cancelled the download in the browser. */
  onCancel: (() => void) | null;
}

function randomId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

async function activeWorker(): Promise<ServiceWorker> {
  const reg = await navigator.serviceWorker.register(SW_SCRIPT, { scope: SW_SCOPE });
  const w = reg.active ?? reg.waiting ?? reg.installing;
  if (!w) throw new Error('no service worker');
  if (w.state === 'activated') return w;
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('the download worker did not start')), SW_READY_MS);
    const check = () => {
      if (w.state === 'activated') {
        clearTimeout(t);
        resolve();
      } else if (w.state === 'redundant') {
        clearTimeout(t);
        reject(new Error('the download worker failed'));
      }
    };
    w.addEventListener('statechange', check);
    check();
  });
  return w;
}

/** A download of name (size bytes, when known) through the service worker. */
async function workerSink(name: string, size: number | null): Promise<DownloadSink> {
  const worker = await activeWorker();
  const id = randomId();
  const ch = new MessageChannel();
  const port = ch.port1;
  let pulled: (() => void) | null = null;
  let credit = 0; // bytes the worker asked for and has not been sent
  let cancelled = false;
  const sink: DownloadSink = {
    onCancel: null,
    async push(chunk) {
      while (credit <= 0 && !cancelled) await new Promise<void>((r) => (pulled = r));
      if (cancelled) return;
      credit -= chunk.length;
      // Moved, not cloned, to the worker: the WebSocket message's own buffer
      // when the chunk is all of it but the channel byte (the caller is done
      // with it), else a copy.
      const whole = chunk.buffer instanceof ArrayBuffer && chunk.byteOffset + chunk.length === chunk.buffer.byteLength && chunk.byteOffset <= 1;
      const buf = whole ? (chunk.buffer as ArrayBuffer) : chunk.slice().buffer;
      const offset = whole ? chunk.byteOffset : 0;
      port.postMessage({ type: 'data', chunk: buf, offset }, [buf]);
    },
    end() {
      port.postMessage({ type: 'end' });
      done();
    },
    fail(message) {
      port.postMessage({ type: 'error', message });
      done();
    },
  };
  const ready = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('the download worker did not answer')), SW_READY_MS);
    port.onmessage = (ev: MessageEvent) => {
      const type = (ev.data as { type?: string }).type;
      if (type === 'ready') {
        clearTimeout(t);
        resolve();
      } else if (type === 'refused') {
        clearTimeout(t);
        reject(new Error('too many downloads are waiting to start'));
      } else if (type === 'pull') {
        const n = (ev.data as { bytes?: unknown }).bytes;
        credit += typeof n === 'number' && n > 0 ? n : 0;
        pulled?.();
        pulled = null;
      } else if (type === 'cancel') {
        cancelled = true;
        pulled?.();
        pulled = null;
        sink.onCancel?.();
      }
    };
  });
  worker.postMessage({ type: 'download', id, name, size }, [ch.port2]);
  await ready;
  const keepalive = setInterval(() => worker.postMessage({ type: 'ping' }), KEEPALIVE_MS);
  // The browser's download starts with a navigation the worker answers.
  const frame = document.createElement('iframe');
  frame.hidden = true;
  frame.title = 'download';
  frame.src = `${SW_SCOPE}${id}/${encodeURIComponent(name)}`;
  document.body.append(frame);
  function done(): void {
    clearInterval(keepalive);
    setTimeout(() => frame.remove(), KEEPALIVE_MS); // after the browser has taken the end
  }
  return sink;
}

/** Blob parts in memory, saved by a link click at the end. */
function blobSink(name: string): DownloadSink {
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let bytes = 0;
  return {
    onCancel: null,
    async push(chunk) {
      bytes += chunk.length;
      if (bytes > BLOB_FALLBACK_MAX) throw new Error(`without a service worker a download may be at most ${BLOB_FALLBACK_MAX} bytes`);
      parts.push(chunk.slice());
    },
    end() {
      const url = URL.createObjectURL(new Blob(parts, { type: 'application/octet-stream' }));
      parts.length = 0;
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      a.hidden = true;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), KEEPALIVE_MS);
    },
    fail() {
      parts.length = 0;
    },
  };
}

/** The best sink this page has: the worker's stream, else memory (bounded). */
export async function openSink(name: string, size: number | null): Promise<{ sink: DownloadSink; streamed: boolean }> {
  if ('serviceWorker' in navigator && window.isSecureContext) {
    try {
      return { sink: await workerSink(name, size), streamed: true };
    } catch {
      // fall through: memory
    }
  }
  if (size !== null && size > BLOB_FALLBACK_MAX) {
    throw new Error(`this page cannot stream downloads (no service worker) and keeps at most ${BLOB_FALLBACK_MAX} bytes in memory`);
  }
  return { sink: blobSink(name), streamed: false };
}
