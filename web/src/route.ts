// Deep links live in the URL fragment, so the server serves one page for all:
//
//   #/                               pick a namespace, pod and container
//   #/NS                             the picker, on namespace NS
//   #/NS/POD                         a shell in POD's first container
//   #/NS/POD/CONTAINER               a shell in CONTAINER
//   ...?command=ARG&command=ARG      the argv to run (default: bash, else sh)
//   #/-/sessions                     live and past sessions
//   #/-/sessions/ID                  replay session ID's recording
//   #/-/sessions/ID/watch            watch live session ID (read-only)
//   #/-/sessions/ID/join             join live session ID (its keyboard too)
//
// "-" cannot be a namespace (a DNS label starts with a letter or digit), so
// the sessions' routes never shadow a namespace's.
//
// Segments are percent-encoded; command repeats once per argv element, like
// the exec API's query.

export type Route =
  | { view: 'picker'; namespace: string }
  | { view: 'shell'; namespace: string; pod: string; container: string; command: string[] }
  | { view: 'sessions' }
  | { view: 'replay'; id: string }
  | { view: 'watch'; id: string; mode: 'watch' | 'join' };

export function parseRoute(hash: string): Route {
  let h = hash.startsWith('#') ? hash.slice(1) : hash;
  let query = '';
  const q = h.indexOf('?');
  if (q >= 0) {
    query = h.slice(q + 1);
    h = h.slice(0, q);
  }
  const parts = h.split('/').filter((p) => p !== '').map(safeDecode);
  const command = new URLSearchParams(query).getAll('command').filter((c) => c !== '');
  if (parts[0] === '-') {
    if (parts[1] === 'sessions' && parts[2] && (parts[3] === 'watch' || parts[3] === 'join')) {
      return { view: 'watch', id: parts[2], mode: parts[3] };
    }
    if (parts[1] === 'sessions' && parts[2]) return { view: 'replay', id: parts[2] };
    if (parts[1] === 'sessions') return { view: 'sessions' };
    return { view: 'picker', namespace: '' };
  }
  if (parts.length >= 2) {
    return { view: 'shell', namespace: parts[0], pod: parts[1], container: parts[2] ?? '', command };
  }
  return { view: 'picker', namespace: parts[0] ?? '' };
}

export function routeHash(r: Route): string {
  const e = encodeURIComponent;
  if (r.view === 'picker') return r.namespace ? `#/${e(r.namespace)}` : '#/';
  if (r.view === 'sessions') return '#/-/sessions';
  if (r.view === 'replay') return `#/-/sessions/${e(r.id)}`;
  if (r.view === 'watch') return `#/-/sessions/${e(r.id)}/${r.mode}`;
  let h = `#/${e(r.namespace)}/${e(r.pod)}`;
  if (r.container) h += `/${e(r.container)}`;
  if (r.command.length) {
    const q = new URLSearchParams();
    for (const c of r.command) q.append('command', c);
    h += `?${q.toString()}`;
  }
  return h;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Split a command line typed in the picker into argv: whitespace, '...' and "..." quoting, \ escapes. */
export function splitCommand(line: string): string[] {
  const argv: string[] = [];
  let cur = '';
  let have = false;
  let quote: '' | "'" | '"' = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = '';
      else if (c === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      have = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      have = true;
    } else if (/\s/.test(c)) {
      if (have) argv.push(cur);
      cur = '';
      have = false;
    } else {
      cur += c;
      have = true;
    }
  }
  if (have) argv.push(cur);
  return argv;
}

/** The inverse, for showing argv in the command field. */
export function joinCommand(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
