// podterm's web terminal: routing between the picker and a shell, the header
// (where, state, actions), the theme, and the token prompt.

import '@xterm/xterm/css/xterm.css';
import './app.css';

import { getToken, setToken } from './api';
import { cancelConfirm, confirmCommand } from './confirm';
import { append, byId, h } from './dom';
import { PickerView } from './picker';
import { ReplayView } from './replay';
import { SessionsView } from './sessions';
import { parseRoute, routeHash, joinCommand, type Route } from './route';
import { loadSettings, saveSettings, type Settings } from './settings';
import { SettingsDialog } from './settingsview';
import type { ShellRoute, ShellState } from './shell';
import { savedHas, Workspace } from './tabs';
import { setCsrfToken } from './protocol';
import { csrfToken, loadSignin, signIn, signinEnabled, signOut } from './signin';
import { plainText } from './text';
import type { TermView, ThemeName } from './terminal';
import { mountTransfer, type TransferUi } from './transfer';
import { WatchView, type WatchMode } from './watch';

class App {
  private view: Workspace | PickerView | SessionsView | ReplayView | WatchView | null = null;
  private transfer: TransferUi | null = null; // file transfer of the tab on screen
  private transferTarget: HTMLElement | null = null; // its drop target
  private settings: Settings = loadSettings();
  private readonly lightQuery = window.matchMedia('(prefers-color-scheme: light)');
  private firstRoute = true;
  private tokenPending: Promise<boolean> | null = null;
  // The shell route this page chose itself (picker, confirmation): its
  // command runs without asking. Any other route with a command came from a
  // URL, which anyone can make.
  private ownRoute = '';
  private confirmSeq = 0;

  private readonly main = byId('main');
  private readonly where = byId('where');
  private readonly state = byId('state');
  private readonly watchers = byId('watchers');
  private readonly stateLabel = h('span');
  private readonly stateDetail = h('span', { 'aria-hidden': 'true' });
  private readonly btnFind = byId<HTMLButtonElement>('btn-find');
  private readonly btnReconnect = byId<HTMLButtonElement>('btn-reconnect');
  private readonly btnPods = byId<HTMLButtonElement>('btn-pods');
  private readonly btnSessions = byId<HTMLButtonElement>('btn-sessions');
  private readonly btnTheme = byId<HTMLButtonElement>('btn-theme');
  private readonly btnSr = byId<HTMLButtonElement>('btn-sr');
  private readonly btnSettings = byId<HTMLButtonElement>('btn-settings');
  private readonly btnHelp = byId<HTMLButtonElement>('btn-help');
  private readonly help = byId<HTMLDialogElement>('help-dialog');
  private readonly settingsDialog = new SettingsDialog(
    () => this.settings,
    (s) => this.setSettings(s, true),
  );
  private helpReturn: HTMLElement | null = null;

  /** The theme shown: the setting, or the system's when it follows the system. */
  private get theme(): ThemeName {
    const t = this.settings.theme;
    return t === 'system' ? (this.lightQuery.matches ? 'light' : 'dark') : t;
  }

