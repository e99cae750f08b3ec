// Tabs: several shells in one page, each its own pod, container and command,
// one shown (or two side by side in the split view). The header follows the
// tab shown: where, state, watchers. A tab can be renamed (double click, F2),
// moved (drag, Ctrl-Left/Right on it) and closed (its ✕, Delete on it); a
// tab whose process still runs is closed only after a confirmation.
//
// The set of tabs survives a reload: targets and names in sessionStorage
// (this browser tab only), never a token; a restored tab opens a new shell
// when it is first shown. Each tab is a ShellView of its own, so resume
// (shell.ts) works per tab. "+" opens the pod picker inside a new tab.

import { askCloseTab } from './ask';
import { h } from './dom';
import { PickerView } from './picker';
import { joinCommand } from './route';
import { ShellView, type ShellRoute, type ShellState } from './shell';
import type { TermView, ThemeName } from './terminal';
import { KeyBar, watchPinch } from './touch';

/** Most tabs in one page: each holds a terminal, a socket and its scrollback. */
export const TABS_MAX = 16;
const TAB_NAME_MAX = 64;
const COMMAND_MAX = 64; // argv elements kept per saved tab
const STORE_KEY = 'podterm.tabs';

interface SavedTab {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  name: string;
}

interface Saved {
  tabs: SavedTab[];
  active: number;
  split: boolean;
}

export interface WorkspaceContext {
  theme(): ThemeName;
  askToken(message: string): Promise<boolean>;
  focusToolbar(): void;
  /** The header: the shown tab's state, where and watchers. */
  setState(state: ShellState | 'idle', label: string, detail?: string): void;
  describe(route: ShellRoute | null, command: string[]): void;
  setWatchers(text: string): void;
  /** The shown tab changed: the URL follows, without routing (null: a new tab's picker). */
  shown(route: ShellRoute | null): void;
  /** Leave the tabs for the page's pod picker (the last tab closed). */
  toPicker(namespace: string): void;
  /** A new terminal: the person's settings applied. */
  prepare(view: TermView): void;
  fontSize(): number;
  setFontSize(px: number, done: boolean): void;
}

interface Tab {
  id: number;
  route: ShellRoute | null; // null: the picker, nothing chosen yet
  name: string;
  custom: boolean; // named by the person
  shell: ShellView | null;
  picker: PickerView | null;
  pane: HTMLElement;
  item: HTMLLIElement;
  select: HTMLButtonElement;
  close: HTMLButtonElement;
  state: ShellState | 'idle';
  label: string;
  detail: string;
  watchers: string;
  where: { route: ShellRoute; command: string[] } | null;
}

function sameTarget(a: ShellRoute, b: ShellRoute): boolean {
  return (
    a.namespace === b.namespace &&
    a.pod === b.pod &&
    a.container === b.container &&
    a.command.length === b.command.length &&
    a.command.every((c, i) => c === b.command[i])
  );
}

function defaultName(r: ShellRoute): string {
  const base = r.container ? `${r.pod}/${r.container}` : r.pod;
  return (r.command.length ? `${base} $ ${joinCommand(r.command)}` : base).slice(0, TAB_NAME_MAX);
}

function str(v: unknown, max = 253): string {
  return typeof v === 'string' ? v.slice(0, max) : '';
}

/** The saved set, checked: storage is read back as untrusted text. */
export function loadTabs(): Saved {
  const none: Saved = { tabs: [], active: 0, split: false };
  try {
    const raw = JSON.parse(sessionStorage.getItem(STORE_KEY) ?? 'null') as { tabs?: unknown; active?: unknown; split?: unknown } | null;
    if (!raw || !Array.isArray(raw.tabs)) return none;
    const tabs: SavedTab[] = [];
    for (const t of raw.tabs.slice(0, TABS_MAX) as (Record<string, unknown> | null)[]) {
      if (!t || typeof t !== 'object') continue;
      const tab = {
        namespace: str(t.namespace),
        pod: str(t.pod),
        container: str(t.container),
        command: Array.isArray(t.command) ? t.command.slice(0, COMMAND_MAX).map((c) => str(c, 4096)).filter((c) => c !== '') : [],
        name: str(t.name, TAB_NAME_MAX),
      };
      if (tab.namespace && tab.pod) tabs.push(tab);
    }
    const active = typeof raw.active === 'number' && raw.active >= 0 && raw.active < tabs.length ? raw.active : 0;
    return { tabs, active, split: raw.split === true };
  } catch {
    return none;
  }
}

