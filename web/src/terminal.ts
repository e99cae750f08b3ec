// xterm.js with its addons, the two themes, the search bar and the page's own
// key bindings. The terminal fits its box and reports every size change.

import { ClipboardAddon, type ClipboardSelectionType, type IClipboardProvider } from '@xterm/addon-clipboard';
import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon } from '@xterm/addon-search';
import { Unicode11Addon } from '@xterm/addon-unicode11';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { WebglAddon } from '@xterm/addon-webgl';
import { Terminal, type ITheme } from '@xterm/xterm';
import { h } from './dom';
import { DEFAULTS, type Settings } from './settings';
import { plainText } from './text';

export type ThemeName = 'dark' | 'light';

// Dark is the seed's look: #181d28, underline blinking cursor, Menlo/Monaco 13 px.
const THEMES: Record<ThemeName, ITheme> = {
  dark: {
    background: '#181d28',
    foreground: '#dfe3ec',
    cursor: '#f2f4f8',
    cursorAccent: '#181d28',
    selectionBackground: '#3d4d6e',
    black: '#1f2430',
    red: '#f07178',
    green: '#aad94c',
    yellow: '#ffb454',
    blue: '#59c2ff',
    magenta: '#d2a6ff',
    cyan: '#95e6cb',
    white: '#c7cbd4',
    brightBlack: '#6c7380',
    brightRed: '#ff8f96',
    brightGreen: '#c2ef6a',
    brightYellow: '#ffd173',
    brightBlue: '#8dd5ff',
    brightMagenta: '#e2c4ff',
    brightCyan: '#b8f2df',
    brightWhite: '#ffffff',
  },
  light: {
    background: '#fbfbfc',
    foreground: '#1f2430',
    cursor: '#1f2430',
    cursorAccent: '#fbfbfc',
    selectionBackground: '#c6d8f7',
    black: '#1f2430',
    red: '#c4302b',
    green: '#3f7d1a',
    yellow: '#8a6100',
    blue: '#1f5fbf',
    magenta: '#8c3fb8',
    cyan: '#137a7f',
    white: '#6b7280',
    brightBlack: '#4b5263',
    brightRed: '#e0443e',
    brightGreen: '#4f9a23',
    brightYellow: '#a87700',
    brightBlue: '#2f74d6',
    brightMagenta: '#a450d1',
    brightCyan: '#1a9299',
    brightWhite: '#30343f',
  },
};

export interface TermHandlers {
  data(text: string): void;
  binary(data: string): void;
  resize(cols: number, rows: number): void;
  /** Ctrl-Shift-E: leave the terminal for the page's toolbar. */
  leave(): void;
}

/** The settings a terminal follows (the page's theme is set apart). */
export type TermSettings = Pick<Settings, 'fontSize' | 'fontFamily' | 'cursorStyle' | 'scrollback' | 'screenReader' | 'clipboardRead'>;

export interface TermOptions {
  /** Fit the terminal to its box (a shell); off when someone else's terminal decides the size (watch, join). */
  fit?: boolean;
  /** No keyboard input at all (watch). */
  readOnly?: boolean;
}

export class TermView {
  readonly element: HTMLElement;
  readonly term: Terminal;
  renderer: 'webgl' | 'dom' = 'dom';
  private readonly fit = new FitAddon();
  private readonly search = new SearchAddon({ highlightLimit: 500 });
  private readonly searchForm: HTMLFormElement;
  private readonly searchInput: HTMLInputElement;
  private readonly searchCase: HTMLInputElement;
  private readonly searchCount: HTMLElement;
  private readonly screen: HTMLElement;
  private observer: ResizeObserver | null = null;
  private fitPending = 0;
  private clipboardRead = DEFAULTS.clipboardRead;
  /** Applied to every keystroke and paste before it is sent (the touch key bar's sticky Ctrl and Alt). */
  inputFilter: ((data: string) => string) | null = null;

  private readonly fits: boolean;

