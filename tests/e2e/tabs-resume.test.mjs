// Resume per tab (issue 15 with issue 11): two tabs side by side, each a
// shell, loaded through a loopback TCP proxy this test controls. Cutting
// the proxy resets every connection; both tabs show they are reconnecting,
// and once it is back each resumes its own shell (the same pid), not a new one.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, newPage, PROMPT, startCutProxy, startPodterm, stopAll } from './harness.mjs';

const PODS = `
namespaces: [default]
pods:
  - name: local
    containers:
      - {name: shell, tty: true, stdin: true}
  - name: other
    containers:
      - {name: shell, tty: true, stdin: true}
`;


async function waitTab(page, i, state, timeout = 15000) {
  await page.waitForFunction(([i, s]) => window.podterm.tabs()[i]?.state === s, [i, state], { timeout, polling: 50 });
}

async function waitLine(page, i, re, timeout = 10000) {
  await page.waitForFunction(
    ([i, src]) => window.podterm.linesOf(i).some((l) => new RegExp(src).test(l)),
    [i, re.source],
    { timeout, polling: 50 },
  );
}

/** The pids tab i printed (PID=N lines), in order. */
async function pids(page, i) {
  return (await page.evaluate((i) => window.podterm.linesOf(i), i)).map((l) => /^PID=(\d+)$/.exec(l)?.[1]).filter(Boolean);
}

describe('resume, per tab', () => {
  let server;
  let proxy;
  let browser;

  before(async () => {
    server = await startPodterm({ config: PODS, extraArgs: ['--session-grace', '60'] });
    proxy = await startCutProxy(server.port);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await proxy?.close();
    await stopAll([server]); // exit 0: a sanitizer report at exit fails
  });

  test('a dropped network: both tabs of the split view resume their own shells', async () => {
    const page = await newPage(browser, { width: 1200, height: 640 });
    const sockets = [];
    page.on('websocket', (ws) => sockets.push(new URL(ws.url()).pathname));
    await page.goto(`${proxy.url}#/default/local/shell`);
    await waitTab(page, 0, 'connected');
    await page.evaluate(() => (location.hash = '#/default/other/shell'));
    await waitTab(page, 1, 'connected');
    await page.getByRole('button', { name: 'Split' }).click();
    const panes = page.locator('.pane:not([hidden]) .term');
    for (const i of [0, 1]) {
      await panes.nth(i).click();
      const tab = await page.evaluate(() => window.podterm.tabs().findIndex((t) => t.active));
      await page.keyboard.type(`PS1='[pt]$ '; echo PID=$$\n`);
      await waitLine(page, tab, /^PID=\d+$/);
    }
    const before = [(await pids(page, 0))[0], (await pids(page, 1))[0]];
    assert.notEqual(before[0], before[1]);
    const execs = sockets.filter((p) => p.endsWith('/exec')).length;
    assert.equal(execs, 2);

    proxy.cut();
    await waitTab(page, 0, 'reconnecting');
    await waitTab(page, 1, 'reconnecting');
    proxy.restore();
    await waitTab(page, 0, 'connected', 30000);
    await waitTab(page, 1, 'connected', 30000);

    for (const i of [0, 1]) {
      await page.getByRole('button', { name: new RegExp(`^${i ? 'other' : 'local'}/shell \\(`) }).click();
      await page.waitForFunction((p) => window.podterm.cursorLine() === p, PROMPT, { timeout: 10000, polling: 50 });
      await page.keyboard.type('echo PID=$$\n');
      await page.waitForFunction((i) => window.podterm.linesOf(i).filter((l) => /^PID=\d+$/.test(l)).length === 2, i, { timeout: 10000, polling: 50 });
    }
    assert.deepEqual([await pids(page, 0), await pids(page, 1)], [[before[0], before[0]], [before[1], before[1]]]);
    // Resumed, not opened again: no third exec, a resume per tab.
    assert.equal(sockets.filter((p) => p.endsWith('/exec')).length, 2);
    assert.ok(sockets.filter((p) => p.endsWith('/resume')).length >= 2, JSON.stringify(sockets));
    assert.deepEqual(page.errors, []);
    await page.close();
  });
});
