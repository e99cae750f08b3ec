// What the page shows under RBAC: the picker offers only the pods a user may
// open a shell in (one SelfSubjectRulesReview per namespace, evaluated in the
// page), a forbidden list or exec shows the server's Status message word for
// word, and a server without the review API (404/405, or an answer that is
// not a review) leaves the picker as it was: everything offered.
//
// The first group needs no RBAC: Chromium itself is made to receive chosen
// review answers (page.route), against a real podterm. The second runs a
// podterm with a token file and an RBAC file (skipped by a podterm that does
// not know --authorization-rbac-file).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  launchBrowser,
  newPage,
  podtermBin,
  preparePrompt,
  run,
  screenshot,
  startGatewayPair,
  startPodterm,
  stopAll,
  tempDir,
  waitForState,
  waitForText,
} from './harness.mjs';

const TWO_PODS = `
namespaces: [default]
pods:
  - name: local
    containers:
      - {name: shell, tty: true, stdin: true}
  - name: other
    containers:
      - {name: shell, tty: true, stdin: true}
`;

const RULES_PATH = '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews';

/** What the pod list shows: each option's value, label and whether it can be chosen. */
async function podOptions(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('#pick-pod option')].map((o) => ({
      name: o.value,
      label: o.textContent,
      open: !o.disabled,
      group: o.parentElement.tagName === 'OPTGROUP' ? o.parentElement.label : '',
    })),
  );
}

/** Wait until the picker has loaded the pods of a namespace (its message settled). */
async function pickerLoaded(page) {
  await page.getByRole('heading', { name: 'Open a shell' }).waitFor();
  await page.waitForFunction(() => {
    const m = document.querySelector('.picker-message')?.textContent ?? '';
    return !m.startsWith('Loading');
  }, null, { timeout: 15000, polling: 50 });
}

const pickerMessage = (page) => page.textContent('.picker-message');

