// Files in and out of a pod, from the shell view: an Upload and a Download
// button in the toolbar, dropping files on the terminal, a progress panel
// (bytes, rate, time left, cancel) and a clear result. Each step is its own
// exec through the exec API (transfer-exec.ts), so admission, RBAC or an
// ExecPolicy, and the audit log treat it as they treat a shell, in local and
// gateway mode alike. The work itself: transfer-upload.ts, transfer-download.ts.

import './transfer.css';

import { containerNames, getPod, whyExecRefused } from './api';
import { h } from './dom';
import { isMissingExecutable } from './protocol';
import { download } from './transfer-download';
import { runSmall, type TransferTarget } from './transfer-exec';
import { guessCwd, joinPath, LIST, parseProbe, plainPath, PROBE, type Probe } from './transfer-scripts';
import { checkFiles, humanBytes, upload, type ProgressSink, type UploadResult } from './transfer-upload';

/** A probe this young is reused (the dialog's probe, then the transfer). */
const PROBE_REUSE_MS = 30000;
/** Rate is measured over this much recent time. */
const RATE_WINDOW_MS = 3000;
/** The progress text is redrawn at most this often. */
const REDRAW_MS = 200;
/** Names offered for completion (ls of a large directory is cut here). */
const COMPLETIONS_MAX = 500;
/** Typing pauses this long before the directory is listed. */
const LIST_DELAY_MS = 150;
/** Longest wait for the probe or a listing (a stuck /proc or filesystem must not hang the dialog). */
const SMALL_EXEC_TIMEOUT_MS = 20000;

export interface TransferRoute {
  namespace: string;
  pod: string;
  container: string; // '' = the pod's first container
}

export interface TransferHost {
  route: TransferRoute;
  /** Files dropped here are uploaded (the terminal). */
  dropTarget: HTMLElement;
  /** The buttons go here. */
  toolbar: HTMLElement;
}

interface ProbeResult {
  probe: Probe;
  canCloseStdin: boolean;
  at: number;
}

function uploadDialog(): { dialog: HTMLDialogElement; dir: HTMLInputElement; files: HTMLInputElement; keep: HTMLInputElement } {
  const dir = h('input', { id: 'xfer-dir', name: 'dir', type: 'text', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'xfer-dir-hint' });
  const files = h('input', { id: 'xfer-files', name: 'files', type: 'file', multiple: true });
  const keep = h('input', { id: 'xfer-keep', type: 'checkbox' });
  const dialog = h(
    'dialog',
    { id: 'xfer-upload-dialog', 'aria-labelledby': 'xfer-upload-title' },
    h(
      'form',
      { method: 'dialog' },
      h('h2', { id: 'xfer-upload-title' }, 'Upload files'),
      h('label', { for: 'xfer-files' }, 'Files'),
      files,
      h('label', { for: 'xfer-dir' }, 'Into directory'),
      dir,
      h('p', { id: 'xfer-dir-hint', class: 'hint' }, "The shell's current directory when podterm can tell; any path works."),
      h('label', { class: 'xfer-check' }, keep, ' Keep partial files if cancelled (as NAME.part)'),
      h('div', { class: 'form-actions' }, h('button', { class: 'primary', value: 'ok' }, 'Upload'), h('button', { value: 'cancel', formnovalidate: true }, 'Cancel')),
    ),
  );
  return { dialog, dir, files, keep };
}

/** Matching names shown under the path field (all of them stay in the datalist). */
const SUGGESTIONS_SHOWN = 8;