/** Whether route is one of the saved tabs (a reload): it ran before, by the person's choice. */
export function savedHas(route: ShellRoute): boolean {
  return loadTabs().tabs.some((t) => sameTarget(t, route));
}

export class Workspace {
  readonly element: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly panes: HTMLElement;
  private readonly btnNew: HTMLButtonElement;
  private readonly btnSplit: HTMLButtonElement;
  private readonly notice: HTMLElement;
  private readonly keybar: KeyBar;
  private readonly unpinch: () => void;
  private tabs: Tab[] = [];
  private active: Tab | null = null;
  private partner: Tab | null = null; // the other tab of the split view
  private split = false;
  private nextId = 1;
  private dragged: Tab | null = null;
  private disposed = false;

  constructor(private readonly ctx: WorkspaceContext) {
    this.list = h('ul', { class: 'tabs', 'aria-label': 'Tabs' });
    this.btnNew = h(
      'button',
      { type: 'button', class: 'tab-new', 'aria-label': 'New tab', title: 'New tab (Alt-Shift-T)', 'aria-keyshortcuts': 'Alt+Shift+T', onclick: () => this.newTab() },
      '+',
    );
    this.btnSplit = h(
      'button',
      { type: 'button', class: 'tab-split', 'aria-pressed': 'false', title: 'Two tabs side by side', onclick: () => this.toggleSplit() },
      'Split',
    );
    this.notice = h('span', { class: 'tab-notice', role: 'status', 'aria-live': 'polite' });
    this.panes = h('div', { class: 'panes' });
    this.keybar = new KeyBar(() => this.active?.shell?.view ?? null);
    this.unpinch = watchPinch(this.panes, () => ctx.fontSize(), (px, done) => ctx.setFontSize(px, done));
    this.element = h(
      'section',
      { class: 'workspace', 'aria-label': 'Terminals' },
      h('nav', { class: 'tabbar', 'aria-label': 'Terminal tabs' }, this.list, this.btnNew, this.btnSplit, this.notice),
      this.panes,
      this.keybar.element,
    );
  }

  /** The saved tabs back (not connected until shown). Call once, before open(). */
  restore(): void {
    const saved = loadTabs();
    for (const t of saved.tabs) this.addTab({ namespace: t.namespace, pod: t.pod, container: t.container, command: t.command }, t.name);
    this.split = saved.split && this.tabs.length > 1;
    this.btnSplit.setAttribute('aria-pressed', String(this.split));
    this.panes.dataset.split = String(this.split);
    const first = this.tabs[saved.active];
    if (first) this.active = first; // shown by open(), which the URL asks for next
    if (this.split) this.partner = this.tabs.find((t) => t !== first) ?? null;
  }

  /** Show the tab for route: the one already open for it, else a new one. */
  open(route: ShellRoute): void {
    const found =
      this.active?.route && sameTarget(this.active.route, route) ? this.active : this.tabs.find((t) => t.route && sameTarget(t.route, route));
    if (found) {
      this.activate(found);
      return;
    }
    const tab = this.addTab(route, '');
    if (tab) this.activate(tab);
    else if (this.active) this.activate(this.active);
  }

  /** Back to the tab shown (a question from a link was answered No). */
  reshow(): void {
    if (this.active) this.activate(this.active);
  }

  has(route: ShellRoute): boolean {
    return this.tabs.some((t) => t.route && sameTarget(t.route, route));
  }

  /** The shell on screen (the one with the keyboard in the split view). */
  get shell(): ShellView | null {
    return this.active?.shell ?? null;
  }

  /** Every started terminal (settings, theme). */
  views(): TermView[] {
    return this.tabs.flatMap((t) => (t.shell ? [t.shell.view] : []));
  }

