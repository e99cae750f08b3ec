// node_echo.mjs - keystroke echo as Node sees it, for `make bench` (bench/README.md;
// issue 13): one byte out, wait for it to come back, SAMPLES times, through
// podterm with Node's `ws` (what @kubernetes/client-node uses), and the same
// Node process against a PTY master it holds itself, the baseline.
//
//   node bench/node_echo.mjs ws PORT SAMPLES -- ARGV...   exec ARGV (tty, stdin) in default/local
//   node bench/node_echo.mjs pty FD SAMPLES               FD: a PTY master whose slave runs
//                                                          the echo command (bench/node_echo_pty.py
//                                                          starts both)
//
// ARGV must print "R" once ready and then echo raw bytes (stty raw -echo; cat).
// Prints nodelat.p50_us, nodelat.p99_us, nodelat.max_us (nearest rank, as the
// load generator's); exits 1 when an echo does not come back.
import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import tty from 'node:tty';

const require = createRequire(new URL('../tests/', import.meta.url));
const TIMEOUT_MS = 10000;
const [mode, where, samplesArg, dashes, ...argv] = process.argv.slice(2);
const samples = Number(samplesArg);
if (!['ws', 'pty'].includes(mode) || !(samples > 0) || (mode === 'ws' && (dashes !== '--' || !argv.length))) {
  console.error('usage: node_echo.mjs ws PORT SAMPLES -- ARGV... | pty FD SAMPLES');
  process.exit(2);
}

/** The transport: send(byte) and a callback for what comes back (the
 *  command's "R" says it is ready, so neither waits for an open of its own). */
function openWs(port, onData) {
  const WebSocket = require('ws');
  const query = argv.map((a) => 'command=' + encodeURIComponent(a)).join('&');
  const url = `ws://127.0.0.1:${port}/api/v1/namespaces/default/pods/local/exec?${query}&stdin=true&stdout=true&tty=true`;
  const ws = new WebSocket(url, ['v4.channel.k8s.io']);
  ws.binaryType = 'nodebuffer';
  ws.on('message', (data) => {
    if (data[0] === 1) onData(data.subarray(1));
  });
  ws.on('error', (err) => fail(`ws: ${err.message}`));
  return { send: (b) => ws.send(Buffer.from([0, b])), close: () => ws.terminate() };
}

function openPty(fd, onData) {
  const rs = new tty.ReadStream(fd);
  rs.on('data', onData);
  return { send: (b) => writeSync(fd, Buffer.from([b])), close: () => rs.destroy() };
}

function fail(why) {
  console.error(`node echo: ${why}`);
  process.exit(1);
}

const times = [];
let ready = false;
let want = -1;
let t0 = 0n;
let timer = null;
const conn = (mode === 'ws' ? openWs : openPty)(Number(where), (buf) => {
  if (!ready) {
    if (buf.includes(0x52)) { // "R": the command is set up
      ready = true;
      next();
    }
    return;
  }
  if (want >= 0 && buf.includes(want)) {
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
    want = -1;
    clearTimeout(timer);
    if (times.length === samples) return done();
    setImmediate(next);
  }
});

function next() {
  want = 0x61 + (times.length % 26); // a-z, never "R"
  timer = setTimeout(() => fail(`echo ${times.length} did not come back`), TIMEOUT_MS);
  t0 = process.hrtime.bigint();
  conn.send(want);
}

function done() {
  times.sort((a, b) => a - b);
  console.log(`nodelat.p50_us=${times[times.length >> 1].toFixed(1)}`);
  console.log(`nodelat.p99_us=${times[Math.floor(times.length * 0.99)].toFixed(1)}`);
  console.log(`nodelat.max_us=${times[times.length - 1].toFixed(1)}`);
  conn.close();
  process.exit(0);
}

setTimeout(() => { if (!ready) fail('the command did not get ready'); }, TIMEOUT_MS).unref();
