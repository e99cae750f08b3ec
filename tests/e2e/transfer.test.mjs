// Files in and out of a pod from the web terminal (issue 15, item 1), in real
// Chromium against a real podterm: upload (file picker and drag-and-drop) into
// the shell's current directory, download by path through the page's service
// worker into the browser's downloads, sha256 equal on both sides, page and
// server memory bounded while 200 MB go through, cancel leaves nothing behind,
// a container without tar (pipes), one without any tool (the message), and
// both directions through a gateway podterm.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import {
  launchBrowser,
  newPage,
  preparePrompt,
  run,
  screenshot,
  startGatewayPair,
  startPodterm,
  stopAll,
  tempDir,
  waitForState,
  waitForText,
} from './harness.mjs';

const MB = 1000 * 1000;
const SIZES = [1, 5 * MB, 200 * MB];
/** Page heap (V8, no forced GC) while a 200 MB transfer runs. */
const HEAP_MAX = 64 * 1024 * 1024;
/** Growth of the RSS of the page's renderers (page and worker) over the transfer: garbage the GC has not taken yet, not the file (200 MB = 191 MiB would not fit). */
const RENDERER_GROWTH_MAX = 160 * 1024 * 1024;
/** Growth of the server's RSS over the transfer (ASan build, small quarantine). */
const SERVER_GROWTH_MAX_KIB = 64 * 1024;
const BIG_TIMEOUT = 600000;

/** Write n random bytes to path in 1 MiB pieces; returns the sha256. */
async function randomFile(path, n) {
  const fh = await open(path, 'w');
  const hash = createHash('sha256');
  for (let off = 0; off < n; off += 1 << 20) {
    const b = randomBytes(Math.min(1 << 20, n - off));
    hash.update(b);
    await fh.write(b);
  }
  await fh.close();
  return hash.digest('hex');
}

function sha256File(path) {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path).on('data', (d) => h.update(d)).on('end', () => resolve(h.digest('hex'))).on('error', reject);
  });
}

/** Renderer processes of the Chromium this test process started: their RSS summed, bytes. */
function rendererRss() {
  const parent = new Map();
  const renderers = [];
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      parent.set(Number(p), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('--type=renderer')) renderers.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  const mine = (pid) => {
    for (let i = 0; i < 64 && pid > 1; i++, pid = parent.get(pid) ?? 0) if (pid === process.pid) return true;
    return false;
  };
  let total = 0;
  for (const pid of renderers.filter(mine)) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** Samples page heap, renderer RSS and server RSS until stop(); returns the maxima and baselines. */
async function sampler(page, servers) {
  const cdp = await page.context().newCDPSession(page);
  const base = { heap: (await cdp.send('Runtime.getHeapUsage')).usedSize, renderer: rendererRss(), server: servers.map((s) => s.rssKiB()) };
  const max = { heap: base.heap, renderer: base.renderer, server: [...base.server] };
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        max.heap = Math.max(max.heap, (await cdp.send('Runtime.getHeapUsage')).usedSize);
      } catch {
        // the page is busy closing
      }
      max.renderer = Math.max(max.renderer, rendererRss());
      try {
        servers.forEach((s, i) => (max.server[i] = Math.max(max.server[i], s.rssKiB())));
      } catch {
        // the server is gone (the test failed): the sampler stops with it
        running = false;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await cdp.detach().catch(() => {});
      return { base, max };
    },
  };
}

async function panelState(page) {
  return page.evaluate(() => ({
    state: document.getElementById('xfer-panel')?.dataset.state ?? '',
    text: document.getElementById('xfer-result')?.textContent ?? '',
  }));
}

async function waitFinished(page, timeout = BIG_TIMEOUT) {
  await page.waitForFunction(() => ['done', 'failed', 'cancelled'].includes(document.getElementById('xfer-panel')?.dataset.state ?? ''), null, { timeout, polling: 100 });
  return panelState(page);
}

