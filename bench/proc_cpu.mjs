// proc_cpu.mjs - CPU seconds (user + system) from /proc, for the bench's Node
// clients: one process's (the server's), or the sum over every process whose
// name starts with a prefix (Chromium's many).
import { readdirSync, readFileSync } from 'node:fs';

const CLK_TCK = 100; // Linux's USER_HZ, what /proc/PID/stat counts in

/** [name, utime + stime in ticks] of one process, or null if it is gone. */
function stat(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return [text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')), Number(f[11]) + Number(f[12])];
}

/** One process's CPU seconds (throws if it is gone: a server that died fails the run). */
export function cpuSeconds(pid) {
  const s = stat(pid);
  if (!s) throw new Error(`process ${pid} is gone`);
  return s[1] / CLK_TCK;
}

/** The CPU seconds of every live process whose name starts with prefix. */
export function cpuSecondsOf(prefix) {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^[0-9]+$/.test(d))) {
    const s = stat(pid);
    if (s && s[0].startsWith(prefix)) ticks += s[1];
  }
  return ticks / CLK_TCK;
}