function downloadDialog(): { dialog: HTMLDialogElement; path: HTMLInputElement; list: HTMLDataListElement; suggest: HTMLElement } {
  const list = h('datalist', { id: 'xfer-names' });
  const suggest = h('ul', { id: 'xfer-suggest', class: 'xfer-suggest', 'aria-label': 'Names in this directory' });
  const path = h('input', { id: 'xfer-path', name: 'path', type: 'text', list: 'xfer-names', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'xfer-path-hint' });
  const dialog = h(
    'dialog',
    { id: 'xfer-download-dialog', 'aria-labelledby': 'xfer-download-title' },
    h(
      'form',
      { method: 'dialog' },
      h('h2', { id: 'xfer-download-title' }, 'Download a file'),
      h('label', { for: 'xfer-path' }, 'Path in the container'),
      path,
      list,
      suggest,
      h('p', { id: 'xfer-path-hint', class: 'hint' }, "Relative to the shell's current directory; names complete as you type."),
      h('div', { class: 'form-actions' }, h('button', { class: 'primary', value: 'ok' }, 'Download'), h('button', { value: 'cancel', formnovalidate: true }, 'Cancel')),
    ),
  );
  return { dialog, path, list, suggest };
}

export class TransferUi {
  private readonly btnUp = h('button', { id: 'btn-upload', type: 'button', title: 'Upload files into the shell’s directory (or drop them on the terminal)' }, 'Upload');
  private readonly btnDown = h('button', { id: 'btn-download', type: 'button', title: 'Download a file from the container' }, 'Download');
  private readonly panel: HTMLElement;
  private readonly title = h('p', { class: 'xfer-title' });
  private readonly bar = h('progress', { id: 'xfer-progress', max: 1, value: 0, 'aria-label': 'Transfer progress' });
  private readonly detail = h('p', { class: 'xfer-detail', 'aria-hidden': 'true' });
  private readonly result = h('p', { id: 'xfer-result', class: 'xfer-result', role: 'status', 'aria-live': 'polite' });
  private readonly btnCancel = h('button', { id: 'xfer-cancel', type: 'button' }, 'Cancel');
  private readonly btnClose = h('button', { id: 'xfer-close', type: 'button', hidden: true }, 'Close');
  private readonly up = uploadDialog();
  private readonly down = downloadDialog();
  private probed: ProbeResult | null = null;
  private target: TransferTarget | null = null;
  private abort: AbortController | null = null;
  private shellOpened = Date.now();
  private readonly stateObserver: MutationObserver;
  private samples: { t: number; done: number }[] = [];
  private drawn = 0;
  private listedDir: string | null = null;
  private listTimer = 0;
  private disposed = false;

  constructor(private readonly host: TransferHost) {
    this.panel = h(
      'section',
      { id: 'xfer-panel', class: 'xfer-panel', 'aria-label': 'File transfer', hidden: true, 'data-state': 'idle' },
      this.title,
      this.bar,
      this.detail,
      this.result,
      h('div', { class: 'form-actions' }, this.btnCancel, this.btnClose),
    );
    // The shell's start time picks its process among the container's (guessCwd).
    this.stateObserver = new MutationObserver(() => {
      if (document.body.dataset.state === 'connected') this.shellOpened = Date.now();
    });
  }

  mount(): void {
    const { toolbar, dropTarget } = this.host;
    toolbar.insertBefore(this.btnDown, toolbar.firstChild);
    toolbar.insertBefore(this.btnUp, this.btnDown);
    document.body.append(this.panel, this.up.dialog, this.down.dialog);
    this.stateObserver.observe(document.body, { attributes: true, attributeFilter: ['data-state'] });
    this.btnUp.addEventListener('click', () => void this.openUpload());
    this.btnDown.addEventListener('click', () => void this.openDownload());
    this.btnCancel.addEventListener('click', () => this.abort?.abort());
    this.btnClose.addEventListener('click', () => {
      this.panel.hidden = true;
      this.panel.dataset.state = 'idle';
    });
    dropTarget.addEventListener('dragover', this.onDragOver);
    dropTarget.addEventListener('dragleave', this.onDragLeave);
    dropTarget.addEventListener('drop', this.onDrop);
    this.up.dialog.addEventListener('close', () => {
      if (this.up.dialog.returnValue !== 'ok') return;
      const files = Array.from(this.up.files.files ?? []);
      const dir = this.up.dir.value.trim();
      this.up.files.value = '';
      if (files.length && dir) void this.runUpload(files, dir);
    });
    this.down.path.addEventListener('input', () => {
      this.showSuggestions();
      this.scheduleList();
    });
    this.down.dialog.addEventListener('close', () => {
      clearTimeout(this.listTimer);
      if (this.down.dialog.returnValue !== 'ok') return;
      const path = this.down.path.value.trim();
      if (path) void this.runDownload(path);
    });
  }

