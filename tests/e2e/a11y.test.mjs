// Accessibility and settings: @axe-core/playwright over every view of the
// page (picker, terminal with its find bar, tabs and the split view, the
// sign-in, run, close, settings and help dialogs, the sessions list, a
// replay, a watched session, the phone layout), in the dark and the light
// theme, must report zero violations. Settings are kept in localStorage and
// act on the terminal; ? opens the shortcuts help; the screen reader setting
// makes output reach xterm's live region; the toolbar works by keyboard.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  launchBrowser,
  newPage,
  preparePrompt,
  root,
  run,
  screenshot,
  startPodterm,
  tempDir,
  waitForState,
  waitForText,
} from './harness.mjs';

const AxeBuilder = createRequire(join(root, 'tests/package.json'))('@axe-core/playwright').default;

const ID = '0a1b2c3d-2222-4333-8444-555566667777';

function cast() {
  const header = {
    version: 2, width: 80, height: 24, timestamp: 1764490000, command: 'sh', title: 'default/local/shell',
    podterm: { id: ID, user: 'system:anonymous', kind: 'exec', namespace: 'default', pod: 'local', container: 'shell', command: ['sh'], tty: true, stdin: true },
  };
  const events = [[0.1, 'o', '$ echo hi\r\nhi\r\n'], [0.2, 'm', 'exit 0: exit']];
  return [JSON.stringify(header), ...events.map((e) => JSON.stringify(e))].join('\n') + '\n';
}

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

/** axe over the page as it is now: the violations, each with its nodes, for
 * the message. `only` names the rules to run instead of every WCAG 2.1 AA
 * and best-practice one: the second theme's pass runs those a theme can
 * change, its colours (names, roles and structure are the same in both, and
 * checking them twice cost the suite about 9 s on 2 cores). */