/** Upload through the Upload button's dialog; returns the panel's end state. */
async function uploadViaDialog(page, paths, dir) {
  await page.click('#btn-upload');
  await page.waitForSelector('#xfer-upload-dialog[open]');
  if (dir !== undefined) assert.equal(await page.inputValue('#xfer-dir'), dir);
  await page.setInputFiles('#xfer-files', paths);
  await page.click('#xfer-upload-dialog button[value=ok]');
  return waitFinished(page);
}

/** Download through the Download dialog; returns { state, text, file }. */
async function downloadViaDialog(page, path, saveTo) {
  await page.click('#btn-download');
  await page.waitForSelector('#xfer-download-dialog[open]');
  await page.fill('#xfer-path', path);
  const dl = page.waitForEvent('download', { timeout: BIG_TIMEOUT });
  await page.click('#xfer-download-dialog button[value=ok]');
  const download = await dl;
  await download.saveAs(saveTo);
  const end = await waitFinished(page);
  return { ...end, failure: await download.failure(), name: download.suggestedFilename() };
}

/** Open a page on the pod, wait for its shell, cd into dir. */
async function shellIn(browser, server, pod, dir) {
  const page = await newPage(browser, { width: 1100, height: 700 });
  await page.goto(`${server.url}#/default/${pod}/shell`);
  await preparePrompt(page);
  if (dir) {
    await run(page, `cd '${dir}' && echo in-$((40+2))`);
    await waitForText(page, /^in-42$/);
  }
  return page;
}

function leftovers(dir) {
  return readdirSync(dir).filter((n) => n.startsWith('.podterm-upload-') || n.endsWith('.part'));
}

function mib(bytes) {
  return (bytes / 1048576).toFixed(1);
}

