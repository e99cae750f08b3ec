// Replay of one session's recording in asciinema-player (bundled, with its
// CSS, like xterm: nothing is fetched from elsewhere). The recording is read
// with the terminal's credentials (api.ts: the bearer token from session
// storage) and handed to the player as data, so the player itself makes no
// request. Its controls give play/pause and seek; the speed select re-creates
// the player at the same time with another speed (the player has no setter).
//
// The player compiles its terminal emulator from WebAssembly: the page's CSP
// allows that ('wasm-unsafe-eval', static_ui.c), and nothing else of eval.

import * as AsciinemaPlayer from 'asciinema-player';
import 'asciinema-player/dist/bundle/asciinema-player.css';

import { ApiError, getRecording, getSession, NetworkError, type SessionItem } from './api';
import { h } from './dom';
import { sessionCommand, sessionTime, sessionWhere } from './sessions';
import { plainText } from './text';

export const REPLAY_SPEEDS = [0.5, 1, 2, 4, 8];

export type ReplayState = 'loading' | 'ready' | 'playing' | 'paused' | 'ended' | 'error';

export interface ReplayContext {
  askToken(message: string): Promise<boolean>;
  back(): void;
}

export class ReplayView {
  readonly element: HTMLElement;
  state: ReplayState = 'loading';
  private readonly title: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly message: HTMLElement;
  private readonly speed: HTMLSelectElement;
  private readonly stage: HTMLElement;
  private player: AsciinemaPlayer.Player | null = null;
  private recording = '';
  private readonly abort = new AbortController();

  constructor(
    private readonly id: string,
    private readonly ctx: ReplayContext,
  ) {
    this.title = h('h2', { id: 'replay-title' }, 'Replay');
    this.summary = h('p', { class: 'hint replay-summary' });
    this.message = h('p', { class: 'picker-message', role: 'status', 'aria-live': 'polite' });
    this.speed = h('select', { id: 'replay-speed', name: 'speed' }, ...REPLAY_SPEEDS.map((s) => h('option', { value: String(s), selected: s === 1 }, `${s}×`)));
    this.speed.addEventListener('change', () => this.respeed());
    this.stage = h('div', { class: 'replay-stage', 'data-state': 'loading' });
    this.element = h(
      'section',
      { class: 'replay', 'aria-labelledby': 'replay-title' },
      this.title,
      this.summary,
      h(
        'div',
        { class: 'form-actions replay-actions' },
        h('button', { type: 'button', onclick: () => this.ctx.back() }, 'All sessions'),
        h('label', { for: 'replay-speed' }, 'Speed'),
        this.speed,
      ),
      this.message,
      this.stage,
    );
  }

  start(): void {
    void this.load();
  }

  dispose(): void {
    this.abort.abort();
    this.player?.dispose();
    this.player = null;
  }

  /** The player's screen as text, lines joined by "\n" (for tests and debugging). */
  text(): string {
    const pre = this.stage.querySelector('.ap-term-text');
    if (!pre) return '';
    return Array.from(pre.querySelectorAll('.ap-line'))
      .map((l) => (l.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd())
      .join('\n');
  }

  private setState(s: ReplayState): void {
    this.state = s;
    this.stage.dataset.state = s;
  }

  private async load(): Promise<void> {
    this.setState('loading');
    this.message.textContent = 'Loading the recording…';
    this.message.classList.remove('error');
    try {
      const [session, text] = await Promise.all([getSession(this.id, this.abort.signal), getRecording(this.id, this.abort.signal)]);
      this.describe(session);
      this.recording = text;
      this.message.textContent = '';
      this.mount(0, false);
    } catch (e) {
      if (e instanceof DOMException && e.name === 'AbortError') return;
      if (e instanceof ApiError && e.code === 401) {
        this.fail(`Unauthorized: ${e.message}`);
        if (await this.ctx.askToken(e.message)) void this.load();
        return;
      }
      this.fail(e instanceof NetworkError ? 'podterm cannot be reached. Is the server running?' : e instanceof Error ? e.message : String(e));
    }
  }

  private fail(text: string): void {
    this.setState('error');
    this.message.textContent = plainText(text);
    this.message.classList.add('error');
  }

  private describe(s: SessionItem): void {
    const who = plainText(`${s.spec.user} in ${sessionWhere(s)}`);
    this.title.textContent = `Replay: ${who}`;
    const parts = [`$ ${sessionCommand(s)}`, `started ${sessionTime(s.status.started)}`];
    if (s.status.phase === 'Running') parts.push('still running: the recording so far');
    else if (s.status.exitCode !== undefined) parts.push(`exit code ${s.status.exitCode} (${s.status.endReason ?? ''})`);
    this.summary.textContent = plainText(parts.join(' · '));
    document.title = `Replay ${s.spec.pod} · ${s.spec.namespace} — podterm`;
  }

  /** (Re)create the player at time `at`, playing when asked. */
  private mount(at: number, play: boolean): void {
    this.player?.dispose();
    this.stage.replaceChildren();
    const speed = Number(this.speed.value) || 1;
    const player = AsciinemaPlayer.create({ data: this.recording }, this.stage, {
      controls: true,
      fit: 'both',
      speed,
      startAt: at,
      autoPlay: play,
      preload: true,
      idleTimeLimit: 2,
    });
    player.addEventListener('play', () => this.setState('playing'));
    player.addEventListener('playing', () => this.setState('playing'));
    player.addEventListener('pause', () => this.setState('paused'));
    player.addEventListener('ended', () => this.setState('ended'));
    this.player = player;
    if (!play) this.setState('ready');
  }

  private respeed(): void {
    if (!this.player) return;
    const at = this.player.getCurrentTime();
    const playing = this.state === 'playing';
    this.mount(at, playing);
  }

  /** For tests: play from the start. */
  play(): void {
    void this.player?.play();
  }
}
