// Upload: files from the page into a directory of the container.
//
//   1. UPLOAD (one exec): mkdir DIR/.podterm-upload-<random>, then its stdin
//      goes to `tar xf -` (the page writes the tar stream) or, without tar,
//      to `cat > f0` / `head -c SIZE > f0`, one exec per file.
//   2. FINISH (one exec): every file's size and checksum (sha256sum or
//      md5sum, compared with what the page hashed while sending) is checked,
//      then all are moved to their names, or none is and the directory goes.
//   Cancel: the upload exec is closed and CANCEL removes the directory (or
//   first keeps what came as NAME.part).
//
// Files are read a slice at a time (File.slice -> arrayBuffer), never whole;
// the socket's bufferedAmount bounds what the page has in flight
// (IN_FLIGHT_MAX, transfer-exec.ts).

import { newHasher, type Hasher } from './transfer-hash';
import { runSmall, TransferExec, type TransferTarget } from './transfer-exec';
import { CANCEL, checksumTool, FINISH, plainName, TMP_PREFIX, UPLOAD, uploadMethod, type Method, type Probe } from './transfer-scripts';
import { TAR_END, tarHeader, tarLength, tarPadding } from './transfer-tar';

/** Bytes read from a File at a time. */
export const SLICE_BYTES = 256 * 1024;
/** Most files one drop or one pick may upload. */
export const MAX_FILES_PER_DROP = 100;
/** stderr of an upload exec kept for the error message. */
const STDERR_KEEP = 4096;

export interface ProgressSink {
  /** Bytes done so far of total (sent and taken by the server). */
  progress(done: number, total: number, label: string): void;
}

export interface UploadResult {
  ok: boolean;
  message: string;
}

export class UploadCancelled extends Error {}

function randomHex(n: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(n)), (x) => x.toString(16).padStart(2, '0')).join('');
}

function human(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}
export { human as humanBytes };

/** Why these files cannot be uploaded as they are ('' when they can). */
export function checkFiles(files: File[]): string {
  if (files.length === 0) return 'No files were given.';
  if (files.length > MAX_FILES_PER_DROP) return `At most ${MAX_FILES_PER_DROP} files can be uploaded at once (${files.length} were given).`;
  const seen = new Set<string>();
  for (const f of files) {
    if (!plainName(f.name)) return `"${f.name}" is not a file name that can be used.`;
    if (seen.has(f.name)) return `"${f.name}" is given twice.`;
    seen.add(f.name);
  }
  return '';
}

export interface UploadJob {
  target: TransferTarget;
  probe: Probe;
  /** The exec protocol the server chose (whether stdin can be closed). */
  canCloseStdin: boolean;
  dir: string;
  files: File[];
  keepPartial: () => boolean;
  signal: AbortSignal;
  sink: ProgressSink;
}

