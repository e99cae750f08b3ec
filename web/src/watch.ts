// Someone's live session, watched (read-only) or joined (its keyboard too):
// a terminal fed by .../sessions/ID/watch or .../join. The server sends the
// current screen first, then live output; the owner's terminal decides the
// size (channel-7 `size` messages), so this one never fits itself to the
// window nor sends a resize. A watcher's keys go nowhere: xterm's input is
// off. When the owner's session ends, the server says so (Status, Close) and
// the view shows how it ended, from the sessions API. A join opened from a
// link (not from the Sessions view) sends no key until the person allows it.

import { ApiError, getSession, getToken, NetworkError, type SessionItem } from './api';
import { h } from './dom';
import { offeredProtocols, resumeDelay, sessionSocketUrl } from './protocol';
import { ExecSession, type SessionEnd } from './session';
import type { ShellState } from './shell';
import { sessionCommand, sessionWhere } from './sessions';
import { TermView, type ThemeName } from './terminal';
import { plainText } from './text';

export type WatchMode = 'watch' | 'join';

export interface WatchContext {
  theme(): ThemeName;
  setState(state: ShellState, label: string, detail?: string): void;
  askToken(message: string): Promise<boolean>;
  back(): void;
  focusToolbar(): void;
}

/** "Watching alice's session (read-only)" / "Joined alice's session (read-write)". */
export function watchTitle(mode: WatchMode, user: string): string {
  return mode === 'watch' ? `Watching ${user}'s session (read-only)` : `Joined ${user}'s session (read-write)`;
}

export class WatchView {
  readonly element: HTMLElement;
  readonly view: TermView;
  private readonly title: HTMLElement;
  private readonly where: HTMLElement;
  private readonly banner: HTMLElement;
  private readonly bannerText: HTMLElement;
  private readonly bannerActions: HTMLElement;
  private session: ExecSession | null = null;
  private abort: AbortController | null = null;
  private retryTimer = 0;
  private attempt = 0;
  private disposed = false;
  private user = '';
  // Join only: whether keys go to the session (false until allowed, for a join from a link).
  private typing: boolean;

  constructor(
    private readonly id: string,
    readonly mode: WatchMode,
    askFirst: boolean,
    private readonly ctx: WatchContext,
  ) {
    this.typing = mode === 'join' && !askFirst;
    this.view = new TermView(
      mode === 'watch' ? 'Watched terminal (read-only)' : 'Joined terminal',
      ctx.theme(),
      {
        data: (d) => {
          if (this.typing) this.session?.input(d);
        },
        binary: (d) => {
          if (this.typing) this.session?.inputBinary(d);
        },
        resize: () => {}, // the owner's terminal decides the size
        leave: () => ctx.focusToolbar(),
      },
      { fit: false, readOnly: mode === 'watch' },
    );
    this.title = h('h2', { id: 'watch-title' }, mode === 'watch' ? 'Watching (read-only)' : 'Joined (read-write)');
    this.where = h('p', { class: 'hint watch-where' });
    this.bannerText = h('p', { class: 'banner-text' });
    this.bannerActions = h('div', { class: 'banner-actions' });
    this.banner = h('div', { class: 'banner', role: 'alert', hidden: true }, this.bannerText, this.bannerActions);
    this.element = h(
      'section',
      { class: 'shell watch', 'data-mode': mode, 'aria-labelledby': 'watch-title' },
      h('div', { class: 'watch-head' }, this.title, this.where),
      this.banner,
      this.view.element,
    );
  }

  /** Call once the element is in the document. */
  start(): void {
    this.view.open();
    this.load();
  }

  /** Ask the API about the session (who, where, still running?), then connect. */
  private load(): void {
    if (this.disposed) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = 0;
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.ctx.setState('connecting', 'Connecting…');
    getSession(this.id, abort.signal).then(
      (item) => {
        if (abort.signal.aborted) return;
        this.describe(item);
        if (item.status.phase === 'Running') this.connect();
        else this.ended(item);
      },
      (err) => {
        if (!abort.signal.aborted) this.apiFailed(err);
      },
    );
  }

  private describe(s: SessionItem): void {
    this.user = s.spec.user;
    this.title.textContent = plainText(this.mode === 'join' && !this.typing ? watchTitle('watch', s.spec.user) : watchTitle(this.mode, s.spec.user));
    const cmd = sessionCommand(s);
    this.where.textContent = plainText(`${sessionWhere(s)}${cmd ? ` $ ${cmd}` : ''}`);
  }