async function audit(page, what, only = null) {
  const builder = new AxeBuilder({ page });
  if (only) builder.withRules(only);
  else builder.withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']);
  const res = await builder.analyze();
  const found = res.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.map((n) => n.target.join(' ')).slice(0, 6).join('\n    ')}`);
  assert.deepEqual(found, [], `${what}: axe violations:\n${found.join('\n')}`);
  return res.passes.length;
}

async function setTheme(page, theme) {
  await page.evaluate((t) => {
    const s = JSON.parse(localStorage.getItem('podterm.settings') ?? '{}');
    localStorage.setItem('podterm.settings', JSON.stringify({ ...s, theme: t }));
  }, theme);
}

describe('accessibility of every view, settings, help', () => {
  let server;
  let authServer;
  let browser;
  let tmp;

  before(async () => {
    tmp = tempDir('podterm-e2e-a11y-');
    const rec = join(tmp.dir, 'rec');
    mkdirSync(rec);
    writeFileSync(join(rec, `${ID}.cast`), cast(), { mode: 0o600 });
    server = await startPodterm({ config: PODS, extraArgs: ['--recording-dir', rec] });
    const tokens = join(tmp.dir, 'tokens.csv');
    writeFileSync(tokens, 'e2e-a11y-token,alice,1000\n');
    authServer = await startPodterm({ config: PODS, extraArgs: ['--token-auth-file', tokens] });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    for (const s of [server, authServer]) {
      const res = await s?.stop();
      if (res) assert.equal(res.code, 0, `podterm exited with ${JSON.stringify(res)}:\n${s.stderr()}`);
    }
    tmp?.cleanup();
  });

  for (const theme of ['dark', 'light']) {
    test(`axe: zero violations in every view, ${theme} theme`, async () => {
      const page = await newPage(browser, { width: 1100, height: 700 });
      await page.addInitScript((t) => {
        if (!localStorage.getItem('podterm.settings')) localStorage.setItem('podterm.settings', JSON.stringify({ theme: t }));
      }, theme);
      const views = [];
      // The light theme is checked for what a theme changes: its colours.
      const check = (p, what) => audit(p, what, theme === 'light' ? ['color-contrast', 'link-in-text-block'] : null);

      // The picker.
      await page.goto(server.url);
      await page.getByRole('heading', { name: 'Open a shell' }).waitFor();
      await page.locator('#pick-pod option[value="other"]').waitFor({ state: 'attached' });
      assert.equal(await page.getAttribute('html', 'data-theme'), theme);
      views.push(['picker', await check(page, 'picker')]);

      // A shell, with its find bar open.
      await page.getByRole('button', { name: 'Open shell' }).click();
      await preparePrompt(page);
      await run(page, 'printf "\\e[1;31mred\\e[0m \\e[32mgreen\\e[0m plain\\n"');
      await waitForText(page, /^red green plain$/);
      views.push(['terminal', await check(page, 'terminal')]);
      await page.keyboard.press('Control+Shift+F');
      await page.getByRole('searchbox', { name: 'Find in terminal' }).fill('green');
      views.push(['find', await check(page, 'find bar')]);
      await page.keyboard.press('Escape');

      // Tabs: a second one from +, its picker, then the split view.
      await page.getByRole('button', { name: 'New tab' }).click();
      await page.locator('.pane:not([hidden]) #pick-pod option[value="other"]').waitFor({ state: 'attached' });
      views.push(['new tab picker', await check(page, 'new tab picker')]);
      await page.selectOption('#pick-pod', 'other');
      await page.getByRole('button', { name: 'Open shell' }).click();
      await page.waitForFunction(() => window.podterm.tabs()[1]?.state === 'connected');
      await page.getByRole('button', { name: 'Split' }).click();
      await page.waitForFunction(() => window.podterm.tabs().every((t) => t.shown && t.state === 'connected'));
      views.push(['split', await check(page, 'split view')]);
      await page.locator('.tab-select').first().dblclick();
      views.push(['rename', await check(page, 'renaming a tab')]);
      await page.keyboard.press('Escape');

      // Dialogs: close a running tab, settings, help.
      await page.getByRole('button', { name: 'Close tab other/shell' }).click();
      await page.locator('#close-dialog').waitFor({ state: 'visible' });
      views.push(['close dialog', await check(page, 'close dialog')]);
      await page.click('#close-cancel');
      await page.getByRole('button', { name: 'Settings' }).click();
      await page.locator('#settings-dialog').waitFor({ state: 'visible' });
      views.push(['settings', await check(page, 'settings dialog')]);
      if (theme === 'dark') await screenshot(page, 'settings');
      await page.keyboard.press('Escape');
      await page.getByRole('button', { name: 'Keys' }).click();
      await page.locator('#help-dialog').waitFor({ state: 'visible' });
      views.push(['help', await check(page, 'help dialog')]);
      if (theme === 'dark') await screenshot(page, 'help');
      await page.keyboard.press('Escape');

      // A command from a link: the question.
      await page.evaluate(() => (location.hash = '#/default/local/shell?command=sh&command=-c&command=echo%20hi'));
      await page.waitForSelector('#run-dialog[data-armed]');
      views.push(['run dialog', await check(page, 'run dialog')]);
      await page.click('#run-cancel');

      // Sessions (one live: the tab's shell), a replay, a watched session.
      await page.getByRole('button', { name: 'Sessions' }).click();
      await page.locator(`#sessions-past tr[data-id="${ID}"]`).waitFor();
      views.push(['sessions', await check(page, 'sessions list')]);
      await page.goto(`${server.url}#/-/sessions/${ID}`);
      await page.waitForFunction(() => window.podterm.replay()?.state && window.podterm.replay().state !== 'loading', null, { timeout: 15000 });
      views.push(['replay', await check(page, 'replay')]);

      const owner = await newPage(browser);
      await owner.goto(`${server.url}#/default/local/shell`);
      await waitForState(owner, 'connected');
      await page.goto(`${server.url}#/-/sessions`);
      const watch = page.locator('#sessions-live tr[data-phase="Running"] button', { hasText: 'Watch' }).first();
      await watch.click();
      await waitForState(page, 'connected');
      views.push(['watch', await check(page, 'watch')]);
      await owner.close();

      console.log(`# axe ${theme}: ${JSON.stringify(views)}`);
      assert.deepEqual(page.errors, []);
      await page.close();
    });
  }

  test('axe: the sign-in dialog, and the phone layout with its key bar', async () => {
    const page = await newPage(browser);
    await page.goto(authServer.url);
    await page.locator('#token-dialog').waitFor({ state: 'visible' });
    await audit(page, 'sign-in dialog');
    await page.close();

    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, hasTouch: true, isMobile: true });
    const phone = await context.newPage();
    await phone.goto(`${server.url}#/default/local/shell`);
    await waitForState(phone, 'connected');
    await phone.getByRole('toolbar', { name: 'Extra keys' }).waitFor();
    await audit(phone, 'phone');
    await context.close();
  });

  test('settings: kept in localStorage, applied to the terminal; theme follows the system when asked', async () => {
    const context = await browser.newContext({ viewport: { width: 1000, height: 640 }, colorScheme: 'light' });
    const page = await context.newPage();
    await page.goto(`${server.url}#/default/local/shell`);
    await waitForState(page, 'connected');
    const before = await page.evaluate(() => window.podterm.size());
    await page.keyboard.press('Control+Shift+Comma');
    await page.locator('#settings-dialog').waitFor({ state: 'visible' });
    assert.equal(await page.evaluate(() => document.activeElement.id), 'set-font-size');
    await page.fill('#set-font-size', '20');
    await page.selectOption('#set-cursor', 'block');
    await page.fill('#set-scrollback', '250');
    await page.fill('#set-font-family', "'DejaVu Sans Mono', monospace");
    await page.selectOption('#set-theme', 'system');
    await page.getByRole('button', { name: 'Done' }).click();
    await page.locator('#settings-dialog').waitFor({ state: 'hidden' });
    assert.deepEqual(JSON.parse(await page.evaluate(() => localStorage.getItem('podterm.settings'))), {
      fontSize: 20,
      fontFamily: "'DejaVu Sans Mono', monospace",
      cursorStyle: 'block',
      scrollback: 250,
      theme: 'system',
      screenReader: false,
      clipboardRead: false,
    });
    // The system is light here.
    assert.equal(await page.getAttribute('html', 'data-theme'), 'light');
    await page.waitForFunction((b) => window.podterm.size().cols < b.cols, before);
    const opts = await page.evaluate(() => {
      const t = document.querySelector('.xterm');
      return { cursor: t.querySelector('.xterm-cursor-block, .xterm-cursor') !== null, cols: window.podterm.size().cols };
    });
    assert.ok(opts.cols < before.cols, 'a larger font gives fewer columns');
    // Scrollback 250: after 600 lines, no more than 250 + the screen are kept.
    await page.keyboard.type('seq 1 600\n');
    await waitForText(page, /^600$/);
    const kept = await page.evaluate(() => window.podterm.lines().length);
    const rows = (await page.evaluate(() => window.podterm.size())).rows;
    assert.ok(kept <= 250 + rows, `${kept} lines kept`);

    // Kept across a reload; invalid stored values are clamped.
    await page.reload();
    await waitForState(page, 'connected');
    assert.equal((await page.evaluate(() => window.podterm.settings())).fontSize, 20);
    await page.evaluate(() => localStorage.setItem('podterm.settings', JSON.stringify({ fontSize: 999, scrollback: -5, theme: 'neon', cursorStyle: 'x' })));
    await page.reload();
    await waitForState(page, 'connected');
    assert.deepEqual(await page.evaluate(() => window.podterm.settings()), {
      fontSize: 32, fontFamily: "Menlo, Monaco, 'DejaVu Sans Mono', 'Liberation Mono', Consolas, 'Courier New', monospace",
      cursorStyle: 'underline', scrollback: 0, theme: 'dark', screenReader: false, clipboardRead: false,
    });
    assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
    await context.close();
  });

  test('? opens the shortcuts help outside the terminal, Ctrl-Shift-? inside; Escape gives the focus back', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}#/default/local/shell`);
    await preparePrompt(page);
    // In the terminal, ? is a character for the shell.
    await page.keyboard.type('echo what?\n');
    await waitForText(page, /^what\?$/);
    assert.equal(await page.evaluate(() => document.querySelector('#help-dialog').open), false);
    await page.keyboard.press('Control+Shift+?');
    await page.locator('#help-dialog').waitFor({ state: 'visible' });
    const rows = await page.locator('#help-dialog tbody tr').count();
    assert.ok(rows >= 10, `${rows} shortcuts listed`);
    assert.match(await page.textContent('#help-dialog'), /Ctrl\+Shift\+F\s*Find in the terminal/);
    await page.keyboard.press('Escape');
    await page.locator('#help-dialog').waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement.classList.contains('xterm-helper-textarea')), true);

    // Outside the terminal: the toolbar by keyboard, then ?.
    await page.keyboard.press('Control+Shift+E');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'btn-find');
    await page.keyboard.press('?');
    await page.locator('#help-dialog').waitFor({ state: 'visible' });
    await page.keyboard.press('Enter'); // Close, focused
    await page.locator('#help-dialog').waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement.id), 'btn-find');
    // Every toolbar button is reached by Tab, in order (from Find, focused again
    // so the walk does not depend on when the dialog's focus restore ran).
    await page.focus('#btn-find');
    const ids = [];
    for (let i = 0; i < 7; i++) {
      await page.keyboard.press('Tab');
      ids.push(await page.evaluate(() => document.activeElement.id));
    }
    assert.deepEqual(ids, ['btn-reconnect', 'btn-pods', 'btn-sessions', 'btn-theme', 'btn-sr', 'btn-settings', 'btn-help']);
    await page.keyboard.press('Enter');
    await page.locator('#help-dialog').waitFor({ state: 'visible' });
    await page.keyboard.press('Escape');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('screen reader mode from the settings: output reaches the live region', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}#/default/local/shell`);
    await preparePrompt(page);
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByLabel('Screen reader mode (output is announced)').check();
    await page.getByRole('button', { name: 'Done' }).click();
    assert.equal(await page.getAttribute('#btn-sr', 'aria-pressed'), 'true');
    await page.click('.term');
    await run(page, 'echo announced$((3+4))');
    await page.waitForFunction(() => /announced7/.test(document.querySelector('.xterm-accessibility .live-region')?.textContent ?? ''), null, { timeout: 10000 });
    assert.equal(await page.getAttribute('.xterm-accessibility .live-region', 'aria-live'), 'assertive');
    assert.equal(JSON.parse(await page.evaluate(() => localStorage.getItem('podterm.settings'))).screenReader, true);
    await page.close();
  });
});