export async function upload(job: UploadJob): Promise<UploadResult> {
  const { target, probe, dir, files, signal } = job;
  const why = checkFiles(files);
  if (why) return { ok: false, message: why };
  const method = uploadMethod(probe.tools, job.canCloseStdin);
  if (!method) return { ok: false, message: noToolMessage(probe) };
  const alg = checksumTool(probe.tools);
  const tmp = TMP_PREFIX + randomHex(8);
  const total = files.reduce((n, f) => n + f.size, 0);
  const hashes: string[] = [];
  let done = 0;
  const report = (label: string) => job.sink.progress(done, total, label);
  try {
    if (method === 'tar') {
      const hs = await sendTar(job, tmp, alg, (n) => {
        done += n;
        report(`to ${dir}`);
      });
      hashes.push(...hs);
    } else {
      for (let i = 0; i < files.length; i++) {
        const h = await sendPlain(job, tmp, i, method, alg, (n) => {
          done += n;
          report(`to ${dir}`);
        });
        hashes.push(h);
      }
    }
  } catch (e) {
    const cancelled = e instanceof UploadCancelled || signal.aborted;
    const keep = cancelled && job.keepPartial();
    const clean = await runSmall(target, ['sh', '-c', CANCEL, 'sh', dir, tmp, keep ? '1' : '0', ...files.map((f) => f.name)]);
    const cleaned = clean.code === 0;
    if (cancelled) {
      return {
        ok: false,
        message: keep
          ? `Upload cancelled; what had arrived is kept as ${files.map((f) => f.name + '.part').join(', ')} in ${dir}.`
          : cleaned
            ? `Upload cancelled; nothing was left in ${dir}.`
            : `Upload cancelled, but the partial files in ${dir}/${tmp} could not be removed.`,
      };
    }
    return { ok: false, message: `Upload failed: ${e instanceof Error ? e.message : String(e)}` };
  }
  report('checking');
  const args = ['sh', '-c', FINISH, 'sh', dir, tmp, alg ?? '-'];
  files.forEach((f, i) => args.push(f.name, String(f.size), hashes[i] ?? '-'));
  const fin = await runSmall(target, args);
  const names = files.length === 1 ? files[0].name : `${files.length} files`;
  if (fin.code === 0 && /^ok$/m.test(fin.stdout)) {
    const check = alg ? `size and ${alg} checked` : 'size checked; the container has no sha256sum or md5sum';
    return { ok: true, message: `Uploaded ${names} (${human(total)}) to ${dir}: ${check}.` };
  }
  const bad = /^bad (\d+) (\w+) (.*)$/m.exec(fin.stdout);
  if (bad) {
    const f = files[Number(bad[1])]?.name ?? '?';
    const what = bad[2] === 'sum' ? `its ${alg} differs` : bad[2] === 'size' ? `its size in the container is ${bad[3]} bytes, not ${files[Number(bad[1])]?.size}` : bad[2] === 'dir' ? 'a directory of that name is there' : 'it did not arrive';
    return { ok: false, message: `Upload failed for ${f}: ${what}; nothing was placed in ${dir}.` };
  }
  return { ok: false, message: `Upload failed while placing the files: ${(fin.stderr || fin.stdout).trim().slice(0, 300) || 'no reason given'}` };
}

export function noToolMessage(probe: Probe): string {
  const have = [...probe.tools].join(', ');
  return `This container cannot take or give files: it has no tar, cat or head (with mkdir, mv and rm)` +
    (have ? ` — only ${have}.` : '.');
}

/** Opens the upload exec: stdin, pipes; rejects when it does not open. */
async function openUpload(job: UploadJob, args: string[], stderr: { text: string }): Promise<TransferExec> {
  const exec: TransferExec = new TransferExec(job.target, ['sh', '-c', UPLOAD, 'sh', ...args], true, {
    data(ch, bytes) {
      if (ch === 2 && stderr.text.length < STDERR_KEEP) stderr.text += new TextDecoder().decode(bytes);
      exec.ack(bytes.length);
    },
  });
  exec.start();
  if (!(await exec.opened)) throw new Error('the server refused the upload exec');
  return exec;
}

/**
 * How many of the files' bytes the server has taken: all bytes written (tar
 * headers and padding too) minus what still waits in the socket, counted in
 * file bytes only, and never backwards.
 */
class Sent {
  private written = 0;
  private fileBytes = 0;
  private reported = 0;
  constructor(private readonly exec: TransferExec, private readonly onSent: (n: number) => void) {}
  wrote(n: number, fileData: boolean): void {
    this.written += n;
    if (fileData) this.fileBytes += n;
    this.tick();
  }
  tick(): void {
    const taken = Math.min(this.fileBytes, Math.max(0, this.written - this.exec.buffered));
    if (taken > this.reported) {
      this.onSent(taken - this.reported);
      this.reported = taken;
    }
  }
}

