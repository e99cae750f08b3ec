// web_client.mjs - the web terminal in Chromium reading a flood, for `make bench`
// (bench/README.md; issue 13): the time until BYTES of `cat`-like output have
// been rendered by xterm, and whether the page stayed responsive meanwhile.
//
//   node bench/web_client.mjs PORT SERVER_PID BYTES
//
// Opens podterm's page on the local pod's shell in Debian's Chromium (headless,
// the e2e suite's flags), runs `head -c BYTES /dev/zero | tr '\0' a` and waits
// until that many more bytes were rendered (window.podterm.stats()). A 16 ms
// interval in the page records the longest gap between its ticks (the page's
// longest stall) while the output flows. Prints web.mbps, web.secs,
// web.max_stall_ms, web.p99_stall_ms, and the CPU seconds per GB of the
// server (web.server_cpu_s_per_gb) and of Chromium's processes
// (web.browser_cpu_s_per_gb), to show which side is the bottleneck; exits 1
// on a failure.
import { chromiumArgs, chromiumPath, loadPlaywright } from '../tests/e2e/harness.mjs';
import { cpuSeconds, cpuSecondsOf } from './proc_cpu.mjs';

const [port, serverPid, bytesArg] = process.argv.slice(2);
const bytes = Number(bytesArg);
if (!(Number(port) > 0) || !(Number(serverPid) > 0) || !(bytes > 0)) {
  console.error('usage: node web_client.mjs PORT SERVER_PID BYTES');
  process.exit(2);
}
const TIMEOUT_MS = 600000;

const { chromium } = loadPlaywright();
const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
try {
  const page = await (await browser.newContext({ viewport: { width: 1000, height: 640 } })).newPage();
  await page.goto(`http://127.0.0.1:${port}/#/default/local/shell`);
  await page.waitForFunction(() => window.podterm.state() === 'connected', null, { timeout: 30000, polling: 50 });
  await page.locator('.term').click();
  await page.keyboard.type(`PS1='[bench]$ '\n`);
  await page.waitForFunction(() => window.podterm.cursorLine() === '[bench]$ ', null, { timeout: 10000, polling: 50 });
  const before = await page.evaluate(() => {
    // The page's stalls: the gaps between the ticks of a 16 ms interval.
    window.benchGaps = [];
    let last = performance.now();
    window.benchTimer = setInterval(() => {
      const now = performance.now();
      window.benchGaps.push(now - last);
      last = now;
    }, 16);
    return window.podterm.stats().rendered;
  });
  const server0 = cpuSeconds(serverPid), browser0 = cpuSecondsOf('chrom');
  const t0 = Date.now();
  await page.keyboard.type(`head -c ${bytes} /dev/zero | tr '\\0' a; echo\n`);
  await page.waitForFunction((n) => window.podterm.stats().rendered >= n, before + bytes, {
    timeout: TIMEOUT_MS,
    polling: 100,
  });
  const secs = (Date.now() - t0) / 1000;
  const serverCpu = cpuSeconds(serverPid) - server0, browserCpu = cpuSecondsOf('chrom') - browser0;
  const gaps = await page.evaluate(() => {
    clearInterval(window.benchTimer);
    return window.benchGaps.sort((a, b) => a - b);
  });
  // Still responsive at the end: the shell's prompt comes back on the screen.
  await page.waitForFunction(() => window.podterm.cursorLine() === '[bench]$ ', null, { timeout: 30000, polling: 50 });
  console.log(`web.bytes=${bytes}`);
  console.log(`web.secs=${secs.toFixed(3)}`);
  console.log(`web.mbps=${(bytes / 1e6 / secs).toFixed(2)}`);
  console.log(`web.max_stall_ms=${gaps[gaps.length - 1].toFixed(1)}`);
  console.log(`web.p99_stall_ms=${gaps[Math.floor(gaps.length * 0.99)].toFixed(1)}`);
  console.log(`web.server_cpu_s_per_gb=${(serverCpu / (bytes / 1e9)).toFixed(1)}`);
  console.log(`web.browser_cpu_s_per_gb=${(browserCpu / (bytes / 1e9)).toFixed(1)}`);
} catch (err) {
  console.error(`web client: ${err.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