/** Answer the page's rules reviews with a fixed response; returns the request bodies seen. */
async function fakeReviews(page, status, body) {
  const seen = [];
  await page.route(`**${RULES_PATH}`, async (route) => {
    seen.push({ method: route.request().method(), body: route.request().postDataJSON() });
    await route.fulfill({
      status,
      contentType: 'application/json',
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  });
  return seen;
}

function review(resourceRules, incomplete = false) {
  return {
    kind: 'SelfSubjectRulesReview',
    apiVersion: 'authorization.k8s.io/v1',
    spec: { namespace: 'default' },
    status: { resourceRules, nonResourceRules: [], incomplete },
  };
}

const READ_PODS = { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] };

describe('picker and rules reviews (no RBAC on the server)', () => {
  let server;
  let single;
  let browser;

  before(async () => {
    server = await startPodterm({ config: TWO_PODS });
    single = await startPodterm({}); // default/local only: the picker opens it by itself
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    for (const s of [server, single]) {
      const res = await s?.stop();
      if (res) assert.equal(res.code, 0, `podterm exited with ${JSON.stringify(res)}:\n${s.stderr()}`);
    }
  });

  test('exec on one pod by name: that pod can be opened, the other is listed as no access', async () => {
    const page = await newPage(browser);
    const seen = await fakeReviews(page, 201, review([
      READ_PODS,
      { verbs: ['create'], apiGroups: [''], resources: ['pods/exec'], resourceNames: ['local'] },
    ]));
    await page.goto(server.url);
    await pickerLoaded(page);
    assert.deepEqual(await podOptions(page), [
      { name: 'local', label: 'local', open: true, group: '' },
      { name: 'other', label: 'other (no access)', open: false, group: 'No shell access' },
    ]);
    assert.equal(await pickerMessage(page), 'You may open a shell in 1 of the 2 pods in namespace default.');
    assert.deepEqual(seen, [{
      method: 'POST',
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: 'default' } },
    }]);
    assert.equal(await page.inputValue('#pick-pod'), 'local');
    assert.equal(await page.isDisabled('button[type=submit]'), false);
    await screenshot(page, 'picker-no-access');
    await page.click('button[type=submit]');
    await waitForState(page, 'connected');
    assert.equal(new URL(page.url()).hash, '#/default/local/shell');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('get on pods/exec counts (older policies), and so do "*" and "*/exec"', async () => {
    for (const rule of [
      { verbs: ['get'], apiGroups: [''], resources: ['pods/exec'] },
      { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
      { verbs: ['create'], apiGroups: [''], resources: ['*/exec'] },
    ]) {
      const page = await newPage(browser);
      await fakeReviews(page, 201, review([READ_PODS, rule]));
      await page.goto(server.url);
      await pickerLoaded(page);
      assert.deepEqual((await podOptions(page)).map((o) => o.open), [true, true], JSON.stringify(rule));
      assert.equal(await pickerMessage(page), '');
      await page.close();
    }
  });

  test('rules that do not reach pods/exec: every pod is listed, none can be opened', async () => {
    for (const rule of [
      { verbs: ['create'], apiGroups: [''], resources: ['pods/attach'] }, // attach is not exec
      { verbs: ['list'], apiGroups: [''], resources: ['pods/exec'] }, // not a verb that opens
      { verbs: ['create'], apiGroups: ['apps'], resources: ['pods/exec'] }, // not the core group
      { verbs: ['create'], apiGroups: [''], resources: ['pods'] }, // pods is not pods/exec
      { verbs: ['create'], apiGroups: [''], resources: ['pods/exec'], resourceNames: ['web'] },
    ]) {
      const page = await newPage(browser);
      await fakeReviews(page, 201, review([READ_PODS, rule]));
      await page.goto(server.url);
      await pickerLoaded(page);
      assert.deepEqual(await podOptions(page), [
        { name: 'local', label: 'local (no access)', open: false, group: 'No shell access' },
        { name: 'other', label: 'other (no access)', open: false, group: 'No shell access' },
      ], JSON.stringify(rule));
      assert.equal(await pickerMessage(page), 'You may not open a shell in any of the 2 pods in namespace default.');
      assert.equal(await page.isDisabled('button[type=submit]'), true);
      assert.equal(await page.isDisabled('#pick-container'), true);
      await page.close();
    }
  });

  test('1000 pods: one review for the namespace, evaluated in the page, exactly the named ones open', async () => {
    const names = Array.from({ length: 1000 }, (_, i) => `pod-${String(i).padStart(4, '0')}`);
    const allowed = names.filter((_, i) => i % 3 === 0); // 334 of them, by resourceNames
    const page = await newPage(browser);
    const seen = await fakeReviews(page, 201, review([
      READ_PODS,
      { verbs: ['create'], apiGroups: [''], resources: ['pods/exec'], resourceNames: allowed },
    ]));
    await page.route('**/api/v1/namespaces/default/pods', (route) =>
      route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({
          kind: 'PodList',
          apiVersion: 'v1',
          items: names.map((n) => ({ metadata: { name: n, namespace: 'default' }, spec: { containers: [{ name: 'c' }] } })),
        }),
      }));
    const start = Date.now();
    await page.goto(server.url);
    await pickerLoaded(page);
    const ms = Date.now() - start;
    const options = await podOptions(page);
    assert.equal(seen.length, 1);
    assert.deepEqual(options.filter((o) => o.open).map((o) => o.name), allowed);
    assert.deepEqual(options.filter((o) => !o.open).map((o) => o.name), names.filter((n) => !allowed.includes(n)));
    assert.equal(await pickerMessage(page), 'You may open a shell in 334 of the 1000 pods in namespace default.');
    assert.equal(await page.inputValue('#pick-pod'), 'pod-0000');
    console.log(`# 1000 pods, 1 rules review: picker loaded in ${ms} ms`);
    assert.ok(ms < 10000, `${ms} ms`);
    await page.close();
  });

  test('a refused single pod is not opened by itself', async () => {
    const page = await newPage(browser);
    await fakeReviews(page, 201, review([READ_PODS]));
    await page.goto(single.url);
    await pickerLoaded(page);
    assert.equal(await pickerMessage(page), 'You may not open a shell in the pod in namespace default.');
    assert.equal(new URL(page.url()).hash, '');
    assert.equal(await page.evaluate(() => window.podterm.state()), 'idle');
    await page.close();
  });

  test('no review API, or no answer that is a review: unknown, so everything is offered', async () => {
    const answers = [
      [404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'the server could not find the requested resource' }],
      [405, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'MethodNotAllowed', code: 405, message: 'no' }],
      [403, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403, message: 'no reviews for you' }],
      [201, 'not json'],
      [201, { kind: 'SelfSubjectRulesReview', status: {} }],
      [201, review([{ verbs: 'create', resources: ['pods/exec'] }])], // malformed rule: incomplete
      [201, review([READ_PODS], true)], // incomplete: an authorizer could not list its rules
    ];
    for (const [status, body] of answers) {
      const page = await newPage(browser);
      await fakeReviews(page, status, body);
      await page.goto(server.url);
      await pickerLoaded(page);
      assert.deepEqual((await podOptions(page)).map((o) => [o.label, o.open]), [['local', true], ['other', true]],
        `${status} ${JSON.stringify(body)}`);
      assert.equal(await pickerMessage(page), '');
      assert.deepEqual(page.errors, []);
      await page.close();
    }
  });

  test('a review that never answers holds the list back 5 s at most, then everything is offered', async () => {
    const page = await newPage(browser);
    await page.route(`**${RULES_PATH}`, () => {}); // never answered
    const start = Date.now();
    await page.goto(server.url);
    await pickerLoaded(page);
    const ms = Date.now() - start;
    assert.deepEqual((await podOptions(page)).map((o) => [o.label, o.open]), [['local', true], ['other', true]]);
    assert.ok(ms >= 4500 && ms < 12000, `${ms} ms`);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('the server itself: the review is asked and the picker offers every pod', async () => {
    const page = await newPage(browser);
    const answered = new Promise((resolve) => {
      page.on('response', (res) => {
        if (new URL(res.url()).pathname === RULES_PATH) resolve(res.status());
      });
      setTimeout(() => resolve('no review was asked'), 15000);
    });
    await page.goto(server.url);
    await pickerLoaded(page);
    // 405 from a podterm without the review API, 201 (all allowed) from one without RBAC.
    const status = await answered;
    assert.ok([201, 405].includes(status), String(status));
    assert.deepEqual((await podOptions(page)).map((o) => [o.label, o.open]), [['local', true], ['other', true]]);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  // The upgrade refused although the pod is there: the page's GET of the
  // pod is answered for a pod the server does not have, so the real server
  // refuses the WebSocket; the page then asks the exec as a plain POST.
  async function ghostShell(page, probe) {
    await page.route('**/api/v1/namespaces/default/pods/ghost', (route) =>
      route.fulfill({
        status: 200,
        contentType: 'application/json',
        body: JSON.stringify({ metadata: { name: 'ghost', namespace: 'default' }, spec: { containers: [{ name: 'shell' }] } }),
      }));
    const probes = [];
    await page.route('**/api/v1/namespaces/default/pods/ghost/exec?*', async (route) => {
      probes.push({ method: route.request().method(), url: route.request().url() });
      if (probe) await route.fulfill(probe);
      else await route.continue();
    });
    await page.goto(`${server.url}#/default/ghost/shell`);
    await waitForState(page, 'error', 15000);
    return probes;
  }

  test('a refused WebSocket is explained by the same exec asked without the upgrade', async () => {
    const page = await newPage(browser);
    const probes = await ghostShell(page, null); // the real server answers the probe
    assert.equal(await page.textContent('.banner-text'), 'pods "ghost" not found');
    assert.equal(await page.textContent('#state'), 'Error 404');
    assert.deepEqual(probes.map((p) => p.method), ['POST']);
    const q = new URL(probes[0].url).searchParams;
    assert.deepEqual([q.get('container'), q.get('tty'), q.get('stdin'), q.getAll('command')], ['shell', 'true', 'true', ['bash']]);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('a 403 on the exec (an ExecPolicy) is shown word for word; a 400 past admission is not a reason', async () => {
    const message = 'pods "ghost" is forbidden: ExecPolicy "team": command ["bash"] is not in the allowed commands';
    const page = await newPage(browser);
    await ghostShell(page, {
      status: 403,
      contentType: 'application/json',
      body: JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403, message }),
    });
    assert.equal(await page.textContent('.banner-text'), message);
    assert.equal(await page.textContent('#state'), 'Error 403');
    await page.close();

    const page2 = await newPage(browser);
    await ghostShell(page2, {
      status: 400,
      contentType: 'application/json',
      body: JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'BadRequest', code: 400, message: 'Upgrade request required' }),
    });
    assert.match(await page2.textContent('.banner-text'), /^The server refused the terminal connection\./);
    await page2.close();
  });

  test('a list refused with 403: the Status message, as plain text', async () => {
    const page = await newPage(browser);
    await page.route('**/api/v1/namespaces/default/pods', (route) =>
      route.fulfill({
        status: 403,
        contentType: 'application/json',
        body: JSON.stringify({
          kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403,
          message: 'pods is forbidden: User "eve\u001b[2J\u202e" cannot list resource "pods"\n in API group "" in the namespace "default"',
        }),
      }));
    await page.goto(server.url);
    await pickerLoaded(page);
    assert.equal(await pickerMessage(page),
      'pods is forbidden: User "eve" cannot list resource "pods"  in API group "" in the namespace "default"');
    assert.equal(await page.evaluate(() => document.querySelector('.picker-message').classList.contains('error')), true);
    assert.deepEqual(await podOptions(page), []);
    assert.deepEqual(page.errors, []);
    await page.close();
  });
});

