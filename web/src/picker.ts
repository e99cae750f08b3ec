// The picker: namespace -> pod -> container -> command, from the API (so the
// same page works in local and gateway mode). A plain form of labelled native
// controls, so it works from the keyboard and at 320 px.

import { ApiError, containerNames, listNamespaces, listPods, NetworkError, type Pod } from './api';
import { h } from './dom';
import { joinCommand, splitCommand } from './route';
import type { ShellRoute } from './shell';

export interface PickerContext {
  askToken(message: string): Promise<boolean>;
  open(route: ShellRoute, replace: boolean): void;
  /** The namespace shown changed (the page updates its URL). */
  namespaceChanged(namespace: string): void;
}

export class PickerView {
  readonly element: HTMLElement;
  private readonly form: HTMLFormElement;
  private readonly ns: HTMLSelectElement;
  private readonly nsText: HTMLInputElement;
  private readonly pod: HTMLSelectElement;
  private readonly container: HTMLSelectElement;
  private readonly command: HTMLInputElement;
  private readonly submit: HTMLButtonElement;
  private readonly message: HTMLElement;
  private pods: Pod[] = [];
  private nsFree = false; // namespaces cannot be listed: type one
  private abort = new AbortController();
  private loadSeq = 0;

  constructor(
    private namespace: string,
    private readonly autoOpen: boolean,
    private readonly ctx: PickerContext,
    command: string[] = [],
  ) {
    const field = (id: string, label: string, control: HTMLElement, hint?: string) =>
      h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null);
    this.ns = h('select', { id: 'pick-ns', name: 'namespace' });
    this.nsText = h('input', { id: 'pick-ns-text', name: 'namespace', type: 'text', autocomplete: 'off', spellcheck: 'false', hidden: true });
    this.pod = h('select', { id: 'pick-pod', name: 'pod' });
    this.container = h('select', { id: 'pick-container', name: 'container' });
    this.command = h('input', {
      id: 'pick-command',
      name: 'command',
      type: 'text',
      autocomplete: 'off',
      spellcheck: 'false',
      placeholder: 'bash (or sh)',
      'aria-describedby': 'pick-command-hint',
    });
    this.command.value = joinCommand(command);
    this.submit = h('button', { type: 'submit', class: 'primary' }, 'Open shell');
    this.message = h('p', { class: 'picker-message', role: 'status', 'aria-live': 'polite' });
    const nsBox = h('div', { class: 'ns-box' }, this.ns, this.nsText);
    this.form = h(
      'form',
      { class: 'picker-form', 'aria-labelledby': 'picker-title' },
      field('pick-ns', 'Namespace', nsBox),
      field('pick-pod', 'Pod', this.pod),
      field('pick-container', 'Container', this.container),
      field('pick-command', 'Command', this.command, 'Empty: bash, or sh where bash is missing.'),
      h('div', { class: 'form-actions' }, this.submit,
        h('button', { type: 'button', onclick: () => this.loadPods() }, 'Refresh')),
    );
    this.element = h(
      'section',
      { class: 'picker' },
      h('h2', { id: 'picker-title' }, 'Open a shell'),
      this.form,
      this.message,
      h('p', { class: 'keys' },
        'In the terminal: ', h('kbd', {}, 'Ctrl-Shift-F'), ' find, ', h('kbd', {}, 'Ctrl-Shift-C'), '/',
        h('kbd', {}, 'Ctrl-Shift-V'), ' copy/paste, ', h('kbd', {}, 'Ctrl-Shift-E'), ' leave the terminal.'),
    );