  private addTab(route: ShellRoute | null, name: string): Tab | null {
    if (this.tabs.length >= TABS_MAX) {
      this.say(`At most ${TABS_MAX} tabs: close one first.`);
      return null;
    }
    const id = this.nextId++;
    const select = h('button', { type: 'button', class: 'tab-select', id: `tab-${id}`, 'aria-keyshortcuts': 'F2 Delete Control+ArrowLeft Control+ArrowRight' });
    const close = h('button', { type: 'button', class: 'tab-close' }, '✕');
    const item = h('li', { class: 'tab', draggable: 'true' }, select, close);
    const pane = h('div', { class: 'pane', hidden: true });
    const tab: Tab = {
      id,
      route,
      name: name || (route ? defaultName(route) : 'New tab'),
      custom: name !== '',
      shell: null,
      picker: null,
      pane,
      item,
      select,
      close,
      state: 'idle',
      label: '',
      detail: '',
      watchers: '',
      where: null,
    };
    select.addEventListener('click', () => this.activate(tab));
    select.addEventListener('dblclick', () => this.rename(tab));
    select.addEventListener('keydown', (ev) => this.tabKey(tab, ev));
    close.addEventListener('click', () => void this.close(tab));
    item.addEventListener('dragstart', (ev) => {
      this.dragged = tab;
      ev.dataTransfer?.setData('text/plain', tab.name);
      if (ev.dataTransfer) ev.dataTransfer.effectAllowed = 'move';
    });
    item.addEventListener('dragover', (ev) => {
      if (!this.dragged || this.dragged === tab) return;
      ev.preventDefault(); // a drop target
      if (ev.dataTransfer) ev.dataTransfer.dropEffect = 'move';
    });
    item.addEventListener('drop', (ev) => {
      ev.preventDefault();
      const from = this.dragged;
      this.dragged = null;
      if (from && from !== tab) this.moveTo(from, this.tabs.indexOf(tab));
    });
    item.addEventListener('dragend', () => (this.dragged = null));
    // A click or focus inside a pane of the split view gives it the keyboard and the header.
    pane.addEventListener('focusin', () => {
      if (this.active !== tab && !pane.hidden) this.activate(tab, false);
    });
    this.tabs.push(tab);
    this.list.append(item);
    this.panes.append(pane);
    this.paint(tab);
    this.save();
    return tab;
  }

  /** Show tab (and start its shell the first time). */
  private activate(tab: Tab, focus = true): void {
    const prev = this.active;
    if (this.split && prev && prev !== tab) this.partner = prev;
    if (this.partner === tab) this.partner = prev && prev !== tab ? prev : null;
    if (this.split && !this.partner) this.partner = this.tabs.find((t) => t !== tab) ?? null;
    this.active = tab;
    for (const t of this.tabs) {
      t.pane.hidden = !(t === tab || (this.split && t === this.partner));
      t.pane.dataset.order = t === tab ? '' : 'partner';
      this.paint(t);
    }
    this.panes.dataset.split = String(this.split && !!this.partner);
    this.start(tab);
    if (this.split && this.partner) this.start(this.partner);
    this.header(tab);
    this.ctx.shown(tab.route);
    this.save();
    if (focus) {
      if (tab.shell) tab.shell.view.focus();
    }
  }

  private start(tab: Tab): void {
    if (tab.shell || tab.picker) return;
    if (!tab.route) {
      const picker = new PickerView('', false, {
        askToken: (m) => this.ctx.askToken(m),
        open: (route) => this.chose(tab, route),
        namespaceChanged: () => {},
      });
      tab.picker = picker;
      tab.pane.replaceChildren(picker.element);
      picker.start();
      return;
    }
    const shell = new ShellView(tab.route, {
      theme: () => this.ctx.theme(),
      setState: (s, label, detail) => {
        tab.state = s;
        tab.label = label;
        tab.detail = detail ?? '';
        this.paint(tab);
        if (tab === this.active) this.ctx.setState(s, label, detail);
      },
      askToken: (m) => this.ctx.askToken(m),
      backToPicker: (ns) => (this.tabs.length > 1 ? this.toPickerTab(tab) : this.ctx.toPicker(ns)),
      focusToolbar: () => this.ctx.focusToolbar(),
      describe: (route, command) => {
        tab.where = { route, command };
        if (tab === this.active) this.ctx.describe(route, command);
      },
      setWatchers: (text) => {
        tab.watchers = text;
        if (tab === this.active) this.ctx.setWatchers(text);
      },
      mayFocus: () => tab === this.active,
    });
    tab.shell = shell;
    tab.pane.replaceChildren(shell.element);
    this.paint(tab);
    shell.view.inputFilter = (d) => this.keybar.filter(d);
    shell.start();
    this.ctx.prepare(shell.view);
  }

