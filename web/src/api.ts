// The same-origin Kubernetes API the page needs: namespaces, pods, one pod,
// what the user may open (a SelfSubjectRulesReview), and why an exec was
// refused. Works unchanged in local and gateway mode. Errors carry the
// apiserver's metav1.Status message, which is what a person should see.

import { parseRulesReview, type RulesReview } from './access';
import { execPath, SESSIONS_PATH, type ExecTarget } from './protocol';
import { csrfToken } from './signin';

const TOKEN_KEY = 'podterm.token';

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage disabled: the token lives as long as nothing asks for it again.
  }
}

/** An HTTP answer that was not 2xx, with the Status message when there was one. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** The server could not be reached at all (down, network lost). */
export class NetworkError extends Error {}

export interface Container {
  name: string;
}

export interface Pod {
  metadata: { name: string; namespace: string };
  spec?: { containers?: Container[]; initContainers?: Container[] };
  status?: { phase?: string };
}

interface List<T> {
  items?: T[];
}

interface Namespace {
  metadata: { name: string };
}

/** The answer of one API request: its status, and the Status as an ApiError when not 2xx. */
async function send(method: 'GET' | 'POST', path: string, body: unknown, signal?: AbortSignal): Promise<{ res: Response; text: string }> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  const csrf = csrfToken(); // browser sign-in: a cookie-authenticated POST needs it
  if (csrf && method !== 'GET') headers['X-CSRF-Token'] = csrf;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      signal: signal ?? null,
      cache: 'no-store',
      credentials: 'same-origin',
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new NetworkError('podterm cannot be reached');
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) throw statusError(res, text);
  return { res, text };
}

function statusError(res: Response, text: string): ApiError {
  let message = `${res.status} ${res.statusText}`.trim();
  let reason = '';
  try {
    const s = JSON.parse(text) as { message?: unknown; reason?: unknown };
    if (typeof s.message === 'string' && s.message) message = s.message;
    if (typeof s.reason === 'string') reason = s.reason;
  } catch {
    if (text.trim()) message = text.trim().slice(0, 300);
  }
  return new ApiError(res.status, reason, message);
}

async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const { res, text } = await send('GET', path, undefined, signal);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(res.status, 'BadResponse', `unexpected answer from ${path}`);
  }
}

const enc = encodeURIComponent;

/** Longest wait for a rules review before the picker shows every pod as unknown. */
export const REVIEW_TIMEOUT_MS = 5000;

export async function listNamespaces(signal?: AbortSignal): Promise<string[]> {
  const list = await getJson<List<Namespace>>('/api/v1/namespaces', signal);
  return (list.items ?? []).map((n) => n.metadata.name).sort();
}

export async function listPods(namespace: string, signal?: AbortSignal): Promise<Pod[]> {
  const list = await getJson<List<Pod>>(`/api/v1/namespaces/${enc(namespace)}/pods`, signal);
  return (list.items ?? []).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

export function getPod(namespace: string, pod: string, signal?: AbortSignal): Promise<Pod> {
  return getJson<Pod>(`/api/v1/namespaces/${enc(namespace)}/pods/${enc(pod)}`, signal);
}

export function containerNames(pod: Pod): string[] {
  return (pod.spec?.containers ?? []).map((c) => c.name);
}

/**
 * The rules the signed-in user has in a namespace, or null when the server
 * cannot say (no review API: an older podterm, or a gateway whose cluster
 * refuses it; 404, 405, anything not a review). Null means unknown, and the
 * page then offers everything, as it did before reviews existed: the server
 * still decides each request. Only an abort is thrown.
 */
export async function reviewRules(namespace: string, signal?: AbortSignal): Promise<RulesReview | null> {
  const body = {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectRulesReview',
    spec: { namespace },
  };
  // A review that does not come (a gateway relaying to a slow cluster) must
  // not hold the pod list back: after REVIEW_TIMEOUT_MS it is unknown.
  const own = new AbortController();
  const stop = () => own.abort();
  signal?.addEventListener('abort', stop, { once: true });
  const timer = setTimeout(stop, REVIEW_TIMEOUT_MS);
  try {
    const { text } = await send('POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', body, own.signal);
    return parseRulesReview(JSON.parse(text));
  } catch (e) {
    if (signal?.aborted) throw e;
    return null;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', stop);
  }
}

/**
 * Why was this exec's WebSocket refused? A browser hides the upgrade's
 * answer, so the same exec is asked again as a plain POST (no upgrade, so
 * nothing runs): the server admits it exactly as the upgrade (authentication,
 * RBAC `create` on pods/exec, ExecPolicy on the same command, container and
 * tty) and answers the Status it refused the upgrade with. Resolves with that
 * error, or null when the plain request was not refused for a reason the
 * page can show (it got as far as "Upgrade request required").
 */
export async function whyExecRefused(target: ExecTarget, signal?: AbortSignal): Promise<ApiError | NetworkError | null> {
  try {
    await send('POST', execPath(target), undefined, signal);
    return null;
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    if (e instanceof ApiError && e.code === 400) return null; // past admission: not why
    if (e instanceof ApiError || e instanceof NetworkError) return e;
    return null;
  }
}

// ---- the sessions API (podterm's own group, served in both modes) ----

export interface SessionItem {
  metadata: { name: string; creationTimestamp?: string };
  spec: {
    user: string;
    namespace: string;
    pod: string;
    container: string;
    command: string[];
    tty: boolean;
    stdin: boolean;
    kind: 'exec' | 'attach';
  };
  status: {
    phase: 'Running' | 'Ended';
    started?: string;
    ended?: string;
    exitCode?: number;
    endReason?: string;
    watchers?: number;
    recorded?: boolean;
  };
}

/** Live and ended sessions, newest first (without RBAC on sessions: the user's own). */
export async function listSessions(signal?: AbortSignal): Promise<SessionItem[]> {
  const list = await getJson<List<SessionItem>>(SESSIONS_PATH, signal);
  return list.items ?? [];
}

export function getSession(id: string, signal?: AbortSignal): Promise<SessionItem> {
  return getJson<SessionItem>(`${SESSIONS_PATH}/${enc(id)}`, signal);
}

/** A session's recording (asciicast v2 text), with the terminal's credentials. */
export async function getRecording(id: string, signal?: AbortSignal): Promise<string> {
  const { text } = await send('GET', `${SESSIONS_PATH}/${enc(id)}/recording`, undefined, signal);
  return text;
}
