// Browser sign-in (podterm's --oidc-redirect-url): who is signed in, the
// CSRF token the page sends with every request that changes something and
// every WebSocket, and the ways in and out. The session itself is an
// HttpOnly cookie this script never sees; nothing here is stored.

export interface SignedIn {
  user: string;
  groups: string[];
  csrfToken: string;
  signOut: string;
}

const USERINFO_PATH = '/oauth2/userinfo';
const SIGN_IN_PATH = '/oauth2/sign_in';

let current: SignedIn | null = null;
let enabled = false;

/** The CSRF token of the sign-in session, or null (sign-in off, or signed out). */
export function csrfToken(): string | null {
  return current?.csrfToken ?? null;
}

/** Is browser sign-in on (then a refused request means: sign in again)? */
export function signinEnabled(): boolean {
  return enabled;
}

function isSignedIn(v: unknown): v is SignedIn {
  const o = v as SignedIn;
  return (
    typeof o === 'object' && o !== null && typeof o.user === 'string' && Array.isArray(o.groups) &&
    typeof o.csrfToken === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(o.csrfToken) && typeof o.signOut === 'string'
  );
}

/**
 * Ask the server who is signed in. 200: signed in; 401 with sign-in on:
 * nobody yet; anything else (404, the page itself): sign-in is off.
 */
export async function loadSignin(): Promise<SignedIn | null> {
  try {
    const res = await fetch(USERINFO_PATH, { cache: 'no-store', credentials: 'same-origin', headers: { Accept: 'application/json' } });
    const text = await res.text();
    if (res.status === 401) {
      const s = JSON.parse(text) as { kind?: string };
      enabled = s.kind === 'Status';
      return null;
    }
    const v = res.ok ? (JSON.parse(text) as unknown) : null;
    if (isSignedIn(v)) {
      enabled = true;
      current = v;
    }
  } catch {
    // not JSON: sign-in is off
  }
  return current;
}

/** Off to the identity provider, and back to this very page. */
export function signIn(): void {
  const rd = location.pathname + location.search + location.hash;
  location.assign(`${SIGN_IN_PATH}?rd=${encodeURIComponent(rd)}`);
}

/** End the sign-in session, then go where the server says (the provider's sign-out, or the page). */
export async function signOut(): Promise<void> {
  const s = current;
  if (!s) return;
  const res = await fetch(s.signOut, {
    method: 'POST',
    cache: 'no-store',
    credentials: 'same-origin',
    headers: { Accept: 'application/json', 'X-CSRF-Token': s.csrfToken },
  });
  current = null;
  let next = '/';
  try {
    const body = (await res.json()) as { location?: unknown };
    if (typeof body.location === 'string' && /^(https:\/\/|\/)/.test(body.location)) next = body.location;
  } catch {
    // no body: back to the page
  }
  location.assign(next);
}
