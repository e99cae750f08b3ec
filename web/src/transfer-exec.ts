// One exec of a file transfer: a WebSocket to the same exec API a shell uses
// (so the same admission, RBAC/ExecPolicy and audit), but on pipes (tty=false):
// stdout and stderr apart, bytes untouched. Output is handed to the caller,
// which acks it only once it has been consumed (written to the download, or
// parsed), so with v1.flow.podterm.dev the server never has more than its
// window in flight. Input waits on the socket's bufferedAmount, and the
// server stops reading the socket while the process does not read its stdin,
// so neither side holds more than IN_FLIGHT_MAX plus the kernel's buffers.

import { getToken } from './api';
import {
  ackFrame,
  CH_STATUS,
  CH_STDERR,
  CH_STDIN,
  CH_STDOUT,
  FLOW_PROTOCOL,
  offeredProtocols,
  parseStatus,
  type ExitInfo,
} from './protocol';

/** v5's close signal: [0xFF, channel]. The flow protocol has it too (docs/flow-control.md). */
const CH_CLOSE = 0xff;
/** Most bytes the page lets the socket buffer before it waits (upload). */
export const IN_FLIGHT_MAX = 1024 * 1024;
/**
 * Largest stdin frame. Browsers and podterm move several mid-sized frames
 * faster than one large one (measured: 64 KiB frames about twice the rate of
 * 1 MiB ones), and the server's stdin buffer holds 64 KiB.
 */
const FRAME_BYTES = 64 * 1024;
/** How often a waiting writer looks at bufferedAmount again (there is no drain event). */
const DRAIN_POLL_MS = 5;
/** Output a small command (probe, ls, finish) may print; more is cut off. */
export const SMALL_OUTPUT_MAX = 256 * 1024;

export interface TransferTarget {
  namespace: string;
  pod: string;
  container: string;
}

/** /api/v1/namespaces/NS/pods/POD/exec on pipes: stdout and stderr, stdin only when asked. */
export function transferExecPath(t: TransferTarget, command: string[], stdin: boolean): string {
  const q = new URLSearchParams();
  if (t.container) q.append('container', t.container);
  if (stdin) q.append('stdin', 'true');
  q.append('stdout', 'true');
  q.append('stderr', 'true');
  for (const arg of command) q.append('command', arg);
  return `/api/v1/namespaces/${encodeURIComponent(t.namespace)}/pods/${encodeURIComponent(t.pod)}/exec?${q.toString()}`;
}

export type ExecEnd =
  | { kind: 'exited'; info: ExitInfo }
  | { kind: 'refused' }
  | { kind: 'lost'; code: number };

export interface ExecSink {
  /** stdout/stderr payload; call the exec's ack(n) once it is consumed. */
  data(channel: 1 | 2, bytes: Uint8Array): void;
}

export class TransferExec {
  private ws: WebSocket | null = null;
  private status: ExitInfo | null = null;
  private endResolve!: (end: ExecEnd) => void;
  private openResolve!: (ok: boolean) => void;
  private finished = false;
  /** Resolves once, when the exec is over (how). */
  readonly done: Promise<ExecEnd>;
  /** Resolves true when the socket opened, false when it never did. */
  readonly opened: Promise<boolean>;

  constructor(
    readonly target: TransferTarget,
    readonly command: string[],
    private readonly stdin: boolean,
    private readonly sink: ExecSink,
  ) {
    this.done = new Promise((r) => (this.endResolve = r));
    this.opened = new Promise((r) => (this.openResolve = r));
  }