  dispose(): void {
    this.disposed = true;
    this.abort?.abort();
    clearTimeout(this.listTimer);
    this.stateObserver.disconnect();
    const { dropTarget } = this.host;
    dropTarget.removeEventListener('dragover', this.onDragOver);
    dropTarget.removeEventListener('dragleave', this.onDragLeave);
    dropTarget.removeEventListener('drop', this.onDrop);
    for (const el of [this.btnUp, this.btnDown, this.panel, this.up.dialog, this.down.dialog]) el.remove();
  }

  // ---- drop ----

  private readonly onDragOver = (ev: DragEvent) => {
    if (!ev.dataTransfer?.types.includes('Files')) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = 'copy';
    this.host.dropTarget.classList.add('xfer-drop');
  };

  private readonly onDragLeave = () => this.host.dropTarget.classList.remove('xfer-drop');

  private readonly onDrop = (ev: DragEvent) => {
    this.host.dropTarget.classList.remove('xfer-drop');
    const dt = ev.dataTransfer;
    if (!dt || !dt.types.includes('Files')) return;
    ev.preventDefault();
    // Folders arrive as Files that cannot be read: they are left out, and said so.
    const items = Array.from(dt.items ?? []);
    const folders = items.filter((it) => it.kind === 'file' && it.webkitGetAsEntry?.()?.isDirectory).length;
    const files = Array.from(dt.files).filter((_, i) => !items[i]?.webkitGetAsEntry?.()?.isDirectory);
    if (folders && !files.length) {
      this.show('failed', 'Folders cannot be uploaded; drop the files in them.');
      return;
    }
    void this.dropUpload(files);
  };

  private async dropUpload(files: File[]): Promise<void> {
    const why = checkFiles(files);
    if (why) {
      this.show('failed', why);
      return;
    }
    if (this.busy()) return;
    const p = await this.probe('Looking at the container…', true);
    if (!p) return;
    await this.runUpload(files, guessCwd(p.probe, this.shellOpened) || '.', p);
  }

  // ---- dialogs ----

  private async openUpload(): Promise<void> {
    if (this.busy()) return;
    const p = await this.probe('Looking at the container…', true);
    if (!p) return;
    this.panel.hidden = true;
    this.up.dir.value = guessCwd(p.probe, this.shellOpened) || '.';
    this.up.dialog.returnValue = '';
    this.up.dialog.showModal();
    this.up.files.focus();
  }

  private async openDownload(): Promise<void> {
    if (this.busy()) return;
    const p = await this.probe('Looking at the container…', true);
    if (!p) return;
    this.panel.hidden = true;
    const cwd = guessCwd(p.probe, this.shellOpened) || '.';
    this.down.path.value = cwd.endsWith('/') ? cwd : cwd + '/';
    this.down.dialog.returnValue = '';
    this.listedDir = null;
    this.down.dialog.showModal();
    this.down.path.focus();
    this.scheduleList();
  }

  /** Completion: the names in the directory typed so far (ls -p), as datalist options. */
  private scheduleList(): void {
    clearTimeout(this.listTimer);
    this.listTimer = window.setTimeout(() => void this.list(), LIST_DELAY_MS);
  }