  start(): void {
    this.state.replaceChildren(this.stateLabel, this.stateDetail);
    this.applyTheme();
    this.btnSr.setAttribute('aria-pressed', String(this.settings.screenReader));
    this.lightQuery.addEventListener('change', () => this.applyTheme());
    this.btnTheme.addEventListener('click', () => {
      this.setSettings({ ...this.settings, theme: this.theme === 'dark' ? 'light' : 'dark' }, true);
    });
    this.btnSr.addEventListener('click', () => {
      this.setSettings({ ...this.settings, screenReader: !this.settings.screenReader }, true);
    });
    this.btnSettings.addEventListener('click', () => this.settingsDialog.open(this.btnSettings));
    this.btnHelp.addEventListener('click', () => this.openHelp(this.btnHelp));
    this.help.addEventListener('close', () => {
      this.helpReturn?.focus();
      this.helpReturn = null;
    });
    this.btnFind.addEventListener('click', () => this.term()?.openSearch());
    this.btnReconnect.addEventListener('click', () => {
      if (this.view instanceof Workspace) this.view.shell?.connect();
    });
    this.btnPods.addEventListener('click', () => {
      const r = parseRoute(location.hash);
      location.hash = routeHash({ view: 'picker', namespace: r.view === 'picker' || r.view === 'shell' ? r.namespace : '' });
    });
    this.btnSessions.addEventListener('click', () => {
      location.hash = routeHash({ view: 'sessions' });
    });
    // Chords that work in the terminal too: caught before xterm sees them.
    window.addEventListener('keydown', (ev) => this.chord(ev), true);
    document.addEventListener('keydown', (ev) => {
      // Outside the terminal (toolbar, banner): the same find shortcut.
      const term = this.term();
      if (ev.ctrlKey && ev.shiftKey && ev.code === 'KeyF' && term) {
        ev.preventDefault();
        term.openSearch();
      } else if (ev.key === '?' && !ev.ctrlKey && !ev.altKey && !ev.metaKey && !typing(ev.target) && !anyDialogOpen()) {
        ev.preventDefault();
        this.openHelp(document.activeElement instanceof HTMLElement ? document.activeElement : null);
      }
    });
    window.addEventListener('hashchange', () => this.route());
    // Browser sign-in first: with it on, nobody signed in goes to the
    // identity provider, and every WebSocket needs the CSRF token.
    void loadSignin().then((me) => {
      if (!me && signinEnabled()) return signIn();
      if (me) this.showUser(me.user, me.groups);
      this.route();
    });
  }

  /** Signed in through the browser: the user's name and groups, and a way out. */
  private showUser(user: string, groups: string[]): void {
    setCsrfToken(csrfToken());
    const who = byId('user');
    who.textContent = user;
    who.title = groups.length ? `${user} (groups: ${groups.join(', ')})` : user;
    who.dataset.groups = groups.join(',');
    who.hidden = false;
    const out = byId<HTMLButtonElement>('btn-signout');
    out.hidden = false;
    out.addEventListener('click', () => {
      out.disabled = true;
      void signOut().catch(() => (out.disabled = false));
    });
  }

  private chord(ev: KeyboardEvent): void {
    if (ev.type !== 'keydown' || ev.metaKey || anyDialogOpen()) return;
    const back = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    let done = true;
    if (ev.ctrlKey && ev.shiftKey && !ev.altKey && ev.code === 'Comma') this.settingsDialog.open(back);
    else if (ev.ctrlKey && ev.shiftKey && !ev.altKey && ev.code === 'Slash') this.openHelp(back);
    else if (ev.altKey && ev.shiftKey && !ev.ctrlKey && ev.code === 'KeyT' && this.view instanceof Workspace) this.view.newTab();
    else if (ev.altKey && ev.shiftKey && !ev.ctrlKey && ev.code === 'ArrowLeft' && this.view instanceof Workspace) this.view.cycle(-1);
    else if (ev.altKey && ev.shiftKey && !ev.ctrlKey && ev.code === 'ArrowRight' && this.view instanceof Workspace) this.view.cycle(1);
    else done = false;
    if (done) {
      ev.preventDefault();
      ev.stopPropagation();
    }
  }

  private openHelp(returnFocus: HTMLElement | null): void {
    if (this.help.open) return;
    this.helpReturn = returnFocus;
    this.help.showModal();
    byId('help-close').focus();
  }

