// Browser sign-in (issue 16): podterm sends an unauthenticated visitor to a
// real OpenID provider (npm oidc-provider on loopback TLS, its login form),
// takes them back through /oauth2/callback (code flow, PKCE S256, state,
// nonce) and keeps them signed in with an HttpOnly cookie. Checked here,
// with Debian's Chromium and raw requests for the exact answers:
//  - visit -> provider login -> back with a shell, the user and groups shown,
//    the cookie's flags exactly, no token in storage or a URL podterm made;
//  - RBAC on the mapped user and groups (alice/devs may exec, bob/qa not);
//  - the CSRF rules: a cookie-authenticated WebSocket without the CSRF item,
//    without Origin, or from another origin is refused 403; a cross-site
//    page can neither open a shell nor sign the user out;
//  - the attacks on the flow: open redirects, an unknown or replayed state,
//    a login begun in another browser, a code injected into another login
//    (PKCE verifier mismatch at the provider), the provider's error;
//  - sign-out: cookie gone, the provider's end-session reached, the old
//    cookie refused, and (--terminate-on-revoke) a live shell ended with a
//    Status that says why;
//  - the idle timeout (a second podterm with --session-idle-timeout 3s);
//  - gateway mode, without TLS on loopback (the cookie without __Host- and
//    Secure): a signed-in browser gets a shell of the upstream's pod.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createRequire } from 'node:module';
import { createServer as netServer } from 'node:net';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  DEVS_EXEC_RBAC,
  launchBrowser,
  podtermBin,
  preparePrompt,
  root,
  run,
  screenshot,
  startPodterm,
  tempDir,
  waitForState,
  waitForText,
} from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const WebSocket = createRequire(join(root, 'tests/package.json'))('ws');
const TIMEOUT_MS = 30000;
const COOKIE = '__Host-podterm-session';
const LOGIN_COOKIE = '__Host-podterm-signin';
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;


const EXEC = '/api/v1/namespaces/default/pods/local/exec?command=sh&command=-c&command=echo+hi%3B+sleep+60&stdout=true';
const FORBIDDEN_BOB = 'pods "local" is forbidden: User "bob" cannot create resource "pods/exec" in API group "" in the namespace "default"';