  private connect(): void {
    const session = new ExecSession(
      { url: sessionSocketUrl(window.location, this.id, this.mode), protocols: offeredProtocols(getToken()) },
      {
        open: () => {
          this.hideBanner();
          this.ctx.setState('connected', this.mode === 'join' && this.typing ? 'Joined' : 'Watching');
          if (this.mode === 'join' && !this.typing) this.askToType();
          this.view.focus();
        },
        output: (data, done) => this.view.write(data, done),
        dropped: () => {}, // non-flow only; a watcher skips to repaints anyway
        info: (msg) => {
          if (msg.type === 'size') this.view.resizeTo(msg.width, msg.height);
        },
        end: (how) => {
          if (this.session === session) this.sessionEnded(how);
        },
      },
    );
    this.session = session;
    session.start();
  }

  private sessionEnded(how: SessionEnd): void {
    this.session = null;
    if (how.kind === 'exited') {
      this.attempt = 0;
      this.afterEnd(true);
    } else {
      this.afterEnd(how.kind === 'refused' ? 'refused' : false);
    }
  }

  /**
   * The socket closed: the session's resource says whether it ended (and
   * how), is gone, or still runs (then this was our connection: again, and
   * the server repaints; a refusal the browser cannot explain is shown).
   */
  private afterEnd(exited: boolean | 'refused'): void {
    const abort = new AbortController();
    this.abort = abort;
    getSession(this.id, abort.signal).then(
      (item) => {
        if (abort.signal.aborted) return;
        if (item.status.phase !== 'Running') this.ended(item);
        else if (exited === true) this.ended(null); // the server said it ended; the list lags
        else if (exited === 'refused') this.fail(`podterm refused to let you ${this.mode} this session (no access, or it cannot be ${this.mode === 'watch' ? 'watched' : 'joined'}).`);
        else this.retry();
      },
      (err) => {
        if (abort.signal.aborted) return;
        if (err instanceof ApiError && err.code === 404) this.ended(null);
        else if (exited === true) this.ended(null);
        else this.apiFailed(err);
      },
    );
  }

  /** A join from a link: read-only until the person says their keys may go to this session. */
  private askToType(): void {
    this.showBanner(
      `This link joins ${this.user}'s session: what you type would go to their terminal. It is read-only until you allow typing.`,
      [['Allow typing', () => this.allowTyping()], this.backButton()],
      'warn',
    );
  }

  private allowTyping(): void {
    this.typing = true;
    this.hideBanner();
    this.title.textContent = plainText(watchTitle('join', this.user));
    this.ctx.setState('connected', 'Joined');
    this.view.focus();
  }

  private retry(): void {
    const delay = resumeDelay(this.attempt++);
    this.ctx.setState('reconnecting', 'Reconnecting…');
    this.showBanner('Connection lost. Reconnecting automatically.', [['Reconnect now', () => this.load()], this.backButton()], 'warn');
    this.retryTimer = window.setTimeout(() => this.load(), delay);
  }

  private ended(item: SessionItem | null): void {
    const code = item?.status.exitCode;
    const text = code !== undefined && code >= 0 ? `The session ended (exit code ${code}).` : 'The session ended.';
    this.view.note(text);
    this.ctx.setState('exited', 'Ended');
    this.showBanner(text, [this.backButton()], 'info');
  }

  private apiFailed(err: unknown): void {
    if (err instanceof NetworkError) {
      this.retry();
    } else if (err instanceof ApiError && err.code === 401) {
      this.ctx.setState('error', 'Sign-in needed');
      this.showBanner('podterm needs a token to show this session.', [['Sign in', () => this.signIn(err.message)], this.backButton()]);
      this.signIn(err.message);
    } else {
      this.fail(err instanceof Error ? err.message : String(err), err instanceof ApiError ? err.code : undefined);
    }
  }

  private signIn(message: string): void {
    void this.ctx.askToken(message).then((ok) => {
      if (ok) this.load();
    });
  }

  private fail(message: string, code?: number): void {
    this.ctx.setState('error', code ? `Error ${code}` : 'Error');
    this.showBanner(message, [['Retry', () => this.load()], this.backButton()]);
  }

  private backButton(): [string, () => void] {
    return ['Sessions', () => this.ctx.back()];
  }

  private showBanner(text: string, actions: [string, () => void][], kind: 'error' | 'warn' | 'info' = 'error'): void {
    this.banner.dataset.kind = kind;
    this.bannerText.textContent = plainText(text);
    this.bannerActions.replaceChildren(...actions.map(([label, fn]) => h('button', { type: 'button', onclick: fn }, label)));
    this.banner.hidden = false;
  }

  private hideBanner(): void {
    this.banner.hidden = true;
  }

  get protocol(): string {
    return this.session?.protocol ?? '';
  }

  get stats() {
    return this.session?.stats ?? null;
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.retryTimer);
    this.abort?.abort();
    this.session?.close();
    this.view.dispose();
    this.element.remove();
  }
}