  private route(): void {
    const r = parseRoute(location.hash);
    const autoOpen = this.firstRoute && (location.hash === '' || location.hash === '#' || location.hash === '#/');
    this.firstRoute = false;
    const own = routeHash(r) === this.ownRoute;
    this.ownRoute = '';
    this.confirmSeq++;
    cancelConfirm();
    if (r.view === 'shell') {
      // A command from a link is asked about, unless it is one of this
      // page's own tabs (open, or saved before a reload).
      const tabs = this.view instanceof Workspace ? this.view : null;
      if (r.command.length && !own && !tabs?.has(r) && !(tabs === null && savedHas(r))) this.confirmShell(r);
      else this.showShell(r);
      return;
    }
    this.view?.dispose();
    this.view = null;
    this.mountTransfer(null, null);
    this.setWatchers('');
    if (r.view === 'sessions') this.showSessions();
    else if (r.view === 'replay') this.showReplay(r.id);
    else if (r.view === 'watch') this.showWatch(r.id, r.mode, !own);
    else this.showPicker(r.namespace, autoOpen);
  }

  /**
   * A command from a URL: shown and run only when the person says so. Open
   * tabs stay as they are meanwhile (a link must not be able to end them).
   */
  private confirmShell(r: ShellRoute): void {
    const tabs = this.view instanceof Workspace ? this.view : null;
    if (!tabs) {
      this.view?.dispose();
      this.view = null;
      this.setWatchers('');
      document.title = 'Run a command? — podterm';
      this.where.replaceChildren();
      this.setState('idle', '');
      this.setShellButtons(false);
      this.main.replaceChildren();
    }
    const seq = this.confirmSeq;
    void confirmCommand(r).then((ok) => {
      if (seq !== this.confirmSeq) return; // another route took over
      if (ok) this.showShell(r);
      else if (tabs && this.view === tabs) tabs.reshow();
      else this.navigate({ view: 'picker', namespace: r.namespace }, true);
    });
  }

  private showPicker(namespace: string, autoOpen: boolean): void {
    document.title = 'podterm';
    this.where.replaceChildren();
    this.setState('idle', '');
    this.setShellButtons(false);
    const picker = new PickerView(namespace, autoOpen, {
      askToken: (m) => this.askToken(m),
      open: (route, replace) => this.navigate({ view: 'shell', ...route }, replace),
      namespaceChanged: (ns) => history.replaceState(null, '', routeHash({ view: 'picker', namespace: ns })),
    });
    this.view = picker;
    this.main.replaceChildren(picker.element);
    picker.start();
  }

  private showSessions(): void {
    document.title = 'Sessions — podterm';
    this.where.replaceChildren();
    this.setState('idle', '');
    this.setShellButtons(false);
    this.btnPods.hidden = false;
    const view = new SessionsView({
      askToken: (m) => this.askToken(m),
      replay: (id) => this.navigate({ view: 'replay', id }, false),
      watch: (id, mode) => this.navigate({ view: 'watch', id, mode }, false),
    });
    this.view = view;
    this.main.replaceChildren(view.element);
    view.start();
  }

  private showReplay(id: string): void {
    document.title = 'Replay — podterm';
    this.where.replaceChildren();
    this.setState('idle', '');
    this.setShellButtons(false);
    this.btnPods.hidden = false;
    const view = new ReplayView(id, {
      askToken: (m) => this.askToken(m),
      back: () => this.navigate({ view: 'sessions' }, false),
    });
    this.view = view;
    this.main.replaceChildren(view.element);
    view.start();
  }

  /**
   * Someone's live session. Nothing runs by opening it, so a link may; but
   * a join from a link (fromLink) starts read-only until the person allows
   * typing: anyone can make such a link, and a screen that looks like one's
   * own shell or a password prompt must not get one's keys unasked.
   */
  private showWatch(id: string, mode: WatchMode, fromLink: boolean): void {
    document.title = `${mode === 'watch' ? 'Watching' : 'Joined'} — podterm`;
    this.where.replaceChildren();
    this.setState('connecting', '');
    this.setShellButtons(false);
    this.btnFind.hidden = false;
    this.btnPods.hidden = false;
    const view = new WatchView(id, mode, fromLink && mode === 'join', {
      theme: () => this.theme,
      setState: (s, label, detail) => this.setState(s, label, detail),
      askToken: (m) => this.askToken(m),
      back: () => this.navigate({ view: 'sessions' }, false),
      focusToolbar: () => this.btnFind.focus(),
    });
    this.view = view;
    this.main.replaceChildren(view.element);
    view.start();
    view.view.applySettings(this.settings);
  }

