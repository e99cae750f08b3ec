// Tabs and the split view, in local mode and through a gateway podterm (an
// upstream podterm as the "cluster"): three tabs opened three ways (a link,
// the + tab's picker, a hash change), renamed, moved, all three back after a
// reload with their names; closing a tab whose shell runs asks first; two
// tabs side by side, both live; a drag moves a tab.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, newPage, PROMPT, screenshot, startGatewayPair, startPodterm, stopAll, tempDir } from './harness.mjs';

const PODS = `
namespaces: [default]
pods:
  - name: local
    containers:
      - {name: shell, tty: true, stdin: true}
  - name: other
    containers:
      - {name: shell, tty: true, stdin: true}
  - name: third
    containers:
      - {name: shell, tty: true, stdin: true}
`;


/** local: one podterm with the pods. gateway: a podterm with a kubeconfig in front of one that has them. */
async function startServers(mode, dir) {
  if (mode === 'local') return [await startPodterm({ config: PODS })];
  return startGatewayPair(dir, { upstreamOpts: { config: PODS } });
}

const tabs = (page) => page.evaluate(() => window.podterm.tabs());

async function waitTab(page, i, state, timeout = 15000) {
  await page.waitForFunction(([i, s]) => window.podterm.tabs()[i]?.state === s, [i, state], { timeout, polling: 50 });
}

/** In the focused terminal of tab i: a recognisable prompt. */
async function prompt(page, i) {
  await waitTab(page, i, 'connected');
  await page.keyboard.type(`PS1='[pt]$ '\n`);
  await page.waitForFunction(
    ([i, p]) => window.podterm.linesOf(i).some((l) => l === p),
    [i, PROMPT],
    { timeout: 10000, polling: 50 },
  );
}

async function waitLine(page, i, re, timeout = 10000) {
  await page.waitForFunction(
    ([i, src]) => window.podterm.linesOf(i).some((l) => new RegExp(src).test(l)),
    [i, re.source],
    { timeout, polling: 50 },
  );
}

