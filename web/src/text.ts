// Text from outside the page (a Status message, a link's command) shown by
// the page itself. Into the terminal it goes as plain text: an escape sequence
// in it would act (clear the screen, print a fake prompt, set the title), so
// sequences and control characters are removed. In the command confirmation
// they are shown instead, so the person sees exactly what would run.

// ESC- or C1-introduced sequences, each as a whole: strings (OSC, DCS, SOS,
// PM, APC) up to their terminator or the end, CSI with its parameters, and
// the two-character escapes.
const SEQUENCE =
  /(?:\x1b[P\]X^_]|[\x90\x98\x9d\x9e\x9f])[\s\S]*?(?:\x07|\x1b\\|\x9c|$)|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?|\x1b[ -/]*[0-~]?/g;
// What is left: C0, DEL, C1, and the format characters that reorder text.
const CONTROL = /[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const SPACING = /[\t\n\v\f\r]+/g;

/** Plain text for the terminal: sequences dropped, line breaks and tabs as one space, other controls dropped. */
export function plainText(text: string): string {
  return text.replace(SEQUENCE, '').replace(SPACING, ' ').replace(CONTROL, '');
}

/** Runs of ordinary text and single control characters, for showing text exactly. */
export type Piece = { text: string } | { control: string; code: number };

export function visiblePieces(text: string): Piece[] {
  const out: Piece[] = [];
  let last = 0;
  for (const m of text.matchAll(CONTROL)) {
    const at = m.index ?? 0;
    if (at > last) out.push({ text: text.slice(last, at) });
    const code = m[0].charCodeAt(0);
    out.push({ control: controlName(code), code });
    last = at + m[0].length;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}

const C0_NAMES: Record<number, string> = { 0x09: '\\t', 0x0a: '\\n', 0x0d: '\\r', 0x1b: 'ESC' };

function controlName(code: number): string {
  if (C0_NAMES[code]) return C0_NAMES[code];
  const hex = code.toString(16).toUpperCase();
  return code <= 0xff ? `\\x${hex.padStart(2, '0')}` : `U+${hex.padStart(4, '0')}`;
}