  private async list(): Promise<void> {
    const value = this.down.path.value;
    const slash = value.lastIndexOf('/');
    const typed = slash >= 0 ? value.slice(0, slash + 1) : '';
    const cwd = this.probed ? guessCwd(this.probed.probe, this.shellOpened) : '.';
    const dir = typed.startsWith('/') ? typed : joinPath(cwd, typed);
    if (dir === this.listedDir) return;
    this.listedDir = dir;
    const target = await this.resolveTarget();
    if (!target) return;
    const res = await runSmall(target, ['sh', '-c', LIST, 'sh', dir || '/'], AbortSignal.timeout(SMALL_EXEC_TIMEOUT_MS));
    if (this.listedDir !== dir || this.disposed) return; // typed on meanwhile
    const names = res.code === 0 ? res.stdout.split('\n').filter(Boolean).slice(0, COMPLETIONS_MAX) : [];
    this.down.list.replaceChildren(...names.map((n) => h('option', { value: typed + n })));
    this.showSuggestions();
  }

  /** The first names that start with what is typed, as buttons that fill the field. */
  private showSuggestions(): void {
    const value = this.down.path.value;
    const options = Array.from(this.down.list.options, (o) => o.value).filter((v) => v.startsWith(value) && v !== value);
    this.down.suggest.replaceChildren(
      ...options.slice(0, SUGGESTIONS_SHOWN).map((v) =>
        h('li', {}, h('button', {
          type: 'button',
          onclick: () => {
            this.down.path.value = v;
            this.down.path.focus();
            this.showSuggestions();
            this.scheduleList();
          },
        }, v.slice(v.lastIndexOf('/', v.length - 2) + 1))),
      ),
    );
  }

  // ---- the work ----

  private busy(): boolean {
    if (this.abort) {
      this.panel.hidden = false;
      return true;
    }
    return false;
  }

  private async resolveTarget(): Promise<TransferTarget | null> {
    if (this.target) return this.target;
    const r = this.host.route;
    let container = r.container;
    if (!container) {
      try {
        container = containerNames(await getPod(r.namespace, r.pod))[0] ?? '';
      } catch (e) {
        this.show('failed', e instanceof Error ? e.message : String(e));
        return null;
      }
    }
    this.target = { namespace: r.namespace, pod: r.pod, container };
    return this.target;
  }

  /**
   * What the container has. fresh: always ask (opening a dialog, a drop: the
   * shell may have changed directory since); else one a little old will do
   * (the dialog's, for the transfer it starts). null: said why on the panel.
   */
  private async probe(label: string, fresh = false): Promise<ProbeResult | null> {
    if (!fresh && this.probed && Date.now() - this.probed.at < PROBE_REUSE_MS) return this.probed;
    const target = await this.resolveTarget();
    if (!target) return null;
    this.show('probing', label);
    const res = await runSmall(target, ['sh', '-c', PROBE], AbortSignal.timeout(SMALL_EXEC_TIMEOUT_MS));
    if (res.end.kind === 'refused') {
      const err = await whyExecRefused({ ...target, command: ['sh', '-c', PROBE] }).catch(() => null);
      this.show('failed', `The server refused the transfer's exec${err ? `: ${err.message}` : '.'}`);
      return null;
    }
    if (res.end.kind === 'exited' && isMissingExecutable(res.end.info)) {
      this.show('failed', 'This container has no shell (sh), so files cannot be copied in or out of it: ' +
        'a transfer needs sh and tar, cat or head.');
      return null;
    }
    if (res.code !== 0) {
      this.show('failed', `Looking at the container failed: ${res.end.kind === 'exited' ? res.end.info.message : 'the connection was lost'}`);
      return null;
    }
    this.probed = { probe: parseProbe(res.stdout), canCloseStdin: res.canCloseStdin, at: Date.now() };
    this.panel.hidden = true;
    this.panel.dataset.state = 'idle';
    return this.probed;
  }

