// Resume after a network drop (issue 11): the page is loaded through a
// loopback TCP proxy this test controls, so every request and WebSocket of
// the page goes through it. Cutting the proxy resets every connection both
// ways (no Close frame reaches either side, as when Wi-Fi drops) and refuses
// new ones until it is restored.
//
// Within the grace: the page resumes by itself in the same terminal; vim's
// unsaved text is on screen, typing goes on into the same vim, the file gets
// all of it, and the shell is the same process. After the grace: the page
// says the session ended, and why.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  launchBrowser,
  lines,
  newPage,
  preparePrompt,
  PROMPT,
  run,
  screenshot,
  startPodterm,
  waitForState,
  waitForText,
  startCutProxy,
} from './harness.mjs';


/** Poll a condition in this process (not the page) until it holds. */
async function waitUntil(what, fn, timeout = 10000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The page's WebSockets (URLs) and the channel-7 messages they received. */
function watchSockets(page) {
  const seen = { urls: [], info: [] };
  page.on('websocket', (ws) => {
    seen.urls.push(ws.url());
    ws.on('framereceived', ({ payload }) => {
      if (Buffer.isBuffer(payload) && payload[0] === 7) seen.info.push(JSON.parse(payload.subarray(1).toString('utf8')));
    });
  });
  return seen;
}

function sessionMessages(seen) {
  return seen.info.filter((m) => m.type === 'session');
}

/** The number in the last line matching re (a capture group), or null. */
async function lastMatch(page, re) {
  const found = (await lines(page)).map((l) => re.exec(l)).filter(Boolean);
  return found.length ? found[found.length - 1][1] : null;
}

/** Nothing the page keeps or shows may hold a resume token. */
async function assertTokenNowhere(page, tokens) {
  const kept = await page.evaluate(() =>
    JSON.stringify({ href: location.href, local: { ...localStorage }, session: { ...sessionStorage }, title: document.title, body: document.body.innerHTML }),
  );
  for (const t of tokens) assert.ok(!kept.includes(t), 'a resume token is in the URL, storage or DOM');
}

describe('resume after a network drop', () => {
  let browser;
  const servers = [];
  const proxies = [];

  before(async () => {
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    for (const p of proxies) await p.close();
    for (const s of servers) {
      const res = await s.stop();
      assert.equal(res.code, 0, `podterm exited with ${JSON.stringify(res)}:\n${s.stderr()}`);
    }
  });

  async function serverWithProxy(grace) {
    const server = await startPodterm({ extraArgs: ['--session-grace', String(grace)] });
    servers.push(server);
    const proxy = await startCutProxy(server.port);
    proxies.push(proxy);
    return { server, proxy };
  }

  /** A shell through a proxy of its own, its pid printed: { server, proxy, page, seen, pid }. */
  async function shellThroughProxy(grace) {
    const { server, proxy } = await serverWithProxy(grace);
    const page = await newPage(browser);
    const seen = watchSockets(page);
    await page.goto(`${proxy.url}#/default/local/shell`);
    await preparePrompt(page);
    await run(page, 'echo PID=$$');
    await waitForText(page, /^PID=\d+$/);
    const pid = await lastMatch(page, /^PID=(\d+)$/);
    return { server, proxy, page, seen, pid };
  }

  test('cut under vim with unsaved text, restored within the grace: same vim, same text, same shell', async () => {
    const { server, proxy, page, seen, pid } = await shellThroughProxy(60);
    // More lines than the screen has: the first ones are in xterm's scrollback.
    await run(page, "seq -f 'scroll-%04g' 1 60");
    await waitForText(page, /^scroll-0060$/);
    const [first] = await waitUntil('the session message', () => sessionMessages(seen).length === 1 && sessionMessages(seen));
    assert.equal(first.grace, 60);
    assert.match(first.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.match(first.resume, /^[A-Za-z0-9_-]{32,}$/);

    const file = `/tmp/podterm-e2e-resume-${randomBytes(6).toString('hex')}.txt`;
    try {
      await run(page, `vi ${file}`);
      await waitForText(page, /^~\s*$/, 15000); // vim's empty-buffer lines
      await page.keyboard.press('i');
      await waitForText(page, /-- INSERT --/);
      await page.keyboard.type('unsaved-alpha-1234');
      await waitForText(page, /^unsaved-alpha-1234$/);

      proxy.cut();
      await waitForState(page, 'reconnecting');
      const box = page.locator('.resume-status');
      assert.equal(await box.isVisible(), true);
      assert.equal(await box.getAttribute('role'), 'status');
      assert.equal(await box.getAttribute('aria-live'), 'polite');
      assert.equal(await box.locator('.resume-label').innerText(), 'Connection lost — reconnecting…');
      assert.match(await box.locator('.resume-detail').innerText(), /^\((60|59|58|57|56|55) s left\)$/);
      // non-blocking: no alert banner, the terminal and its text stay
      assert.equal(await page.locator('.banner').isVisible(), false);
      assert.ok((await lines(page)).includes('unsaved-alpha-1234'));
      await screenshot(page, 'resume-reconnecting');
      // Let attempts fail while cut: a resume socket and the API's answer to why.
      await waitUntil('two refused connections', () => proxy.refused >= 2, 15000);
      assert.equal(await page.evaluate(() => window.podterm.state()), 'reconnecting');

      proxy.restore();
      await waitForState(page, 'connected', 15000);
      assert.equal(await box.isVisible(), false);
      // The repaint came on the new connection before anything was typed.
      await page.waitForFunction(() => window.podterm.stats()?.received > 0, null, { timeout: 10000, polling: 50 });
      await waitForText(page, /^unsaved-alpha-1234$/);
      await waitForText(page, /-- INSERT --/);

      // The resume went where the contract says, its token in the offer only.
      const resumeUrl = `ws://127.0.0.1:${new URL(proxy.url).port}/apis/podterm.dev/v1alpha1/sessions/${first.id}/resume`;
      assert.ok(seen.urls.includes(resumeUrl), JSON.stringify(seen.urls));
      for (const u of seen.urls) assert.ok(!u.includes(first.resume));
      // a new token after the resume, same session
      const [, second] = await waitUntil('the second session message', () => sessionMessages(seen).length === 2 && sessionMessages(seen));
      assert.equal(second.id, first.id);
      assert.notEqual(second.resume, first.resume);
      await assertTokenNowhere(page, [first.resume, second.resume]);

      // typing goes on in the same vim
      await page.keyboard.type('-more-beta');
      await waitForText(page, /^unsaved-alpha-1234-more-beta$/);
      await page.keyboard.press('Escape');
      await page.keyboard.type(':wq');
      await page.keyboard.press('Enter');
      await page.waitForFunction((p) => window.podterm.cursorLine() === p, PROMPT, { timeout: 10000, polling: 50 });
      assert.equal(readFileSync(file, 'utf8'), 'unsaved-alpha-1234-more-beta\n');
      // The same terminal: its scrollback from before the cut is still
      // there. (The main screen under vim is not: the server's repaint
      // clears it, its model has only the screen in use.)
      const after = await lines(page);
      assert.ok(after.includes('scroll-0001') && after.includes('scroll-0020'), JSON.stringify(after.filter((l) => l !== '')));

      await run(page, 'echo PID2=$$');
      await waitForText(page, /^PID2=\d+$/);
      assert.equal(await lastMatch(page, /^PID2=(\d+)$/), pid);
      assert.deepEqual(page.errors, []);
    } finally {
      rmSync(file, { force: true });
    }
    await page.close();
    assert.ok(server.pid);
  });

  test('cut and restored after the grace: the page says the session ended and why', async () => {
    const { server, proxy, page, seen, pid } = await shellThroughProxy(3);
    const [msg] = await waitUntil('the session message', () => sessionMessages(seen).length === 1 && sessionMessages(seen));
    assert.equal(msg.grace, 3);

    proxy.cut();
    await waitForState(page, 'reconnecting');
    // The server hangs the shell up when the grace runs out.
    await waitUntil(`shell ${pid} to end`, () => !existsSync(`/proc/${pid}`), 15000);
    proxy.restore();

    const text = 'The session ended: not resumed within 3 s.';
    await page.waitForFunction((t) => document.querySelector('.banner-text')?.textContent === t, text, { timeout: 15000, polling: 50 });
    assert.equal(await page.evaluate(() => window.podterm.state()), 'exited');
    assert.equal(await page.locator('#state').innerText(), 'Ended');
    assert.equal(await page.locator('.resume-status').isVisible(), false);
    await waitForText(page, `[podterm] ${text}`);
    await screenshot(page, 'resume-ended');

    // The sessions API agrees (asked directly, not through the proxy): no
    // recording, so nothing is left of the session.
    const res = await fetch(`${server.url}apis/podterm.dev/v1alpha1/sessions/${msg.id}`);
    assert.equal(res.status, 404);
    assert.equal((await res.json()).message, `sessions.podterm.dev "${msg.id}" not found`);

    // "New shell" opens another process, in the same page.
    await page.getByRole('button', { name: 'New shell' }).click();
    await preparePrompt(page);
    await run(page, 'echo PID3=$$');
    await waitForText(page, /^PID3=\d+$/);
    assert.notEqual(await lastMatch(page, /^PID3=(\d+)$/), pid);
    assert.deepEqual(page.errors, []);
    await page.close();
  });
});
