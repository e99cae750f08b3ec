// The bundle compiled into the binary: served at / with the right content
// types, gzip when accepted (and inflated when not), strong ETags that answer
// 304, and nothing read from disk (the server runs from an empty directory).
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { startPodterm, stopAll, tempDir } from './harness.mjs';

function get(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('embedded UI assets', () => {
  let server;
  let cwd;

  before(async () => {
    cwd = tempDir('podterm-e2e-empty-');
    server = await startPodterm({ cwd: cwd.dir });
  });

  after(async () => {
    await stopAll([server]); // exit 0: a sanitizer report at exit fails
    cwd?.cleanup();
  });

  const assets = [
    ['/', 'text/html; charset=utf-8', /<title>podterm<\/title>/],
    ['/index.html', 'text/html; charset=utf-8', /<script defer src="app.js"><\/script>/],
    ['/app.js', 'text/javascript; charset=utf-8', /v1\.flow\.podterm\.dev/],
    ['/app.css', 'text/css; charset=utf-8', /\.xterm/],
    ['/favicon.svg', 'image/svg+xml', /<svg/],
  ];

  for (const [path, type, content] of assets) {
    test(`${path}: ${type}, gzip, ETag, 304`, async () => {
      const gz = await get(server.url.replace(/\/$/, '') + path, { 'Accept-Encoding': 'gzip, deflate, br' });
      assert.equal(gz.status, 200);
      assert.equal(gz.headers['content-type'], type);
      assert.equal(gz.headers['content-encoding'], 'gzip');
      const raw = gunzipSync(gz.body);
      assert.match(raw.toString('utf8'), content);
      // Strong ETag: the first 128 bits of the content's SHA-256, quoted.
      const etag = gz.headers.etag;
      assert.equal(etag, `"${createHash('sha256').update(raw).digest('hex').slice(0, 32)}"`);

      const plain = await get(server.url.replace(/\/$/, '') + path);
      assert.equal(plain.status, 200);
      assert.equal(plain.headers['content-encoding'], undefined);
      assert.ok(plain.body.equals(raw), 'identity body differs from the gunzipped one');
      assert.equal(plain.headers.etag, etag);

      const again = await get(server.url.replace(/\/$/, '') + path, { 'If-None-Match': etag });
      assert.equal(again.status, 304);
      assert.equal(again.body.length, 0);
    });
  }

  test('an unknown asset is a 404', async () => {
    const res = await get(server.url.replace(/\/$/, '') + '/nope.js');
    assert.equal(res.status, 404);
  });
});
