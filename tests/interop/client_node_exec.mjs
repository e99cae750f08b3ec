// One exec through @kubernetes/client-node's Exec, for test_client_node.py.
// usage: node client_node_exec.mjs SERVER_URL SPEC_JSON
//   SPEC_JSON: {"namespace","pod","container","command":[...],"stdin"?:string,
//               "tty"?:bool,"token"?:string}
// Prints one JSON line: {protocol, stdout, stderr, statuses, closeCode}
// (stdout/stderr base64). Exit 0 when the socket closed, 2 on timeout, 3 on error.
import { Readable, Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';

const [server, specJson] = process.argv.slice(2);
const spec = JSON.parse(specJson);

const kc = new k8s.KubeConfig();
kc.loadFromOptions({
  clusters: [{ name: 'podterm', server, skipTLSVerify: true }],
  users: [spec.token ? { name: 'u', token: spec.token } : { name: 'u' }],
  contexts: [{ name: 'c', cluster: 'podterm', user: 'u', namespace: spec.namespace }],
  currentContext: 'c',
});

function sink() {
  const chunks = [];
  const w = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      cb();
    },
  });
  w.text = () => Buffer.concat(chunks).toString('base64');
  return w;
}

const out = sink();
const err = sink();
const statuses = [];
const stdin = spec.stdin === undefined ? null : Readable.from([Buffer.from(spec.stdin)]);

const timer = setTimeout(() => {
  console.log(JSON.stringify({ error: 'timeout', statuses, stdout: out.text() }));
  process.exit(2);
}, 20000);

try {
  const ws = await new k8s.Exec(kc).exec(
    spec.namespace, spec.pod, spec.container, spec.command, out, err, stdin, !!spec.tty,
    (status) => statuses.push(status),
  );
  ws.on('close', (code) => {
    clearTimeout(timer);
    console.log(JSON.stringify({
      protocol: ws.protocol, stdout: out.text(), stderr: err.text(), statuses, closeCode: code,
    }));
    process.exit(0);
  });
} catch (e) {
  clearTimeout(timer);
  console.log(JSON.stringify({ error: String(e && (e.message || e)) }));
  process.exit(3);
}