  /** The picker of a new tab chose a pod: the tab becomes its shell. */
  private chose(tab: Tab, route: ShellRoute): void {
    tab.picker?.dispose();
    tab.picker = null;
    tab.route = route;
    if (!tab.custom) tab.name = defaultName(route);
    this.start(tab);
    this.paint(tab);
    this.save();
    if (tab === this.active) {
      this.ctx.shown(route);
      tab.shell?.view.focus();
    }
  }

  /** A shell tab's "Pods": the same tab picks again (its process is over). */
  private toPickerTab(tab: Tab): void {
    tab.shell?.dispose();
    tab.shell = null;
    tab.route = null;
    tab.where = null;
    tab.state = 'idle';
    tab.label = tab.detail = tab.watchers = '';
    if (!tab.custom) tab.name = 'New tab';
    if (tab === this.active) this.activate(tab);
    else this.start(tab);
    this.paint(tab);
    this.save();
  }

  private header(tab: Tab): void {
    this.ctx.setState(tab.state, tab.label, tab.detail);
    this.ctx.setWatchers(tab.watchers);
    if (tab.where) this.ctx.describe(tab.where.route, tab.where.command);
    else if (tab.route) this.ctx.describe(tab.route, tab.route.command);
    else this.ctx.describe(null, []);
  }

  newTab(): void {
    // One picker at a time: its form's ids are the page's.
    const open = this.tabs.find((t) => !t.route);
    if (open) {
      this.activate(open);
    } else {
      const tab = this.addTab(null, '');
      if (!tab) return;
      this.activate(tab);
    }
    (this.active?.pane.querySelector('select, input') as HTMLElement | null)?.focus();
  }

  /** Next (+1) or previous (-1) tab. */
  cycle(delta: number): void {
    if (!this.active || this.tabs.length < 2) return;
    const i = this.tabs.indexOf(this.active);
    this.activate(this.tabs[(i + delta + this.tabs.length) % this.tabs.length]);
  }

  toggleSplit(): void {
    this.split = !this.split;
    this.btnSplit.setAttribute('aria-pressed', String(this.split));
    if (this.split && this.tabs.length < 2) {
      const cur = this.active;
      const tab = this.addTab(null, '');
      if (tab && cur) {
        this.activate(tab, false);
        this.activate(cur);
        return;
      }
    }
    if (!this.split) this.partner = null;
    if (this.active) this.activate(this.active);
  }

  /** Close tab; asks first when its process still runs. */
  async close(tab: Tab): Promise<void> {
    const running = tab.shell && (tab.state === 'connected' || tab.state === 'reconnecting');
    if (running && !(await askCloseTab(tab.name))) {
      tab.select.focus();
      return;
    }
    if (this.disposed || !this.tabs.includes(tab)) return;
    const i = this.tabs.indexOf(tab);
    this.tabs.splice(i, 1);
    tab.shell?.dispose();
    tab.picker?.dispose();
    tab.item.remove();
    tab.pane.remove();
    if (this.partner === tab) this.partner = null;
    const ns = tab.route?.namespace ?? '';
    if (this.tabs.length === 0) {
      this.active = null;
      this.save();
      this.ctx.toPicker(ns);
      return;
    }
    if (this.tabs.length < 2 && this.split) {
      this.split = false;
      this.btnSplit.setAttribute('aria-pressed', 'false');
    }
    if (this.active === tab) {
      this.active = null;
      const next = this.partner ?? this.tabs[Math.min(i, this.tabs.length - 1)];
      this.partner = null;
      this.activate(next);
      next.select.focus();
    } else {
      this.activate(this.active ?? this.tabs[0], false);
    }
    this.save();
  }

