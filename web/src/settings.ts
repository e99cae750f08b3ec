// The person's terminal settings: font, cursor, scrollback, theme, screen
// reader, and whether programs may read the clipboard. Kept in localStorage
// (this browser, every tab): nothing in it is secret, and everything read
// back is checked and clamped, since another page version or a person with
// devtools may have written anything there.

export type ThemeSetting = 'dark' | 'light' | 'system';
export type CursorStyle = 'block' | 'underline' | 'bar';

export interface Settings {
  fontSize: number;
  fontFamily: string;
  cursorStyle: CursorStyle;
  scrollback: number;
  theme: ThemeSetting;
  screenReader: boolean;
  /** Answer OSC 52 clipboard reads (`ESC ] 52 ; c ; ?`): off unless asked. */
  clipboardRead: boolean;
}

export const FONT_SIZE_MIN = 8;
export const FONT_SIZE_MAX = 32;
export const SCROLLBACK_MAX = 100000;
export const FONT_FAMILY_MAX = 200;
export const DEFAULT_FONT = "Menlo, Monaco, 'DejaVu Sans Mono', 'Liberation Mono', Consolas, 'Courier New', monospace";

const KEY = 'podterm.settings';
// The theme had its own key before the settings did: still read, so a
// chosen light theme survives the upgrade.
const OLD_THEME_KEY = 'podterm.theme';

export const DEFAULTS: Readonly<Settings> = {
  fontSize: 13,
  fontFamily: DEFAULT_FONT,
  cursorStyle: 'underline',
  scrollback: 5000,
  theme: 'dark',
  screenReader: false,
  clipboardRead: false,
};

function clampInt(v: unknown, min: number, max: number, dflt: number): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isFinite(n)) return dflt;
  return Math.min(max, Math.max(min, Math.round(n)));
}

/** Any value (storage, a form) made into valid settings. */
export function checkSettings(raw: unknown): Settings {
  const r = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const family = typeof r.fontFamily === 'string' ? r.fontFamily.trim().slice(0, FONT_FAMILY_MAX) : '';
  return {
    fontSize: clampInt(r.fontSize, FONT_SIZE_MIN, FONT_SIZE_MAX, DEFAULTS.fontSize),
    fontFamily: family || DEFAULTS.fontFamily,
    cursorStyle: r.cursorStyle === 'block' || r.cursorStyle === 'bar' ? r.cursorStyle : 'underline',
    scrollback: clampInt(r.scrollback, 0, SCROLLBACK_MAX, DEFAULTS.scrollback),
    theme: r.theme === 'light' || r.theme === 'system' ? r.theme : 'dark',
    screenReader: r.screenReader === true,
    clipboardRead: r.clipboardRead === true,
  };
}

export function loadSettings(): Settings {
  try {
    const text = localStorage.getItem(KEY);
    if (text) return checkSettings(JSON.parse(text));
    const old = localStorage.getItem(OLD_THEME_KEY);
    return checkSettings({ theme: old === 'light' ? 'light' : 'dark' });
  } catch {
    return { ...DEFAULTS };
  }
}

export function saveSettings(s: Settings): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(s));
  } catch {
    // storage off or full: the settings hold for this page only
  }
}