  /** The terminal on screen (a shell, or a watched session), if any. */
  private term(): TermView | null {
    if (this.view instanceof Workspace) return this.view.shell?.view ?? null;
    return this.view instanceof WatchView ? this.view.view : null;
  }

  /** Every terminal of the page. */
  private terms(): TermView[] {
    if (this.view instanceof Workspace) return this.view.views();
    return this.view instanceof WatchView ? [this.view.view] : [];
  }

  private setWatchers(text: string): void {
    if (this.watchers.textContent !== text) this.watchers.textContent = text;
    this.watchers.title = text; // the whole list when the header cuts it short
    this.watchers.hidden = text === '';
  }

  /** File transfer follows the tab on screen: its pod, and its terminal as
   * the drop target (none while a new tab's picker is shown). */
  private mountTransfer(route: ShellRoute | null, target: HTMLElement | null): void {
    if (target && target === this.transferTarget) return; // the same tab again
    this.transfer?.dispose();
    this.transferTarget = route && target ? target : null;
    this.transfer = route && target ? mountTransfer({ route, dropTarget: target, toolbar: byId('toolbar') }) : null;
  }

  /** The tabs, with route's tab shown (a new one when it has none). */
  private showShell(r: ShellRoute): void {
    this.setShellButtons(true);
    if (!(this.view instanceof Workspace)) {
      this.view?.dispose();
      this.setWatchers('');
      const tabs = new Workspace({
        theme: () => this.theme,
        askToken: (m) => this.askToken(m),
        focusToolbar: () => this.btnFind.focus(),
        setState: (s, label, detail) => this.setState(s, label, detail),
        describe: (route, command) => this.describe(route, command),
        setWatchers: (text) => this.setWatchers(text),
        shown: (route) => {
          if (route && this.view === tabs) history.replaceState(null, '', routeHash({ view: 'shell', ...route }));
          this.mountTransfer(route, tabs.shownShellElement());
        },
        toPicker: (ns) => this.navigate({ view: 'picker', namespace: ns }, false),
        prepare: (view) => {
          view.applySettings(this.settings);
          view.setTheme(this.theme);
        },
        fontSize: () => this.settings.fontSize,
        setFontSize: (px, done) => this.setSettings({ ...this.settings, fontSize: px }, done),
      });
      this.view = tabs;
      this.main.replaceChildren(tabs.element);
      tabs.restore();
    }
    this.view.open(r);
  }

  private navigate(r: Route, replace: boolean): void {
    const hash = routeHash(r);
    this.ownRoute = hash;
    if (replace) {
      history.replaceState(null, '', hash);
      this.route();
    } else if (location.hash === hash) {
      this.route();
    } else {
      location.hash = hash; // hashchange routes
    }
  }

  private describe(r: ShellRoute | null, command: string[]): void {
    this.where.replaceChildren();
    if (!r) {
      document.title = 'New tab — podterm';
      return;
    }
    const sep = () => h('span', { class: 'sep', 'aria-hidden': 'true' }, '/');
    append(
      this.where,
      h('a', { href: routeHash({ view: 'picker', namespace: r.namespace }), title: `pods in namespace ${r.namespace}` }, r.namespace),
      sep(),
      h('span', { title: 'pod' }, r.pod),
      r.container ? sep() : null,
      r.container ? h('span', { title: 'container' }, r.container) : null,
      command.length ? h('span', { class: 'cmd', title: 'command' }, `$ ${joinCommand(command)}`) : null,
    );
    document.title = `${r.pod}${r.container ? '/' + r.container : ''} · ${r.namespace} — podterm`;
  }

  private setState(state: ShellState | 'idle', label: string, detail = ''): void {
    this.state.dataset.state = state;
    document.body.dataset.state = state;
    // The live region announces the label when it changes, not every tick of a countdown.
    if (this.stateLabel.textContent !== label) this.stateLabel.textContent = label;
    if (this.stateDetail.textContent !== detail) this.stateDetail.textContent = detail;
  }

