// The shell view: one terminal, and the exec sessions that feed it over time.
//
// Before each WebSocket it GETs the pod, because a browser cannot see why an
// upgrade was refused: that GET carries the Status (404, 403, 401) a person
// needs; when the pod is there but the upgrade was still refused (RBAC on
// pods/exec, an ExecPolicy on the command), the same exec asked as a plain
// POST says why. It shows connecting / connected / exited / error states, falls back
// from bash to sh, and reconnects with backoff when the network or the server
// goes away. A process that exited is restarted only on request.
//
// Resume (issue 11): a session the server said can be resumed (a channel-7
// `session` message: id, token, grace) is not replaced by a new shell when
// its connection drops. The page offers the token on .../sessions/ID/resume
// until the grace runs out, in the same terminal (scrollback kept), and the
// server repaints the screen: vim with unsaved text, a half-typed line go on.
// The token lives in this object only: never in the URL or any storage.

import { ApiError, containerNames, getPod, getSession, getToken, NetworkError, whyExecRefused, type Pod, type SessionItem } from './api';
import { h } from './dom';
import {
  isMissingExecutable,
  resumeDelay,
  resumeProtocols,
  sessionSocketUrl,
  watchersText,
  type ExecTarget,
  type ExitInfo,
  type InfoMessage,
} from './protocol';
import { ExecSession, execEndpoint, type Endpoint, type SessionEnd } from './session';
import { TermView, type ThemeName } from './terminal';
import { plainText } from './text';

export type ShellState = 'connecting' | 'connected' | 'exited' | 'error' | 'reconnecting';

export interface ShellRoute {
  namespace: string;
  pod: string;
  container: string;
  command: string[]; // empty: bash, or sh where bash does not exist
}

export interface ShellContext {
  theme(): ThemeName;
  /** detail changes often (a countdown): shown, but not announced. */
  setState(state: ShellState, label: string, detail?: string): void;
  /** Ask for a bearer token; resolves true when one was given. */
  askToken(message: string): Promise<boolean>;
  backToPicker(namespace: string): void;
  focusToolbar(): void;
  /** Tell the page which container and command are running. */
  describe(route: ShellRoute, command: string[]): void;
  /** Who watches this session ("Watched by …"), '' for nobody. */
  setWatchers(text: string): void;
  /** Whether a connecting shell may take the keyboard (not a tab in the background). */
  mayFocus?(): boolean;
}

const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 15000;
const STABLE_MS = 10000; // a connection up this long resets the backoff
const TYPE_AHEAD_MAX = 1024; // keystrokes kept while no shell can take them
// Resume attempts the server refused while it answers the API and says the
// session still runs (a token it no longer takes): a few, then the page stops.
const RESUME_REFUSALS_MAX = 3;
// The server's grace starts when it sees the drop, which may be a little
// before or after the page does: a session gone this close to the page's own
// deadline ran out of grace.
const GRACE_SLACK_MS = 1000;

/** What the server said about resuming the current session. */
interface Resumable {
  id: string;
  token: string;
  grace: number; // seconds
}

/** A resume in progress. */
interface Resuming {
  deadline: number; // performance.now() when the grace runs out
  grace: number;
  attempt: number;
  refusals: number;
}

/** The exec a session started as: resumed and ended sessions are judged against it. */
interface Current {
  auto: boolean;
  key: string;
  target: ExecTarget;
}

// Pods where bash turned out not to exist, so reconnects go straight to sh.
const noBash = new Set<string>();

export class ShellView {
  readonly element: HTMLElement;
  readonly view: TermView;
  private readonly banner: HTMLElement;
  private readonly bannerText: HTMLElement;
  private readonly bannerActions: HTMLElement;
  private readonly resumeBox: HTMLElement;
  private readonly resumeLabel: HTMLElement;
  private readonly resumeDetail: HTMLElement;
  private session: ExecSession | null = null;
  private current: Current | null = null;
  private resumable: Resumable | null = null;
  private resuming: Resuming | null = null;
  private abort: AbortController | null = null;
  private attempt = 0;
  private retryTimer = 0;
  private countdownTimer = 0;
  private openedAt = 0;
  private disposed = false;
  private dropNoticeShown = false;
  // Keys typed while bash may turn out not to exist: replayed to sh if it does not.
  private probeInput: string[] | null = null;
  // Keys typed while connecting (no session yet): sent to the next session.
  private replay: string[] = [];
  private readonly onOnline = () => {
    if (this.resuming) this.resumeNow();
    else if (this.retryTimer) this.connect();
  };