// ---- a real podterm with RBAC ----

function podtermKnows(flag) {
  try {
    return execFileSync(podtermBin, ['--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).includes(flag);
  } catch (e) {
    return String(e.stdout ?? '').includes(flag) || String(e.stderr ?? '').includes(flag);
  }
}

const HAS_RBAC = podtermKnows('--authorization-rbac-file');

const TOKENS = {
  alice: 'e2e-token-alice',
  bob: 'e2e-token-bob',
  carol: 'e2e-token-carol',
};

// alice: reads pods, exec into default/local only, and only bash or sh there.
// bob: reads pods, exec nowhere. carol: nothing at all.
const RBAC = `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: default}
rules:
  - apiGroups: [""]
    resources: [pods]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: exec-local, namespace: default}
rules:
  - apiGroups: [""]
    resources: [pods/exec]
    resourceNames: [local]
    verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: pod-readers, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects:
  - {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
  - {apiGroup: rbac.authorization.k8s.io, kind: User, name: bob}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-exec, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: exec-local}
subjects:
  - {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
---
apiVersion: podterm.dev/v1alpha1
kind: ExecPolicy
metadata: {name: alice-shells}
spec:
  subjects: [{kind: User, name: alice}]
  commands:
    - prefix: [bash]
    - prefix: [sh]
`;

/** A plain HTTP request to the server; resolves with status and parsed JSON body. */
function api(server, method, path, token) {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url.replace(/\/$/, '')}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        let body = null;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode, body, text });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A page signed in as user (the token where the page keeps it). */
async function pageAs(browser, user, viewport) {
  const page = await newPage(browser, viewport);
  await page.addInitScript((t) => sessionStorage.setItem('podterm.token', t), TOKENS[user]);
  return page;
}