  private setShellButtons(on: boolean): void {
    this.btnFind.hidden = !on;
    this.btnReconnect.hidden = !on;
    this.btnPods.hidden = !on;
  }

  /** New settings: applied to every terminal, kept when save (not during a pinch). */
  private setSettings(s: Settings, save: boolean): void {
    this.settings = s;
    if (save) saveSettings(s);
    this.btnSr.setAttribute('aria-pressed', String(s.screenReader));
    for (const t of this.terms()) t.applySettings(s);
    this.applyTheme();
  }

  private applyTheme(): void {
    const theme = this.theme;
    document.documentElement.dataset.theme = theme;
    this.btnTheme.setAttribute('aria-pressed', String(theme === 'light'));
    for (const t of this.terms()) t.setTheme(theme);
  }

  /** The token prompt (one at a time). Resolves true when a token was entered. */
  askToken(message: string): Promise<boolean> {
    if (signinEnabled()) {
      // The sign-in session ended (signed out elsewhere, idle, too old): sign in again.
      signIn();
      return Promise.resolve(false);
    }
    if (this.tokenPending) return this.tokenPending;
    const dialog = byId<HTMLDialogElement>('token-dialog');
    const input = byId<HTMLInputElement>('token-input');
    const text = byId('token-message');
    const had = getToken();
    if (had) setToken(null); // it was refused
    text.textContent = plainText(had ? `The token was refused (${message}).` : `podterm needs a token (${message}).`);
    input.value = '';
    this.tokenPending = new Promise<boolean>((resolve) => {
      dialog.addEventListener(
        'close',
        () => {
          const token = input.value.trim();
          input.value = '';
          this.tokenPending = null;
          if (dialog.returnValue === 'ok' && token) {
            setToken(token);
            resolve(true);
          } else {
            resolve(false);
          }
        },
        { once: true },
      );
      dialog.returnValue = '';
      dialog.showModal();
      input.focus();
    });
    return this.tokenPending;
  }

  /** For tests and debugging: what the page shows, without reaching into xterm's DOM. */
  debug() {
    return {
      lines: () => this.term()?.lines() ?? [],
      cellWidths: (text: string) => this.term()?.cellWidths(text) ?? null,
      cursorLine: () => this.term()?.cursorLine() ?? '',
      stats: () => this.session()?.stats ?? null,
      state: () => this.state.dataset.state ?? '',
      protocol: () => this.session()?.protocol ?? '',
      renderer: () => this.term()?.renderer ?? '',
      size: () => {
        const t = this.term();
        return t ? { cols: t.term.cols, rows: t.term.rows } : null;
      },
      watchers: () => (this.watchers.hidden ? '' : this.watchers.textContent ?? ''),
      replay: () => (this.view instanceof ReplayView ? { state: this.view.state, text: this.view.text() } : null),
      replayPlay: () => (this.view instanceof ReplayView ? this.view.play() : undefined),
      tabs: () => (this.view instanceof Workspace ? this.view.describeTabs() : []),
      linesOf: (i: number) => (this.view instanceof Workspace ? this.view.linesOf(i) : []),
      settings: () => ({ ...this.settings }),
    };
  }

  private session(): { stats: unknown; protocol: string } | null {
    if (this.view instanceof Workspace) return this.view.shell;
    return this.view instanceof WatchView ? this.view : null;
  }
}

/** Whether keys go to a text field (where ? is a character, not the help). */
function typing(target: EventTarget | null): boolean {
  return target instanceof Element && !!target.closest('input, textarea, select, [contenteditable], .xterm');
}

function anyDialogOpen(): boolean {
  return document.querySelector('dialog[open]') !== null;
}

const app = new App();
(window as unknown as { podterm: ReturnType<App['debug']> }).podterm = app.debug();
app.start();