  constructor(
    private readonly route: ShellRoute,
    private readonly ctx: ShellContext,
  ) {
    const label = `Terminal: ${route.pod}${route.container ? '/' + route.container : ''} in ${route.namespace}`;
    this.view = new TermView(label, ctx.theme(), {
      data: (d) => {
        // Keys typed while the connection is down are not kept for the
        // resume: the screen they were typed at may not be the one they
        // would land on (vim's mode, a prompt that moved on).
        if (this.resuming) return;
        if (this.probeInput && this.probeInput.length < TYPE_AHEAD_MAX) this.probeInput.push(d);
        if (this.session) this.session.input(d);
        else if (this.replay.length < TYPE_AHEAD_MAX) this.replay.push(d); // between sessions
      },
      binary: (d) => {
        if (!this.resuming) this.session?.inputBinary(d);
      },
      resize: (cols, rows) => this.session?.resize(cols, rows),
      leave: () => ctx.focusToolbar(),
    });
    this.bannerText = h('p', { class: 'banner-text' });
    this.bannerActions = h('div', { class: 'banner-actions' });
    this.banner = h('div', { class: 'banner', role: 'alert', hidden: true }, this.bannerText, this.bannerActions);
    // Over the terminal, not above it: the terminal keeps its size (no
    // resize reaches the process) and its text stays readable and selectable.
    this.resumeLabel = h('span', { class: 'resume-label' });
    this.resumeDetail = h('span', { class: 'resume-detail', 'aria-hidden': 'true' });
    this.resumeBox = h(
      'div',
      { class: 'resume-status', role: 'status', 'aria-live': 'polite', hidden: true },
      this.resumeLabel,
      this.resumeDetail,
      h('button', { type: 'button', onclick: () => this.resumeNow() }, 'Retry now'),
    );
    this.element = h('section', { class: 'shell', 'aria-label': 'Shell' }, this.banner, this.resumeBox, this.view.element);
  }

  /** Call once the element is in the document. */
  start(): void {
    this.view.open();
    window.addEventListener('online', this.onOnline);
    this.connect();
  }

  /** Drop whatever is pending and open a new session now. */
  connect(): void {
    if (this.disposed) return;
    this.clearTimers();
    this.session?.close();
    this.session = null;
    this.resumable = null; // a new session: the old one's token goes
    this.endResume();
    this.ctx.setWatchers('');
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.ctx.setState('connecting', 'Connecting…');
    getPod(this.route.namespace, this.route.pod, abort.signal).then(
      (pod) => {
        if (!abort.signal.aborted) this.openSession(pod);
      },
      (err) => {
        if (!abort.signal.aborted) this.apiFailed(err);
      },
    );
  }

  private openSession(pod: Pod): void {
    const names = containerNames(pod);
    const all = [
      ...names,
      ...(pod.spec?.initContainers ?? []).map((c) => c.name),
    ];
    const container = this.route.container || names[0] || '';
    if (!container) {
      this.fail(`pod ${this.route.pod} has no containers`);
      return;
    }
    if (this.route.container && !all.includes(this.route.container)) {
      this.fail(`container ${this.route.container} is not valid for pod ${this.route.pod} (containers: ${names.join(', ')})`);
      return;
    }
    const key = `${this.route.namespace}/${this.route.pod}/${container}`;
    const auto = this.route.command.length === 0;
    const command = auto ? [noBash.has(key) ? 'sh' : 'bash'] : this.route.command;
    const target: ExecTarget = { namespace: this.route.namespace, pod: this.route.pod, container, command };
    this.ctx.describe({ ...this.route, container }, command);

    const replay = this.replay;
    this.replay = [];
    this.probeInput = auto && command[0] === 'bash' ? [...replay] : null;
    this.current = { auto, key, target };
    const session = this.openSocket(execEndpoint(target, getToken()), (how) => this.sessionEnded(how));
    for (const d of replay) session.input(d); // sent as soon as the socket opens
  }