/**
 * local: one podterm with the pods, the users and the RBAC file. gateway: the
 * same users and RBAC file on a gateway podterm, in front of an upstream
 * podterm (the "cluster") that has the pods and knows only the gateway's own
 * token (harness.mjs startGatewayPair).
 */
async function startRbac(mode, dir) {
  const tokens = join(dir, 'tokens.csv');
  writeFileSync(tokens, Object.entries(TOKENS).map(([u, t], i) => `${t},${u},${1000 + i}\n`).join(''));
  const rbac = join(dir, 'rbac.yaml');
  writeFileSync(rbac, RBAC);
  const auth = ['--token-auth-file', tokens, '--authorization-rbac-file', rbac];
  if (mode === 'local') return [await startPodterm({ config: TWO_PODS, extraArgs: auth })];
  return startGatewayPair(dir, { upstreamOpts: { config: TWO_PODS }, gatewayOpts: { extraArgs: auth } });
}

for (const mode of ['local', 'gateway']) describe(`picker and shell under RBAC, ${mode} mode (token file, RBAC file)`, { skip: HAS_RBAC ? false : 'podterm has no --authorization-rbac-file' }, () => {
  let server;
  let servers = [];
  let browser;
  let tmp;

  before(async () => {
    tmp = tempDir('podterm-e2e-authz-');
    servers = await startRbac(mode, tmp.dir);
    server = servers[0];
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await stopAll(servers);
    tmp?.cleanup();
  });

  test('alice sees local to open and other without access, and opens local', async () => {
    const page = await pageAs(browser, 'alice');
    await page.goto(server.url);
    await pickerLoaded(page);
    assert.deepEqual(await podOptions(page), [
      { name: 'local', label: 'local', open: true, group: '' },
      { name: 'other', label: 'other (no access)', open: false, group: 'No shell access' },
    ]);
    assert.equal(await pickerMessage(page), 'You may open a shell in 1 of the 2 pods in namespace default.');
    // alice may not list namespaces: she types one, "default" to begin with.
    assert.equal(await page.inputValue('#pick-ns'), 'default');
    await page.click('button[type=submit]');
    await preparePrompt(page);
    await run(page, 'echo alice$((40+2))');
    await waitForText(page, /^alice42$/);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('bob sees both pods, none to open, and nothing opens by itself', async () => {
    const page = await pageAs(browser, 'bob');
    await page.goto(server.url);
    await pickerLoaded(page);
    assert.deepEqual(await podOptions(page), [
      { name: 'local', label: 'local (no access)', open: false, group: 'No shell access' },
      { name: 'other', label: 'other (no access)', open: false, group: 'No shell access' },
    ]);
    assert.equal(await pickerMessage(page), 'You may not open a shell in any of the 2 pods in namespace default.');
    assert.equal(await page.isDisabled('button[type=submit]'), true);
    await screenshot(page, 'picker-bob');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('bob following a link to a shell sees the Forbidden message word for word', async () => {
    const page = await pageAs(browser, 'bob');
    await page.goto(`${server.url}#/default/local/shell`);
    await waitForState(page, 'error', 15000);
    assert.equal(await page.textContent('.banner-text'),
      'pods "local" is forbidden: User "bob" cannot create resource "pods/exec" in API group "" in the namespace "default"');
    assert.equal(await page.textContent('#state'), 'Error 403');
    await screenshot(page, 'shell-forbidden');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('carol may not list pods: the 403 message, not a blank page', async () => {
    const page = await pageAs(browser, 'carol');
    await page.goto(server.url);
    await pickerLoaded(page);
    assert.equal(await pickerMessage(page),
      'pods is forbidden: User "carol" cannot list resource "pods" in API group "" in the namespace "default"');
    assert.deepEqual(await podOptions(page), []);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('alice running a command her ExecPolicy does not allow sees the policy named', async () => {
    const argv = ['env'];
    const query = `container=shell&stdin=true&stdout=true&stderr=true&tty=true&command=env`;
    const direct = await api(server, 'POST', `/api/v1/namespaces/default/pods/local/exec?${query}`, TOKENS.alice);
    assert.equal(direct.status, 403, direct.text);
    assert.match(direct.body.message, /ExecPolicy "alice-shells"/);

    const page = await pageAs(browser, 'alice');
    await page.goto(`${server.url}#/default/local/shell?${argv.map((a) => `command=${a}`).join('&')}`);
    await page.waitForSelector('#run-dialog[data-armed]');
    await page.click('#run-ok');
    await waitForState(page, 'error', 15000);
    assert.equal(await page.textContent('.banner-text'), direct.body.message);
    assert.deepEqual(page.errors, []);
    await page.close();
  });
});
