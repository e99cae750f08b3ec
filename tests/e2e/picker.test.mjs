// The picker with several pods (from a --config file): keyboard-only use at
// 320 px, deep links with a command, the bash -> sh fallback, and the token
// prompt when the API answers 401.
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  launchBrowser,
  newPage,
  preparePrompt,
  run,
  screenshot,
  startPodterm,
  stopAll,
  tempDir,
  waitForState,
  waitForText,
} from './harness.mjs';

// A PATH with sh and the few tools the tests use, but no bash.
function noBashPath(dir) {
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  for (const tool of ['sh', 'echo', 'cat', 'printf']) {
    try {
      symlinkSync(`/bin/${tool}`, join(bin, tool));
    } catch {
      // /bin/echo may not exist; sh has its own builtins
    }
  }
  return bin;
}

describe('picker, several pods', () => {
  let server;
  let browser;
  let tmp;

  before(async () => {
    tmp = tempDir('podterm-e2e-picker-');
    const path = noBashPath(tmp.dir);
    server = await startPodterm({
      config: `
namespaces: [default, team-a]
pods:
  - name: local
    containers:
      - {name: shell, tty: true, stdin: true}
  - name: web
    namespace: team-a
    containers:
      - {name: app, tty: true, stdin: true}
      - name: nobash
        tty: true
        stdin: true
        env:
          - {name: PATH, value: "${path}"}
`,
    });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await stopAll([server]); // exit 0: a sanitizer report at exit fails
    tmp?.cleanup();
  });

  test('keyboard only at 320 px: choose namespace, pod, container, open, leave the terminal', async () => {
    const page = await newPage(browser, { width: 320, height: 640 });
    await page.goto(server.url);
    // Several pods: no auto-open, the picker has focus on the namespace.
    await page.getByRole('heading', { name: 'Open a shell' }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('#pick-pod option').length > 0);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'pick-ns');
    assert.equal(await page.title(), 'podterm');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow} px wider than 320 px`);
    await screenshot(page, 'picker-320');

    // Namespace team-a with the keyboard (select + arrow keys), then Tab on.
    await page.keyboard.press('ArrowDown');
    await page.waitForFunction(() => location.hash === '#/team-a');
    await page.waitForFunction(() => document.querySelector('#pick-pod').value === 'web');
    await page.keyboard.press('Tab'); // pod
    assert.equal(await page.evaluate(() => document.activeElement.id), 'pick-pod');
    await page.keyboard.press('Tab'); // container
    assert.equal(await page.evaluate(() => document.activeElement.id), 'pick-container');
    assert.equal(await page.inputValue('#pick-container'), 'app');
    await page.keyboard.press('Tab'); // command
    await page.keyboard.type('sh');
    await page.keyboard.press('Enter'); // submits the form
    await waitForState(page, 'connected');
    assert.equal(new URL(page.url()).hash, '#/team-a/web/app?command=sh');
    assert.equal(await page.evaluate(() => document.activeElement.classList.contains('xterm-helper-textarea')), true);
    await preparePrompt(page);
    await run(page, 'echo kb$((2*21))');
    await waitForText(page, /^kb42$/);
    await screenshot(page, 'terminal-320');

    // Ctrl-Shift-E leaves the terminal for the toolbar; Tab moves through it.
    await page.keyboard.press('Control+Shift+E');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'btn-find');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'btn-reconnect');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'btn-pods');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Open a shell' }).waitFor();
    assert.equal(new URL(page.url()).hash, '#/team-a');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('a deep link with a command runs exactly that argv', async () => {
    const page = await newPage(browser);
    const cmd = ['sh', '-c', 'echo "argv:$0:$1"; exec sh', 'x y'].map((a) => `command=${encodeURIComponent(a)}`).join('&');
    await page.goto(`${server.url}#/default/local/shell?${cmd}`);
    await page.waitForSelector('#run-dialog[data-armed]'); // a linked command is confirmed first
    await page.click('#run-ok');
    await waitForState(page, 'connected');
    await waitForText(page, /^argv:x y:$/);
    assert.match(await page.textContent('#where'), /default\/local\/shell\$ sh -c/);
    await page.close();
  });

  test('no bash in the container: the default command falls back to sh', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}#/team-a/web/nobash`);
    await waitForState(page, 'connected');
    await page.keyboard.type('echo "shell=$0"\n');
    await waitForText(page, /^shell=sh$/);
    assert.match(await page.textContent('#where'), /\$ sh$/);
    await page.close();
  });

  test('an unknown container is named before any WebSocket is opened', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}#/team-a/web/nope`);
    await waitForState(page, 'error');
    assert.match(await page.textContent('.banner'), /container nope is not valid for pod web/);
    await page.close();
  });
});

describe('token prompt', () => {
  let server;
  let browser;
  let tmp;

  before(async () => {
    tmp = tempDir('podterm-e2e-auth-');
    const csv = join(tmp.dir, 'tokens.csv');
    writeFileSync(csv, 'e2e-secret-token,alice,1000,"devs"\n');
    server = await startPodterm({ extraArgs: ['--token-auth-file', csv] });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await stopAll([server]); // exit 0: a sanitizer report at exit fails
    tmp?.cleanup();
  });

  test('401 asks for a token; a wrong one is refused; the right one opens the shell', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}#/default/local/shell`);
    const dialog = page.getByRole('dialog', { name: 'Sign in' });
    await dialog.waitFor({ state: 'visible' });
    assert.equal(await page.getAttribute('#token-input', 'type'), 'password');
    await screenshot(page, 'token-prompt');
    await page.fill('#token-input', 'wrong');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'visible' });
    await page.waitForFunction(() => /refused/.test(document.querySelector('#token-message').textContent));
    await page.fill('#token-input', 'e2e-secret-token');
    await page.keyboard.press('Enter');
    await waitForState(page, 'connected');
    await preparePrompt(page);
    await run(page, 'echo authed$((1+2))');
    await waitForText(page, /^authed3$/);
    // The token lives in sessionStorage, never in the URL.
    assert.ok(!page.url().includes('e2e-secret-token'));
    assert.equal(await page.evaluate(() => sessionStorage.getItem('podterm.token')), 'e2e-secret-token');
    await page.close();
  });
});
