// Client certificates as users in the browser (issue 16): podterm serves
// TLS with --client-ca-file; Chromium presents a certificate (playwright's
// clientCertificates) and is that user, CN and O, with no token: alice (O
// devs, which RBAC lets open shells) gets a shell and the sessions API names
// her; bob (O qa) is refused with RBAC's words; without a certificate the
// TLS handshake itself fails.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  DEVS_EXEC_RBAC,
  launchBrowser,
  preparePrompt,
  run,
  screenshot,
  startPodterm,
  tempDir,
  waitForText,
} from './harness.mjs';


function openssl(dir, ...args) {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

function signed(dir, name, subj, ext) {
  openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', subj, '-keyout', `${name}.key`, '-out', `${name}.csr`);
  writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
    '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
  return { certPath: join(dir, `${name}.crt`), keyPath: join(dir, `${name}.key`) };
}

describe('client certificates in the browser', () => {
  let server;
  let browser;
  let tmp;
  let certs;

  before(async () => {
    tmp = tempDir('podterm-e2e-x509-');
    const d = tmp.dir;
    openssl(d, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=e2e-ca', '-keyout', 'ca.key', '-out', 'ca.crt');
    signed(d, 'server', '/CN=server', 'subjectAltName=IP:127.0.0.1');
    certs = {
      alice: signed(d, 'alice', '/CN=alice/O=devs', 'extendedKeyUsage=clientAuth'),
      bob: signed(d, 'bob', '/CN=bob/O=qa', 'extendedKeyUsage=clientAuth'),
    };
    writeFileSync(join(d, 'rbac.yaml'), DEVS_EXEC_RBAC);
    server = await startPodterm({
      extraArgs: ['--tls-cert-file', join(d, 'server.crt'), '--tls-private-key-file', join(d, 'server.key'),
        '--client-ca-file', join(d, 'ca.crt'), '--authorization-rbac-file', join(d, 'rbac.yaml')],
    });
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    const res = await server?.stop();
    tmp?.cleanup();
    assert.deepEqual(res, { code: 0, signal: null }, server?.stderr());
  });

  async function pageAs(user) {
    const origin = server.url.replace(/\/$/, '');
    const context = await browser.newContext({
      ignoreHTTPSErrors: true, // the test CA is not Chromium's
      clientCertificates: user ? [{ origin, ...certs[user] }] : [],
    });
    const page = await context.newPage();
    page.errors = [];
    page.on('pageerror', (e) => page.errors.push(e.message));
    return page;
  }

  test('alice (O=devs) opens a shell with her certificate alone, and is named alice', async () => {
    const page = await pageAs('alice');
    await page.goto(server.url);
    await preparePrompt(page);
    await run(page, 'echo cert$((40+2))');
    await waitForText(page, /^cert42$/);
    const users = await page.evaluate(async () => {
      const r = await fetch('/apis/podterm.dev/v1alpha1/sessions');
      return (await r.json()).items.map((i) => i.spec.user);
    });
    assert.deepEqual(users, ['alice']);
    await screenshot(page, 'client-certificate');
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test('bob (O=qa) gets RBAC\'s refusal, word for word', async () => {
    const page = await pageAs('bob');
    await page.goto(server.url);
    const status = await page.evaluate(async () => {
      const r = await fetch('/api/v1/namespaces/default/pods');
      return { code: r.status, message: (await r.json()).message };
    });
    assert.deepEqual(status, {
      code: 403,
      message: 'pods is forbidden: User "bob" cannot list resource "pods" in API group "" in the namespace "default"',
    });
    await page.context().close();
  });

  test('no certificate: the TLS handshake fails, nothing is served', async () => {
    const page = await pageAs(null);
    await assert.rejects(page.goto(server.url), /ERR_|net::/);
    await page.context().close();
  });
});
