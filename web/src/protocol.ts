// The exec/attach WebSocket protocol as the page speaks it: subprotocol offer,
// client -> server frames, and podterm's flow-control acks. Pure functions, no
// DOM: see PROTOCOL.md sections 2-3 and docs/flow-control.md.

/** podterm's flow-controlled protocol: v5 framing plus acks on channel 6. */
export const FLOW_PROTOCOL = 'v1.flow.podterm.dev';
/**
 * Offered in this order; the server answers one of them. v5.channel.k8s.io is
 * left out on purpose: podterm, like the apiserver, picks v5 wherever it
 * stands in an offer (PROTOCOL.md 2.3 rule 1), which would shadow the flow
 * protocol, and v5 adds nothing a page uses (its close signal is for piped
 * stdin). v4 has the same framing and JSON exit status.
 */
export const CHANNEL_PROTOCOLS = [FLOW_PROTOCOL, 'v4.channel.k8s.io'];
export const TOKEN_PROTOCOL_PREFIX = 'base64url.bearer.authorization.k8s.io.';

export const CH_STDIN = 0;
export const CH_STDOUT = 1;
export const CH_STDERR = 2;
export const CH_STATUS = 3;
export const CH_RESIZE = 4;
export const CH_ACK = 6;
/** Server -> client JSON notes on the flow protocol: session, watchers, size (never on v4/v5). */
export const CH_INFO = 7;

/** The subprotocol item carrying a resume token (an item of its own, never in a URL). */
export const RESUME_PROTOCOL_PREFIX = 'resume.podterm.dev.';
/** The subprotocol item carrying the sign-in session's CSRF token (browser sign-in). */
export const CSRF_PROTOCOL_PREFIX = 'csrf.podterm.dev.';
let csrfItem: string | null = null;
/** With browser sign-in, every WebSocket offers the CSRF item too. */
export function setCsrfToken(token: string | null): void {
  csrfItem = token && /^[A-Za-z0-9_-]{1,64}$/.test(token) ? CSRF_PROTOCOL_PREFIX + token : null;
}

/** podterm's sessions API (its own group, both modes). */
export const SESSIONS_PATH = '/apis/podterm.dev/v1alpha1/sessions';

/** The page acks once this many rendered bytes are unacknowledged (or its write queue drains). */
export const ACK_THRESHOLD = 32 * 1024;

const encoder = new TextEncoder();

function withChannel(channel: number, payload: Uint8Array): Uint8Array<ArrayBuffer> {
  const frame = new Uint8Array(payload.length + 1);
  frame[0] = channel;
  frame.set(payload, 1);
  return frame;
}

/** Keyboard/paste input: UTF-8, never Latin-1. */
export function stdinFrame(text: string): Uint8Array<ArrayBuffer> {
  return withChannel(CH_STDIN, encoder.encode(text));
}

/** xterm's onBinary data (mouse reports in legacy modes): one byte per char code. */
export function stdinBinaryFrame(binary: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i) & 0xff;
  return withChannel(CH_STDIN, bytes);
}

export function resizeFrame(cols: number, rows: number): Uint8Array<ArrayBuffer> {
  const clamp = (n: number) => Math.max(0, Math.min(65535, Math.floor(n)));
  return withChannel(CH_RESIZE, encoder.encode(JSON.stringify({ Width: clamp(cols), Height: clamp(rows) })));
}

/** [0x06] + ASCII decimal count of payload bytes rendered since the last ack. */
export function ackFrame(bytes: number): Uint8Array<ArrayBuffer> {
  return withChannel(CH_ACK, encoder.encode(String(Math.floor(bytes))));
}

