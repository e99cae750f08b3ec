// Phones and tablets: an on-screen key bar for the keys a soft keyboard
// lacks (Esc, Tab, Ctrl, Alt, arrows, | ~ /), shown on touch screens, and
// pinch to change the font size. Ctrl and Alt are sticky: tap Ctrl, then a
// key on the soft keyboard, and that key goes as Ctrl-key; both release
// after one key.

import { h } from './dom';
import { FONT_SIZE_MAX, FONT_SIZE_MIN } from './settings';
import type { TermView } from './terminal';

const KEYS: [label: string, send: string, name: string][] = [
  ['Esc', '\x1b', 'Esc (Escape)'],
  ['Tab', '\t', 'Tab'],
  ['←', '\x1b[D', 'Left arrow'],
  ['↑', '\x1b[A', 'Up arrow'],
  ['↓', '\x1b[B', 'Down arrow'],
  ['→', '\x1b[C', 'Right arrow'],
  ['|', '|', 'Vertical bar'],
  ['~', '~', 'Tilde'],
  ['/', '/', 'Slash'],
];

// xterm's arrows: CSI or, in application cursor mode, SS3.
const ARROW = /^\x1b[[O]([ABCD])$/;

/** data with Ctrl and/or Alt held, as a terminal sends it. */
export function modify(data: string, ctrl: boolean, alt: boolean): string {
  const arrow = ARROW.exec(data);
  if (arrow) return `\x1b[1;${1 + (alt ? 2 : 0) + (ctrl ? 4 : 0)}${arrow[1]}`;
  let out = data;
  if (ctrl && out.length === 1) {
    const c = out.charCodeAt(0);
    if (c >= 0x61 && c <= 0x7a) out = String.fromCharCode(c - 0x60); // a-z
    else if (c >= 0x40 && c <= 0x5f) out = String.fromCharCode(c - 0x40); // @ A-Z [ \ ] ^ _
    else if (out === ' ' || out === '2') out = '\x00';
    else if (out === '/') out = '\x1f';
    else if (out === '?') out = '\x7f';
  }
  if (alt) out = `\x1b${out}`;
  return out;
}

export function isTouchDevice(): boolean {
  return window.matchMedia('(pointer: coarse)').matches || navigator.maxTouchPoints > 0;
}

export class KeyBar {
  readonly element: HTMLElement;
  private readonly ctrlBtn: HTMLButtonElement;
  private readonly altBtn: HTMLButtonElement;
  private ctrl = false;
  private alt = false;

  constructor(private readonly target: () => TermView | null) {
    const key = (label: string, name: string, onclick: () => void, extra: Record<string, string> = {}) => {
      const b = h('button', { type: 'button', class: 'key', 'aria-label': name, ...extra }, label);
      // The terminal keeps the focus (and the soft keyboard stays up).
      b.addEventListener('pointerdown', (ev) => ev.preventDefault());
      b.addEventListener('click', onclick);
      return b;
    };
    this.ctrlBtn = key('Ctrl', 'Ctrl (sticky)', () => this.toggle('ctrl'), { 'aria-pressed': 'false' });
    this.altBtn = key('Alt', 'Alt (sticky)', () => this.toggle('alt'), { 'aria-pressed': 'false' });
    const keys = KEYS.map(([label, send, name]) => key(label, name, () => this.send(send)));
    this.element = h('div', { class: 'keybar', role: 'toolbar', 'aria-label': 'Extra keys', hidden: !isTouchDevice() },
      keys[0], keys[1], this.ctrlBtn, this.altBtn, ...keys.slice(2));
  }

  private toggle(which: 'ctrl' | 'alt'): void {
    this[which] = !this[which];
    this.paint();
    this.target()?.focus();
  }

  private send(data: string): void {
    const view = this.target();
    if (!view) return;
    view.term.input(data, true); // through onData, so the sticky keys apply
    view.focus();
  }

  /** Every input of the terminal passes here: sticky modifiers apply to the next key. */
  filter(data: string): string {
    if (!this.ctrl && !this.alt) return data;
    if (data.length > 1 && !ARROW.test(data)) return data; // a paste, not a key
    const out = modify(data, this.ctrl, this.alt);
    this.ctrl = this.alt = false;
    this.paint();
    return out;
  }

  private paint(): void {
    this.ctrlBtn.setAttribute('aria-pressed', String(this.ctrl));
    this.altBtn.setAttribute('aria-pressed', String(this.alt));
  }
}

/** Two fingers apart or together change the font size; returns the unwatch. */
export function watchPinch(el: HTMLElement, size: () => number, set: (px: number, done: boolean) => void): () => void {
  let start = 0;
  let from = 0;
  let last = 0;
  const dist = (t: TouchList) => Math.hypot(t[0].clientX - t[1].clientX, t[0].clientY - t[1].clientY);
  const down = (ev: TouchEvent) => {
    if (ev.touches.length !== 2) return;
    start = dist(ev.touches);
    from = last = size();
  };
  const move = (ev: TouchEvent) => {
    if (ev.touches.length !== 2 || start <= 0) return;
    ev.preventDefault(); // no page zoom meanwhile
    const px = Math.min(FONT_SIZE_MAX, Math.max(FONT_SIZE_MIN, Math.round((from * dist(ev.touches)) / start)));
    if (px !== last) {
      last = px;
      set(px, false);
    }
  };
  const up = (ev: TouchEvent) => {
    if (start <= 0 || ev.touches.length >= 2) return;
    start = 0;
    set(last, true);
  };
  el.addEventListener('touchstart', down, { passive: true });
  el.addEventListener('touchmove', move, { passive: false });
  el.addEventListener('touchend', up);
  el.addEventListener('touchcancel', up);
  return () => {
    el.removeEventListener('touchstart', down);
    el.removeEventListener('touchmove', move);
    el.removeEventListener('touchend', up);
    el.removeEventListener('touchcancel', up);
  };
}
