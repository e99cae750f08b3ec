// The commands a transfer runs in the container, each its own exec. Every one
// is `sh -c SCRIPT sh ARG...`: names and paths travel as positional
// arguments, never inside the script text, so no file name is ever parsed as
// shell. The scripts use only sh built-ins plus the tools the probe found,
// and print lines the page parses (parseProbe and friends, no DOM).

/** The tools a transfer may use; the probe reports which exist. */
export const TOOLS = ['tar', 'sha256sum', 'md5sum', 'cat', 'head', 'wc', 'stat', 'ls', 'mkdir', 'mv', 'rm'] as const;
export type Tool = (typeof TOOLS)[number];

/** Prefix of the temporary directory an upload writes into (in the target directory). */
export const TMP_PREFIX = '.podterm-upload-';
/** What a download script prints on stderr before its own lines (the rest is an error text). */
export const META = 'podterm-transfer';

/**
 * A script as one line. podterm (seen at this commit) drops an exec whose
 * command holds a newline without answering, so the scripts are written one
 * statement a line and joined here: with a space after a line that opens a
 * compound (do, then, else, {, in, ;;, a pipe or && / ||), with "; " otherwise.
 */
export function oneLine(script: string): string {
  const lines = script.split('\n').map((l) => l.trim()).filter(Boolean);
  let out = '';
  for (let i = 0; i < lines.length; i++) {
    out += lines[i];
    if (i === lines.length - 1) break;
    out += /(^|\s)(do|then|else|in)$|[{|&;]$/.test(lines[i]) ? ' ' : '; ';
  }
  return out;
}

/**
 * What the container has, and the working directories of the processes that
 * share the probe's parent (the shell sessions of this container; in local
 * mode podterm's children, in a cluster the runtime's execs): start time in
 * ms since the epoch, name, and cwd.
 */
export const PROBE = oneLine(`for t in ${TOOLS.join(' ')}; do command -v "$t" >/dev/null 2>&1 && echo "tool $t"; done
echo "pwd $(pwd -P)"
bt=0; while read -r k v; do [ "$k" = btime ] && bt=$v; done < /proc/stat 2>/dev/null
me=$$
for d in /proc/[0-9]*; do
  p=\${d#/proc/}; [ "$p" = "$me" ] && continue
  st=; read -r st < "$d/stat" 2>/dev/null || continue
  comm=\${st#*\\(}; comm=\${comm%\\)*}; rest=\${st##*\\) }
  set -- $rest; [ "$2" = "$PPID" ] || continue
  c=$(cd "$d/cwd" 2>/dev/null && pwd -P) || continue
  [ -n "$c" ] && printf 'proc %s %s %s %s\\n' "$p" "$((bt * 1000 + \${20} * 10))" "$comm" "$c"
done
exit 0`);

export interface Probe {
  tools: Set<Tool>;
  pwd: string;
  procs: { pid: number; started: number; comm: string; cwd: string }[];
}

export function parseProbe(out: string): Probe {
  const probe: Probe = { tools: new Set(), pwd: '', procs: [] };
  for (const line of out.split('\n')) {
    const sp = line.indexOf(' ');
    const key = line.slice(0, sp);
    const val = line.slice(sp + 1);
    if (key === 'tool' && (TOOLS as readonly string[]).includes(val)) probe.tools.add(val as Tool);
    else if (key === 'pwd') probe.pwd = val;
    else if (key === 'proc') {
      const m = /^(\d+) (\d+) (\S*) (\/.*)$/.exec(val);
      if (m) probe.procs.push({ pid: Number(m[1]), started: Number(m[2]), comm: m[3], cwd: m[4] });
    }
  }
  return probe;
}

const SHELLS = new Set(['bash', 'sh', 'dash', 'ash', 'zsh', 'ksh', 'mksh', 'fish', 'busybox']);

/**
 * The shell session's working directory, as well as it can be told: among the
 * probe's sibling processes, the shells; of those the one started closest to
 * when this page opened its shell. The container's own directory otherwise.
 */
export function guessCwd(probe: Probe, shellOpened: number): string {
  const shells = probe.procs.filter((p) => SHELLS.has(p.comm));
  const pool = shells.length ? shells : probe.procs;
  let best: Probe['procs'][number] | null = null;
  for (const p of pool) {
    if (!best || Math.abs(p.started - shellOpened) < Math.abs(best.started - shellOpened)) best = p;
  }
  return best?.cwd ?? probe.pwd ?? '';
}

/** How a transfer moves bytes, given the tools (null: it cannot). */
export type Method = 'tar' | 'cat' | 'head';

export function uploadMethod(tools: Set<Tool>, canCloseStdin: boolean): Method | null {
  if (!tools.has('mkdir') || !tools.has('mv') || !tools.has('rm')) return null;
  // Without a close signal only a reader that stops by itself will do: head -c.
  if (tools.has('tar') && (canCloseStdin || tools.has('head'))) return 'tar';
  if (tools.has('cat') && canCloseStdin) return 'cat';
  if (tools.has('head')) return 'head';
  return null;
}

export function checksumTool(tools: Set<Tool>): 'sha256' | 'md5' | null {
  if (tools.has('sha256sum')) return 'sha256';
  if (tools.has('md5sum')) return 'md5';
  return null;
}

/**
 * Upload, step 1: make the temporary directory in DIR and write stdin there,
 * as a tar stream (tar) or one file named f0 (cat, head).
 * args: DIR TMP TOTAL METHOD LIMIT ("head" when head -c must end the input) [INDEX].
 */
export const UPLOAD = oneLine(`cd -- "$1" || exit 3
i=\${6:-0}
if [ "$i" = 0 ]; then mkdir -- "$2" || exit 3; fi
cd -- "$2" || exit 3
case "$4" in
tar) if [ "$5" = head ]; then head -c "$3" | tar xf -; else tar xf -; fi ;;
cat) cat > "f$i" ;;
head) head -c "$3" > "f$i" ;;
esac`);

/**
 * Upload, step 2: check every file's size and checksum, then move all of
 * them to their names, or none. args: DIR TMP ALG (sha256|md5|-) then NAME
 * SIZE SUM per file. Prints "bad N size|sum GOT" for each mismatch.
 */
export const FINISH = oneLine(`cd -- "$1" || exit 3
t=$2; alg=$3; shift 3
size() { if command -v wc >/dev/null 2>&1; then n=$(wc -c < "$1") && echo $n
  elif command -v stat >/dev/null 2>&1; then stat -c %s -- "$1"; else echo "$2"; fi; }
check() { i=0; bad=0
  while [ $# -ge 3 ]; do
    f="$t/f$i"
    if [ ! -f "$f" ]; then echo "bad $i missing -"; bad=1
    else
      n=$(size "$f" "$2"); [ "$n" = "$2" ] || { echo "bad $i size $n"; bad=1; }
      if [ "$alg" != - ]; then s=$("\${alg}sum" < "$f") || s=?; s=\${s%% *}
        [ "$s" = "$3" ] || { echo "bad $i sum $s"; bad=1; }; fi
    fi
    i=$((i + 1)); shift 3
  done; return $bad; }
nodir() { i=0
  while [ $# -ge 3 ]; do
    if [ -d "./$1" ]; then echo "bad $i dir -"; return 1; fi
    i=$((i + 1)); shift 3
  done; }
place() { i=0
  while [ $# -ge 3 ]; do mv -f -- "$t/f$i" "./$1" || return 1; i=$((i + 1)); shift 3; done; }
if check "$@" && nodir "$@" && place "$@"; then rm -rf -- "$t"; echo ok; exit 0; fi
rm -rf -- "$t"; exit 1`);

/**
 * Upload cancelled: remove the temporary directory, or first keep what came
 * as NAME.part. args: DIR TMP KEEP(1|0) then NAME per file.
 */
export const CANCEL = oneLine(`cd -- "$1" || exit 3
t=$2; keep=$3; shift 3; i=0
for n in "$@"; do
  [ "$keep" = 1 ] && [ -f "$t/f$i" ] && mv -f -- "$t/f$i" "./$n.part"
  i=$((i + 1))
done
rm -rf -- "$t"`);

/**
 * Download: the size on stderr, the bytes on stdout, then the checksum on
 * stderr. args: PATH READER(cat|head) ALG(sha256|md5|-).
 */
export const DOWNLOAD = oneLine(`f=$1
if [ -d "$f" ]; then echo "$f is a directory" >&2; exit 2; fi
if [ ! -e "$f" ]; then echo "$f: no such file" >&2; exit 2; fi
if [ ! -r "$f" ]; then echo "$f: permission denied" >&2; exit 2; fi
if command -v wc >/dev/null 2>&1; then n=$(wc -c < "$f") || exit 2; n=$((n))
elif command -v stat >/dev/null 2>&1; then n=$(stat -L -c %s -- "$f") || exit 2
else n=-; fi
echo "${META} size $n" >&2
case "$2" in
cat) cat -- "$f" || exit 1 ;;
head) head -c "$n" -- "$f" || exit 1 ;;
esac
if [ "$3" != - ]; then s=$("$3sum" < "$f") || exit 1; echo "${META} sum \${s%% *}" >&2; fi
exit 0`);

/** Names in DIR for completion, directories with a trailing slash. args: DIR */
export const LIST = oneLine(`cd -- "$1" 2>/dev/null || exit 1
if command -v ls >/dev/null 2>&1; then exec ls -p -A; fi
for f in * .*; do case "$f" in .|..) continue ;; esac
  [ -e "$f" ] || continue; if [ -d "$f" ]; then echo "$f/"; else echo "$f"; fi; done`);

/**
 * A name a browser gives a File that is safe to place in a directory. Control
 * characters are refused too: a newline in an exec's command makes podterm
 * drop the connection unanswered (seen at this commit), and no one means one.
 */
export function plainName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && plainPath(name);
}

/** A path that can travel as an exec argument: no control characters. */
export function plainPath(path: string): boolean {
  return !/[\x00-\x1f\x7f]/.test(path);
}

/** "dir" + "name", with one slash between. */
export function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}
