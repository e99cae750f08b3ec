// One terminal WebSocket (an exec, a resume, a watch or a join): opens it,
// demultiplexes channels, sends input, resizes and acks, and reports how it
// ended. It knows nothing about the DOM; the shell view (shell.ts) and the
// watch view (watch.ts) decide what to show and whether to reconnect.

import { FlowControl, type FlowSink } from './flow';
import {
  ackFrame,
  CH_INFO,
  CH_STATUS,
  CH_STDERR,
  CH_STDOUT,
  execUrl,
  FLOW_PROTOCOL,
  offeredProtocols,
  parseInfo,
  parseStatus,
  resizeFrame,
  stdinBinaryFrame,
  stdinFrame,
  type ExecTarget,
  type ExitInfo,
  type InfoMessage,
} from './protocol';

/** Where a socket goes and what it offers. */
export interface Endpoint {
  url: string;
  protocols: string[];
}

/** An exec of target, with the page's bearer token (if any) in the offer. */
export function execEndpoint(target: ExecTarget, token: string | null): Endpoint {
  return { url: execUrl(window.location, target), protocols: offeredProtocols(token) };
}

export type SessionEnd =
  | { kind: 'exited'; info: ExitInfo } // the process ended; the server said how
  | { kind: 'refused' } // the WebSocket never opened
  | { kind: 'lost'; code: number }; // it opened, then closed without a status

export interface SessionEvents {
  open(protocol: string): void;
  /** Render bytes; call done() when they are on screen. */
  output(data: Uint8Array, done: () => void): void;
  dropped(total: number): void;
  /** A channel-7 message the page knows (flow protocol only). */
  info?(msg: InfoMessage): void;
  end(how: SessionEnd): void;
}

/** Most input bytes kept while the socket connects (type-ahead). */
const EARLY_INPUT_MAX = 64 * 1024;

export class ExecSession {
  private ws: WebSocket | null = null;
  private flow: FlowControl | null = null;
  private status: ExitInfo | null = null;
  private opened = false;
  private ended = false;
  private size: { cols: number; rows: number } | null = null;
  // Input typed while the socket is still connecting, sent once it opens.
  private early: Uint8Array<ArrayBuffer>[] = [];
  private earlyBytes = 0;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly events: SessionEvents,
  ) {}

  start(): void {
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.endpoint.url, this.endpoint.protocols);
    } catch {
      this.finish({ kind: 'refused' });
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      this.opened = true;
      const sink: FlowSink = {
        write: (data, done) => this.events.output(data, done),
        ack: (n) => this.send(ackFrame(n)),
        dropped: (total) => this.events.dropped(total),
      };
      this.flow = new FlowControl(sink, ws.protocol === FLOW_PROTOCOL);
      if (this.size) this.send(resizeFrame(this.size.cols, this.size.rows));
      for (const frame of this.early) this.send(frame);
      this.early = [];
      this.events.open(ws.protocol);
    };
    ws.onmessage = (ev: MessageEvent) => this.message(ev.data);
    ws.onclose = (ev: CloseEvent) => {
      if (this.status) this.finish({ kind: 'exited', info: this.status });
      else if (!this.opened) this.finish({ kind: 'refused' });
      else this.finish({ kind: 'lost', code: ev.code });
    };
    // onerror is always followed by onclose, which says what happened.
  }

  private message(data: unknown): void {
    let bytes: Uint8Array;
    if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
    else if (typeof data === 'string') bytes = new TextEncoder().encode(data); // not sent by podterm
    else return;
    if (bytes.length === 0) return;
    const channel = bytes[0];
    const payload = bytes.subarray(1);
    if (channel === CH_STDOUT || channel === CH_STDERR) {
      this.flow?.output(payload);
    } else if (channel === CH_STATUS) {
      if (payload.length === 0) return; // the initial empty frame may be on channel 3
      this.status = parseStatus(payload);
    } else if (channel === CH_INFO) {
      const msg = parseInfo(payload);
      if (msg) this.events.info?.(msg);
    }
  }

  private send(frame: Uint8Array<ArrayBuffer>): void {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(frame);
  }

  input(text: string): void {
    this.sendInput(stdinFrame(text));
  }

  inputBinary(binary: string): void {
    this.sendInput(stdinBinaryFrame(binary));
  }

  private sendInput(frame: Uint8Array<ArrayBuffer>): void {
    if (this.status || this.ended) return;
    if (this.opened) {
      this.send(frame);
    } else if (this.earlyBytes + frame.length <= EARLY_INPUT_MAX) {
      this.early.push(frame);
      this.earlyBytes += frame.length;
    }
  }

  /** Remembered, and sent now or right after the socket opens. */
  resize(cols: number, rows: number): void {
    if (this.size && this.size.cols === cols && this.size.rows === rows) return;
    this.size = { cols, rows };
    if (this.opened) this.send(resizeFrame(cols, rows));
  }

  get isOpen(): boolean {
    return this.opened && !this.ended;
  }

  /** Output totals of this connection: received, rendered, acked, dropped bytes. */
  get stats(): { received: number; rendered: number; acked: number; dropped: number } {
    return { ...(this.flow?.stats ?? { received: 0, rendered: 0, acked: 0, dropped: 0 }) };
  }

  get protocol(): string {
    return this.ws?.protocol ?? '';
  }

  /** Close from our side (navigation, reconnect); no end event is reported. */
  close(): void {
    this.ended = true;
    this.flow?.close();
    const ws = this.ws;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
    }
  }

  private finish(how: SessionEnd): void {
    if (this.ended) return;
    this.ended = true;
    this.flow?.close();
    this.events.end(how);
  }
}
