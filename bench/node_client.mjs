// node_client.mjs - the exec API read by Node's `ws` (what @kubernetes/client-node
// and most JavaScript tools use), for `make bench` (bench/README.md; issue 13).
// Unlike podterm-loadgen's raw engine, this client pays per message, as real
// clients do, so it shows what output coalescing buys them.
//
//   node bench/node_client.mjs PORT SERVER_PID BYTES tty|pipe -- ARGV...
//
// Checks the byte count on channel 1 and a Success status; prints key=value
// lines: node.mbps, node.bytes, node.messages, node.avg_message, node.client_cpu
// (fraction of a core), node.server_cpu_s_per_gb (the server's CPU seconds,
// from /proc, per GB moved). Exits 1 when a check fails.
import { createRequire } from 'node:module';

import { cpuSeconds } from './proc_cpu.mjs';

const require = createRequire(new URL('../tests/', import.meta.url));
const WebSocket = require('ws');

const [port, serverPid, bytesArg, mode, dashes, ...argv] = process.argv.slice(2);
if (dashes !== '--' || !argv.length || !['tty', 'pipe'].includes(mode)) {
  console.error('usage: node_client.mjs PORT SERVER_PID BYTES tty|pipe -- ARGV...');
  process.exit(2);
}
const expected = Number(bytesArg);

const query = argv.map((a) => 'command=' + encodeURIComponent(a)).join('&');
const url = `ws://127.0.0.1:${port}/api/v1/namespaces/default/pods/local/exec?${query}` +
  `&stdout=true${mode === 'tty' ? '&tty=true' : ''}`;
const cpu0 = process.cpuUsage();
const server0 = cpuSeconds(serverPid);
const t0 = process.hrtime.bigint();
let got = 0;
let messages = 0;
let status = '';
const ws = new WebSocket(url, ['v4.channel.k8s.io']);
ws.binaryType = 'nodebuffer';
ws.on('message', (data) => {
  messages++;
  if (data[0] === 1) got += data.length - 1;
  else if (data[0] === 3) status += data.subarray(1).toString();
});
ws.on('error', (err) => {
  console.error(`node client: ${err.message}`);
  process.exit(1);
});
ws.on('close', () => {
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const server = cpuSeconds(serverPid) - server0;
  console.log(`node.mbps=${(got / 1e6 / secs).toFixed(1)}`);
  console.log(`node.bytes=${got}`);
  console.log(`node.messages=${messages}`);
  console.log(`node.avg_message=${Math.round(got / Math.max(messages, 1))}`);
  console.log(`node.client_cpu=${((cpu.user + cpu.system) / 1e6 / secs).toFixed(2)}`);
  console.log(`node.server_cpu_s_per_gb=${(server / (got / 1e9)).toFixed(2)}`);
  let ok = got === expected;
  try {
    ok = ok && JSON.parse(status).status === 'Success';
  } catch {
    ok = false;
  }
  if (!ok) console.error(`node client: got ${got} of ${expected} bytes, status ${status}`);
  process.exit(ok ? 0 : 1);
});
