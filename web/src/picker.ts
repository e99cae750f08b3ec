// The picker: namespace -> pod -> container -> command, from the API (so the
// same page works in local and gateway mode). A plain form of labelled native
// controls, so it works from the keyboard and at 320 px.
//
// With RBAC, pods the user may not open a shell in (no `create` or `get` on
// pods/exec, from one SelfSubjectRulesReview per namespace) stay listed, but
// disabled, in a "No shell access" group after the ones that can be opened:
// the person sees the pod exists and that access, not the pod, is missing,
// and cannot pick it. The arrow keys skip them. When the review cannot be
// had, every pod is offered, as before; the server decides anyway.

import { mayOpen, type RulesReview } from './access';
import { ApiError, containerNames, listNamespaces, listPods, NetworkError, reviewRules, type Pod } from './api';
import { h } from './dom';
import { joinCommand, splitCommand } from './route';
import type { ShellRoute } from './shell';
import { plainText } from './text';

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
  private rules: RulesReview | null = null; // null: not known, everything is offered
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
        h('kbd', {}, 'Ctrl-Shift-V'), ' copy/paste, ', h('kbd', {}, 'Ctrl-Shift-E'), ' leave the terminal; ', h('kbd', {}, '?'), ' all shortcuts.'),
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
      // The namespace typed into is the one listed: "default" unless the link named one.
      if (!this.namespace) this.namespace = 'default';
      this.nsText.value = this.namespace;
    } else {
      if (!this.namespace) this.namespace = names.includes('default') ? 'default' : names[0] ?? 'default';
      if (!names.includes(this.namespace)) names.push(this.namespace); // still try what the link asked for
      this.ns.replaceChildren(...names.map((n) => h('option', { value: n }, n)));
      this.ns.value = this.namespace;
    }
    const pods = await this.loadPods();
    if (pods && this.autoOpen && !this.nsFree && names.length === 1 && pods.length === 1 && this.canOpen(pods[0])) {
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
    const namespace = this.namespace;
    // Both at once: the review never fails (unknown is null), so the list's
    // own error, a 401 or 403, is what the person sees.
    const rules = reviewRules(namespace, this.abort.signal).catch(() => null);
    try {
      const pods = await listPods(namespace, this.abort.signal);
      const review = await rules;
      if (seq !== this.loadSeq) return null;
      this.pods = pods;
      this.rules = review;
    } catch (err) {
      if (seq !== this.loadSeq) return null;
      if (await this.handled(err, () => void this.loadPods())) return null;
      this.pods = [];
      this.rules = null;
      this.fillPods();
      this.show(err);
      return null;
    }
    this.fillPods();
    this.busy(this.summary(namespace));
    return this.pods;
  }

  private canOpen(pod: Pod): boolean {
    return mayOpen(this.rules, 'exec', pod.metadata.name) !== 'denied';
  }

  /** What the list does not say by itself: nothing in it, or nothing that can be opened. */
  private summary(namespace: string): string {
    const total = this.pods.length;
    if (total === 0) return `No pods in namespace ${namespace}.`;
    const open = this.pods.filter((p) => this.canOpen(p)).length;
    if (open === total) return '';
    if (open === 0) {
      return total === 1
        ? `You may not open a shell in the pod in namespace ${namespace}.`
        : `You may not open a shell in any of the ${total} pods in namespace ${namespace}.`;
    }
    return `You may open a shell in ${open} of the ${total} pods in namespace ${namespace}.`;
  }

  private fillPods(): void {
    const prev = this.pod.value;
    const option = (p: Pod, denied: boolean) => {
      const phase = p.status?.phase;
      let label = phase && phase !== 'Running' ? `${p.metadata.name} (${phase})` : p.metadata.name;
      if (denied) label += ' (no access)';
      return h('option', { value: p.metadata.name, disabled: denied }, label);
    };
    const open = this.pods.filter((p) => this.canOpen(p));
    const closed = this.pods.filter((p) => !this.canOpen(p));
    this.pod.replaceChildren(
      ...open.map((p) => option(p, false)),
      ...(closed.length ? [h('optgroup', { label: 'No shell access' }, ...closed.map((p) => option(p, true)))] : []),
    );
    if (open.some((p) => p.metadata.name === prev)) this.pod.value = prev;
    this.fillContainers();
  }

  private fillContainers(): void {
    const pod = this.pods.find((p) => p.metadata.name === this.pod.value && this.canOpen(p));
    const names = pod ? containerNames(pod) : [];
    this.container.replaceChildren(...names.map((n) => h('option', { value: n }, n)));
    const ready = !!pod && names.length > 0;
    this.pod.disabled = this.pods.length === 0;
    this.container.disabled = !ready;
    this.submit.disabled = !ready;
  }

  private openSelected(replace: boolean): void {
    const pod = this.pod.value;
    if (!pod || this.submit.disabled) return;
    this.ctx.open(
      { namespace: this.namespace, pod, container: this.container.value, command: splitCommand(this.command.value) },
      replace,
    );
  }

  /** 401: ask for a token and retry. Returns true when the error was dealt with. */
  private async handled(err: unknown, retry: () => void): Promise<boolean> {
    if (err instanceof DOMException && err.name === 'AbortError') return true;
    if (err instanceof ApiError && err.code === 401) {
      this.message.textContent = plainText(`Unauthorized: ${err.message}`);
      if (await this.ctx.askToken(err.message)) retry();
      return true;
    }
    return false;
  }

  private busy(text: string): void {
    this.message.textContent = plainText(text);
    this.message.classList.remove('error');
  }

  private show(err: unknown): void {
    const text =
      err instanceof NetworkError ? 'podterm cannot be reached. Is the server running?' :
      err instanceof Error ? err.message : String(err);
    // The server's Status message (a 403 names the user and the resource),
    // as plain text: no control character or bidi override from outside.
    this.message.textContent = plainText(text);
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
