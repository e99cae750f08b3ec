// Watch and join from the Sessions view (issue 11): page A owns a shell;
// page B watches it (A's current screen, then live output, A's size, no
// keyboard), page C joins it (its keys reach A's shell). A's header says who
// watches. When A's shell exits, the watchers say the session ended.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  launchBrowser,
  lines,
  newPage,
  preparePrompt,
  run,
  screenshot,
  startPodterm,
  stopAll,
  waitForState,
  waitForText,
} from './harness.mjs';

/** The id of the page's session, from its channel-7 `session` message. */
function sessionId(page) {
  return new Promise((resolve) => {
    page.on('websocket', (ws) => {
      ws.on('framereceived', ({ payload }) => {
        if (!Buffer.isBuffer(payload) || payload[0] !== 7) return;
        const m = JSON.parse(payload.subarray(1).toString('utf8'));
        if (m.type === 'session') resolve(m.id);
      });
    });
  });
}

async function watchers(page, text) {
  await page.waitForFunction((t) => window.podterm.watchers() === t, text, { timeout: 10000, polling: 50 });
}

describe('watch and join', () => {
  let server;
  let browser;

  before(async () => {
    server = await startPodterm();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await stopAll([server]); // exit 0: a sanitizer report at exit fails
  });

  test('B watches A read-only, C joins and types into A; both see the end', async () => {
    const a = await newPage(browser, { width: 900, height: 520 });
    const idPromise = sessionId(a);
    await a.goto(`${server.url}#/default/local/shell`);
    await preparePrompt(a);
    await run(a, 'echo marker-A-$((6*7))');
    await waitForText(a, /^marker-A-42$/);
    const id = await idPromise;
    assert.equal(await a.locator('#watchers').isVisible(), false);

    // B: the Sessions view lists A's shell with Watch and Join.
    const b = await newPage(browser, { width: 1100, height: 640 });
    await b.goto(`${server.url}#/-/sessions`);
    const row = b.locator(`#sessions-live tr[data-id="${id}"]`);
    await row.waitFor({ timeout: 15000 });
    assert.equal(await row.locator('button.watch').innerText(), 'Watch');
    assert.equal(await row.locator('button.join').innerText(), 'Join');
    await screenshot(b, 'sessions-live');
    await row.locator('button.watch').click();
    assert.equal(new URL(b.url()).hash, `#/-/sessions/${id}/watch`);
    await waitForState(b, 'connected', 15000);
    assert.equal(await b.locator('#watch-title').innerText(), "Watching system:anonymous's session (read-only)");
    // A's screen as it is now, at A's size
    await waitForText(b, /^marker-A-42$/);
    assert.deepEqual(await b.evaluate(() => window.podterm.size()), await a.evaluate(() => window.podterm.size()));
    await watchers(a, 'Watched by system:anonymous (watch)');

    // live output
    await run(a, 'echo live-$((1+2))');
    await waitForText(b, /^live-3$/);

    // B's keys go nowhere
    await b.locator('.term').click();
    await b.keyboard.type('echo from-watcher-$((7*7))\n');
    await run(a, 'echo after-$((2+2))');
    await waitForText(a, /^after-4$/);
    await waitForText(b, /^after-4$/);
    for (const l of [...(await lines(a)), ...(await lines(b))]) assert.ok(!l.includes('from-watcher'), l);

    // A's size changes: B follows, and never sends its own. A's window is
    // brought to the front first, as the window a user resizes is: B's,
    // opened later, may cover it, and a covered page may paint no frame
    // (its terminal fits on the next animation frame).
    // In two full runs out of about ten (never alone) A's page still did
    // not fit within 10 s, with the browser's renderer starved by the
    // suites beside it; a user who sees no change drags again, and so does
    // the test, once, saying so in the log.
    const before = await b.evaluate(() => window.podterm.size());
    const aResized = (timeout) => a.waitForFunction(
      (old) => {
        const s = window.podterm.size();
        return s.cols !== old.cols && s;
      },
      before,
      { timeout, polling: 50 },
    ).then((h) => h.jsonValue());
    await a.bringToFront();
    await a.setViewportSize({ width: 700, height: 420 });
    let aSize;
    try {
      aSize = await aResized(8000);
    } catch {
      console.log('# A did not fit its new size within 8 s: resized again');
      await a.bringToFront();
      await a.setViewportSize({ width: 720, height: 430 });
      await a.setViewportSize({ width: 700, height: 420 });
      aSize = await aResized(10000);
    }
    await b.waitForFunction((s) => {
      const t = window.podterm.size();
      return t.cols === s.cols && t.rows === s.rows;
    }, aSize, { timeout: 10000, polling: 50 });
    await screenshot(b, 'watch-view');

    // C joins: what C types runs in A's shell
    const c = await newPage(browser, { width: 1100, height: 640 });
    await c.goto(`${server.url}#/-/sessions`);
    await c.locator(`#sessions-live tr[data-id="${id}"] button.join`).click();
    await waitForState(c, 'connected', 15000);
    assert.equal(await c.locator('#watch-title').innerText(), "Joined system:anonymous's session (read-write)");
    await watchers(a, 'Watched by system:anonymous (watch), system:anonymous (join)');
    await screenshot(a, 'watched-by');
    await c.locator('.term').click();
    await c.keyboard.type('echo joined-$((3*3))\n');
    await waitForText(a, /^joined-9$/);
    await waitForText(b, /^joined-9$/);
    await waitForText(c, /^joined-9$/);

    // B leaves: A's list follows
    await b.goto(`${server.url}#/-/sessions`);
    await watchers(a, 'Watched by system:anonymous (join)');

    // A's shell exits: C says so (without a recording the API forgets the
    // session, so there is no exit code to show)
    await run(a, 'exit 3');
    await waitForState(a, 'exited');
    await c.waitForFunction(() => document.querySelector('.banner-text')?.textContent?.startsWith('The session ended'), null, { timeout: 10000, polling: 50 });
    assert.equal(await c.locator('.banner-text').innerText(), 'The session ended.');
    await waitForText(c, '[podterm] The session ended.');
    assert.equal(await c.evaluate(() => window.podterm.state()), 'exited');
    assert.equal(await a.locator('#watchers').isVisible(), false);
    for (const p of [a, b, c]) assert.deepEqual(p.errors, []);
  });

  test('a join opened from a link is read-only until typing is allowed', async () => {
    const a = await newPage(browser);
    const idPromise = sessionId(a);
    await a.goto(`${server.url}#/default/local/shell`);
    await preparePrompt(a);
    const id = await idPromise;

    const c = await newPage(browser);
    await c.goto(`${server.url}#/-/sessions/${id}/join`);
    await waitForState(c, 'connected', 15000);
    assert.equal(await c.locator('#watch-title').innerText(), "Watching system:anonymous's session (read-only)");
    assert.equal(
      await c.locator('.banner-text').innerText(),
      "This link joins system:anonymous's session: what you type would go to their terminal. It is read-only until you allow typing.",
    );
    await c.locator('.term').click();
    await c.keyboard.type('echo early-$((5*5))\n');
    await run(a, 'echo mark-$((1+1))');
    await waitForText(a, /^mark-2$/);
    await waitForText(c, /^mark-2$/);
    for (const l of await lines(a)) assert.ok(!l.includes('early-'), l);

    await c.getByRole('button', { name: 'Allow typing' }).click();
    assert.equal(await c.locator('#watch-title').innerText(), "Joined system:anonymous's session (read-write)");
    assert.equal(await c.locator('.banner').isVisible(), false);
    await c.keyboard.type('echo late-$((5*5))\n');
    await waitForText(a, /^late-25$/);
    assert.deepEqual(a.errors, []);
    assert.deepEqual(c.errors, []);
    await c.close();
    await a.close();
  });

  test('an unknown session: the Status, not a terminal', async () => {
    const page = await newPage(browser);
    const missing = '0a1b2c3d-9999-4222-8333-444455556666';
    await page.goto(`${server.url}#/-/sessions/${missing}/watch`);
    await waitForState(page, 'error');
    assert.equal(await page.locator('.banner-text').innerText(), `sessions.podterm.dev "${missing}" not found`);
    assert.deepEqual(page.errors, []);
  });
});