  constructor(label: string, theme: ThemeName, private readonly handlers: TermHandlers, opts: TermOptions = {}) {
    this.fits = opts.fit ?? true;
    this.term = new Terminal({
      disableStdin: opts.readOnly ?? false,
      allowProposedApi: true, // unicode11 widths and search decorations
      cursorBlink: true,
      cursorStyle: DEFAULTS.cursorStyle,
      fontFamily: DEFAULTS.fontFamily,
      fontSize: DEFAULTS.fontSize,
      lineHeight: 1.2,
      scrollback: DEFAULTS.scrollback,
      // WCAG AA for text: a program's colours (bright red on the light
      // theme) are adjusted until they read against the background.
      minimumContrastRatio: 4.5,
      theme: THEMES[theme],
      macOptionIsMeta: true,
      rightClickSelectsWord: false,
    });

    this.searchInput = h('input', {
      type: 'search',
      id: 'search-input',
      'aria-label': 'Find in terminal',
      placeholder: 'Find',
      autocomplete: 'off',
      spellcheck: 'false',
    });
    this.searchCase = h('input', { type: 'checkbox', id: 'search-case' });
    this.searchCount = h('span', { class: 'search-count', 'aria-live': 'polite' });
    this.searchForm = h(
      'form',
      { class: 'search', role: 'search', 'aria-label': 'Find in terminal', hidden: true },
      this.searchInput,
      h('label', { class: 'check', for: 'search-case' }, this.searchCase, 'Aa'),
      this.searchCount,
      h('button', { type: 'button', 'aria-label': 'Previous match', onclick: () => this.find(false) }, '↑'),
      h('button', { type: 'submit', 'aria-label': 'Next match' }, '↓'),
      h('button', { type: 'button', 'aria-label': 'Close find', onclick: () => this.closeSearch() }, '✕'),
    );
    this.searchForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.find(true);
    });
    this.searchInput.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') {
        ev.preventDefault();
        this.closeSearch();
      } else if (ev.key === 'Enter' && ev.shiftKey) {
        ev.preventDefault();
        this.find(false);
      }
    });
    this.searchInput.addEventListener('input', () => this.find(true, true));
    this.searchCase.addEventListener('change', () => this.find(true, true));

    this.screen = h('div', { class: 'term', role: 'application', 'aria-label': label });
    this.element = h('div', { class: 'term-wrap' }, this.searchForm, this.screen);
  }

  /** Attach to the document (the element must be in it) and start fitting. */
  open(): void {
    const t = this.term;
    t.open(this.screen);
    t.loadAddon(this.fit);
    t.loadAddon(this.search);
    const unicode = new Unicode11Addon();
    t.loadAddon(unicode);
    t.unicode.activeVersion = '11';
    t.loadAddon(
      new WebLinksAddon((ev, uri) => {
        ev.preventDefault();
        window.open(uri, '_blank', 'noopener,noreferrer');
      }),
    );
    // OSC 52 from programs in the pod (tmux, vim, `printf '\e]52;c;BASE64\a'`)
    // sets the browser's clipboard. Reading it back the same way would hand
    // whatever the person copied elsewhere to any program that asks: only
    // when the setting allows; otherwise the answer is empty.
    const provider: IClipboardProvider = {
      readText: (sel: ClipboardSelectionType) =>
        this.clipboardRead && String(sel) === 'c' && navigator.clipboard?.readText ? navigator.clipboard.readText().catch(() => '') : '',
      writeText: (sel: ClipboardSelectionType, text: string) =>
        String(sel) === 'c' && navigator.clipboard?.writeText ? navigator.clipboard.writeText(text).catch(() => legacyCopy(text)) : undefined,
    };
    t.loadAddon(new ClipboardAddon(undefined, provider));
    this.loadWebgl();
    this.search.onDidChangeResults((r) => {
      this.searchCount.textContent =
        r.resultCount === 0 ? 'no matches' : r.resultIndex >= 0 ? `${r.resultIndex + 1}/${r.resultCount}` : `${r.resultCount}+`;
    });

    t.onData((d) => this.handlers.data(this.inputFilter ? this.inputFilter(d) : d));
    t.onBinary((d) => this.handlers.binary(d));
    t.onResize(({ cols, rows }) => this.handlers.resize(cols, rows));
    t.attachCustomKeyEventHandler((ev) => this.key(ev));
    // A click beside the terminal (a watched one smaller than its box) still
    // gives it the keyboard, rather than the page.
    this.screen.addEventListener('mousedown', (ev) => {
      if (ev.target !== this.screen || ev.button !== 0) return;
      ev.preventDefault();
      t.focus();
    });
    // Right-click pastes (through xterm, so bracketed paste is kept when the
    // program asked for it); Shift-right-click still gets the browser's menu.
    this.screen.addEventListener('contextmenu', (ev) => {
      if (ev.shiftKey || !navigator.clipboard?.readText || t.options.disableStdin) return;
      ev.preventDefault();
      navigator.clipboard.readText().then(
        (text) => {
          if (text) t.paste(text);
          t.focus();
        },
        () => this.note('the browser did not allow reading the clipboard; paste with Ctrl-Shift-V'),
      );
    });

    if (!this.fits) return;
    this.observer = new ResizeObserver(() => this.scheduleFit());
    this.observer.observe(this.screen);
    this.fitNow();
  }

  /** The size another terminal has (watch, join): set, not fitted. */
  resizeTo(cols: number, rows: number): void {
    if (cols === this.term.cols && rows === this.term.rows) return;
    this.term.resize(cols, rows);
  }

  private loadWebgl(): void {
    if (softwareWebgl()) {
      // Emulated GL (no GPU, e.g. a VM or headless browser) draws slower than
      // the DOM renderer, and a slow renderer is what a flood waits on.
      this.renderer = 'dom';
      return;
    }
    try {
      const webgl = new WebglAddon();
      webgl.onContextLoss(() => {
        webgl.dispose(); // xterm falls back to its DOM renderer
        this.renderer = 'dom';
      });
      this.term.loadAddon(webgl);
      this.renderer = 'webgl';
    } catch {
      this.renderer = 'dom'; // no WebGL2 here: the DOM renderer is already active
    }
  }

  private key(ev: KeyboardEvent): boolean {
    if (ev.type !== 'keydown' || !ev.ctrlKey || !ev.shiftKey || ev.altKey || ev.metaKey) return true;
    switch (ev.code) {
      case 'KeyF':
        ev.preventDefault();
        this.openSearch();
        return false;
      case 'KeyC':
        ev.preventDefault();
        this.copySelection();
        return false;
      case 'KeyV':
        return false; // the browser pastes; xterm reads the paste event (bracketed if asked)
      case 'KeyE':
        ev.preventDefault();
        this.handlers.leave();
        return false;

      default:
        return true;
    }
  }

  copySelection(): void {
    const text = this.term.getSelection();
    if (!text) return;
    if (navigator.clipboard?.writeText) {
      navigator.clipboard.writeText(text).catch(() => legacyCopy(text));
    } else {
      legacyCopy(text);
    }
  }

  openSearch(): void {
    this.searchForm.hidden = false;
    const sel = this.term.getSelection();
    if (sel && !sel.includes('\n')) this.searchInput.value = sel;
    this.searchInput.focus();
    this.searchInput.select();
    this.scheduleFit();
  }

  closeSearch(): void {
    this.searchForm.hidden = true;
    this.search.clearDecorations();
    this.searchCount.textContent = '';
    this.scheduleFit();
    this.term.focus();
  }

  private find(forward: boolean, incremental = false): void {
    const q = this.searchInput.value;
    if (!q) {
      this.search.clearDecorations();
      this.searchCount.textContent = '';
      return;
    }
    const opts = {
      caseSensitive: this.searchCase.checked,
      incremental,
      decorations: {
        matchBackground: '#4b5d85',
        matchOverviewRuler: '#8da2cf',
        activeMatchBackground: '#b0781a',
        activeMatchColorOverviewRuler: '#ffb454',
      },
    };
    if (forward) this.search.findNext(q, opts);
    else this.search.findPrevious(q, opts);
  }

  setTheme(theme: ThemeName): void {
    this.term.options.theme = THEMES[theme];
  }

  setScreenReader(on: boolean): void {
    this.term.options.screenReaderMode = on;
  }

  applySettings(s: TermSettings): void {
    const o = this.term.options;
    if (o.fontSize !== s.fontSize) o.fontSize = s.fontSize;
    if (o.fontFamily !== s.fontFamily) o.fontFamily = s.fontFamily;
    if (o.cursorStyle !== s.cursorStyle) o.cursorStyle = s.cursorStyle;
    if (o.scrollback !== s.scrollback) o.scrollback = s.scrollback;
    if (o.screenReaderMode !== s.screenReader) o.screenReaderMode = s.screenReader;
    this.clipboardRead = s.clipboardRead;
    this.scheduleFit(); // a new font size changes the cell count
  }

  write(data: Uint8Array | string, done?: () => void): void {
    this.term.write(data, done);
  }

  /** A line from podterm itself (not the process), dimmed. Every note goes
   *  through here: its text (Status messages, a link's command) is made plain,
   *  so it can never move the cursor, clear the screen or fake a prompt. */
  note(text: string): void {
    this.term.write(`\r\n\x1b[2m[podterm] ${plainText(text)}\x1b[0m\r\n`);
  }

  focus(): void {
    this.term.focus();
  }

  private scheduleFit(): void {
    if (this.fitPending) return;
    this.fitPending = requestAnimationFrame(() => {
      this.fitPending = 0;
      this.fitNow();
    });
  }

  fitNow(): void {
    if (!this.fits || !this.screen.isConnected || this.screen.clientWidth === 0) return;
    try {
      this.fit.fit();
    } catch {
      // Not measurable yet (fonts loading, hidden): the next resize retries.
    }
  }

  /** Text of the visible screen plus scrollback, one string per line (tests, debugging). */
  lines(): string[] {
    const buf = this.term.buffer.active;
    const out: string[] = [];
    for (let i = 0; i < buf.length; i++) out.push(buf.getLine(i)?.translateToString(true) ?? '');
    return out;
  }

  /** Cell widths of the last line whose text is exactly text (null if none). */
  cellWidths(text: string): number[] | null {
    const buf = this.term.buffer.active;
    for (let y = buf.length - 1; y >= 0; y--) {
      const line = buf.getLine(y);
      if (!line || line.translateToString(true) !== text) continue;
      const widths: number[] = [];
      for (let x = 0; x < line.length; x++) {
        const cell = line.getCell(x);
        if (cell && cell.getChars() !== '') widths.push(cell.getWidth());
      }
      return widths;
    }
    return null;
  }

  /** The line the cursor is on. */
  cursorLine(): string {
    const buf = this.term.buffer.active;
    return buf.getLine(buf.baseY + buf.cursorY)?.translateToString(true) ?? '';
  }

  dispose(): void {
    this.observer?.disconnect();
    if (this.fitPending) cancelAnimationFrame(this.fitPending);
    this.term.dispose();
    this.element.remove();
  }
}

/** Whether WebGL2 is missing or drawn by a CPU rasteriser (SwiftShader, llvmpipe). */
function softwareWebgl(): boolean {
  try {
    const gl = document.createElement('canvas').getContext('webgl2');
    if (!gl) return true;
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return /swiftshader|llvmpipe|softpipe|software/i.test(name);
  } catch {
    return true;
  }
}

function legacyCopy(text: string): void {
  const ta = h('textarea', { 'aria-hidden': 'true', class: 'offscreen' });
  ta.value = text;
  document.body.append(ta);
  ta.select();
  try {
    document.execCommand('copy');
  } finally {
    ta.remove();
  }
}
