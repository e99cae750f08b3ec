// The Sessions view: live sessions (who, where, what, since when) and past
// ones (also when and how they ended), from podterm's sessions API
// (/apis/podterm.dev/v1alpha1/sessions). A recorded session has a Replay
// that opens the ReplayView (replay.ts) on its recording; a live tty session
// has Watch and Join, which open the WatchView (watch.ts) on it. Without RBAC
// on sessions the server lists the user's own sessions only (and the server
// decides each watch or join).
//
// Everything shown comes from outside the page (user names, commands, end
// reasons): set as text only, and through plainText so a crafted command
// cannot reorder or hide what the table shows.

import { ApiError, listSessions, NetworkError, type SessionItem } from './api';
import { h } from './dom';
import { joinCommand } from './route';
import { plainText } from './text';

/** How often the list is read again while it is shown. */
export const SESSIONS_REFRESH_MS = 3000;

export interface SessionsContext {
  askToken(message: string): Promise<boolean>;
  replay(id: string): void;
  watch(id: string, mode: 'watch' | 'join'): void;
}

/** "2026-11-30T09:43:59Z" as "2026-11-30 09:43:59 UTC" (the API's times are UTC). */
export function sessionTime(ts: string | undefined): string {
  if (!ts) return '';
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)Z$/.exec(ts);
  return m ? `${m[1]} ${m[2]} UTC` : ts;
}

export function sessionWhere(s: SessionItem): string {
  const c = s.spec.container ? `/${s.spec.container}` : '';
  return `${s.spec.namespace}/${s.spec.pod}${c}`;
}

export function sessionCommand(s: SessionItem): string {
  if (s.spec.kind === 'attach') return '(attach)';
  return s.spec.command.length ? joinCommand(s.spec.command) : '';
}

export class SessionsView {
  readonly element: HTMLElement;
  private readonly message: HTMLElement;
  private readonly live: HTMLTableSectionElement;
  private readonly past: HTMLTableSectionElement;
  private readonly liveEmpty: HTMLElement;
  private readonly pastEmpty: HTMLElement;
  private abort = new AbortController();
  private timer = 0;
  private loading = false;

  constructor(private readonly ctx: SessionsContext) {
    const table = (label: string, heads: string[], body: HTMLTableSectionElement) =>
      h('table', { class: 'sessions-table', 'aria-label': label }, h('thead', {}, h('tr', {}, ...heads.map((t) => h('th', { scope: 'col' }, t)))), body);
    this.live = h('tbody', { id: 'sessions-live' });
    this.past = h('tbody', { id: 'sessions-past' });
    this.liveEmpty = h('p', { class: 'hint' }, 'No session is running.');
    this.pastEmpty = h('p', { class: 'hint' }, 'No recorded session.');
    this.message = h('p', { class: 'picker-message', role: 'status', 'aria-live': 'polite' });
    this.element = h(
      'section',
      { class: 'sessions', 'aria-labelledby': 'sessions-title' },
      h('h2', { id: 'sessions-title' }, 'Sessions'),
      this.message,
      h('h3', {}, 'Live'),
      table('Live sessions', ['User', 'Pod', 'Command', 'Started', 'Watchers', 'Actions'], this.live),
      this.liveEmpty,
      h('h3', {}, 'Past'),
      table('Past sessions', ['User', 'Pod', 'Command', 'Started', 'Ended', 'Exit code', 'Reason', 'Actions'], this.past),
      this.pastEmpty,
      h('div', { class: 'form-actions' }, h('button', { type: 'button', onclick: () => void this.load() }, 'Refresh')),
    );
  }

  start(): void {
    void this.load();
    this.timer = window.setInterval(() => void this.load(), SESSIONS_REFRESH_MS);
  }

  dispose(): void {
    window.clearInterval(this.timer);
    this.abort.abort();
  }

  private async load(): Promise<void> {
    if (this.loading) return;
    this.loading = true;
    try {
      const items = await listSessions(this.abort.signal);
      this.render(items);
      this.message.textContent = '';
      this.message.classList.remove('error');
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') return;
      if (e instanceof ApiError && e.code === 401) {
        this.show(`Unauthorized: ${e.message}`);
        if (await this.ctx.askToken(e.message)) void this.load();
        return;
      }
      this.show(e instanceof NetworkError ? 'podterm cannot be reached. Is the server running?' : e instanceof Error ? e.message : String(e));
    } finally {
      this.loading = false;
    }
  }

  private show(text: string): void {
    this.message.textContent = plainText(text);
    this.message.classList.add('error');
  }

  private render(items: SessionItem[]): void {
    const live = items.filter((s) => s.status.phase === 'Running');
    const past = items.filter((s) => s.status.phase !== 'Running');
    this.live.replaceChildren(...live.map((s) => this.row(s, false)));
    this.past.replaceChildren(...past.map((s) => this.row(s, true)));
    this.liveEmpty.hidden = live.length > 0;
    this.pastEmpty.hidden = past.length > 0;
  }

  private row(s: SessionItem, ended: boolean): HTMLTableRowElement {
    const cell = (text: string, cls?: string) => h('td', cls ? { class: cls } : {}, plainText(text));
    const id = s.metadata.name;
    const replay = s.status.recorded
      ? h('button', { type: 'button', class: 'replay', 'data-id': id, 'aria-label': `Replay the session of ${plainText(s.spec.user)} in ${plainText(sessionWhere(s))}`, onclick: () => this.ctx.replay(id) }, 'Replay')
      : null;
    const who = `the session of ${plainText(s.spec.user)} in ${plainText(sessionWhere(s))}`;
    // Only a terminal (tty) has a screen to show; the server refuses the rest.
    const live = !ended && s.spec.tty
      ? [
          h('button', { type: 'button', class: 'watch', 'data-id': id, 'aria-label': `Watch ${who}`, onclick: () => this.ctx.watch(id, 'watch') }, 'Watch'),
          h('button', { type: 'button', class: 'join', 'data-id': id, 'aria-label': `Join ${who}`, onclick: () => this.ctx.watch(id, 'join') }, 'Join'),
        ]
      : [];
    const cells = [cell(s.spec.user), cell(sessionWhere(s)), cell(sessionCommand(s), 'cmd'), cell(sessionTime(s.status.started))];
    if (!ended) cells.push(cell(String(s.status.watchers ?? 0)));
    if (ended) {
      cells.push(
        cell(sessionTime(s.status.ended)),
        cell(s.status.exitCode === undefined || s.status.exitCode < 0 ? '' : String(s.status.exitCode)),
        cell(s.status.endReason ?? 'unknown'),
      );
    }
    cells.push(h('td', { class: 'row-actions' }, ...live, replay));
    return h('tr', { 'data-id': id, 'data-phase': s.status.phase }, ...cells);
  }
}
