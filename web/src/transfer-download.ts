// Download: one file of the container to the browser's downloads.
//
// One exec (DOWNLOAD) prints the size on stderr, the bytes on stdout (cat, or
// head -c), then the checksum on stderr. The page passes stdout on to the
// sink (the service worker's stream) and acks each chunk to the server only
// once the sink took it, so with v1.flow.podterm.dev at most the server's
// window (256 KiB) waits in the page. The browser keeps the file only when
// the size, and the checksum when there is one, match what the page hashed.

import { newHasher } from './transfer-hash';
import { TransferExec, type TransferTarget } from './transfer-exec';
import { checksumTool, DOWNLOAD, META, type Probe } from './transfer-scripts';
import { openSink, type DownloadSink } from './transfer-sink';
import { humanBytes, type ProgressSink, type UploadResult } from './transfer-upload';

/** stderr kept for the metadata lines and an error message. */
const STDERR_KEEP = 8192;
/** Output chunks waiting for the sink before the page stops acking (bounded by the server's window anyway). */
const QUEUE_MAX = 64;

export interface DownloadJob {
  target: TransferTarget;
  probe: Probe;
  path: string;
  signal: AbortSignal;
  sink: ProgressSink;
}

export function baseName(path: string): string {
  const parts = path.split('/').filter(Boolean);
  return parts[parts.length - 1] ?? 'download';
}

export async function download(job: DownloadJob): Promise<UploadResult & { bytes: number; streamed: boolean }> {
  const { probe, path, signal } = job;
  const fail = (message: string) => ({ ok: false, message, bytes: 0, streamed: false });
  const reader = probe.tools.has('cat') ? 'cat' : probe.tools.has('head') ? 'head' : null;
  if (!reader) return fail('This container cannot give files: it has neither cat nor head.');
  const alg = checksumTool(probe.tools);
  const name = baseName(path);
  const hasher = alg ? newHasher(alg) : null;

  let stderr = '';
  let size: number | null = null;
  let sizeKnown: () => void = () => {};
  const sizeSeen = new Promise<void>((r) => (sizeKnown = r));
  let sink: DownloadSink | null = null;
  const queue: Uint8Array[] = [];
  let wake: (() => void) | null = null;
  let received = 0;
  let passed = 0;

  const exec: TransferExec = new TransferExec(job.target, ['sh', '-c', DOWNLOAD, 'sh', path, reader, alg ?? '-'], false, {
    data(ch, bytes) {
      if (ch === 2) {
        if (stderr.length < STDERR_KEEP) stderr += new TextDecoder().decode(bytes);
        exec.ack(bytes.length);
        const m = new RegExp(`^${META} size (\\d+|-)$`, 'm').exec(stderr);
        if (m && size === null) {
          size = m[1] === '-' ? -1 : Number(m[1]);
          sizeKnown();
        }
        return;
      }
      received += bytes.length;
      queue.push(bytes); // a view of the message's own buffer; the sink copies it once
      if (queue.length > QUEUE_MAX) exec.abort(); // the server ignored its window: stop rather than grow
      wake?.();
      wake = null;
    },
  });
  const onAbort = () => exec.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  exec.start();
  let streamed = false;
  try {
    const first = await Promise.race([sizeSeen.then(() => 'size' as const), exec.done.then(() => 'end' as const)]);
    if (first === 'end' && size === null) {
      const end = await exec.done;
      if (signal.aborted) return fail('Download cancelled.');
      const text = stderr.split('\n').filter((l) => l && !l.startsWith(META)).join(' ').trim();
      if (end.kind === 'refused') return fail('The server refused the download exec.');
      return fail(`Download failed: ${text || (end.kind === 'exited' ? end.info.message : 'the connection was lost')}`);
    }
    const total = size !== null && size >= 0 ? size : null;
    const opened = await openSink(name, total);
    sink = opened.sink;
    streamed = opened.streamed;
    sink.onCancel = () => exec.abort();
    let ended = false;
    void exec.done.then(() => {
      ended = true;
      wake?.();
      wake = null;
    });
    // Pump: pass each chunk on, then ack it.
    for (;;) {
      const chunk = queue.shift();
      if (!chunk) {
        if (ended) break;
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      const n = chunk.length; // push may move the buffer away
      hasher?.update(chunk);
      await sink.push(chunk);
      passed += n;
      exec.ack(n);
      job.sink.progress(passed, total ?? passed, `from ${path}`);
    }
    const end = await exec.done;
    if (signal.aborted) {
      sink.fail('cancelled');
      return { ...fail('Download cancelled; the browser discards the partial file.'), streamed };
    }
    const ok = end.kind === 'exited' && end.info.kind === 'exit' && end.info.code === 0;
    const errText = stderr.split('\n').filter((l) => l && !l.startsWith(META)).join(' ').trim();
    if (!ok) {
      sink.fail('the transfer failed');
      return { ...fail(`Download failed: ${errText || (end.kind === 'exited' ? end.info.message : 'the connection was lost')}`), streamed };
    }
    if (total !== null && passed !== total) {
      sink.fail('size mismatch');
      return { ...fail(`Download failed: ${passed} bytes arrived, the file has ${total}.`), streamed };
    }
    let check = 'size checked (the container has no sha256sum or md5sum)';
    if (hasher && alg) {
      const m = new RegExp(`^${META} sum ([0-9a-f]+)$`, 'm').exec(stderr);
      const mine = hasher.hex();
      if (!m || m[1] !== mine) {
        sink.fail('checksum mismatch');
        return { ...fail(`Download failed: the ${alg} of what arrived differs from the file's.`), streamed };
      }
      check = `size and ${alg} checked (${mine.slice(0, 16)}…)`;
    }
    sink.end();
    const via = streamed ? '' : ' It was kept in page memory: this page cannot use a service worker.';
    return { ok: true, message: `Downloaded ${name} (${humanBytes(passed)}): ${check}.${via}`, bytes: passed, streamed };
  } catch (e) {
    exec.abort();
    sink?.fail('failed');
    if (signal.aborted) return fail('Download cancelled.');
    return fail(`Download failed: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