for (const mode of ['local', 'gateway']) describe(`tabs, ${mode} mode`, () => {
  let servers = [];
  let server;
  let browser;
  let tmp;

  before(async () => {
    tmp = tempDir('podterm-e2e-tabs-');
    servers = await startServers(mode, tmp.dir);
    server = servers[0];
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await stopAll(servers);
    tmp?.cleanup();
  });

  test('three tabs, renamed and moved, all three back after a reload with their names', async () => {
    const page = await newPage(browser, { width: 1100, height: 640 });
    await page.goto(`${server.url}#/default/local/shell`);
    await prompt(page, 0);

    // The second from the + tab's own picker.
    await page.getByRole('button', { name: 'New tab' }).click();
    await page.locator('#pick-pod option[value="other"]').waitFor({ state: 'attached' });
    await page.selectOption('#pick-pod', 'other');
    await page.getByRole('button', { name: 'Open shell' }).click();
    await prompt(page, 1);
    await page.keyboard.type('echo second$((1+1))\n');
    await waitLine(page, 1, /^second2$/);

    // The third from the URL.
    await page.evaluate(() => (location.hash = '#/default/third/shell'));
    await prompt(page, 2);
    assert.equal(new URL(page.url()).hash, '#/default/third/shell');
    assert.deepEqual((await tabs(page)).map((t) => [t.name, t.active]), [
      ['local/shell', false], ['other/shell', false], ['third/shell', true],
    ]);

    // Rename: double click on the second, F2 on the third.
    await page.locator('.tab-select').nth(1).dblclick();
    await page.keyboard.press('Control+a');
    await page.keyboard.type('build box');
    await page.keyboard.press('Enter');
    await page.locator('.tab-select').nth(2).focus();
    await page.keyboard.press('F2');
    await page.keyboard.type('logs');
    await page.keyboard.press('Enter');
    // Move "logs" one to the left by keyboard.
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'logs');
    await page.keyboard.press('Control+ArrowLeft');
    assert.deepEqual((await tabs(page)).map((t) => t.name), ['local/shell', 'logs', 'build box']);
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'logs');
    await screenshot(page, `tabs-${mode}`);

    // Only targets and names are kept, in this tab's session storage.
    const saved = JSON.parse(await page.evaluate(() => sessionStorage.getItem('podterm.tabs')));
    assert.deepEqual(saved, {
      tabs: [
        { namespace: 'default', pod: 'local', container: 'shell', command: [], name: '' },
        { namespace: 'default', pod: 'third', container: 'shell', command: [], name: 'logs' },
        { namespace: 'default', pod: 'other', container: 'shell', command: [], name: 'build box' },
      ],
      active: 2, // the double click chose "build box" too
      split: false,
    });

    await page.reload();
    await waitTab(page, 2, 'connected');
    assert.equal(new URL(page.url()).hash, '#/default/other/shell');
    assert.deepEqual((await tabs(page)).map((t) => [t.name, t.active]), [
      ['local/shell', false], ['logs', false], ['build box', true],
    ]);
    // Each comes back as a live shell when shown.
    for (const [i, name] of [[0, 'local/shell'], [2, 'build box'], [1, 'logs']]) {
      await page.getByRole('button', { name: new RegExp(`^${name} \\(`) }).click();
      await prompt(page, i);
      await page.keyboard.type(`echo back$((${i}+40))\n`);
      await waitLine(page, i, new RegExp(`^back${i + 40}$`));
    }
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('closing a tab whose shell runs asks first; Cancel keeps it, Close ends it', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}#/default/local/shell`);
    await prompt(page, 0);
    await page.evaluate(() => (location.hash = '#/default/other/shell'));
    await prompt(page, 1);

    await page.getByRole('button', { name: 'Close tab other/shell' }).click();
    const dialog = page.locator('#close-dialog');
    await dialog.waitFor({ state: 'visible' });
    assert.equal(await page.textContent('#close-title'), 'Close “other/shell”?');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'close-cancel');
    await screenshot(page, 'tabs-close-question');
    await page.click('#close-cancel');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await tabs(page)).length, 2);
    await page.click('.pane:not([hidden]) .term');
    await page.keyboard.type('echo still$((3*3))\n');
    await waitLine(page, 1, /^still9$/);

    await page.getByRole('button', { name: 'Close tab other/shell' }).click();
    await dialog.waitFor({ state: 'visible' });
    await page.click('#close-ok');
    await page.waitForFunction(() => window.podterm.tabs().length === 1);
    assert.deepEqual((await tabs(page)).map((t) => [t.name, t.active]), [['local/shell', true]]);
    assert.equal(new URL(page.url()).hash, '#/default/local/shell');

    // A shell that has exited closes without a question.
    await page.evaluate(() => (location.hash = '#/default/third/shell'));
    await prompt(page, 1);
    await page.keyboard.type('exit 0\n');
    await waitTab(page, 1, 'exited');
    await page.getByRole('button', { name: 'Close tab third/shell' }).click();
    await page.waitForFunction(() => window.podterm.tabs().length === 1);
    assert.equal(await page.evaluate(() => document.querySelector('#close-dialog').open), false);

    // The last tab: closing it (after the question) goes back to the picker.
    await page.getByRole('button', { name: 'Close tab local/shell' }).click();
    await page.click('#close-ok');
    await page.getByRole('heading', { name: 'Open a shell' }).waitFor();
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('the split view shows two tabs side by side, both live', async () => {
    const page = await newPage(browser, { width: 1200, height: 640 });
    await page.goto(`${server.url}#/default/local/shell`);
    await prompt(page, 0);
    await page.evaluate(() => (location.hash = '#/default/other/shell'));
    await prompt(page, 1);
    await page.getByRole('button', { name: 'Split' }).click();
    await waitTab(page, 0, 'connected');
    const shown = await tabs(page);
    assert.deepEqual(shown.map((t) => t.shown), [true, true]);
    const boxes = await page.locator('.pane:not([hidden])').evaluateAll((els) =>
      els.map((e) => {
        const r = e.getBoundingClientRect();
        return { x: r.x, y: r.y, w: r.width, h: r.height };
      }),
    );
    assert.equal(boxes.length, 2);
    assert.ok(boxes[0].x + boxes[0].w <= boxes[1].x + 1, `not side by side: ${JSON.stringify(boxes)}`);
    assert.equal(Math.round(boxes[0].y), Math.round(boxes[1].y));
    assert.ok(boxes[0].w > 400 && boxes[1].w > 400);

    // Typing into each pane reaches its own shell; output keeps coming in the other.
    const panes = page.locator('.pane:not([hidden]) .term');
    await panes.nth(1).click();
    await page.keyboard.type('for i in 1 2 3 4 5 6 7 8; do echo tick$i; sleep 0.5; done\n');
    await panes.nth(0).click();
    await page.keyboard.type('echo left$((5*5))\n');
    const leftTab = (await tabs(page)).findIndex((t) => t.active);
    await waitLine(page, leftTab, /^left25$/);
    await waitLine(page, 1 - leftTab, /^tick8$/, 15000);
    assert.ok(!(await page.evaluate((i) => window.podterm.linesOf(i), leftTab)).some((l) => /^tick/.test(l)));
    await screenshot(page, `split-${mode}`);

    // Split again: one tab fills the page.
    await page.getByRole('button', { name: 'Split' }).click();
    assert.equal((await tabs(page)).filter((t) => t.shown).length, 1);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('dragging a tab moves it; Alt-Shift-arrows and Alt-Shift-T from the terminal', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}#/default/local/shell`);
    await waitTab(page, 0, 'connected');
    await page.evaluate(() => (location.hash = '#/default/other/shell'));
    await waitTab(page, 1, 'connected');
    await page.locator('.tab').nth(1).dragTo(page.locator('.tab').nth(0));
    assert.deepEqual((await tabs(page)).map((t) => t.name), ['other/shell', 'local/shell']);

    // From inside the terminal: Alt-Shift-Right/Left switch tabs, Alt-Shift-T opens a new one.
    await page.click('.pane:not([hidden]) .term');
    const active = async () => (await tabs(page)).findIndex((t) => t.active);
    const was = await active();
    await page.keyboard.press('Alt+Shift+ArrowRight');
    assert.equal(await active(), 1 - was);
    await page.keyboard.press('Alt+Shift+ArrowLeft');
    assert.equal(await active(), was);
    await page.keyboard.press('Alt+Shift+T');
    await page.getByRole('heading', { name: 'Open a shell' }).waitFor();
    assert.deepEqual((await tabs(page)).map((t) => [t.name, t.active]), [['other/shell', false], ['local/shell', false], ['New tab', true]]);
    assert.deepEqual(page.errors, []);
    await page.close();
  });
});
