// The web terminal against a real podterm with its default single pod
// (default/local/shell): / opens it at once; output, UTF-8 both ways, resize,
// exit status, find, theme, and the 404 of an unknown pod.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  heapUsed,
  launchBrowser,
  lines,
  newPage,
  preparePrompt,
  PROMPT,
  run,
  screenshot,
  startPodterm,
  stopAll,
  waitForState,
  waitForText,
} from './harness.mjs';

describe('web terminal, one local pod', () => {
  let server;
  let browser;

  before(async () => {
    // Under ASan, freed memory sits in a quarantine (256 MiB by default) and
    // shows up as RSS; a small one keeps the flood test's server-memory bound
    // meaningful. (Without ASan the release build stays flat near 5 MiB.)
    const asan = process.env.ASAN_OPTIONS ? `${process.env.ASAN_OPTIONS}:` : '';
    server = await startPodterm({ env: { ASAN_OPTIONS: `${asan}quarantine_size_mb=8` } });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await stopAll([server]); // exit 0: a sanitizer report at exit fails
  });

  test('/ opens the only pod at once; typed commands run; the page has a title and labels', async () => {
    const page = await newPage(browser);
    await page.goto(server.url);
    await waitForState(page, 'connected');
    assert.equal(new URL(page.url()).hash, '#/default/local/shell');
    assert.match(await page.title(), /local\/shell .*podterm/);
    assert.equal(await page.evaluate(() => window.podterm.protocol()), 'v1.flow.podterm.dev');
    const label = await page.getAttribute('.term', 'aria-label');
    assert.match(label, /Terminal: local\/shell in default/);
    await preparePrompt(page);
    await run(page, 'echo marker$((6*7))');
    await waitForText(page, /^marker42$/);
    await screenshot(page, 'connected');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('UTF-8: output renders as text, typed non-ASCII reaches the process as UTF-8', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}#/default/local/shell`);
    await preparePrompt(page);
    await run(page, `printf '\\344\\275\\240\\345\\245\\275\\n'`);
    await waitForText(page, /^你好$/);
    // Typed (inserted, like an IME or paste) text: CJK, emoji, a combining mark.
    await page.keyboard.type('printf %s ');
    await page.keyboard.insertText("'é世😀e\u0301'");
    await page.keyboard.type(' | od -An -tx1\n');
    await waitForText(page, 'c3 a9 e4 b8 96 f0 9f 98 80 65 cc 81');
    await page.keyboard.type('echo ');
    await page.keyboard.insertText('ab世界cd😀é');
    await page.keyboard.press('Enter');
    await waitForText(page, /^ab世界cd😀é$/);
    // unicode11 widths: CJK and emoji take two cells, é one; e + U+0301 is one cell.
    assert.deepEqual(await page.evaluate(() => window.podterm.cellWidths('ab世界cd😀é')), [1, 1, 2, 2, 1, 1, 2, 1]);
    await screenshot(page, 'utf8');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('resizing the window resizes the pty (stty size)', async () => {
    const page = await newPage(browser, { width: 1000, height: 640 });
    await page.goto(`${server.url}#/default/local/shell`);
    await preparePrompt(page);
    const before = await page.evaluate(() => window.podterm.size());
    await run(page, 'stty size');
    await waitForText(page, new RegExp(`^${before.rows} ${before.cols}$`));

    await page.setViewportSize({ width: 520, height: 420 });
    await page.waitForFunction((b) => {
      const s = window.podterm.size();
      return s.cols < b.cols && s.rows < b.rows;
    }, before);
    const small = await page.evaluate(() => window.podterm.size());
    await run(page, 'clear; stty size');
    await waitForText(page, new RegExp(`^${small.rows} ${small.cols}$`));
    assert.ok(small.cols < before.cols && small.rows < before.rows);

    await page.setViewportSize({ width: 320, height: 560 });
    await page.waitForFunction((s) => window.podterm.size().cols < s.cols, small);
    const narrow = await page.evaluate(() => window.podterm.size());
    await run(page, 'stty size');
    await waitForText(page, new RegExp(`^${narrow.rows} ${narrow.cols}$`));
    // Nothing overflows the 320 px page.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow} px wider than the viewport`);
    await screenshot(page, 'narrow-320');
    await page.close();
  });

  test('exit 3 shows the exit code; Restart opens a new shell', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}#/default/local/shell`);
    await preparePrompt(page);
    await run(page, 'exit 3');
    await waitForState(page, 'exited');
    const banner = page.locator('.banner');
    await banner.waitFor({ state: 'visible' });
    assert.match(await banner.textContent(), /exited with code 3/);
    assert.equal(await page.textContent('#state'), 'Exited (3)');
    await waitForText(page, 'exited with code 3');
    await screenshot(page, 'exited');
    await page.getByRole('button', { name: 'Restart' }).click();
    await preparePrompt(page);
    await run(page, 'echo again$((1+1))');
    await waitForText(page, /^again2$/);
    await page.close();
  });

  test('an unknown pod shows the API Status message (404)', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}#/default/nope/shell`);
    await waitForState(page, 'error');
    assert.match(await page.textContent('.banner'), /pods "nope" not found/);
    assert.equal(await page.textContent('#state'), 'Error 404');
    await screenshot(page, 'not-found');
    await page.close();
  });

  test('Ctrl-Shift-F finds text; the light theme applies to page and terminal', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}#/default/local/shell`);
    await preparePrompt(page);
    await run(page, 'echo needle-$((2+3))');
    await waitForText(page, /^needle-5$/);
    await page.keyboard.press('Control+Shift+F');
    const input = page.getByRole('searchbox', { name: 'Find in terminal' });
    await input.waitFor({ state: 'visible' });
    assert.equal(await page.evaluate(() => document.activeElement.id), 'search-input');
    await input.fill('needle-5');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('.search-count').textContent !== '');
    // "needle-5" is on screen once (the typed command line holds "needle-$((2+3))").
    assert.equal(await page.textContent('.search-count'), '1/1');
    await page.keyboard.press('Escape');
    await input.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Light' }).click();
    assert.equal(await page.getAttribute('html', 'data-theme'), 'light');
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(bg, 'rgb(251, 251, 252)');
    await screenshot(page, 'light-theme');
    await page.getByRole('button', { name: 'Light' }).click();
    assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
    await page.close();
  });

  test('Ctrl-Shift-V pastes into the shell; Ctrl-Shift-C copies the selection', async () => {
    const page = await newPage(browser, undefined, { clipboard: true });
    await page.goto(`${server.url}#/default/local/shell`);
    await preparePrompt(page);
    await page.evaluate(() => navigator.clipboard.writeText('echo pasted$((7*6))'));
    await page.keyboard.press('Control+Shift+V');
    await page.keyboard.press('Enter');
    await waitForText(page, /^pasted42$/);

    // Double-click the word on screen, then copy it.
    await run(page, 'echo copy-$((9*9))-me');
    await waitForText(page, /^copy-81-me$/);
    const { x, y } = await page.evaluate(() => {
      const all = window.podterm.lines();
      const { rows, cols } = window.podterm.size();
      const row = all.lastIndexOf('copy-81-me') - (all.length - rows);
      const r = document.querySelector('.xterm-screen').getBoundingClientRect();
      return { x: r.left + (r.width / cols) * 2.5, y: r.top + (r.height / rows) * (row + 0.5) };
    });
    await page.mouse.dblclick(x, y);
    await page.keyboard.press('Control+Shift+C');
    await page.waitForFunction(async () => (await navigator.clipboard.readText()) !== 'echo pasted$((7*6))');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'copy-81-me');
    await page.close();
  });

  // Two floods: `yes` (2-byte lines, scroll-bound) and base64 of random bytes
  // (77-byte lines, parse-bound).
  for (const [name, command] of [['yes', 'yes'], ['base64', 'cat /dev/urandom | base64']]) {
    test(`flood (${name}): Ctrl-C brings the prompt back within 1 s; memory stays bounded`, async () => {
      const page = await newPage(browser);
      await page.goto(`${server.url}#/default/local/shell`);
      await preparePrompt(page);
      const heap0 = await heapUsed(page);
      const rss0 = server.rssKiB();
      await run(page, command);
      await page.waitForFunction(() => window.podterm.stats().received > 4 << 20, null, { timeout: 20000 });
      const heapMid = await heapUsed(page);
      const rssMid = server.rssKiB();
      const t0 = Date.now();
      // Keep flooding until another 4 MiB went through the whole path (server
      // read, frame, send; browser parse, render, ack), whatever the speed.
      const midReceived = (await page.evaluate(() => window.podterm.stats())).received;
      await page.waitForFunction((n) => window.podterm.stats().received > n, midReceived + (4 << 20), {
        timeout: 30000,
      });

      // Ctrl-C while output floods in; the prompt must be the cursor line within 1 s.
      const t1 = await page.evaluate(() => performance.now());
      await page.keyboard.press('Control+c');
      await page.waitForFunction((p) => window.podterm.cursorLine() === p, PROMPT, { timeout: 5000, polling: 'raf' });
      const elapsed = (await page.evaluate(() => performance.now())) - t1;
      // And the flood has stopped on screen: nothing more arrives.
      const s1 = await page.evaluate(() => window.podterm.stats());
      await page.waitForTimeout(500);
      const s2 = await page.evaluate(() => window.podterm.stats());
      const heap1 = await heapUsed(page);
      const rss1 = server.rssKiB();
      const mib = (n) => +(n / 2 ** 20).toFixed(1);
      const report = {
        ctrlCToPromptMs: Math.round(elapsed),
        receivedMiB: mib(s2.received),
        seconds: Math.round((Date.now() - t0) / 1000) + 1,
        heapMiB: { before: mib(heap0), during: mib(heapMid), after: mib(heap1) },
        serverRssMiB: { before: mib(rss0 * 1024), during: mib(rssMid * 1024), after: mib(rss1 * 1024) },
      };
      console.log(`# flood ${name}: ${JSON.stringify(report)}`);
      assert.ok(elapsed < 1000, `prompt took ${elapsed} ms after Ctrl-C`);
      assert.equal(s2.received, s1.received, 'output kept arriving after the prompt returned');
      assert.equal(s2.received, s2.rendered, 'everything received was rendered');
      assert.ok(s2.received - s2.acked < 32 * 1024, 'rendered bytes left unacknowledged');
      assert.equal(s2.dropped, 0);
      assert.ok(heap1 - heap0 < 32 * 2 ** 20, `JS heap grew by ${mib(heap1 - heap0)} MiB`);
      assert.ok(Math.abs(heap1 - heapMid) < 16 * 2 ** 20, 'JS heap kept growing during the flood');
      // The server holds one bounded buffer per session, not the flood.
      assert.ok(rss1 - rssMid < 16 * 1024, `server RSS grew by ${rss1 - rssMid} KiB during the flood`);
      await screenshot(page, `flood-${name}-after-ctrl-c`);
      await run(page, 'echo calm$((3*3))');
      await waitForText(page, /^calm9$/);
      await page.close();
    });
  }

  test('links are clickable and open in a new tab', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}#/default/local/shell`);
    await preparePrompt(page);
    const url = `${server.url}favicon.svg?from=terminal`;
    await run(page, `echo '${url}'`);
    await waitForText(page, new RegExp(`^${url.replace(/[.?]/g, '\\$&')}$`));
    const { x, y } = await page.evaluate((u) => {
      const all = window.podterm.lines();
      const { rows, cols } = window.podterm.size();
      const row = all.lastIndexOf(u) - (all.length - rows);
      const r = document.querySelector('.xterm-screen').getBoundingClientRect();
      return { x: r.left + (r.width / cols) * 5.5, y: r.top + (r.height / rows) * (row + 0.5) };
    }, url);
    await page.mouse.move(x, y);
    await page.mouse.move(x + 2, y);
    const popup = page.waitForEvent('popup', { timeout: 5000 });
    await page.mouse.click(x + 2, y);
    const tab = await popup;
    assert.equal(tab.url(), url);
    await tab.close();
    await page.close();
  });

  test('screen reader mode exposes the terminal text', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}#/default/local/shell`);
    await preparePrompt(page);
    const reader = page.getByRole('button', { name: 'Reader' });
    assert.equal(await reader.getAttribute('aria-pressed'), 'false');
    await reader.click();
    assert.equal(await reader.getAttribute('aria-pressed'), 'true');
    await page.click('.term'); // focus stays on the toggle until the terminal is chosen again
    await run(page, 'echo spoken$((2+2))');
    await page.waitForFunction(() => /spoken4/.test(document.querySelector('.xterm-accessibility-tree')?.textContent ?? ''));
    await page.close();
  });

  test('a long output arrives whole and in order (acks keep it flowing)', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}#/default/local/shell`);
    await preparePrompt(page);
    await run(page, 'seq 1 200000');
    await waitForText(page, /^200000$/, 30000);
    const nums = (await lines(page)).filter((l) => /^\d+$/.test(l)).map(Number);
    const tail = nums.slice(-2000);
    assert.equal(tail.at(-1), 200000);
    for (let i = 1; i < tail.length; i++) assert.equal(tail[i], tail[i - 1] + 1);
    const stats = await page.evaluate(() => window.podterm.stats());
    assert.ok(stats.received > 1.2e6, `only ${stats.received} bytes received`);
    await page.close();
  });
});
