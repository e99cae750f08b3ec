// What a link or a server message cannot make the page do: run a command
// without the person confirming it (the argv shown exactly, controls made
// visible), or write escape sequences into the terminal through podterm's own
// notes. And the headers every response of podterm's own carries: a CSP whose
// connect-src is 'self' only, and Referrer-Policy: no-referrer.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, newPage, screenshot, startPodterm, tempDir, waitForState, waitForText } from './harness.mjs';

// 'wasm-unsafe-eval': the replay's player compiles its terminal from WebAssembly (no script eval).
const CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'";

function get(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

function link(server, argv, where = 'default/local/shell') {
  return `${server.url}#/${where}?${argv.map((a) => `command=${encodeURIComponent(a)}`).join('&')}`;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitForFile(path, timeout = 10000) {
  const until = Date.now() + timeout;
  while (!existsSync(path) && Date.now() < until) await sleep(50);
  return existsSync(path);
}

/** The open confirmation: its argv items' text, and the focused element's id. */
async function dialogState(page) {
  await page.waitForSelector('#run-dialog[open]', { timeout: 10000 });
  return page.evaluate(() => ({
    argv: [...document.querySelectorAll('#run-argv li')].map((li) => li.textContent),
    controls: [...document.querySelectorAll('#run-argv .ctl')].map((s) => s.textContent),
    where: document.querySelector('#run-where').textContent,
    focused: document.activeElement.id,
  }));
}

describe('deep links and notes', () => {
  let server;
  let browser;
  let tmp;

  before(async () => {
    tmp = tempDir('podterm-e2e-security-');
    server = await startPodterm({
      config: `
pods:
  - name: local
    containers:
      - {name: shell, tty: true, stdin: true}
`,
    });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    tmp?.cleanup();
  });

  test('a command from a link waits for Run: shown exactly, nothing runs before, Enter runs it (320 px)', async () => {
    const marker = join(tmp.dir, 'confirmed');
    const page = await newPage(browser, { width: 320, height: 640 });
    await page.goto(link(server, ['touch', marker]));
    const d = await dialogState(page);
    assert.deepEqual(d.argv, ['touch', marker]);
    assert.deepEqual(d.controls, []);
    assert.equal(d.where, 'local/shell in namespace default');
    assert.equal(d.focused, 'run-ok');
    assert.ok(await page.getByRole('dialog', { name: 'Run a command from a link?' }).isVisible());
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow} px wider than 320 px`);
    const box = await page.locator('#run-cancel').boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 320, `Cancel is outside 320 px: ${JSON.stringify(box)}`);
    await screenshot(page, 'confirm-320');
    await sleep(1500);
    assert.equal(existsSync(marker), false, 'the command ran before it was confirmed');

    await page.waitForSelector('#run-dialog[data-armed]');
    await page.keyboard.press('Enter');
    assert.ok(await waitForFile(marker), 'Run did not run the command');
    await waitForState(page, 'exited');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('Escape and Cancel go back to the picker and run nothing', async () => {
    for (const how of ['Escape', 'Cancel']) {
      const marker = join(tmp.dir, `cancelled-${how}`);
      const page = await newPage(browser);
      await page.goto(link(server, ['touch', marker]));
      await dialogState(page);
      await page.waitForSelector('#run-dialog[data-armed]');
      if (how === 'Escape') await page.keyboard.press('Escape');
      else await page.click('#run-cancel');
      await page.getByRole('heading', { name: 'Open a shell' }).waitFor();
      assert.equal(new URL(page.url()).hash, '#/default');
      await sleep(1000);
      assert.equal(existsSync(marker), false, `${how} ran the command`);
      assert.deepEqual(page.errors, []);
      await page.close();
    }
  });

  test('a second link while the question is open replaces it, and still nothing runs', async () => {
    const first = join(tmp.dir, 'first');
    const second = join(tmp.dir, 'second');
    const page = await newPage(browser);
    await page.goto(link(server, ['touch', first]));
    await dialogState(page);
    await page.evaluate((h) => (location.hash = h), new URL(link(server, ['touch', second])).hash);
    await page.waitForFunction((m) => document.querySelector('#run-argv li:last-child')?.textContent === m, second);
    await sleep(1000);
    const d = await dialogState(page);
    assert.deepEqual(d.argv, ['touch', second]);
    assert.equal(d.focused, 'run-ok');
    assert.equal(existsSync(first) || existsSync(second), false, 'a replaced question ran something');
    await page.waitForSelector('#run-dialog[data-armed]');
    await page.click('#run-cancel');
    await page.getByRole('heading', { name: 'Open a shell' }).waitFor();
    assert.equal(existsSync(first) || existsSync(second), false);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('control characters in a linked argv are shown, not hidden or acted on', async () => {
    const page = await newPage(browser);
    await page.goto(link(server, ['printf', '\x1b[2Jok\n\x07', 'tab\there\u202e']));
    const d = await dialogState(page);
    assert.deepEqual(d.argv, ['printf', 'ESC[2Jok\\n\\x07', 'tab\\there' + 'U+202E']);
    assert.deepEqual(d.controls, ['ESC', '\\n', '\\x07', '\\t', 'U+202E']);
    await screenshot(page, 'confirm-controls');
    await page.close();
  });

  test("a crafted command's error note reaches the terminal as plain text", async () => {
    // A program name that would clear the screen, home the cursor and print a fake line.
    const evil = '\x1b[2J\x1b[Hfake\x1b]0;title\x07\x9b31m';
    const page = await newPage(browser);
    await page.goto(link(server, [evil]));
    await dialogState(page);
    await page.waitForSelector('#run-dialog[data-armed]');
    await page.click('#run-ok');
    await waitForState(page, 'error');
    await waitForText(page, '[podterm] failed:');
    const lines = await page.evaluate(() => window.podterm.lines());
    const note = lines.filter((l) => l.includes('[podterm]'));
    assert.deepEqual(note, ['[podterm] failed: Internal error occurred: exec: "fake": executable file not found in $PATH'], lines.join('\n'));
    assert.ok(!lines.some((l) => /[\x00-\x1f\x7f-\x9f]/.test(l)), 'a control character reached the buffer');
    assert.equal(await page.textContent('.banner-text'), 'Internal error occurred: exec: "fake": executable file not found in $PATH');
    await page.close();
  });

  test('a link without a command still opens the default shell in one step', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}#/default/local/shell`);
    await waitForState(page, 'connected');
    assert.equal(await page.evaluate(() => document.querySelector('#run-dialog').open), false);
    await page.close();
  });
});

describe('headers of podterm-made responses', () => {
  let server;

  before(async () => {
    server = await startPodterm();
  });

  after(async () => {
    await server?.stop();
  });

  test("the page: CSP connect-src 'self', no-referrer, nosniff", async () => {
    for (const path of ['/', '/app.js']) {
      const res = await get(server.url.replace(/\/$/, '') + path);
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-security-policy'], CSP);
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
    }
  });

  test('API answers and Status errors: no-referrer', async () => {
    for (const [path, status] of [
      ['/api/v1/namespaces', 200],
      ['/api/v1/namespaces/default/pods/nope', 404],
      ['/version', 200],
      ['/nope.js', 404],
    ]) {
      const res = await get(server.url.replace(/\/$/, '') + path);
      assert.equal(res.status, status, path);
      assert.equal(res.headers['referrer-policy'], 'no-referrer', path);
    }
  });

  test("the page's WebSocket works under connect-src 'self'", async () => {
    const browser = await launchBrowser();
    try {
      const page = await newPage(browser);
      const violations = [];
      page.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
      });
      await page.goto(`${server.url}#/default/local`);
      await waitForState(page, 'connected');
      assert.deepEqual(violations, []);
      await page.close();
    } finally {
      await browser.close();
    }
  });
});