function openssl(dir, ...args) {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

function pki(d) {
  openssl(d, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=signin-test-ca', '-keyout', 'ca.key', '-out', 'ca.crt');
  openssl(d, 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
  writeFileSync(join(d, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(d, 'x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'server.ext', '-out', 'server.crt');
}

async function freePort() {
  const s = netServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** One HTTPS request to a loopback server: { status, headers, body }. */
function fetchRaw(url, { method = 'GET', headers = {}, ca } = {}) {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = send(url, { method, headers, ca, timeout: TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function status(code, reason, message) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

/** A WebSocket exec: { status, body } of a refusal, or { status: 101, ws, first } once open. */
function wsExec(base, { cookie, origin, csrf, ca, protocols = ['v4.channel.k8s.io'] }) {
  const offer = csrf ? [...protocols, `csrf.podterm.dev.${csrf}`] : protocols;
  const headers = {};
  if (cookie) headers.Cookie = cookie;
  if (origin) headers.Origin = origin;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace('https', 'wss')}${EXEC.slice(1)}`, offer, { headers, ca });
    ws.on('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(body) }));
    });
    ws.on('open', () => {
      ws.once('message', (data) => resolve({ status: 101, ws, protocol: ws.protocol, first: Buffer.from(data) }));
    });
    ws.on('error', (e) => (e.message.includes('Unexpected server response') ? null : reject(e)));
  });
}

/** The messages of a WebSocket until it closes. */
function wsRest(ws) {
  const frames = [];
  ws.on('message', (d) => frames.push(Buffer.from(d)));
  return new Promise((resolve) => ws.on('close', (code) => resolve({ code, frames })));
}

class IdP {
  constructor(dir, port, podtermPorts, plainOrigins = [], confidential = null) {
    this.dir = dir;
    this.port = port;
    this.issuer = `https://127.0.0.1:${port}`;
    const config = join(dir, 'idp.json');
    writeFileSync(config, JSON.stringify({
      redirectUris: [...podtermPorts.map((p) => `https://127.0.0.1:${p}/oauth2/callback`), ...plainOrigins.map((o) => `${o}/oauth2/callback`)],
      postLogoutRedirectUris: [...podtermPorts.map((p) => `https://127.0.0.1:${p}/`), ...plainOrigins.map((o) => `${o}/`)],
      confidential,
    }));
    this.out = '';
    this.proc = spawn('node', [join(here, 'signin_provider.mjs'), String(port), join(dir, 'server.crt'), join(dir, 'server.key'), config], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout.on('data', (c) => (this.out += c));
    this.proc.stderr.on('data', (c) => (this.out += c));
    this.exited = new Promise((r) => this.proc.on('exit', r));
  }

  async ready() {
    const deadline = Date.now() + TIMEOUT_MS;
    while (!this.out.includes('listening')) {
      assert.ok(Date.now() < deadline, `oidc-provider did not start:\n${this.out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop() {
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
    await this.exited;
    clearTimeout(t);
  }
}

describe('browser sign-in (OpenID Connect code flow)', () => {
  let tmp;
  let idp;
  let server; // sign-in with the default idle timeout, --terminate-on-revoke
  let idle; // --session-idle-timeout 3s
  let upstream; // a local-mode podterm, the gateway's cluster
  let gateway; // gateway mode, plain HTTP on loopback
  let confidential; // a confidential client (--oidc-client-secret-file)
  const SECRET = 'signin-test-client-secret-not-for-production';
  let browser;
  let ca;
  let crossSite; // another loopback origin
  let audit;

  async function startSignin(port, extra) {
    const d = tmp.dir;
    return startPodterm({
      listen: `127.0.0.1:${port}`,
      extraArgs: ['--tls-cert-file', join(d, 'server.crt'), '--tls-private-key-file', join(d, 'server.key'),
        '--oidc-issuer-url', idp.issuer, '--oidc-client-id', 'podterm', '--oidc-ca-file', join(d, 'ca.crt'),
        '--oidc-username-prefix', '-', '--oidc-groups-claim', 'groups',
        '--oidc-redirect-url', `https://127.0.0.1:${port}/oauth2/callback`,
        '--authorization-rbac-file', join(d, 'rbac.yaml'), ...extra],
    });
  }

  /** Until the keys and endpoints are loaded, sign_in answers 503. */
  async function signinReady(base) {
    const deadline = Date.now() + TIMEOUT_MS;
    for (;;) {
      const r = await fetchRaw(`${base}oauth2/sign_in`, { ca });
      if (r.status === 302) return;
      assert.ok(Date.now() < deadline, `sign-in never became available: ${r.status} ${r.body}`);
      await new Promise((res) => setTimeout(res, 200));
    }
  }

  before(async () => {
    tmp = tempDir('podterm-e2e-signin-');
    const d = tmp.dir;
    pki(d);
    ca = readFileSync(join(d, 'ca.crt'));
    writeFileSync(join(d, 'rbac.yaml'), DEVS_EXEC_RBAC);
    const [idpPort, port, idlePort, gwPort, confPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
    idp = new IdP(d, idpPort, [port, idlePort], [`http://127.0.0.1:${gwPort}`],
      { redirectUris: [`http://127.0.0.1:${confPort}/oauth2/callback`], secret: SECRET });
    await idp.ready();
    audit = join(d, 'audit.log');
    server = await startSignin(port, ['--terminate-on-revoke', '--audit-log-path', audit]);
    idle = await startSignin(idlePort, ['--session-idle-timeout', '3s', '--terminate-on-revoke']);
    assert.equal(server.url, `https://127.0.0.1:${port}/`);
    await signinReady(server.url);
    await signinReady(idle.url);
    writeFileSync(join(d, 'tokens.csv'), 'gateway-upstream-token,podterm-gateway,9001,\n');
    upstream = await startPodterm({ extraArgs: ['--token-auth-file', join(d, 'tokens.csv')] });
    writeFileSync(join(d, 'gw.kubeconfig'), ['apiVersion: v1', 'kind: Config', 'current-context: c',
      'contexts:', '- name: c', '  context: {cluster: k, user: u, namespace: default}',
      'clusters:', '- name: k', '  cluster:', `    server: ${upstream.url.replace(/\/$/, '')}`,
      'users:', '- name: u', '  user:', '    token: gateway-upstream-token', ''].join('\n'));
    gateway = await startPodterm({
      listen: `127.0.0.1:${gwPort}`,
      extraArgs: ['--kubeconfig', join(d, 'gw.kubeconfig'), '--oidc-issuer-url', idp.issuer, '--oidc-client-id', 'podterm',
        '--oidc-ca-file', join(d, 'ca.crt'), '--oidc-username-prefix', '-', '--oidc-groups-claim', 'groups',
        '--oidc-redirect-url', `http://127.0.0.1:${gwPort}/oauth2/callback`, '--audit-log-path', join(d, 'gw-audit.log')],
    });
    await signinReady(gateway.url);
    writeFileSync(join(d, 'client-secret'), `${SECRET}\n`);
    confidential = await startPodterm({
      listen: `127.0.0.1:${confPort}`,
      extraArgs: ['--oidc-issuer-url', idp.issuer, '--oidc-client-id', 'podterm-confidential', '--oidc-ca-file', join(d, 'ca.crt'),
        '--oidc-username-prefix', '-', '--oidc-redirect-url', `http://127.0.0.1:${confPort}/oauth2/callback`,
        '--oidc-client-secret-file', join(d, 'client-secret')],
    });
    await signinReady(confidential.url);
    crossSite = createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>elsewhere</title>');
    });
    await new Promise((r) => crossSite.listen(0, '127.0.0.1', r));
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    crossSite?.close();
    const res = await server?.stop();
    const res2 = await idle?.stop();
    const res3 = await gateway?.stop();
    const res4 = await upstream?.stop();
    const res5 = await confidential?.stop();
    await idp?.stop();
    tmp?.cleanup();
    assert.deepEqual(res, { code: 0, signal: null }, server?.stderr());
    assert.deepEqual(res2, { code: 0, signal: null }, idle?.stderr());
    assert.deepEqual(res3, { code: 0, signal: null }, gateway?.stderr());
    assert.deepEqual(res4, { code: 0, signal: null }, upstream?.stderr());
    assert.deepEqual(res5, { code: 0, signal: null }, confidential?.stderr());
  });

  async function newContext() {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1000, height: 640 } });
    const page = await context.newPage();
    page.errors = [];
    page.on('pageerror', (e) => page.errors.push(e.message));
    return page;
  }

  /** At the provider's login form: sign in as user, and consent. */
  async function providerLogin(page, user) {
    await page.waitForURL((u) => u.href.startsWith(`${idp.issuer}/interaction/`), { timeout: TIMEOUT_MS });
    await page.fill('input[name=login]', user);
    await page.fill('input[name=password]', 'any password');
    await Promise.all([page.waitForNavigation({ timeout: TIMEOUT_MS }).catch(() => null), page.click('button.login-submit')]);
    // the consent page (a first sign-in of this client in this browser)
    if (page.url().startsWith(`${idp.issuer}/interaction/`)) await page.click('button:has-text("Continue")');
  }

  /** Visit podterm, sign in as user at the provider, and be back in podterm. */
  async function signIn(base, user) {
    const page = await newContext();
    const callbacks = [];
    page.on('response', (r) => {
      if (r.url().startsWith(`${base}oauth2/callback`)) callbacks.push(r);
    });
    await page.goto(base);
    await providerLogin(page, user);
    await page.waitForURL((u) => u.href.startsWith(base) && !u.pathname.startsWith('/oauth2/'), { timeout: TIMEOUT_MS });
    await page.waitForFunction(() => !document.getElementById('user').hidden, null, { timeout: TIMEOUT_MS });
    const cookies = await page.context().cookies(base);
    const session = cookies.find((c) => c.name === COOKIE);
    const csrf = await page.evaluate(async () => (await (await fetch('/oauth2/userinfo')).json()).csrfToken);
    return { page, callbacks, session, csrf, cookie: `${COOKIE}=${session.value}`, origin: base.replace(/\/$/, '') };
  }

  /**
   * A sign-in at podterm and the provider's login and consent forms, by
   * plain requests: { caught: the callback URL with its code, binding: the
   * login cookie } without delivering the code.
   */
  async function codeOf(base, user) {
    const { request } = (await import('./harness.mjs')).loadPlaywright();
    const api = await request.newContext({ ignoreHTTPSErrors: true });
    try {
      let res = await api.get(`${base}oauth2/sign_in`, { maxRedirects: 0 });
      const binding = res.headers()['set-cookie'].split(';')[0];
      let url = res.headers().location;
      for (let hops = 0; hops < 20; hops++) {
        if (url.startsWith(`${base}oauth2/callback`)) return { caught: url, binding };
        res = await api.get(url, { maxRedirects: 0 });
        if (res.status() >= 300 && res.status() < 400) {
          url = new URL(res.headers().location, url).href;
          continue;
        }
        const html = await res.text();
        const action = /<form[^>]*action="([^"]+)"/.exec(html);
        assert.ok(action, `no form at ${url}: ${html.slice(0, 300)}`);
        const form = html.includes('name="login"') ? { prompt: 'login', login: user, password: 'any password' } : { prompt: 'consent' };
        res = await api.post(new URL(action[1], url).href, { form, maxRedirects: 0 });
        assert.ok(res.status() >= 300 && res.status() < 400, `${url}: ${res.status()}`);
        url = new URL(res.headers().location, url).href;
      }
      throw new Error('the provider never sent the code back');
    } finally {
      await api.dispose();
    }
  }

  test('visit -> the provider\'s login -> back with a shell; user, groups and cookie flags exactly', async () => {
    const alice = await signIn(server.url, 'alice');
    const { page } = alice;
    assert.equal(await page.textContent('#user'), 'alice');
    assert.equal(await page.getAttribute('#user', 'data-groups'), 'devs');
    assert.equal(await page.isVisible('#btn-signout'), true);
    await preparePrompt(page);
    await run(page, 'echo signed$((40+2))');
    await waitForText(page, /^signed42$/);

    // The callback's answer: the session cookie with exactly these flags,
    // the login cookie cleared, back to where the visit began.
    assert.equal(alice.callbacks.length, 1);
    const cb = alice.callbacks[0];
    assert.equal(cb.status(), 302);
    const setCookies = (await cb.headersArray()).filter((h) => h.name.toLowerCase() === 'set-cookie').map((h) => h.value);
    assert.equal(setCookies.length, 2, setCookies.join('\n'));
    assert.match(setCookies[0], /^__Host-podterm-session=[A-Za-z0-9_-]{43}; Path=\/; Secure; HttpOnly; SameSite=Lax; Max-Age=43200$/);
    assert.equal(setCookies[1], `${LOGIN_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0`);
    assert.equal(await cb.headerValue('location'), '/');
    const s = alice.session;
    assert.deepEqual({ httpOnly: s.httpOnly, secure: s.secure, sameSite: s.sameSite, path: s.path, domain: s.domain },
      { httpOnly: true, secure: true, sameSite: 'Lax', path: '/', domain: '127.0.0.1' });
    assert.match(s.value, TOKEN_RE);
    // The cookie is invisible to scripts; nothing token-like is stored or in the URL.
    const seen = await page.evaluate(() => ({ cookie: document.cookie, local: JSON.stringify(localStorage), session: JSON.stringify(sessionStorage), url: location.href }));
    assert.equal(seen.cookie, '');
    for (const v of [seen.local, seen.session, seen.url]) {
      assert.ok(!v.includes(s.value) && !/eyJ[A-Za-z0-9_-]+\./.test(v) && !v.includes(alice.csrf) && !v.includes('code='), v);
    }
    // The sessions API names her, and the audit names how she signed in.
    const users = await page.evaluate(async () => (await (await fetch('/apis/podterm.dev/v1alpha1/sessions')).json()).items.map((i) => i.spec.user));
    assert.deepEqual(users, ['alice']);
    const execEvents = readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
      .filter((e) => e.objectRef?.subresource === 'exec' && e.stage === 'ResponseStarted');
    assert.ok(execEvents.length >= 1, 'no exec in the audit log');
    assert.equal(execEvents[0].user.username, 'alice');
    assert.deepEqual(execEvents[0].user.groups, ['devs', 'system:authenticated']);
    assert.equal(execEvents[0].annotations['podterm.dev/authentication-method'], 'oidc-session');
    await screenshot(page, 'signin-shell');
    assert.deepEqual(page.errors, []);

    // The same cookie from a client: with Origin and the CSRF item it is alice.
    const ok = await wsExec(server.url, { cookie: alice.cookie, origin: alice.origin, csrf: alice.csrf, ca });
    assert.equal(ok.status, 101);
    ok.ws.close();
    // Without the CSRF item, without Origin, with a wrong token: 403.
    const csrfMsg = 'cross-site WebSocket refused: a cookie-authenticated WebSocket must come from podterm\'s own page (same-origin Origin and the csrf.podterm.dev. subprotocol item)';
    assert.deepEqual(await wsExec(server.url, { cookie: alice.cookie, origin: alice.origin, ca }), { status: 403, body: status(403, 'Forbidden', csrfMsg) });
    assert.deepEqual(await wsExec(server.url, { cookie: alice.cookie, csrf: alice.csrf, ca }), { status: 403, body: status(403, 'Forbidden', csrfMsg) });
    assert.deepEqual(await wsExec(server.url, { cookie: alice.cookie, origin: alice.origin, csrf: 'A'.repeat(43), ca }), { status: 403, body: status(403, 'Forbidden', csrfMsg) });
    // Another origin (same site: the cookie would go with it): refused at the Origin check.
    const other = `http://127.0.0.1:${crossSite.address().port}`;
    assert.deepEqual(await wsExec(server.url, { cookie: alice.cookie, origin: other, csrf: alice.csrf, ca }),
      { status: 403, body: status(403, 'Forbidden', 'WebSocket upgrade from a cross-site Origin refused (start podterm with --allowed-origin to allow it)') });
    // A cookie-authenticated POST without the CSRF header: 403 (a review is a POST).
    const review = await page.evaluate(async () => {
      const r = await fetch('/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ kind: 'SelfSubjectRulesReview', apiVersion: 'authorization.k8s.io/v1', spec: { namespace: 'default' } }),
      });
      return { code: r.status, body: await r.json() };
    });
    assert.deepEqual(review, { code: 403, body: status(403, 'Forbidden', 'cross-site request refused: a cookie-authenticated request that changes state must come from podterm\'s own page (same-origin Origin and the X-CSRF-Token header)') });

    // A cross-site page in her browser can neither open a shell nor sign her out.
    const evil = await page.context().newPage();
    await evil.goto(`${other}/`);
    const attempt = await evil.evaluate(async ({ base }) => {
      const ws = await new Promise((resolve) => {
        const w = new WebSocket(`${base.replace('https', 'wss')}api/v1/namespaces/default/pods/local/exec?command=id&stdout=true`, ['v4.channel.k8s.io']);
        w.onopen = () => resolve('open');
        w.onerror = () => resolve('error');
      });
      await fetch(`${base}oauth2/sign_out`, { method: 'POST', mode: 'no-cors', credentials: 'include' }).catch(() => null);
      return ws;
    }, { base: server.url });
    assert.equal(attempt, 'error');
    await evil.close();
    const still = await fetchRaw(`${server.url}oauth2/userinfo`, { ca, headers: { Cookie: alice.cookie } });
    assert.equal(still.status, 200);
    assert.deepEqual(JSON.parse(still.body), { user: 'alice', groups: ['devs'], csrfToken: alice.csrf, signOut: '/oauth2/sign_out', idleTimeoutSeconds: 3600 });
    // sign_out from a client without Origin or token: 403, and she stays signed in.
    const forged = await fetchRaw(`${server.url}oauth2/sign_out`, { method: 'POST', ca, headers: { Cookie: alice.cookie, Origin: other, 'X-CSRF-Token': alice.csrf } });
    assert.deepEqual({ status: forged.status, body: JSON.parse(forged.body) }, {
      status: 403,
      body: status(403, 'Forbidden', 'cross-site request refused: signing out takes podterm\'s own page (a same-origin Origin and the X-CSRF-Token header)'),
    });
    await page.context().close();
  });

  test('RBAC on the mapped user and groups: bob (qa) is refused with RBAC\'s words', async () => {
    const bob = await signIn(server.url, 'bob');
    assert.equal(await bob.page.textContent('#user'), 'bob');
    const r = await wsExec(server.url, { cookie: bob.cookie, origin: bob.origin, csrf: bob.csrf, ca });
    assert.deepEqual(r, { status: 403, body: { ...status(403, 'Forbidden', FORBIDDEN_BOB), details: { name: 'local', kind: 'pods' } } });
    await bob.page.context().close();
  });

  test('sign-out: the cookie goes, the provider\'s end-session is reached, a live shell ends saying why', async () => {
    const alice = await signIn(server.url, 'alice');
    const { page } = alice;
    await waitForState(page, 'connected', TIMEOUT_MS);
    const live = await wsExec(server.url, { cookie: alice.cookie, origin: alice.origin, csrf: alice.csrf, ca });
    assert.equal(live.status, 101);
    const rest = wsRest(live.ws);
    await page.click('#btn-signout');
    await page.waitForURL((u) => u.href.startsWith(`${idp.issuer}/session/end`), { timeout: TIMEOUT_MS });
    const endUrl = new URL(page.url());
    assert.equal(endUrl.searchParams.get('post_logout_redirect_uri'), server.url);
    assert.equal(endUrl.searchParams.get('client_id'), 'podterm');
    assert.ok((await page.context().cookies(server.url)).every((c) => c.name !== COOKIE), 'the session cookie is still there');
    // The old cookie is worth nothing now.
    const after = await fetchRaw(`${server.url}oauth2/userinfo`, { ca, headers: { Cookie: alice.cookie } });
    assert.deepEqual({ status: after.status, body: JSON.parse(after.body) }, { status: 401, body: status(401, 'Unauthorized', 'not signed in: sign in at /oauth2/sign_in') });
    assert.deepEqual(await wsExec(server.url, { cookie: alice.cookie, origin: alice.origin, csrf: alice.csrf, ca }),
      { status: 401, body: status(401, 'Unauthorized', 'Unauthorized: the sign-in session has ended (signed out, idle or too old): sign in again at /oauth2/sign_in') });
    // --terminate-on-revoke: her live shell ended with a Status saying why.
    const { frames } = await rest;
    const last = frames[frames.length - 1];
    assert.equal(last[0], 3, 'the last frame is on the status channel');
    const st = JSON.parse(last.subarray(1).toString());
    assert.equal(st.status, 'Failure');
    assert.equal(st.message, 'Internal error occurred: session ended: access revoked: the user alice signed out (their sign-in session has ended)');
    // Confirm at the provider: back to podterm, which (signed out) sends the browser to sign in.
    await page.click('button[name=logout]');
    await page.waitForURL((u) => u.href.startsWith(`${idp.issuer}/interaction/`), { timeout: TIMEOUT_MS });
    await page.context().close();
  });

  test('the flow\'s attacks: open redirect, unknown or replayed state, another browser\'s login, an injected code', async () => {
    const base = server.url;
    const openRedirect = status(400, 'BadRequest', 'rd must be a path on this server: it starts with a single "/" and holds no spaces, controls or backslashes');
    for (const rd of ['//evil.example/', 'https://evil.example/', '/\\evil.example', 'evil', '/a b', '%2F%2Fevil.example']) {
      const r = await fetchRaw(`${base}oauth2/sign_in?rd=${encodeURIComponent(rd)}`, { ca });
      assert.deepEqual({ rd, status: r.status, body: JSON.parse(r.body) }, { rd, status: 400, body: openRedirect });
    }
    // A good start: to the provider with PKCE S256, state and nonce; the login cookie set.
    const start = await fetchRaw(`${base}oauth2/sign_in?rd=${encodeURIComponent('/#/sessions')}`, { ca });
    assert.equal(start.status, 302);
    const to = new URL(start.headers.location);
    assert.equal(`${to.origin}${to.pathname}`, `${idp.issuer}/auth`);
    assert.deepEqual([...to.searchParams.keys()], ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method']);
    assert.equal(to.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(to.searchParams.get('redirect_uri'), `${base}oauth2/callback`);
    for (const k of ['state', 'nonce', 'code_challenge']) assert.match(to.searchParams.get(k), TOKEN_RE);
    const loginCookie = start.headers['set-cookie'][0];
    assert.match(loginCookie, /^__Host-podterm-signin=[A-Za-z0-9_-]{43}; Path=\/; Secure; HttpOnly; SameSite=Lax; Max-Age=600$/);
    const binding = loginCookie.split(';')[0];
    const state = to.searchParams.get('state');

    const unknown = status(400, 'BadRequest', 'sign-in refused: its state is unknown, expired or was used already: sign in again');
    let r = await fetchRaw(`${base}oauth2/callback?code=x&state=${'A'.repeat(43)}`, { ca, headers: { Cookie: binding } });
    assert.deepEqual({ status: r.status, body: JSON.parse(r.body) }, { status: 400, body: unknown });
    r = await fetchRaw(`${base}oauth2/callback?code=x`, { ca, headers: { Cookie: binding } });
    assert.deepEqual({ status: r.status, body: JSON.parse(r.body) }, { status: 400, body: unknown });
    // The right state from a browser without (or with another) login cookie.
    const elsewhere = status(403, 'Forbidden', 'sign-in refused: this sign-in was begun in another browser (its login cookie is missing or different)');
    r = await fetchRaw(`${base}oauth2/callback?code=x&state=${state}`, { ca });
    assert.deepEqual({ status: r.status, body: JSON.parse(r.body) }, { status: 403, body: elsewhere });
    r = await fetchRaw(`${base}oauth2/callback?code=x&state=${state}`, { ca, headers: { Cookie: `${LOGIN_COOKIE}=${'B'.repeat(43)}` } });
    assert.deepEqual({ status: r.status, body: JSON.parse(r.body) }, { status: 403, body: elsewhere });
    // The provider's error, and one that is no plain word (not echoed).
    r = await fetchRaw(`${base}oauth2/callback?error=access_denied&state=${state}`, { ca, headers: { Cookie: binding } });
    assert.deepEqual({ status: r.status, body: JSON.parse(r.body) }, { status: 400, body: status(400, 'BadRequest', 'the identity provider refused the sign-in (access_denied)') });
    r = await fetchRaw(`${base}oauth2/callback?error=${encodeURIComponent('<script>x</script>')}`, { ca });
    assert.deepEqual({ status: r.status, body: JSON.parse(r.body) }, { status: 400, body: status(400, 'BadRequest', 'the identity provider refused the sign-in') });
    // That error used the login up: the state is gone.
    r = await fetchRaw(`${base}oauth2/callback?code=x&state=${state}`, { ca, headers: { Cookie: binding } });
    assert.deepEqual({ status: r.status, body: JSON.parse(r.body) }, { status: 400, body: unknown });

    // A real code, caught on its way back to podterm: the provider's login
    // done by hand (its forms, its cookies), the last redirect not followed.
    const { caught, binding: victimBinding } = await codeOf(base, 'alice');
    const stolen = new URL(caught);
    // Injected into the attacker's own login (its state and cookie): the
    // provider refuses the code, since the attacker's PKCE verifier is not
    // the one its challenge was made from; no session is made.
    const attacker = await fetchRaw(`${base}oauth2/sign_in`, { ca });
    const aState = new URL(attacker.headers.location).searchParams.get('state');
    const aBinding = attacker.headers['set-cookie'][0].split(';')[0];
    r = await fetchRaw(`${base}oauth2/callback?code=${encodeURIComponent(stolen.searchParams.get('code'))}&state=${aState}`, { ca, headers: { Cookie: aBinding } });
    assert.deepEqual({ status: r.status, body: JSON.parse(r.body), cookie: r.headers['set-cookie'] }, {
      status: 403,
      body: status(403, 'Forbidden', 'sign-in failed: the identity provider refused the authorization code (HTTP status 400)'),
      cookie: undefined,
    });
    // The victim's own callback still works once (its code unused), and a replay does not.
    const vcookie = victimBinding;
    r = await fetchRaw(caught, { ca, headers: { Cookie: vcookie } });
    assert.equal(r.status, 302, r.body);
    assert.match(r.headers['set-cookie'][0], /^__Host-podterm-session=[A-Za-z0-9_-]{43}; /);
    r = await fetchRaw(caught, { ca, headers: { Cookie: vcookie } });
    assert.deepEqual({ status: r.status, body: JSON.parse(r.body) }, { status: 400, body: unknown });
    // Neither the code nor the state reached podterm's log or its audit:
    // the callback is logged as its path alone.
    const code = stolen.searchParams.get('code');
    const logs = server.stderr() + readFileSync(audit, 'utf8');
    assert.ok(!logs.includes(code) && !logs.includes(stolen.searchParams.get('state')), 'the code or state was logged');
    assert.ok(logs.includes('"requestURI":"/oauth2/callback"'), 'no callback in the audit');
  });

  test('idle timeout: a session unused for --session-idle-timeout is gone, and the page signs in again', async () => {
    const alice = await signIn(idle.url, 'alice');
    const ok = await fetchRaw(`${idle.url}oauth2/userinfo`, { ca, headers: { Cookie: alice.cookie } });
    assert.equal(ok.status, 200);
    assert.equal(JSON.parse(ok.body).idleTimeoutSeconds, 3);
    await alice.page.goto('about:blank');
    const live = await wsExec(idle.url, { cookie: alice.cookie, origin: alice.origin, csrf: alice.csrf, ca });
    assert.equal(live.status, 101);
    let liveClosed = false;
    live.ws.on('close', () => (liveClosed = true));
    await new Promise((r) => setTimeout(r, 4500));
    assert.deepEqual(await wsExec(idle.url, { cookie: alice.cookie, origin: alice.origin, csrf: alice.csrf, ca }),
      { status: 401, body: status(401, 'Unauthorized', 'Unauthorized: the sign-in session has ended (signed out, idle or too old): sign in again at /oauth2/sign_in') });
    const gone = await fetchRaw(`${idle.url}oauth2/userinfo`, { ca, headers: { Cookie: alice.cookie } });
    assert.equal(gone.status, 401);
    // Back to the page: through the provider again (which remembers her),
    // signed in anew: another cookie.
    await alice.page.goto(idle.url);
    await alice.page.waitForFunction(() => !document.getElementById('user').hidden, null, { timeout: TIMEOUT_MS });
    const again = (await alice.page.context().cookies(idle.url)).find((c) => c.name === COOKIE);
    assert.match(again.value, TOKEN_RE);
    assert.notEqual(again.value, alice.session.value);
    // A timed-out session is not a sign-out: the shell it opened goes on,
    // even through the revocation sweep another sign-out starts (the new
    // session's, by request, while it is fresh).
    const info = await fetchRaw(`${idle.url}oauth2/userinfo`, { ca, headers: { Cookie: `${COOKIE}=${again.value}` } });
    assert.equal(info.status, 200, info.body);
    const out = await fetchRaw(`${idle.url}oauth2/sign_out`, {
      method: 'POST', ca,
      headers: { Cookie: `${COOKIE}=${again.value}`, Origin: alice.origin, 'X-CSRF-Token': JSON.parse(info.body).csrfToken },
    });
    assert.equal(out.status, 200, out.body);
    assert.match(JSON.parse(out.body).location, /\/session\/end\?id_token_hint=/);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(liveClosed, false, 'the shell of the timed-out session was ended');
    // That sign-out ended the page's own shell (--terminate-on-revoke), and
    // the page signed in anew. Left idle, that session ends too: the page's
    // Sign out button still signs out of the provider (no id_token_hint).
    let third = null;
    for (const end = Date.now() + TIMEOUT_MS; !third && Date.now() < end;) {
      const c = (await alice.page.context().cookies(idle.url)).find((k) => k.name === COOKIE);
      if (c && c.value !== again.value) third = c;
      else await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(third?.value ?? '', TOKEN_RE);
    await alice.page.waitForFunction(() => !document.getElementById('user').hidden, null, { timeout: TIMEOUT_MS });
    await new Promise((r) => setTimeout(r, 4500));
    await alice.page.click('#btn-signout');
    let endUrl = null;
    await alice.page.waitForURL((u) => u.href.startsWith(`${idp.issuer}/session/end`) && (endUrl = u), { timeout: TIMEOUT_MS });
    assert.deepEqual([endUrl.searchParams.get('id_token_hint'), endUrl.searchParams.get('client_id')], [null, 'podterm']);
    live.ws.close();
    await alice.page.context().close();
  });

  test('gateway mode without TLS: a signed-in browser execs through the gateway; the cookie has no __Host- and no Secure', async () => {
    const page = await newContext();
    const callbacks = [];
    page.on('response', (r) => {
      if (r.url().startsWith(`${gateway.url}oauth2/callback`)) callbacks.push(r);
    });
    await page.goto(gateway.url);
    await providerLogin(page, 'alice');
    await page.waitForFunction(() => !document.getElementById('user').hidden, null, { timeout: TIMEOUT_MS });
    assert.equal(await page.textContent('#user'), 'alice');
    await preparePrompt(page);
    await run(page, 'echo gw$((40+2))');
    await waitForText(page, /^gw42$/);
    const setCookies = (await callbacks[0].headersArray()).filter((h) => h.name.toLowerCase() === 'set-cookie').map((h) => h.value);
    assert.match(setCookies[0], /^podterm-session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=43200$/);
    assert.equal(setCookies[1], 'podterm-signin=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0');
    // The gateway's audit: alice, by her sign-in cookie, impersonated upstream.
    const started = readFileSync(join(tmp.dir, 'gw-audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
      .filter((e) => e.objectRef?.subresource === 'exec' && e.stage === 'ResponseStarted');
    assert.ok(started.length >= 1, 'no exec in the gateway\'s audit log');
    assert.equal(started[0].user.username, 'alice');
    assert.equal(started[0].impersonatedUser.username, 'alice');
    assert.equal(started[0].annotations['podterm.dev/authentication-method'], 'oidc-session');
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test('a confidential client: the code exchanged with the client secret (HTTP Basic), the secret never logged', async () => {
    const { caught, binding } = await codeOf(confidential.url, 'bob');
    const r = await fetchRaw(caught, { headers: { Cookie: binding } });
    assert.equal(r.status, 302, r.body);
    const session = r.headers['set-cookie'][0].split(';')[0];
    assert.match(session, /^podterm-session=[A-Za-z0-9_-]{43}$/);
    const me = await fetchRaw(`${confidential.url}oauth2/userinfo`, { headers: { Cookie: session } });
    assert.equal(me.status, 200);
    assert.equal(JSON.parse(me.body).user, 'bob');
    assert.ok(!confidential.stderr().includes(SECRET), 'the client secret was logged');
  });

  test('start-up refuses sign-in flags that cannot work, saying which', () => {
    const issuer = ['--oidc-issuer-url', 'https://127.0.0.1:9', '--oidc-client-id', 'podterm'];
    const cases = [
      // flags that do not fit together: a usage error (2)
      [['--oidc-redirect-url', 'http://127.0.0.1:1/oauth2/callback'], 'podterm: --oidc-redirect-url needs --oidc-issuer-url\n'],
      [['--session-idle-timeout', '5m', ...issuer],
        'podterm: --oidc-client-secret-file, --oidc-scopes, --session-idle-timeout and --session-max-age are browser sign-in\'s: they need --oidc-redirect-url\n'],
      [['--listen', '0.0.0.0:0', ...issuer, '--oidc-redirect-url', 'http://podterm.example/oauth2/callback'],
        'podterm: browser sign-in (--oidc-redirect-url) without TLS is for loopback only: its cookie is a credential; use --tls-cert-file\n'],
      [[...issuer, '--oidc-redirect-url', 'http://127.0.0.1:1/oauth2/callback', '--session-max-age', '0s'],
        'podterm: --session-max-age wants a duration of at least 1s such as 30m or 12h, got "0s"\n'],
      // a redirect URL that cannot be podterm's callback: start-up fails (1)
      [[...issuer, '--oidc-redirect-url', 'http://127.0.0.1:1/callback'], 'podterm: --oidc-redirect-url http://127.0.0.1:1/callback: its path must be /oauth2/callback\n', 1],
      [[...issuer, '--oidc-redirect-url', 'https://127.0.0.1:1/oauth2/callback'],
        'podterm: --oidc-redirect-url https://127.0.0.1:1/oauth2/callback: its scheme must be the one podterm serves (http, without TLS)\n', 1],
    ];
    for (const [args, want, code = 2] of cases) {
      const r = spawnSync(podtermBin, ['--listen', '127.0.0.1:0', ...args], { encoding: 'utf8', timeout: TIMEOUT_MS });
      assert.deepEqual({ args, code: r.status, stderr: r.stderr.replace(/^podterm: oidc: .*\n/gm, '') }, { args, code, stderr: want });
    }
  });
});