    this.ns.addEventListener('change', () => this.setNamespace(this.ns.value));
    this.nsText.addEventListener('change', () => this.setNamespace(this.nsText.value.trim()));
    this.pod.addEventListener('change', () => this.fillContainers());
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.openSelected(false);
    });
  }

  start(): void {
    void this.load();
  }

  private async load(): Promise<void> {
    this.busy('Loading namespaces…');
    let names: string[] = [];
    try {
      names = await listNamespaces(this.abort.signal);
    } catch (err) {
      if (await this.handled(err, () => this.load())) return;
      if (!(err instanceof ApiError && err.code === 403)) {
        this.show(err);
        return;
      }
      this.nsFree = true; // allowed into some namespaces, not to list them
    }
    if (this.nsFree) {
      this.ns.hidden = true;
      this.nsText.hidden = false;
      this.nsText.id = 'pick-ns';
      this.ns.id = '';
      this.nsText.value = this.namespace || 'default';
    } else {
      if (!this.namespace) this.namespace = names.includes('default') ? 'default' : names[0] ?? 'default';
      if (!names.includes(this.namespace)) names.push(this.namespace); // still try what the link asked for
      this.ns.replaceChildren(...names.map((n) => h('option', { value: n }, n)));
      this.ns.value = this.namespace;
    }
    const pods = await this.loadPods();
    if (pods && this.autoOpen && !this.nsFree && names.length === 1 && pods.length === 1) {
      this.openSelected(true);
      return;
    }
    // Nothing opened by itself: start keyboard users at the first field.
    if (!this.element.contains(document.activeElement)) this.focus();
  }

  private setNamespace(ns: string): void {
    if (!ns || ns === this.namespace) return;
    this.namespace = ns;
    this.ctx.namespaceChanged(ns);
    void this.loadPods();
  }

  private async loadPods(): Promise<Pod[] | null> {
    const seq = ++this.loadSeq;
    this.busy(`Loading pods in ${this.namespace}…`);
    try {
      const pods = await listPods(this.namespace, this.abort.signal);
      if (seq !== this.loadSeq) return null;
      this.pods = pods;
    } catch (err) {
      if (seq !== this.loadSeq) return null;
      if (await this.handled(err, () => void this.loadPods())) return null;
      this.pods = [];
      this.fillPods();
      this.show(err);
      return null;
    }
    this.fillPods();
    this.busy(this.pods.length ? '' : `No pods in namespace ${this.namespace}.`);
    return this.pods;
  }

  private fillPods(): void {
    const prev = this.pod.value;
    this.pod.replaceChildren(
      ...this.pods.map((p) => {
        const phase = p.status?.phase;
        return h('option', { value: p.metadata.name }, phase && phase !== 'Running' ? `${p.metadata.name} (${phase})` : p.metadata.name);
      }),
    );
    if (this.pods.some((p) => p.metadata.name === prev)) this.pod.value = prev;
    this.fillContainers();
  }

  private fillContainers(): void {
    const pod = this.pods.find((p) => p.metadata.name === this.pod.value);
    const names = pod ? containerNames(pod) : [];
    this.container.replaceChildren(...names.map((n) => h('option', { value: n }, n)));
    const ready = !!pod && names.length > 0;
    this.pod.disabled = this.pods.length === 0;
    this.container.disabled = !ready;
    this.submit.disabled = !ready;
  }

  private openSelected(replace: boolean): void {
    const pod = this.pod.value;
    if (!pod) return;
    this.ctx.open(
      { namespace: this.namespace, pod, container: this.container.value, command: splitCommand(this.command.value) },
      replace,
    );
  }

  /** 401: ask for a token and retry. Returns true when the error was dealt with. */
  private async handled(err: unknown, retry: () => void): Promise<boolean> {
    if (err instanceof DOMException && err.name === 'AbortError') return true;
    if (err instanceof ApiError && err.code === 401) {
      this.message.textContent = `Unauthorized: ${err.message}`;
      if (await this.ctx.askToken(err.message)) retry();
      return true;
    }
    return false;
  }

  private busy(text: string): void {
    this.message.textContent = text;
    this.message.classList.remove('error');
  }

  private show(err: unknown): void {
    const text =
      err instanceof NetworkError ? 'podterm cannot be reached. Is the server running?' :
      err instanceof Error ? err.message : String(err);
    this.message.textContent = text;
    this.message.classList.add('error');
  }

  focus(): void {
    (this.nsFree ? this.nsText : this.ns).focus();
  }

  dispose(): void {
    this.abort.abort();
    this.element.remove();
  }
}
