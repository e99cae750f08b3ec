// Bundles the web terminal: src/main.ts (and the CSS it imports) -> app.js,
// app.css, src/transfer-sw.ts -> transfer-sw.js, plus index.html and static/*, into an output directory that is emptied first.
//
//   node build.mjs [--outdir DIR] [--dev]     (default DIR: web/dist)
//
// cmake/ui.cmake runs this with --outdir in the build tree and compiles the
// result into the binary; the server sets Cache-Control: no-cache and a
// content-hash ETag, so the names need no hashes.
import * as esbuild from 'esbuild';
import { copyFile, cp, mkdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
let outdir = join(here, 'dist');
let dev = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--outdir' && i + 1 < args.length) outdir = resolve(args[++i]);
  else if (args[i] === '--dev') dev = true;
  else {
    console.error(`build.mjs: unknown argument ${args[i]}`);
    process.exit(2);
  }
}

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
await esbuild.build({
  // transfer-sw: the download service worker (src/transfer-sw.ts), its own script.
  entryPoints: { app: join(here, 'src/main.ts'), 'transfer-sw': join(here, 'src/transfer-sw.ts') },
  outdir,
  bundle: true,
  format: 'iife',
  target: ['chrome100', 'firefox100', 'safari15'],
  minify: !dev,
  sourcemap: dev ? 'inline' : false,
  legalComments: 'eof',
  charset: 'utf8',
  logLevel: 'warning',
});
await copyFile(join(here, 'index.html'), join(outdir, 'index.html'));
await cp(join(here, 'static'), outdir, { recursive: true });
