// The same-origin Kubernetes API the page needs: namespaces, pods, one pod.
// Works unchanged in local and gateway mode. Errors carry the apiserver's
// metav1.Status message, which is what a person should see.

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

async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(path, { headers, signal: signal ?? null, cache: 'no-store', credentials: 'same-origin' });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new NetworkError('podterm cannot be reached');
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`.trim();
    let reason = '';
    try {
      const s = JSON.parse(text) as { message?: string; reason?: string };
      if (s.message) message = s.message;
      if (s.reason) reason = s.reason;
    } catch {
      if (text.trim()) message = text.trim().slice(0, 300);
    }
    throw new ApiError(res.status, reason, message);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(res.status, 'BadResponse', `unexpected answer from ${path}`);
  }
}

const enc = encodeURIComponent;

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
