// Input beyond a keyboard: OSC 52 from a program lands in the browser's
// clipboard and a program's clipboard read gets nothing unless the setting
// allows it; right-click pastes, bracketed when the program asked; an IME
// composition (Chromium's, through CDP) reaches the shell as UTF-8; on a
// 360 px touch screen the key bar's sticky Ctrl makes c a 0x03, and a pinch
// changes the font size. Bytes are read back with od in the shell.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  launchBrowser,
  newPage,
  preparePrompt,
  PROMPT,
  run,
  screenshot,
  startPodterm,
  stopAll,
  waitForText,
} from './harness.mjs';

/** Wait for the prompt to be back on the cursor line. */
async function promptBack(page) {
  await page.waitForFunction((p) => window.podterm.cursorLine() === p, PROMPT, { timeout: 10000, polling: 50 });
}

/** The clipboard's text once it is no longer was (5 s at most). */
async function clipboardChanged(page, was) {
  const end = Date.now() + 5000;
  let text = was;
  while (text === was && Date.now() < end) {
    await page.waitForTimeout(50);
    text = await page.evaluate(() => navigator.clipboard.readText());
  }
  return text;
}

describe('clipboard, IME and touch input', () => {
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

  test('OSC 52 from the shell copies to the clipboard; a read gets nothing unless allowed', async () => {
    const page = await newPage(browser, undefined, { clipboard: true });
    await page.goto(`${server.url}#/default/local/shell`);
    await preparePrompt(page);
    await page.evaluate(() => navigator.clipboard.writeText('before'));
    await run(page, `printf '\\e]52;c;%s\\a' $(printf hello|base64)`);
    assert.equal(await clipboardChanged(page, 'before'), 'hello');

    // A program asks for the clipboard: the answer is empty (8 bytes: ESC ] 5 2 ; c ; BEL).
    await page.evaluate(() => navigator.clipboard.writeText('secret-xyz'));
    await promptBack(page);
    await run(page, `clear; stty -icanon -echo; printf '\\e]52;c;?\\a'; timeout 5 head -c 8 | od -An -tx1; stty sane`);
    await waitForText(page, /^ 1b 5d 35 32 3b 63 3b 07$/);
    await promptBack(page);
    assert.ok(!(await page.evaluate(() => window.podterm.lines().join('\n'))).includes('c2VjcmV0'), 'the clipboard leaked');

    // Allowed in the settings: the same request gets the clipboard, base64.
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByLabel('Let programs read the clipboard (OSC 52)').check();
    await page.getByRole('button', { name: 'Done' }).click();
    await page.click('.term');
    const b64 = Buffer.from('secret-xyz').toString('base64'); // c2VjcmV0LXh5eg==
    await run(page, `clear; stty -icanon -echo; printf '\\e]52;c;?\\a'; timeout 5 head -c ${8 + b64.length} | tail -c +8 | head -c ${b64.length}; echo; stty sane`);
    await waitForText(page, new RegExp(`^${b64.replace(/[+=]/g, '\\$&')}$`));
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('right-click pastes, bracketed when the program asked for it', async () => {
    const page = await newPage(browser, undefined, { clipboard: true });
    await page.goto(`${server.url}#/default/local/shell`);
    await preparePrompt(page);
    await page.evaluate(() => navigator.clipboard.writeText('echo rc$((2*8))'));
    await page.click('.term', { button: 'right' });
    await page.keyboard.press('Enter');
    await waitForText(page, /^rc16$/);

    await page.evaluate(() => navigator.clipboard.writeText('xy'));
    await run(page, `clear; printf '\\e[?2004h'; stty raw -echo; timeout 5 head -c 14 | od -An -tx1; stty sane; printf '\\e[?2004l'`);
    await page.waitForTimeout(300); // head is reading
    await page.click('.term', { button: 'right' });
    await waitForText(page, /^ 1b 5b 32 30 30 7e 78 79 1b 5b 32 30 31 7e$/);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('IME composition of 你好 reaches the shell as its UTF-8 bytes', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}#/default/local/shell`);
    await preparePrompt(page);
    await run(page, 'od -An -tx1');
    await page.waitForTimeout(300);
    const cdp = await page.context().newCDPSession(page);
    // What an IME does: a composition shown while typing, then committed.
    await cdp.send('Input.imeSetComposition', { text: 'ni', selectionStart: 2, selectionEnd: 2 });
    await cdp.send('Input.imeSetComposition', { text: '你', selectionStart: 1, selectionEnd: 1 });
    await cdp.send('Input.imeSetComposition', { text: '你好', selectionStart: 2, selectionEnd: 2 });
    await cdp.send('Input.insertText', { text: '你好' });
    await cdp.detach();
    await page.keyboard.press('Enter');
    await page.keyboard.press('Control+d');
    await waitForText(page, /^ e4 bd a0 e5 a5 bd 0a$/);
    await promptBack(page);
    const out = (await page.evaluate(() => window.podterm.lines())).filter((l) => /^ [0-9a-f]{2}( |$)/.test(l));
    assert.deepEqual(out, [' e4 bd a0 e5 a5 bd 0a']);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('360 px touch screen: the key bar shows, sticky Ctrl then c sends 0x03, pinch zooms, nothing overflows', async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2 });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}#/default/local/shell`);
    const bar = page.getByRole('toolbar', { name: 'Extra keys' });
    await bar.waitFor({ state: 'visible' });
    await preparePrompt(page);
    await run(page, 'stty -icanon -echo -isig; head -c 2 | od -An -tx1; stty sane');
    await page.waitForTimeout(300);
    const ctrl = page.getByRole('button', { name: 'Ctrl (sticky)' });
    await ctrl.tap();
    assert.equal(await ctrl.getAttribute('aria-pressed'), 'true');
    await page.keyboard.type('c');
    assert.equal(await ctrl.getAttribute('aria-pressed'), 'false'); // one key, then released
    await page.getByRole('button', { name: 'Esc (Escape)' }).tap();
    await waitForText(page, /^ 03 1b$/);
    await promptBack(page);

    // Up arrow from the bar: bash's history brings the last command back.
    await page.keyboard.type('echo touch$((6*7))\n');
    await waitForText(page, /^touch42$/);
    await page.getByRole('button', { name: 'Up arrow' }).tap();
    await page.waitForFunction((p) => window.podterm.cursorLine() === `${p}echo touch$((6*7))`, PROMPT);

    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow} px wider than the viewport`);
    const barBox = await bar.boundingBox();
    assert.ok(barBox.x >= 0 && barBox.x + barBox.width <= 360, JSON.stringify(barBox));
    await screenshot(page, 'phone-keybar');

    // Two fingers moving apart make the text larger.
    const before = await page.evaluate(() => window.podterm.settings().fontSize);
    const box = await page.locator('.term').boundingBox();
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    const cdp = await context.newCDPSession(page);
    const touch = (type, d) =>
      cdp.send('Input.dispatchTouchEvent', {
        type,
        touchPoints: type === 'touchEnd' ? [] : [{ x: cx - d, y: cy, id: 1 }, { x: cx + d, y: cy, id: 2 }],
      });
    await touch('touchStart', 40);
    for (const d of [60, 80, 100, 120]) await touch('touchMove', d);
    await touch('touchEnd', 0);
    await cdp.detach();
    const after = await page.evaluate(() => window.podterm.settings().fontSize);
    assert.ok(after > before, `font size ${before} -> ${after}`);
    assert.deepEqual(errors, []);
    await context.close();
  });
});
