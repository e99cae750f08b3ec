// Output flow: what the page owes the server once bytes are on screen.
//
// With v1.flow.podterm.dev the server stops reading the process while more
// than 256 KiB of output are unacknowledged, so the page must ack what xterm
// has rendered (its write callback): at least every ACK_THRESHOLD bytes, and
// whenever its write queue drains. That keeps both memories bounded and the
// browser's event loop free for keystrokes (Ctrl-C) during a flood.
//
// Without it (a server that chose v5/v4) nothing slows the sender, so the page
// bounds its own queue instead: beyond DROP_QUEUED bytes waiting to be
// rendered, new output is discarded and counted, and the user is told.

import { ACK_THRESHOLD } from './protocol';

/** Non-flow protocols only: most bytes waiting for xterm before output is dropped. */
export const DROP_QUEUED = 8 * 1024 * 1024;

export interface FlowSink {
  /** Hand bytes to the renderer; call done() once they are rendered. */
  write(data: Uint8Array, done: () => void): void;
  /** Send an ack of n bytes (flow protocol only). */
  ack(n: number): void;
  /** Output was dropped (non-flow protocol only); total so far. */
  dropped(total: number): void;
}

export class FlowControl {
  private queued = 0; // handed to xterm, not yet rendered
  private unacked = 0; // rendered, not yet acked
  private droppedTotal = 0;
  private closed = false;
  /** Totals for this connection (shown by the debug handle, used by tests). */
  readonly stats = { received: 0, rendered: 0, acked: 0, dropped: 0 };

  constructor(private readonly sink: FlowSink, private readonly acking: boolean) {}

  /** Output payload from channel 1 or 2. */
  output(data: Uint8Array): void {
    if (data.length === 0 || this.closed) return;
    this.stats.received += data.length;
    if (!this.acking && this.queued + data.length > DROP_QUEUED) {
      this.droppedTotal += data.length;
      this.stats.dropped = this.droppedTotal;
      this.sink.dropped(this.droppedTotal);
      return;
    }
    const n = data.length;
    this.queued += n;
    this.sink.write(data, () => this.rendered(n));
  }

  private rendered(n: number): void {
    this.queued -= n;
    this.stats.rendered += n;
    if (!this.acking || this.closed) return;
    this.unacked += n;
    if (this.unacked >= ACK_THRESHOLD || this.queued === 0) {
      const count = this.unacked;
      this.unacked = 0;
      this.stats.acked += count;
      this.sink.ack(count);
    }
  }

  /** Bytes handed to the renderer and not yet rendered. */
  get pending(): number {
    return this.queued;
  }

  /** The connection is gone: stop acking (writes already queued still render). */
  close(): void {
    this.closed = true;
  }
}
