// The Sessions view (issue 11): Chromium opens it from the toolbar, sees a
// recording prepared in --recording-dir (written exactly as the recorder's
// contract has it), replays it in asciinema-player under the page's real CSP
// and reads the player's final screen; a shell opened in another tab shows
// up in the list of live sessions. Screenshots of both go to
// tests/out/screenshots (README's come from here).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, newPage, screenshot, startPodterm, stopAll, tempDir, waitForState } from './harness.mjs';

const ID = '0a1b2c3d-1111-4222-8333-444455556666';

function cast() {
  const header = {
    version: 2,
    width: 80,
    height: 24,
    timestamp: 1764490000,
    command: "sh -c 'make test'",
    title: 'default/local/shell',
    env: { TERM: 'xterm-256color' },
    podterm: {
      id: ID,
      user: 'system:anonymous',
      kind: 'exec',
      namespace: 'default',
      pod: 'local',
      container: 'shell',
      command: ['sh', '-c', 'make test'],
      tty: true,
      stdin: true,
    },
  };
  const events = [
    [0.1, 'o', '$ make test\r\n'],
    [0.2, 'o', '\x1b[32mok\x1b[0m   unit tests\r\n'],
    [0.3, 'r', '100x30'],
    [0.4, 'o', '\x1b[1;31mFAIL\x1b[0m e2e: replay-final-line-7\r\n'],
    [0.5, 'm', 'exit 3: exit'],
  ];
  return [JSON.stringify(header), ...events.map((e) => JSON.stringify(e))].join('\n') + '\n';
}

describe('sessions view and replay', () => {
  let server;
  let browser;
  let tmp;

  before(async () => {
    tmp = tempDir('podterm-e2e-sessions-');
    const rec = join(tmp.dir, 'rec');
    mkdirSync(rec);
    writeFileSync(join(rec, `${ID}.cast`), cast(), { mode: 0o600 });
    server = await startPodterm({
      config: `
pods:
  - name: local
    containers:
      - {name: shell, tty: true, stdin: true}
`,
      extraArgs: ['--recording-dir', rec],
    });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await stopAll([server]); // exit 0: a sanitizer report at exit fails
    tmp?.cleanup();
  });

  test('a live shell is listed; a prepared recording is listed with its exit', async () => {
    const shell = await newPage(browser);
    await shell.goto(`${server.url}#/default/local/shell`);
    await waitForState(shell, 'connected', 20000);

    const page = await newPage(browser, { width: 1100, height: 560 });
    await page.goto(server.url);
    await page.getByRole('button', { name: 'Sessions' }).click();
    await page.getByRole('heading', { name: 'Sessions' }).waitFor();
    assert.equal(new URL(page.url()).hash, '#/-/sessions');

    const past = page.locator(`#sessions-past tr[data-id="${ID}"]`);
    await past.waitFor({ timeout: 10000 });
    const cells = await past.locator('td').allInnerTexts();
    assert.deepEqual(cells.slice(0, 7), [
      'system:anonymous',
      'default/local/shell',
      "sh -c 'make test'",
      '2025-11-30 08:06:40 UTC',
      cells[4], // the file's mtime: now
      '3',
      'exit',
    ]);
    assert.match(cells[4], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);

    // the shell of the other tab, running now (the list refreshes by itself)
    const live = page.locator('#sessions-live tr[data-phase="Running"]');
    await live.first().waitFor({ timeout: 15000 });
    const liveCells = await live.first().locator('td').allInnerTexts();
    assert.equal(liveCells[0], 'system:anonymous');
    assert.equal(liveCells[1], 'default/local/shell');
    assert.match(liveCells[2], /^(bash|sh)$/);
    assert.match(liveCells[3], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    await screenshot(page, 'sessions-view');

    // the shell ends: its row goes
    await shell.close();
    await page.waitForFunction(() => document.querySelectorAll('#sessions-live tr').length === 0, null, { timeout: 15000 });
    assert.deepEqual(page.errors, []);
    assert.deepEqual(shell.errors, []);
  });

  test('Replay plays the recording in asciinema-player to its final screen', async () => {
    const page = await newPage(browser, { width: 1100, height: 700 });
    await page.goto(`${server.url}#/-/sessions`);
    await page.locator(`button.replay[data-id="${ID}"]`).click();
    assert.equal(new URL(page.url()).hash, `#/-/sessions/${ID}`);
    await page.waitForFunction(() => window.podterm.replay()?.state === 'ready', null, { timeout: 15000 });
    assert.equal(await page.locator('#replay-title').innerText(), 'Replay: system:anonymous in default/local/shell');
    // twice the speed: the player is made again (at the same place, the start)
    await page.selectOption('#replay-speed', '2');
    await page.waitForFunction(() => window.podterm.replay()?.state === 'ready', null, { timeout: 10000 });
    assert.equal(await page.locator('.ap-player').count(), 1);
    // the player's own controls: its start overlay and play button
    await page.locator('.ap-player').click();
    await page.waitForFunction(() => window.podterm.replay()?.state === 'ended', null, { timeout: 20000 });
    const text = (await page.evaluate(() => window.podterm.replay().text)).split('\n');
    assert.deepEqual(text.slice(0, 3), ['$ make test', 'ok   unit tests', 'FAIL e2e: replay-final-line-7']);
    assert.ok(text.slice(3).every((l) => l === ''), JSON.stringify(text));
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.mouse.move(550, 500); // over the player: its control bar shows
    await screenshot(page, 'replay-player');
    assert.deepEqual(page.errors, []);
  });

  test('an unknown session: the Status, not a player', async () => {
    const page = await newPage(browser);
    const missing = '0a1b2c3d-9999-4222-8333-444455556666';
    await page.goto(`${server.url}#/-/sessions/${missing}`);
    await page.waitForFunction(() => window.podterm.replay()?.state === 'error', null, { timeout: 10000 });
    assert.equal(
      await page.locator('.replay .picker-message').innerText(),
      `sessions.podterm.dev "${missing}" not found`,
    );
    assert.equal(await page.locator('.ap-player').count(), 0);
  });
});
