// Shared pieces of the browser end-to-end tests: a real podterm (PODTERM_BIN,
// default build-asan/podterm) on 127.0.0.1, Debian's Chromium driven by
// playwright-core (never a downloaded browser), and helpers that read the
// terminal through the page's debug handle (window.podterm), which sees
// xterm's buffer whatever renderer (WebGL or DOM) is active.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, '../..');
export const screenshotDir = join(root, 'tests/out/screenshots');
mkdirSync(screenshotDir, { recursive: true });

/** playwright-core from tests/node_modules (tests/package.json), else web/'s. */
export function loadPlaywright() {
  for (const base of [join(root, 'tests/package.json'), join(root, 'web/package.json')]) {
    try {
      return createRequire(base)('playwright-core');
    } catch {
      // try the next place
    }
  }
  throw new Error('playwright-core is not installed: run scripts/deps.sh test (npm ci in tests/)');
}

export const podtermBin = process.env.PODTERM_BIN || join(root, 'build-asan/podterm');
export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

/** A fresh directory, removed by the returned cleanup. */
export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Start podterm and wait for its "podterm: serving URL" line.
 * opts: { listen = '127.0.0.1:0', config (YAML text), extraArgs, env, cwd }
 * Returns { url, port, pid, rssKiB(), stop(signal) }.
 */
export async function startPodterm(opts = {}) {
  // No drain grace (later flags win): stop() waits 10 s, and a page left
  // open would otherwise hold SIGTERM for the default 25 s.
  const args = ['--listen', opts.listen ?? '127.0.0.1:0', '--shutdown-grace', '0'];
  let configDir = null;
  if (opts.config) {
    configDir = tempDir('podterm-e2e-config-');
    const file = join(configDir.dir, 'pods.yaml');
    writeFileSync(file, opts.config);
    args.push('--config', file);
  }
  args.push(...(opts.extraArgs ?? []));
  // The shells inherit HOME: an empty one, so no user's ~/.bashrc (pyenv
  // init and the like) slows or blocks their start.
  const home = tempDir('podterm-e2e-home-');
  const proc = spawn(podtermBin, args, {
    cwd: opts.cwd ?? root,
    env: { ...process.env, HOME: home.dir, ...(opts.env ?? {}) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`podterm did not start in 20 s:\n${stderr}`)), 20000);
    proc.stderr.on('data', (chunk) => {
      stderr += chunk;
      const m = /podterm: serving (https?:\/\/[^\s]+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    });
    proc.on('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`podterm exited (${code ?? sig}) before serving:\n${stderr}`));
    });
  });
  const exited = new Promise((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  return {
    url,
    port: Number(new URL(url).port),
    pid: proc.pid,
    stderr: () => stderr,
    /** Resident set size of the server, KiB (from /proc). */
    rssKiB() {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
      return m ? Number(m[1]) : 0;
    },
    /** Stop by PID; resolves with the exit code/signal. SIGKILL if SIGTERM is ignored for 10 s. */
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), 10000);
      const res = await exited;
      clearTimeout(t);
      configDir?.cleanup();
      home.cleanup();
      return res;
    },
  };
}

export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // The browser's own omnibox popup is a WebUI page it keeps rendering in a
  // renderer of its own, headless or not: as much CPU as the pages under
  // test (the e2e suite took a third longer). Chromium keeps only the last
  // --disable-features, so this one repeats playwright-core's own (1.65,
  // chromiumSwitches: no start-up requests to any other host, among others).
  '--disable-features=' + [
    'AvoidUnnecessaryBeforeUnloadCheckSync', 'DestroyProfileOnBrowserClose', 'HttpsUpgrades',
    'HttpsFirstBalancedModeAutoEnable', 'LensOverlay', 'MediaRouter', 'PaintHolding',
    'ThirdPartyStoragePartitioning', 'AvoidCorsURLLoaderRestartOnRedirect', 'OptimizationHints',
    'NetworkTimeServiceQuerying', 'AimEnabled', 'PreconnectToSearch',
    'WebUIOmniboxPopup', 'WebUIOmniboxAimPopup', 'WebUIOmniboxFullPopup',
  ].join(','),
];

/** Debian's Chromium, headless; playwright gives it a fresh profile directory. */
export async function launchBrowser() {
  const { chromium } = loadPlaywright();
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
}

/** A page that fails the test on uncaught errors (collected in page.errors). */
export async function newPage(browser, viewport = { width: 1000, height: 640 }, { clipboard = false } = {}) {
  const context = await browser.newContext({ viewport });
  if (clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  return page;
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(screenshotDir, `${name}.png`) });
}