  /** A socket feeding this terminal: the exec itself, or a resume of it. */
  private openSocket(endpoint: Endpoint, ended: (how: SessionEnd) => void): ExecSession {
    const session = new ExecSession(endpoint, {
      open: () => {
        this.openedAt = performance.now();
        this.endResume();
        this.hideBanner();
        this.ctx.setState('connected', 'Connected');
        if (this.ctx.mayFocus?.() ?? true) this.view.focus();
      },
      output: (data, done) => {
        this.probeInput = null; // bash runs
        this.view.write(data, done);
      },
      dropped: (total) => {
        if (this.dropNoticeShown) return;
        this.dropNoticeShown = true;
        this.view.note(`output is arriving faster than it can be shown; ${total} bytes were dropped ` +
          `(this server does not support flow control)`);
      },
      info: (msg) => {
        if (this.session === session) this.info(msg);
      },
      end: (how) => {
        if (this.session === session) ended(how);
      },
    });
    this.session = session;
    session.resize(this.view.term.cols, this.view.term.rows);
    session.start();
    return session;
  }

  private info(msg: InfoMessage): void {
    if (msg.type === 'session') {
      // A new token after every resume; the previous one stops working.
      this.resumable = { id: msg.id, token: msg.resume, grace: msg.grace };
    } else if (msg.type === 'watchers') {
      this.ctx.setWatchers(plainText(watchersText(msg.watchers)));
    }
  }

  private sessionEnded(how: SessionEnd): void {
    const cur = this.current;
    if (!cur) return;
    const { auto, key, target } = cur;
    this.ctx.setWatchers('');
    switch (how.kind) {
      case 'exited':
        if (auto && !noBash.has(key) && isMissingExecutable(how.info)) {
          noBash.add(key); // bash does not exist there: the same shell with sh
          this.replay = this.probeInput ?? [];
          this.probeInput = null;
          this.connect();
          return;
        }
        this.probeInput = null;
        this.attempt = 0;
        this.exited(how.info);
        return;
      case 'lost':
        if (this.resumable) {
          this.startResume(this.resumable);
          return;
        }
        this.view.note('connection lost');
        if (performance.now() - this.openedAt > STABLE_MS) this.attempt = 0;
        this.retry('Connection lost.');
        return;
      case 'refused':
        this.whyRefused(target);
        return;
    }
  }

  /**
   * Ask the API why: the browser hides the upgrade's status code. First the
   * pod (gone, or not to be seen), then the exec itself without the upgrade
   * (not allowed to open it: RBAC's or an ExecPolicy's 403, word for word).
   */
  private whyRefused(target: ExecTarget): void {
    this.ctx.setState('connecting', 'Checking…');
    const abort = new AbortController();
    this.abort = abort;
    getPod(this.route.namespace, this.route.pod, abort.signal)
      .then(() => whyExecRefused(target, abort.signal))
      .then(
        (err) => {
          if (abort.signal.aborted) return;
          if (err) this.apiFailed(err);
          else this.fail('The server refused the terminal connection. ' +
            'If podterm runs behind a proxy, the proxy must pass WebSocket upgrades and the Origin header.');
        },
        (err) => {
          if (!abort.signal.aborted) this.apiFailed(err);
        },
      );
  }

  private exited(info: ExitInfo): void {
    if (info.kind === 'exit') {
      const text = `exited with code ${info.code}`;
      this.view.note(text);
      this.ctx.setState('exited', `Exited (${info.code})`);
      this.showBanner(`The shell ${text}.`, [['Restart', () => this.connect()], this.backButton()], 'info');
    } else {
      this.view.note(`failed: ${info.message}`);
      this.fail(info.message);
    }
  }