/** base64url without padding of the token's UTF-8 bytes. */
export function base64url(text: string): string {
  const bytes = encoder.encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The Sec-WebSocket-Protocol list: the bearer token item (if any) first. */
export function offeredProtocols(token: string | null): string[] {
  const list = [...CHANNEL_PROTOCOLS];
  if (token) list.unshift(TOKEN_PROTOCOL_PREFIX + base64url(token));
  if (csrfItem) list.push(csrfItem);
  return list;
}

/**
 * The offer of a resume: [bearer item,] the resume item, the flow protocol
 * only (resume exists on it alone). The token is checked to be base64url, so
 * nothing a server sent can add items or break the header.
 */
export function resumeProtocols(token: string | null, resume: string): string[] {
  if (!isResumeToken(resume)) throw new Error('not a resume token');
  const list = [RESUME_PROTOCOL_PREFIX + resume, FLOW_PROTOCOL];
  if (token) list.unshift(TOKEN_PROTOCOL_PREFIX + base64url(token));
  if (csrfItem) list.push(csrfItem);
  return list;
}

/** A resume token as the server issues them: base64url, at most RESUME_TOKEN_MAX characters. */
export const RESUME_TOKEN_MAX = 256;
export function isResumeToken(s: string): boolean {
  return s.length > 0 && s.length <= RESUME_TOKEN_MAX && /^[A-Za-z0-9_-]+$/.test(s);
}

/** Where a WebSocket of the sessions API goes: ws(s)://host/apis/.../sessions/ID/SUB */
export function sessionSocketUrl(location: { protocol: string; host: string }, id: string, sub: 'resume' | 'watch' | 'join'): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${SESSIONS_PATH}/${encodeURIComponent(id)}/${sub}`;
}

/** One watcher of a session, as the owner is told. */
export interface Watcher {
  user: string;
  mode: 'watch' | 'join';
}

/** The channel-7 messages the page acts on; anything else parses to null and is ignored. */
export type InfoMessage =
  | { type: 'session'; id: string; resume: string; grace: number }
  | { type: 'watchers'; watchers: Watcher[] }
  | { type: 'size'; width: number; height: number };

/** Largest terminal size a size message may set (the resize frame's own bound). */
const SIZE_MAX = 65535;

export function parseInfo(payload: Uint8Array): InfoMessage | null {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const m = v as Record<string, unknown>;
  const int = (x: unknown, min: number, max: number) =>
    typeof x === 'number' && Number.isInteger(x) && x >= min && x <= max;
  switch (m.type) {
    case 'session':
      if (typeof m.id !== 'string' || !m.id || typeof m.resume !== 'string' || !isResumeToken(m.resume)) return null;
      if (!int(m.grace, 1, 86400)) return null;
      return { type: 'session', id: m.id, resume: m.resume, grace: m.grace as number };
    case 'watchers': {
      if (!Array.isArray(m.watchers)) return null;
      const watchers: Watcher[] = [];
      for (const w of m.watchers as unknown[]) {
        const o = w as { user?: unknown; mode?: unknown } | null;
        if (!o || typeof o.user !== 'string' || (o.mode !== 'watch' && o.mode !== 'join')) continue;
        watchers.push({ user: o.user, mode: o.mode });
      }
      return { type: 'watchers', watchers };
    }
    case 'size':
      if (!int(m.width, 1, SIZE_MAX) || !int(m.height, 1, SIZE_MAX)) return null;
      return { type: 'size', width: m.width as number, height: m.height as number };
    default:
      return null;
  }
}

/** "Watched by bob (watch), carol (join)", or '' for nobody. */
export function watchersText(watchers: Watcher[]): string {
  if (watchers.length === 0) return '';
  return 'Watched by ' + watchers.map((w) => `${w.user} (${w.mode})`).join(', ');
}

/** Resume attempts: 0.5 s, 1 s, 2 s, then every 3 s (the grace is short; no jitter needed for one page). */
export function resumeDelay(attempt: number): number {
  return Math.min(3000, 500 * 2 ** Math.max(0, attempt));
}

export interface ExecTarget {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
}

/** /api/v1/namespaces/NS/pods/POD/exec?container=C&stdin=true&...&command=a&command=b */
export function execPath(t: ExecTarget): string {
  const q = new URLSearchParams();
  if (t.container) q.append('container', t.container);
  for (const k of ['stdin', 'stdout', 'stderr', 'tty']) q.append(k, 'true');
  for (const arg of t.command) q.append('command', arg);
  return `/api/v1/namespaces/${encodeURIComponent(t.namespace)}` +
    `/pods/${encodeURIComponent(t.pod)}/exec?${q.toString()}`;
}

/** ws(s)://host + execPath */
export function execUrl(location: { protocol: string; host: string }, t: ExecTarget): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${execPath(t)}`;
}

/** How the process ended, from the channel-3 message. */
export type ExitInfo =
  | { kind: 'exit'; code: number; message: string }
  | { kind: 'error'; message: string; reason: string };

export function parseStatus(payload: Uint8Array): ExitInfo {
  const text = new TextDecoder().decode(payload);
  let status: unknown;
  try {
    status = JSON.parse(text);
  } catch {
    // Pre-v4 protocols send the failure as plain text.
    return { kind: 'error', message: text.trim() || 'the process failed', reason: '' };
  }
  const s = status as {
    status?: string;
    message?: string;
    reason?: string;
    details?: { causes?: { reason?: string; message?: string }[] };
  };
  if (s.status === 'Success') return { kind: 'exit', code: 0, message: '' };
  const cause = s.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (s.reason === 'NonZeroExitCode' && cause && /^\d+$/.test(cause.message ?? '')) {
    return { kind: 'exit', code: Number(cause.message), message: s.message ?? '' };
  }
  const detail = s.details?.causes?.map((c) => c.message).filter(Boolean).join('; ');
  return {
    kind: 'error',
    message: s.message || detail || 'the process failed',
    reason: s.reason ?? '',
  };
}

/** An exec that failed because the program does not exist (the bash -> sh fallback). */
export function isMissingExecutable(info: ExitInfo): boolean {
  return info.kind === 'error' &&
    /executable file not found|no such file or directory|not found in \$PATH/i.test(info.message);
}