/** Wait until some terminal line contains text (or matches a RegExp). */
export async function waitForText(page, text, timeout = 10000) {
  const pattern = text instanceof RegExp ? { source: text.source, flags: text.flags } : null;
  await page.waitForFunction(
    ({ text, pattern }) => {
      const re = pattern ? new RegExp(pattern.source, pattern.flags) : null;
      return window.podterm.lines().some((l) => (re ? re.test(l) : l.includes(text)));
    },
    { text: typeof text === 'string' ? text : '', pattern },
    { timeout, polling: 50 },
  );
}

export async function lines(page) {
  return page.evaluate(() => window.podterm.lines());
}

export async function waitForState(page, state, timeout = 10000) {
  await page.waitForFunction((s) => window.podterm.state() === s, state, { timeout, polling: 50 });
}

export const PROMPT = '[pt]$ ';

/** Once connected: a prompt the tests can recognise. */
export async function preparePrompt(page) {
  await waitForState(page, 'connected');
  await page.keyboard.type(`PS1='[pt]$ '\n`);
  await page.waitForFunction((p) => window.podterm.cursorLine() === p, PROMPT, { timeout: 10000, polling: 50 });
}

/** Type a command line and press Enter. */
export async function run(page, command) {
  await page.keyboard.type(command);
  await page.keyboard.press('Enter');
}

/** JS heap in use after a forced GC, bytes (Chromium DevTools protocol). */
export async function heapUsed(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  await cdp.detach();
  return usedSize;
}

/**
 * Gateway mode for a suite: an upstream podterm (the "cluster": plain HTTP on
 * 127.0.0.1, knowing only the gateway's token, in group `upstreamGroup`) with
 * upstreamOpts, and a gateway podterm in front of it with a kubeconfig that
 * holds that token and gatewayArgs. Returns [gateway, upstream]; both are
 * the caller's to stop (stopAll).
 */
export const GATEWAY_UPSTREAM_TOKEN = 'e2e-upstream-gateway-token';

export async function startGatewayPair(dir, { upstreamOpts = {}, gatewayOpts = {}, upstreamGroup = 'gateways' } = {}) {
  const upTokens = join(dir, 'upstream.csv');
  writeFileSync(upTokens, `${GATEWAY_UPSTREAM_TOKEN},podterm-gateway,9000,"${upstreamGroup}"\n`);
  const upstream = await startPodterm({
    ...upstreamOpts,
    extraArgs: ['--token-auth-file', upTokens, ...(upstreamOpts.extraArgs ?? [])],
  });
  const kubeconfig = join(dir, 'gateway.kubeconfig');
  writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'current-context: c',
    'contexts:', '- name: c', '  context: {cluster: k, user: u, namespace: default}',
    'clusters:', '- name: k', '  cluster:', `    server: ${upstream.url.replace(/\/$/, '')}`,
    'users:', '- name: u', '  user:', `    token: ${GATEWAY_UPSTREAM_TOKEN}`, '',
  ].join('\n'));
  try {
    const gateway = await startPodterm({
      ...gatewayOpts,
      extraArgs: ['--kubeconfig', kubeconfig, ...(gatewayOpts.extraArgs ?? [])],
    });
    return [gateway, upstream];
  } catch (e) {
    await upstream.stop();
    throw e;
  }
}

/** Stop every server; each must have exited 0 (a sanitizer report at exit fails). */
export async function stopAll(servers) {
  for (const s of servers) {
    if (!s) continue;
    const res = await s.stop();
    if (res.code !== 0) throw new Error(`podterm exited with ${JSON.stringify(res)}:\n${s.stderr()}`);
  }
}

/**
 * A TCP proxy on 127.0.0.1 to targetPort, for network drops. cut(): every
 * open connection is reset both ways and new ones are reset at once until
 * restore().
 */
export async function startCutProxy(targetPort) {
  const pairs = new Set();
  let up = true;
  let refused = 0;
  const server = createServer((client) => {
    if (!up) {
      refused++;
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.on('close', drop);
    upstream.on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    get refused() {
      return refused;
    },
    cut() {
      up = false;
      for (const { client, upstream } of pairs) {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      }
      pairs.clear();
    },
    restore() {
      up = true;
    },
    close() {
      this.cut();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** RBAC that lets group devs list pods and sessions and exec (the sign-in
 * and client-certificate suites' users). */
export const DEVS_EXEC_RBAC = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: exec}
rules:
- {apiGroups: [""], resources: ["pods", "namespaces"], verbs: ["get", "list"]}
- {apiGroups: [""], resources: ["pods/exec"], verbs: ["create"]}
- {apiGroups: ["podterm.dev"], resources: ["sessions"], verbs: ["get", "list"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: devs-exec}
subjects: [{kind: Group, name: devs, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: exec, apiGroup: rbac.authorization.k8s.io}
`;