describe('file transfer, local mode', () => {
  let server;
  let browser;
  let tmp;
  let work; // the pod's working directory
  let sub; // where the shell cds to
  let src; // files on the browser's side
  let out; // downloads
  let notar;
  const notes = [];

  before(async () => {
    tmp = tempDir('podterm-e2e-transfer-');
    work = join(tmp.dir, 'work');
    sub = join(work, 'sub dir');
    src = join(tmp.dir, 'src');
    out = join(tmp.dir, 'out');
    notar = join(tmp.dir, 'notar');
    for (const d of [work, sub, src, out, notar, join(tmp.dir, 'bin'), join(tmp.dir, 'empty'), join(tmp.dir, 'shonly')]) mkdirSync(d, { recursive: true });
    symlinkSync(execFileSync('sh', ['-c', 'command -v sh']).toString().trim(), join(tmp.dir, 'shonly', 'sh'));
    // A PATH of symlinks: the usual tools but tar, and md5sum instead of sha256sum.
    for (const tool of ['bash', 'sh', 'cat', 'head', 'wc', 'md5sum', 'ls', 'mkdir', 'mv', 'rm']) {
      const real = execFileSync('sh', ['-c', `command -v ${tool}`]).toString().trim();
      symlinkSync(real, join(tmp.dir, 'bin', tool));
    }
    const config = `
namespaces: [default]
pods:
  - name: local
    containers:
      - {name: shell, tty: true, stdin: true, workingDir: "${work}"}
  - name: notar
    containers:
      - {name: shell, tty: true, stdin: true, workingDir: "${notar}", env: [{name: PATH, value: "${join(tmp.dir, 'bin')}"}]}
  - name: shonly
    containers:
      - {name: shell, tty: true, stdin: true, workingDir: "${notar}", env: [{name: PATH, value: "${join(tmp.dir, 'shonly')}"}]}
  - name: bare
    containers:
      - {name: shell, tty: true, stdin: true, workingDir: "${notar}", env: [{name: PATH, value: "${join(tmp.dir, 'empty')}"}]}
`;
    const asan = process.env.ASAN_OPTIONS ? `${process.env.ASAN_OPTIONS}:` : '';
    server = await startPodterm({ config, env: { ASAN_OPTIONS: `${asan}quarantine_size_mb=8` } });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    const res = await server?.stop();
    tmp?.cleanup();
    for (const n of notes) console.log(`# ${n}`);
    if (res) assert.equal(res.code, 0, `podterm exited with ${JSON.stringify(res)}:\n${server.stderr()}`);
  });

  for (const size of SIZES) {
    test(`upload ${size} bytes into the shell's current directory: sha256 equal, memory bounded`, { timeout: BIG_TIMEOUT }, async () => {
      const name = `up-${size}.bin`;
      const sum = await randomFile(join(src, name), size);
      const page = await shellIn(browser, server, 'local', sub);
      const s = await sampler(page, [server]);
      const t0 = performance.now();
      let shot = null;
      if (size === SIZES[SIZES.length - 1]) {
        // The progress bar, midway.
        shot = page.waitForFunction(() => Number(document.getElementById('xfer-panel')?.dataset.done ?? 0) > 30e6, null, { timeout: BIG_TIMEOUT, polling: 100 })
          .then(() => screenshot(page, 'transfer-progress'));
      }
      const end = await uploadViaDialog(page, [join(src, name)], sub);
      const secs = (performance.now() - t0) / 1000;
      await shot;
      const { base, max } = await s.stop();
      assert.equal(end.state, 'done', end.text);
      assert.match(end.text, new RegExp(`^Uploaded ${name} .* to ${sub}: size and sha256 checked\\.$`));
      assert.equal(await sha256File(join(sub, name)), sum);
      assert.deepEqual(leftovers(sub), []);
      for (const f of [join(src, name), join(sub, name)]) rmSync(f); // 200 MB each: keep /tmp small
      notes.push(`upload ${size} B: ${(size / MB / secs).toFixed(1)} MB/s (${secs.toFixed(1)} s); page heap max ${mib(max.heap)} MiB; ` +
        `renderer RSS ${mib(base.renderer)} -> max ${mib(max.renderer)} MiB; server RSS ${(base.server[0] / 1024).toFixed(1)} -> max ${(max.server[0] / 1024).toFixed(1)} MiB`);
      assert.ok(max.heap < HEAP_MAX, `page heap ${max.heap}`);
      assert.ok(max.renderer - base.renderer < RENDERER_GROWTH_MAX, `renderer grew ${max.renderer - base.renderer}`);
      assert.ok(max.server[0] - base.server[0] < SERVER_GROWTH_MAX_KIB, `server grew ${max.server[0] - base.server[0]} KiB`);
      assert.deepEqual(page.errors, []);
      await page.close();
    });
  }

  for (const size of SIZES) {
    test(`download ${size} bytes by path into the browser's downloads: sha256 equal, memory bounded`, { timeout: BIG_TIMEOUT }, async () => {
      const name = `down-${size}.bin`;
      const sum = await randomFile(join(sub, name), size);
      const page = await shellIn(browser, server, 'local', sub);
      const s = await sampler(page, [server]);
      const t0 = performance.now();
      // Relative to the shell's directory.
      const end = await downloadViaDialog(page, name, join(out, name));
      const secs = (performance.now() - t0) / 1000;
      const { base, max } = await s.stop();
      assert.equal(end.state, 'done', end.text);
      assert.equal(end.failure, null);
      assert.equal(end.name, name);
      assert.match(end.text, new RegExp(`^Downloaded ${name} \\(.*\\): size and sha256 checked \\(${sum.slice(0, 16)}…\\)\\.$`)); // streamed: no memory note
      assert.equal(await sha256File(join(out, name)), sum);
      for (const f of [join(sub, name), join(out, name)]) rmSync(f);
      notes.push(`download ${size} B: ${(size / MB / secs).toFixed(1)} MB/s (${secs.toFixed(1)} s); page heap max ${mib(max.heap)} MiB; ` +
        `renderer RSS ${mib(base.renderer)} -> max ${mib(max.renderer)} MiB; server RSS ${(base.server[0] / 1024).toFixed(1)} -> max ${(max.server[0] / 1024).toFixed(1)} MiB`);
      assert.ok(max.heap < HEAP_MAX, `page heap ${max.heap}`);
      assert.ok(max.renderer - base.renderer < RENDERER_GROWTH_MAX, `renderer grew ${max.renderer - base.renderer}`);
      assert.ok(max.server[0] - base.server[0] < SERVER_GROWTH_MAX_KIB, `server grew ${max.server[0] - base.server[0]} KiB`);
      assert.deepEqual(page.errors, []);
      await page.close();
    });
  }

  test('without a service worker a download is kept in page memory (bounded) and saved at the end', async () => {
    const name = 'no-worker.bin';
    const sum = await randomFile(join(sub, name), 1 * MB);
    const context = await browser.newContext({ serviceWorkers: 'block', viewport: { width: 1100, height: 700 } });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}#/default/local/shell`);
    await preparePrompt(page);
    await run(page, `cd '${sub}'`);
    const end = await downloadViaDialog(page, name, join(out, name));
    assert.equal(end.state, 'done', end.text);
    assert.match(end.text, /: size and sha256 checked \([0-9a-f]{16}…\)\. It was kept in page memory: this page cannot use a service worker\.$/);
    assert.equal(end.name, name);
    assert.equal(await sha256File(join(out, name)), sum);
    assert.deepEqual(errors, []);
    await context.close();
  });

  test('the download dialog completes names from ls -p of the directory typed so far', async () => {
    mkdirSync(join(sub, 'nested'), { recursive: true });
    writeFileSync(join(sub, 'nested', 'alpha.txt'), 'a\n');
    writeFileSync(join(sub, 'nested', 'app.log'), 'b\n');
    mkdirSync(join(sub, 'nested', 'archive'), { recursive: true });
    const page = await shellIn(browser, server, 'local', sub);
    await page.click('#btn-download');
    await page.waitForSelector('#xfer-download-dialog[open]');
    assert.equal(await page.inputValue('#xfer-path'), `${sub}/`);
    await page.fill('#xfer-path', 'nested/');
    await page.waitForFunction(() => [...document.querySelectorAll('#xfer-names option')].some((o) => o.value === 'nested/alpha.txt'), null, { timeout: 10000 });
    await page.fill('#xfer-path', '');
    await page.waitForFunction(() => [...document.querySelectorAll('#xfer-names option')].some((o) => o.value === 'nested/'), null, { timeout: 10000 });
    await page.fill('#xfer-path', 'nested/a');
    await page.waitForFunction(() => [...document.querySelectorAll('#xfer-suggest button')].map((b) => b.textContent).sort().join() === 'alpha.txt,app.log,archive/', null, { timeout: 10000 });
    await screenshot(page, 'transfer-download-dialog');
    await page.fill('#xfer-path', 'nested/al');
    await page.waitForFunction(() => [...document.querySelectorAll('#xfer-suggest button')].map((b) => b.textContent).join() === 'alpha.txt', null, { timeout: 10000 });
    await page.click('#xfer-suggest button');
    assert.equal(await page.inputValue('#xfer-path'), 'nested/alpha.txt');
    await page.click('#xfer-download-dialog button[value=cancel]');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('drag and drop of several files onto the terminal uploads them all', async () => {
    const page = await shellIn(browser, server, 'local', sub);
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['first file\n'], 'dropped-1.txt', { type: 'text/plain' }));
      dt.items.add(new File([new Uint8Array([0, 1, 2, 255])], 'dropped 2.bin'));
      const el = document.querySelector('.shell');
      for (const type of ['dragenter', 'dragover', 'drop']) el.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    const end = await waitFinished(page, 60000);
    assert.equal(end.state, 'done', end.text);
    assert.match(end.text, new RegExp(`^Uploaded 2 files \\(.*\\) to ${sub}: size and sha256 checked\\.$`));
    assert.equal(readFileSync(join(sub, 'dropped-1.txt'), 'utf8'), 'first file\n');
    assert.deepEqual([...readFileSync(join(sub, 'dropped 2.bin'))], [0, 1, 2, 255]);
    assert.deepEqual(leftovers(sub), []);
    // A name no directory should get (a control character): refused before any exec.
    await page.click('#xfer-close');
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['x'], 'bad\nname'));
      document.querySelector('.shell').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    const bad = await waitFinished(page, 10000);
    assert.deepEqual(bad, { state: 'failed', text: '"bad\nname" is not a file name that can be used.' });
    // The shell moves on: the next drop lands where it is now, not where it was
    // when a dialog last looked (opened and cancelled just before).
    await page.click('#xfer-close');
    await page.click('#btn-download');
    await page.waitForSelector('#xfer-download-dialog[open]');
    await page.click('#xfer-download-dialog button[value=cancel]');
    await page.click('.xterm');
    await run(page, `mkdir -p then && cd then && echo now-$((6*7))`);
    await waitForText(page, /^now-42$/);
    await page.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['later\n'], 'later.txt'));
      document.querySelector('.shell').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    const later = await waitFinished(page, 60000);
    assert.equal(later.state, 'done', later.text);
    assert.equal(readFileSync(join(sub, 'then', 'later.txt'), 'utf8'), 'later\n');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('cancel midway: no partial file is left behind (and one is kept as .part when asked)', { timeout: BIG_TIMEOUT }, async () => {
    const name = 'cancel-me.bin';
    await randomFile(join(src, name), 200 * MB);
    for (const keep of [false, true]) {
      const page = await shellIn(browser, server, 'local', sub);
      await page.click('#btn-upload');
      await page.waitForSelector('#xfer-upload-dialog[open]');
      await page.setInputFiles('#xfer-files', [join(src, name)]);
      if (keep) await page.check('#xfer-keep');
      await page.click('#xfer-upload-dialog button[value=ok]');
      await page.waitForFunction(() => Number(document.getElementById('xfer-panel')?.dataset.done ?? 0) > 20e6, null, { timeout: BIG_TIMEOUT, polling: 50 });
      const before = await panelState(page);
      assert.equal(before.state, 'running', before.text);
      await page.click('#xfer-cancel');
      const end = await waitFinished(page, 60000);
      assert.equal(end.state, 'cancelled', end.text);
      assert.ok(!existsSync(join(sub, name)));
      if (keep) {
        assert.equal(end.text, `Upload cancelled; what had arrived is kept as ${name}.part in ${sub}.`);
        assert.deepEqual(leftovers(sub), [`${name}.part`]);
        const part = readFileSync(join(sub, `${name}.part`));
        assert.ok(part.length > 0 && part.length < 200 * MB, `partial ${part.length}`);
        assert.ok(part.equals(readFileSync(join(src, name)).subarray(0, part.length)), 'the kept part is the file\'s beginning');
        execFileSync('rm', ['-f', join(sub, `${name}.part`)]);
      } else {
        assert.equal(end.text, `Upload cancelled; nothing was left in ${sub}.`);
        assert.deepEqual(leftovers(sub), []);
      }
      assert.deepEqual(page.errors, []);
      await page.close();
    }
    rmSync(join(src, name));
  });

  test('a container without tar or sha256sum: upload and download over pipes (cat), md5 checked', { timeout: BIG_TIMEOUT }, async () => {
    const name = 'pipes.bin';
    const sum = await randomFile(join(src, name), 5 * MB);
    const page = await shellIn(browser, server, 'notar', '');
    const up = await uploadViaDialog(page, [join(src, name)], notar);
    assert.equal(up.state, 'done', up.text);
    assert.match(up.text, /size and md5 checked\.$/);
    assert.equal(await sha256File(join(notar, name)), sum);
    assert.deepEqual(leftovers(notar), []);
    const down = await downloadViaDialog(page, name, join(out, 'pipes-back.bin'));
    assert.equal(down.state, 'done', down.text);
    const md5 = createHash('md5').update(readFileSync(join(src, name))).digest('hex');
    assert.equal(down.text, `Downloaded pipes-back.bin (4.8 MiB): size and md5 checked (${md5.slice(0, 16)}…).`.replace('pipes-back.bin', name));
    assert.equal(await sha256File(join(out, 'pipes-back.bin')), sum);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test('a container with none of the tools: the transfer says so plainly', async () => {
    const page = await newPage(browser);
    await page.goto(`${server.url}#/default/bare/shell`);
    await waitForState(page, 'error'); // no bash, no sh: no shell either
    await page.click('#btn-upload');
    const end = await waitFinished(page, 30000);
    assert.equal(end.state, 'failed');
    assert.equal(end.text, 'This container has no shell (sh), so files cannot be copied in or out of it: a transfer needs sh and tar, cat or head.');
    await screenshot(page, 'transfer-no-tools');
    assert.deepEqual(page.errors, []);
    await page.close();
    // sh alone: the shell runs, but nothing can carry bytes.
    const sh = await newPage(browser);
    await sh.goto(`${server.url}#/default/shonly/shell`);
    await waitForState(sh, 'connected');
    await sh.click('#btn-upload');
    await sh.waitForSelector('#xfer-upload-dialog[open]');
    await sh.setInputFiles('#xfer-files', { name: 'x.txt', mimeType: 'text/plain', buffer: Buffer.from('x') });
    await sh.click('#xfer-upload-dialog button[value=ok]');
    const up = await waitFinished(sh, 30000);
    assert.deepEqual(up, { state: 'failed', text: 'This container cannot take or give files: it has no tar, cat or head (with mkdir, mv and rm).' });
    await sh.click('#xfer-close');
    await sh.click('#btn-download');
    await sh.waitForSelector('#xfer-download-dialog[open]');
    await sh.fill('#xfer-path', '/etc/hostname');
    await sh.click('#xfer-download-dialog button[value=ok]');
    const down = await waitFinished(sh, 30000);
    assert.deepEqual(down, { state: 'failed', text: 'This container cannot give files: it has neither cat nor head.' });
    assert.deepEqual(sh.errors, []);
    await sh.close();
  });
});