  private apiFailed(err: unknown): void {
    if (err instanceof NetworkError) {
      this.retry('podterm cannot be reached.');
    } else if (err instanceof ApiError && err.code === 401) {
      this.ctx.setState('error', 'Sign-in needed');
      this.showBanner('podterm needs a token to open this shell.', [['Sign in', () => this.signIn(err.message)], this.backButton()]);
      this.signIn(err.message);
    } else if (err instanceof ApiError) {
      this.fail(err.message, err.code);
    } else {
      this.fail(err instanceof Error ? err.message : String(err));
    }
  }

  private signIn(message: string): void {
    this.ctx.askToken(message).then((ok) => {
      if (ok) this.connect();
    });
  }

  private fail(message: string, code?: number): void {
    this.replay = []; // type-ahead is for a shell being opened, not for after an error
    this.ctx.setState('error', code ? `Error ${code}` : 'Error');
    this.showBanner(message, [['Retry', () => this.connect()], this.backButton()]);
  }

  // ---- resume ----

  /** The connection dropped under a resumable session: try to get it back until the grace runs out. */
  private startResume(r: Resumable): void {
    this.clearTimers();
    this.session = null;
    this.replay = [];
    this.resuming = { deadline: performance.now() + r.grace * 1000, grace: r.grace, attempt: 0, refusals: 0 };
    this.resumeBox.hidden = false;
    this.resumeLabel.textContent = 'Connection lost — reconnecting…';
    const tick = () => {
      const res = this.resuming;
      if (!res) return;
      const left = Math.ceil((res.deadline - performance.now()) / 1000);
      if (left <= 0) {
        this.resumeEnded(null);
        return;
      }
      const detail = ` (${left} s left)`;
      if (this.resumeDetail.textContent !== detail) this.resumeDetail.textContent = detail;
      this.ctx.setState('reconnecting', 'Reconnecting', `${detail}…`);
    };
    tick();
    this.countdownTimer = window.setInterval(tick, 250);
    this.scheduleResume();
  }

  private scheduleResume(): void {
    const res = this.resuming;
    if (!res) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = window.setTimeout(() => this.resumeAttempt(), resumeDelay(res.attempt++));
  }

  /** "Retry now", or the browser says it is online again. */
  private resumeNow(): void {
    if (!this.resuming) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = 0;
    this.abort?.abort();
    this.session?.close();
    this.session = null;
    this.resumeAttempt();
  }

  private resumeAttempt(): void {
    const r = this.resumable;
    if (!r || !this.resuming) return;
    this.retryTimer = 0;
    let endpoint: Endpoint;
    try {
      endpoint = { url: sessionSocketUrl(window.location, r.id, 'resume'), protocols: resumeProtocols(getToken(), r.token) };
    } catch {
      this.resumeFailed('The session could not be resumed.');
      return;
    }
    this.openSocket(endpoint, (how) => {
      if (how.kind === 'refused') this.resumeRefused(r);
      else this.sessionEnded(how); // resumed, then exited or lost again
    });
  }

  /**
   * A resume's WebSocket did not open; the browser hides why. The session's
   * own resource says: still running (the network is back, the resume was
   * refused), ended (and how), gone; no answer means still offline.
   */
  private resumeRefused(r: Resumable): void {
    this.session = null;
    const abort = new AbortController();
    this.abort = abort;
    getSession(r.id, abort.signal).then(
      (item) => {
        if (abort.signal.aborted || !this.resuming) return;
        if (item.status.phase !== 'Running') {
          this.resumeEnded(item);
        } else if (++this.resuming.refusals >= RESUME_REFUSALS_MAX) {
          this.resumeFailed('The session is still running but could not be resumed.');
        } else {
          this.scheduleResume();
        }
      },
      (err) => {
        if (abort.signal.aborted || !this.resuming) return;
        if (err instanceof ApiError && (err.code === 404 || err.code === 403)) this.resumeEnded(null, true);
        else if (err instanceof ApiError && err.code === 401) this.resumeFailed(`The session could not be resumed: ${err.message}`);
        else this.scheduleResume(); // offline, or a server that cannot answer yet
      },
    );
  }

