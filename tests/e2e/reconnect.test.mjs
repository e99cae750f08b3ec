// Network loss: the server dies under an open terminal and comes back on the
// same port; the page notices, backs off, and reconnects by itself. These
// servers run without resume (--session-grace 0): that is when the page opens
// a new shell. With resume on, a server that restarted does not know the
// session, and the page says it ended instead (resume.test.mjs has the rest).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  launchBrowser,
  newPage,
  preparePrompt,
  run,
  screenshot,
  startPodterm,
  stopAll,
  waitForState,
  waitForText,
} from './harness.mjs';

let browser;
let server;
const NO_RESUME = ['--session-grace', '0'];

after(async () => {
  await browser?.close();
  // The servers killed on purpose are gone; the last one restarted must
  // shut down cleanly (ASan/LSan reports make the server exit non-zero).
  await stopAll([server]); // exit 0: a sanitizer report at exit fails
});

test('kill the server, restart it on the same port: the page reconnects', async () => {
  server = await startPodterm({ extraArgs: NO_RESUME });
  const { port } = server;
  browser = await launchBrowser();
  const page = await newPage(browser);
  await page.goto(`${server.url}#/default/local/shell`);
  await preparePrompt(page);
  await run(page, 'echo first$((4+4))');
  await waitForText(page, /^first8$/);

  // A crash, not a shutdown: no Close frame reaches the page.
  await server.stop('SIGKILL');
  await waitForState(page, 'reconnecting');
  await waitForText(page, 'connection lost');
  assert.match(await page.textContent('.banner'), /Reconnecting automatically/);
  assert.match(await page.textContent('#state'), /Reconnecting in \d+ s/);
  await screenshot(page, 'reconnecting');
  // Let a few attempts fail while the server is down: a countdown of 3 s or
  // more comes from the third delay at the earliest (0.5, 1, 2 s +-20 %), so
  // two attempts have failed by then.
  await page.waitForFunction(() => {
    const m = / in (\d+) s/.exec(document.querySelector('#state').textContent);
    return m && Number(m[1]) >= 3;
  }, null, { timeout: 30000, polling: 100 });
  assert.equal(await page.evaluate(() => window.podterm.state()), 'reconnecting');

  server = await startPodterm({ listen: `127.0.0.1:${port}`, extraArgs: NO_RESUME });
  // Backoff is at most 15 s; the first attempts are far shorter.
  await waitForState(page, 'connected', 20000);
  await preparePrompt(page);
  await run(page, 'echo second$((5+5))');
  await waitForText(page, /^second10$/);
  await screenshot(page, 'reconnected');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('"Reconnect now" skips the wait', async () => {
  const page = await newPage(browser);
  await page.goto(`${server.url}#/default/local/shell`);
  await preparePrompt(page);
  const { port } = server;
  await server.stop('SIGKILL');
  await waitForState(page, 'reconnecting');
  // Let the backoff grow (0.5, 1, 2, 4, 8 s ... with jitter) until the next
  // attempt is at least 6 s away, so the click, not the timer, reconnects.
  await page.waitForFunction(() => {
    const m = / in (\d+) s/.exec(document.querySelector('#state').textContent);
    return m && Number(m[1]) >= 6;
  }, null, { timeout: 30000, polling: 100 });
  server = await startPodterm({ listen: `127.0.0.1:${port}`, extraArgs: NO_RESUME });
  assert.equal(await page.evaluate(() => window.podterm.state()), 'reconnecting');
  const t0 = Date.now();
  await page.getByRole('button', { name: 'Reconnect now' }).click();
  await waitForState(page, 'connected', 5000);
  assert.ok(Date.now() - t0 < 3000);
  await page.close();
});

test('with resume on, a restarted server: the session ended, and a new shell only on request', async () => {
  const old = server;
  server = null;
  if (old) {
    const res = await old.stop();
    assert.equal(res.code, 0, `podterm exited with ${JSON.stringify(res)}:\n${old.stderr()}`);
  }
  server = await startPodterm(); // resume on (the default grace)
  const { port } = server;
  browser ??= await launchBrowser();
  const page = await newPage(browser);
  await page.goto(`${server.url}#/default/local/shell`);
  await preparePrompt(page);
  await run(page, 'echo PID=$$');
  await waitForText(page, /^PID=\d+$/);
  await server.stop('SIGKILL');
  await waitForState(page, 'reconnecting');
  assert.equal(await page.locator('.resume-label').innerText(), 'Connection lost — reconnecting…');
  server = await startPodterm({ listen: `127.0.0.1:${port}` });
  // The next attempt reaches the new server, which never had this session.
  await page.waitForFunction(() => document.querySelector('.banner-text')?.textContent === 'The session ended.', null, { timeout: 15000, polling: 50 });
  assert.equal(await page.evaluate(() => window.podterm.state()), 'exited');
  await page.getByRole('button', { name: 'New shell' }).click();
  await preparePrompt(page);
  await run(page, 'echo again$((2+3))');
  await waitForText(page, /^again5$/);
  assert.deepEqual(page.errors, []);
  await page.close();
});