  private tabKey(tab: Tab, ev: KeyboardEvent): void {
    const i = this.tabs.indexOf(tab);
    if (ev.key === 'F2') {
      ev.preventDefault();
      this.rename(tab);
    } else if (ev.key === 'Delete') {
      ev.preventDefault();
      void this.close(tab);
    } else if ((ev.key === 'ArrowLeft' || ev.key === 'ArrowRight') && ev.ctrlKey) {
      ev.preventDefault();
      this.moveTo(tab, i + (ev.key === 'ArrowLeft' ? -1 : 1));
      tab.select.focus();
    } else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowRight') {
      ev.preventDefault();
      const next = this.tabs[(i + (ev.key === 'ArrowLeft' ? -1 : 1) + this.tabs.length) % this.tabs.length];
      next.select.focus();
    } else if (ev.key === 'Home' || ev.key === 'End') {
      ev.preventDefault();
      this.tabs[ev.key === 'Home' ? 0 : this.tabs.length - 1].select.focus();
    }
  }

  private moveTo(tab: Tab, to: number): void {
    const from = this.tabs.indexOf(tab);
    if (from < 0 || to < 0 || to >= this.tabs.length || to === from) return;
    this.tabs.splice(from, 1);
    this.tabs.splice(to, 0, tab);
    this.list.append(...this.tabs.map((t) => t.item));
    for (const t of this.tabs) this.paint(t);
    this.say(`${tab.name}: tab ${to + 1} of ${this.tabs.length}`);
    this.save();
  }

  /** The tab's name becomes a text field: Enter keeps, Escape drops. */
  rename(tab: Tab): void {
    if (tab.item.querySelector('input')) return;
    const input = h('input', {
      type: 'text',
      class: 'tab-rename',
      'aria-label': `New name for ${tab.name}`,
      maxlength: TAB_NAME_MAX,
      spellcheck: 'false',
      autocomplete: 'off',
    });
    input.value = tab.name;
    let done = false;
    const finish = (keep: boolean) => {
      if (done) return;
      done = true;
      const name = input.value.replace(/[\x00-\x1f\x7f]/g, '').trim().slice(0, TAB_NAME_MAX);
      if (keep && name && name !== tab.name) {
        tab.name = name;
        tab.custom = true;
        this.save();
      }
      input.replaceWith(tab.select);
      this.paint(tab);
      tab.select.focus();
    };
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === 'Escape') {
        ev.preventDefault();
        finish(ev.key === 'Enter');
      }
    });
    input.addEventListener('blur', () => finish(true));
    tab.select.replaceWith(input);
    input.focus();
    input.select();
  }

  private paint(tab: Tab): void {
    const on = tab === this.active;
    const shown = !tab.pane.hidden;
    tab.item.dataset.state = tab.state;
    tab.item.dataset.active = String(on);
    tab.item.dataset.shown = String(shown);
    if (on) tab.select.setAttribute('aria-current', 'page');
    else tab.select.removeAttribute('aria-current');
    const state = tab.state === 'idle' ? (tab.route ? 'not connected' : 'choosing a pod') : tab.label.toLowerCase() || tab.state;
    tab.select.textContent = tab.name;
    tab.select.setAttribute('aria-label', `${tab.name} (${state})`);
    tab.select.title = `${tab.name}: ${state}. Double click or F2 to rename, Ctrl-Left/Right to move.`;
    tab.close.setAttribute('aria-label', `Close tab ${tab.name}`);
    tab.close.title = `Close tab ${tab.name}`;
    // Two shells side by side are two regions: each named after its tab.
    tab.shell?.element.setAttribute('aria-label', `Shell ${this.tabs.indexOf(tab) + 1}: ${tab.name}`);
  }

  private say(text: string): void {
    this.notice.textContent = text;
  }

  private save(): void {
    if (this.disposed) return;
    const shells = this.tabs.filter((t) => t.route);
    const saved: Saved = {
      tabs: shells.map((t) => {
        const r = t.route as ShellRoute;
        return { namespace: r.namespace, pod: r.pod, container: r.container, command: r.command, name: t.custom ? t.name : '' };
      }),
      active: Math.max(0, this.active ? shells.indexOf(this.active) : 0),
      split: this.split,
    };
    try {
      sessionStorage.setItem(STORE_KEY, JSON.stringify(saved));
    } catch {
      // storage off: the tabs last as long as the page
    }
  }

  /** The terminal of the tab with the keyboard (null: a new tab's picker). */
  shownShellElement(): HTMLElement | null {
    return this.active?.shell?.element ?? null;
  }

  /** For tests: the tabs as shown. */
  describeTabs(): { name: string; state: string; active: boolean; shown: boolean }[] {
    return this.tabs.map((t) => ({ name: t.name, state: t.state, active: t === this.active, shown: !t.pane.hidden }));
  }

  /** For tests: the terminal lines of tab i. */
  linesOf(i: number): string[] {
    return this.tabs[i]?.shell?.view.lines() ?? [];
  }

  dispose(): void {
    this.disposed = true;
    for (const t of this.tabs) {
      t.shell?.dispose();
      t.picker?.dispose();
    }
    this.tabs = [];
    this.unpinch();
    this.element.remove();
  }
}