  /**
   * The session is over: how, when the API said; gone (a 404: a restarted
   * server, or one that forgot it) says no more unless the grace was over.
   */
  private resumeEnded(item: SessionItem | null, gone = false): void {
    const res = this.resuming;
    if (!res) return;
    const reason = item?.status.endReason ?? '';
    const late = performance.now() >= res.deadline - GRACE_SLACK_MS;
    let text: string;
    if ((!item && (!gone || late)) || reason === 'grace-expired') {
      text = `The session ended: not resumed within ${res.grace} s.`;
    } else if (!item) {
      text = 'The session ended.';
    } else {
      const code = item.status.exitCode;
      const parts = [reason, code !== undefined && code >= 0 ? `exit code ${code}` : ''].filter(Boolean);
      text = parts.length ? `The session ended: ${parts.join(', ')}.` : 'The session ended.';
    }
    this.stopResume();
    this.view.note(text);
    this.ctx.setState('exited', 'Ended');
    this.showBanner(text, [['New shell', () => this.connect()], this.backButton()], 'info');
  }

  private resumeFailed(text: string): void {
    if (!this.resuming) return;
    this.stopResume();
    this.view.note(text);
    this.ctx.setState('error', 'Not resumed');
    this.showBanner(text, [['New shell', () => this.connect()], this.backButton()]);
  }

  /** Give up: no socket, no token. */
  private stopResume(): void {
    this.abort?.abort();
    this.session?.close();
    this.session = null;
    this.resumable = null;
    this.endResume();
  }

  private endResume(): void {
    if (!this.resuming) return;
    this.resuming = null;
    this.clearTimers();
    this.resumeBox.hidden = true;
    this.resumeDetail.textContent = '';
  }

  /** Reconnect after a backoff: 0.5 s, 1 s, 2 s ... 15 s, with some jitter. */
  private retry(reason: string): void {
    this.clearTimers();
    this.replay = [];
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempt);
    const delay = Math.round(base * (0.8 + 0.4 * Math.random()));
    this.attempt++;
    const due = performance.now() + delay;
    const tick = () => {
      const s = Math.max(0, Math.ceil((due - performance.now()) / 1000));
      this.ctx.setState('reconnecting', 'Reconnecting', ` in ${s} s…`);
    };
    tick();
    this.countdownTimer = window.setInterval(tick, 1000);
    this.retryTimer = window.setTimeout(() => this.connect(), delay);
    this.showBanner(`${reason} Reconnecting automatically.`, [['Reconnect now', () => this.connect()], this.backButton()], 'warn');
  }

  private backButton(): [string, () => void] {
    return ['Pods', () => this.ctx.backToPicker(this.route.namespace)];
  }

  private showBanner(text: string, actions: [string, () => void][], kind: 'error' | 'warn' | 'info' = 'error'): void {
    this.banner.dataset.kind = kind;
    this.bannerText.textContent = plainText(text);
    this.bannerActions.replaceChildren(
      ...actions.map(([label, fn]) => h('button', { type: 'button', onclick: fn }, label)),
    );
    this.banner.hidden = false;
    this.view.fitNow();
  }

  private hideBanner(): void {
    if (this.banner.hidden) return;
    this.banner.hidden = true;
    this.view.fitNow();
  }

  private clearTimers(): void {
    clearTimeout(this.retryTimer);
    clearInterval(this.countdownTimer);
    this.retryTimer = this.countdownTimer = 0;
  }

  /** The banner's first button (Restart / Reconnect now), if shown. */
  primaryAction(): HTMLButtonElement | null {
    return this.banner.hidden ? null : this.bannerActions.querySelector('button');
  }

  get protocol(): string {
    return this.session?.protocol ?? '';
  }

  get stats() {
    return this.session?.stats ?? null;
  }

  dispose(): void {
    this.disposed = true;
    this.clearTimers();
    this.abort?.abort();
    this.session?.close();
    this.resumable = null;
    this.resuming = null;
    this.ctx.setWatchers('');
    window.removeEventListener('online', this.onOnline);
    this.view.dispose();
    this.element.remove();
  }
}