  start(): void {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = `${scheme}//${location.host}${transferExecPath(this.target, this.command, this.stdin)}`;
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, offeredProtocols(getToken()));
    } catch {
      this.finish({ kind: 'refused' });
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    let wasOpen = false;
    ws.onopen = () => {
      wasOpen = true;
      this.openResolve(true);
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (!(ev.data instanceof ArrayBuffer) || ev.data.byteLength === 0) return;
      const bytes = new Uint8Array(ev.data);
      const payload = bytes.subarray(1);
      if (bytes[0] === CH_STDOUT || bytes[0] === CH_STDERR) {
        if (payload.length) this.sink.data(bytes[0] as 1 | 2, payload);
      } else if (bytes[0] === CH_STATUS && payload.length) {
        this.status = parseStatus(payload);
      }
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.status) this.finish({ kind: 'exited', info: this.status });
      else if (!wasOpen) this.finish({ kind: 'refused' });
      else this.finish({ kind: 'lost', code: ev.code });
    };
  }

  /** The flow protocol acks consumed output; the others need nothing. */
  get acks(): boolean {
    return this.ws?.protocol === FLOW_PROTOCOL;
  }

  /** Whether stdin can be closed (v5 and the flow protocol have the close signal). */
  get canCloseStdin(): boolean {
    const p = this.ws?.protocol ?? '';
    return p === FLOW_PROTOCOL || p === 'v5.channel.k8s.io';
  }

  ack(n: number): void {
    if (n > 0 && this.acks) this.send(ackFrame(n));
  }

  /** Send stdin bytes, in frames of FRAME_BYTES, as the socket has room; false when the exec is over. */
  async write(bytes: Uint8Array): Promise<boolean> {
    for (let off = 0; off < bytes.length || (off === 0 && bytes.length === 0); off += FRAME_BYTES) {
      const part = bytes.subarray(off, Math.min(bytes.length, off + FRAME_BYTES));
      while (this.ws && !this.finished && this.ws.bufferedAmount > IN_FLIGHT_MAX - part.length) {
        await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
      }
      if (!this.ws || this.finished || this.ws.readyState !== WebSocket.OPEN) return false;
      const frame = new Uint8Array(part.length + 1);
      frame[0] = CH_STDIN;
      frame.set(part, 1);
      this.ws.send(frame);
      if (bytes.length === 0) break;
    }
    return true;
  }

  /** Bytes handed to the socket and not yet sent. */
  get buffered(): number {
    return this.ws?.bufferedAmount ?? 0;
  }

  closeStdin(): void {
    this.send(new Uint8Array([CH_CLOSE, CH_STDIN]));
  }

  private send(frame: Uint8Array<ArrayBuffer>): void {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(frame);
  }

  /** Stop now (cancel): the socket closes, the process loses its stdin and output. */
  abort(): void {
    const ws = this.ws;
    if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) ws.close(1000);
    this.finish({ kind: 'lost', code: 1000 });
  }

  private finish(end: ExecEnd): void {
    if (this.finished) return;
    this.finished = true;
    if (this.ws) this.ws.onopen = this.ws.onmessage = this.ws.onclose = null;
    this.openResolve(false);
    this.endResolve(end);
  }
}

export interface SmallResult {
  end: ExecEnd;
  code: number | null; // exit code when the process ran
  stdout: string;
  stderr: string;
  /** The server's protocol lets stdin be closed (v5, v1.flow.podterm.dev). */
  canCloseStdin: boolean;
}

/** Run a short command with no stdin, collecting at most SMALL_OUTPUT_MAX bytes of each stream. */
export async function runSmall(target: TransferTarget, command: string[], signal?: AbortSignal): Promise<SmallResult> {
  const chunks: Record<1 | 2, Uint8Array[]> = { 1: [], 2: [] };
  const sizes = { 1: 0, 2: 0 };
  const exec: TransferExec = new TransferExec(target, command, false, {
    data(ch, bytes) {
      if (sizes[ch] + bytes.length <= SMALL_OUTPUT_MAX) {
        chunks[ch].push(bytes.slice());
        sizes[ch] += bytes.length;
      }
      exec.ack(bytes.length);
    },
  });
  const onAbort = () => exec.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  exec.start();
  const end = await exec.done;
  signal?.removeEventListener('abort', onAbort);
  const text = (list: Uint8Array[]) => {
    const all = new Uint8Array(list.reduce((n, c) => n + c.length, 0));
    let o = 0;
    for (const c of list) {
      all.set(c, o);
      o += c.length;
    }
    return new TextDecoder().decode(all);
  };
  const code = end.kind === 'exited' && end.info.kind === 'exit' ? end.info.code : null;
  return { end, code, stdout: text(chunks[1]), stderr: text(chunks[2]), canCloseStdin: exec.canCloseStdin };
}