  private async runUpload(files: File[], dir: string, given?: ProbeResult): Promise<void> {
    if (this.busy()) return;
    const p = given ?? (await this.probe('Looking at the container…'));
    if (!p || !this.target) return;
    if (!plainPath(dir)) {
      this.show('failed', 'A directory with control characters in its path cannot take uploads.');
      return;
    }
    const abort = new AbortController();
    this.abort = abort;
    const total = files.reduce((n, f) => n + f.size, 0);
    const names = files.length === 1 ? files[0].name : `${files.length} files`;
    this.start(`Uploading ${names} to ${dir}`, total);
    const keep = this.up.keep.checked;
    let res: UploadResult;
    try {
      res = await upload({
        target: this.target,
        probe: p.probe,
        canCloseStdin: p.canCloseStdin,
        dir,
        files,
        keepPartial: () => keep,
        signal: abort.signal,
        sink: this.progressSink(),
      });
    } catch (e) {
      res = { ok: false, message: `Upload failed: ${e instanceof Error ? e.message : String(e)}` };
    }
    this.abort = null;
    this.probed = null; // the directory changed
    this.finish(res, abort.signal.aborted);
  }

  private async runDownload(path: string): Promise<void> {
    if (this.busy()) return;
    if (!plainPath(path)) {
      this.show('failed', 'A path with control characters cannot be downloaded.');
      return;
    }
    const p = await this.probe('Looking at the container…');
    if (!p || !this.target) return;
    const abs = path.startsWith('/') ? path : joinPath(guessCwd(p.probe, this.shellOpened) || '.', path);
    const abort = new AbortController();
    this.abort = abort;
    this.start(`Downloading ${abs}`, 0);
    const res = await download({ target: this.target, probe: p.probe, path: abs, signal: abort.signal, sink: this.progressSink() });
    this.abort = null;
    this.finish(res, abort.signal.aborted);
  }

  // ---- panel ----

  private show(state: string, text: string): void {
    this.panel.hidden = false;
    this.panel.dataset.state = state;
    this.title.textContent = state === 'probing' ? text : 'File transfer';
    this.bar.hidden = true;
    this.detail.textContent = '';
    this.result.textContent = state === 'probing' ? '' : text;
    this.btnCancel.hidden = true;
    this.btnClose.hidden = state === 'probing';
  }

  private start(title: string, total: number): void {
    this.panel.hidden = false;
    this.panel.dataset.state = 'running';
    this.title.textContent = title;
    this.bar.hidden = false;
    this.bar.max = Math.max(1, total);
    this.bar.value = 0;
    this.detail.textContent = 'starting…';
    this.result.textContent = '';
    this.btnCancel.hidden = false;
    this.btnClose.hidden = true;
    this.samples = [{ t: performance.now(), done: 0 }];
    this.drawn = 0;
  }

  private progressSink(): ProgressSink {
    return {
      progress: (done, total, label) => {
        if (label === 'checking') {
          this.bar.value = this.bar.max;
          this.detail.textContent = 'All sent; checking size and checksum in the container…';
          return;
        }
        const now = performance.now();
        this.samples.push({ t: now, done });
        while (this.samples.length > 2 && now - this.samples[0].t > RATE_WINDOW_MS) this.samples.shift();
        if (now - this.drawn < REDRAW_MS && done < total) return;
        this.drawn = now;
        this.bar.max = Math.max(1, total);
        this.bar.value = done;
        const first = this.samples[0];
        const rate = now > first.t ? ((done - first.done) * 1000) / (now - first.t) : 0;
        const left = rate > 0 ? Math.ceil((total - done) / rate) : null;
        this.detail.textContent = `${humanBytes(done)} of ${humanBytes(total)} · ${humanBytes(Math.round(rate))}/s` +
          (left !== null && done < total ? ` · ${formatSeconds(left)} left` : '');
        this.panel.dataset.done = String(done);
      },
    };
  }

  private finish(res: UploadResult, cancelled: boolean): void {
    this.panel.dataset.state = res.ok ? 'done' : cancelled ? 'cancelled' : 'failed';
    this.result.textContent = res.message;
    this.btnCancel.hidden = true;
    this.btnClose.hidden = false;
  }
}

function formatSeconds(s: number): string {
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** The hook for the shell view: buttons, drop target, panel. */
export function mountTransfer(host: TransferHost): TransferUi {
  const ui = new TransferUi(host);
  ui.mount();
  return ui;
}