async function writeOrFail(exec: TransferExec, bytes: Uint8Array, signal: AbortSignal, sent: Sent, fileData: boolean): Promise<void> {
  if (signal.aborted) throw new UploadCancelled();
  if (!(await exec.write(bytes))) {
    if (signal.aborted) throw new UploadCancelled();
    throw new Error('the connection closed during the upload');
  }
  sent.wrote(bytes.length, fileData);
}

/** Streams one file's bytes a slice at a time, hashing them. */
async function streamFile(file: File, exec: TransferExec, hasher: Hasher | null, signal: AbortSignal, sent: Sent): Promise<void> {
  for (let off = 0; off < file.size; off += SLICE_BYTES) {
    if (signal.aborted) throw new UploadCancelled();
    const bytes = new Uint8Array(await file.slice(off, Math.min(file.size, off + SLICE_BYTES)).arrayBuffer());
    hasher?.update(bytes);
    await writeOrFail(exec, bytes, signal, sent, true);
  }
}

/** Waits for the exec's end after stdin is done; throws with its stderr when it failed. */
async function finishExec(exec: TransferExec, signal: AbortSignal, stderr: { text: string }, sent: Sent): Promise<void> {
  if (exec.canCloseStdin) exec.closeStdin();
  const poll = setInterval(() => sent.tick(), 100);
  const end = await exec.done;
  clearInterval(poll);
  sent.tick();
  if (signal.aborted) throw new UploadCancelled();
  if (end.kind === 'exited' && end.info.kind === 'exit' && end.info.code === 0) return;
  const why = stderr.text.trim().split('\n').slice(-3).join(' ') ||
    (end.kind === 'exited' ? end.info.message || 'the upload command failed' : 'the connection was lost');
  throw new Error(why);
}

async function sendTar(job: UploadJob, tmp: string, alg: 'sha256' | 'md5' | null, onSent: (n: number) => void): Promise<string[]> {
  const { files, signal } = job;
  const archive = tarLength(files.map((f) => f.size));
  const head = !job.canCloseStdin ? 'head' : '-';
  const stderr = { text: '' };
  const exec = await openUpload(job, [job.dir, tmp, String(archive), 'tar', head], stderr);
  const abort = () => exec.abort();
  signal.addEventListener('abort', abort, { once: true });
  try {
    const sent = new Sent(exec, onSent);
    const hashes: string[] = [];
    for (let i = 0; i < files.length; i++) {
      const f = files[i];
      await writeOrFail(exec, tarHeader(`f${i}`, f.size, Math.floor(f.lastModified / 1000)), signal, sent, false);
      const hasher = alg ? newHasher(alg) : null;
      await streamFile(f, exec, hasher, signal, sent);
      const pad = tarPadding(f.size);
      if (pad) await writeOrFail(exec, new Uint8Array(pad), signal, sent, false);
      hashes.push(hasher ? hasher.hex() : '-');
    }
    await writeOrFail(exec, new Uint8Array(TAR_END), signal, sent, false);
    await finishExec(exec, signal, stderr, sent);
    return hashes;
  } finally {
    signal.removeEventListener('abort', abort);
  }
}

async function sendPlain(job: UploadJob, tmp: string, index: number, method: Method, alg: 'sha256' | 'md5' | null, onSent: (n: number) => void): Promise<string> {
  const f = job.files[index];
  const stderr = { text: '' };
  const exec = await openUpload(job, [job.dir, tmp, String(f.size), method, '-', String(index)], stderr);
  const abort = () => exec.abort();
  job.signal.addEventListener('abort', abort, { once: true });
  try {
    const sent = new Sent(exec, onSent);
    const hasher = alg ? newHasher(alg) : null;
    await streamFile(f, exec, hasher, job.signal, sent);
    await finishExec(exec, job.signal, stderr, sent);
    return hasher ? hasher.hex() : '-';
  } finally {
    job.signal.removeEventListener('abort', abort);
  }
}