describe('file transfer through a gateway podterm', () => {
  let upstream;
  let gateway;
  let browser;
  let tmp;

  before(async () => {
    tmp = tempDir('podterm-e2e-transfer-gw-');
    mkdirSync(join(tmp.dir, 'work'));
    [gateway, upstream] = await startGatewayPair(tmp.dir, {
      upstreamGroup: 'system:masters',
      upstreamOpts: {
        config: `pods:\n  - name: local\n    containers:\n      - {name: shell, tty: true, stdin: true, workingDir: "${join(tmp.dir, 'work')}"}\n`,
      },
    });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await stopAll([gateway, upstream]);
    tmp?.cleanup();
  });

  test('upload and download of 5 MB through the gateway', { timeout: BIG_TIMEOUT }, async () => {
    const work = join(tmp.dir, 'work');
    const name = 'via-gateway.bin';
    const src = join(tmp.dir, name);
    const sum = await randomFile(src, 5 * MB);
    const page = await shellIn(browser, gateway, 'local', '');
    const up = await uploadViaDialog(page, [src], work);
    assert.equal(up.state, 'done', up.text);
    assert.equal(await sha256File(join(work, name)), sum);
    const down = await downloadViaDialog(page, name, join(tmp.dir, 'back.bin'));
    assert.equal(down.state, 'done', down.text);
    assert.equal(await sha256File(join(tmp.dir, 'back.bin')), sum);
    assert.deepEqual(page.errors, []);
    await page.close();
  });
});
