// The tar stream of an upload, written by the page: a ustar header before
// each file, zero padding to 512 bytes after it, two zero blocks at the end.
// Entry names are short ASCII names the page makes up (f0, f1, ...) inside a
// temporary directory; the real names go to the finishing step as arguments,
// so nothing about a file's name (length, UTF-8, a leading dash) has to fit
// into a tar header. Pure functions of numbers, no DOM.

export const TAR_BLOCK = 512;
/** The end of an archive: two zero blocks. */
export const TAR_END = 2 * TAR_BLOCK;
/** Largest size the 11 octal digits of a ustar header hold; larger sizes use GNU's base-256 form. */
const OCTAL_SIZE_MAX = 0o77777777777;

const ascii = new TextEncoder();

function putString(h: Uint8Array, off: number, len: number, s: string): void {
  h.set(ascii.encode(s).subarray(0, len), off);
}

/** n as len-1 octal digits and a NUL, as ustar's numeric fields are. */
function putOctal(h: Uint8Array, off: number, len: number, n: number): void {
  putString(h, off, len - 1, Math.floor(n).toString(8).padStart(len - 1, '0'));
  h[off + len - 1] = 0;
}

/** A ustar header of a regular file. name: ASCII, at most 100 bytes. */
export function tarHeader(name: string, size: number, mtimeSeconds: number, mode = 0o644): Uint8Array {
  if (!/^[\x21-\x7e]{1,100}$/.test(name)) throw new Error('tar entry names are short ASCII names');
  const h = new Uint8Array(TAR_BLOCK);
  putString(h, 0, 100, name);
  putOctal(h, 100, 8, mode);
  putOctal(h, 108, 8, 0); // uid
  putOctal(h, 116, 8, 0); // gid
  if (size <= OCTAL_SIZE_MAX) {
    putOctal(h, 124, 12, size);
  } else {
    // GNU base-256: the high bit of the first byte set, the size big-endian in the rest.
    let v = size;
    for (let i = 11; i >= 1; i--) {
      h[124 + i] = v % 256;
      v = Math.floor(v / 256);
    }
    h[124] = 0x80;
  }
  putOctal(h, 136, 12, Math.max(0, mtimeSeconds));
  h.fill(0x20, 148, 156); // the checksum field counts as spaces while summing
  h[156] = 0x30; // '0': a regular file
  putString(h, 257, 6, 'ustar'); // "ustar\0"
  putString(h, 263, 2, '00');
  let sum = 0;
  for (const b of h) sum += b;
  putString(h, 148, 6, sum.toString(8).padStart(6, '0'));
  h[154] = 0;
  h[155] = 0x20;
  return h;
}

/** Zero bytes that follow size bytes of data up to the next block. */
export function tarPadding(size: number): number {
  return (TAR_BLOCK - (size % TAR_BLOCK)) % TAR_BLOCK;
}

/** Bytes of the whole archive of files of these sizes. */
export function tarLength(sizes: number[]): number {
  return sizes.reduce((n, s) => n + TAR_BLOCK + s + tarPadding(s), 0) + TAR_END;
}
