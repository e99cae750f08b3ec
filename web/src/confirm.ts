// The question a link with a command must get an answer to before anything
// runs. Any web page can send the browser to #/NS/POD?command=..., and the
// WebSocket would come from podterm's own page, so the server cannot tell:
// the person decides, seeing the argv exactly (control characters shown, not
// acted on). Run, or Enter on it, confirms; Cancel or Escape does not.

import { byId, h } from './dom';
import { visiblePieces } from './text';

// Keys and clicks in the first moments are not an answer: an Enter meant for
// the page the person was on when a link replaced it must not confirm.
const ARM_MS = 500;

export interface CommandTarget {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
}

let pending: ((ok: boolean) => void) | null = null;
let armedAt = 0;
let armTimer = 0;
let wired = false;

function exact(text: string): (Node | string)[] {
  return visiblePieces(text).map((p) =>
    'text' in p ? p.text : h('span', { class: 'ctl', title: `control character U+${p.code.toString(16).toUpperCase().padStart(4, '0')}` }, p.control),
  );
}

function wire(dialog: HTMLDialogElement): void {
  if (wired) return;
  wired = true;
  byId<HTMLFormElement>('run-form').addEventListener('submit', (ev) => {
    if (performance.now() < armedAt) ev.preventDefault();
  });
  dialog.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && ev.repeat) ev.preventDefault(); // a held key is not an answer
  });
  dialog.addEventListener('close', () => {
    // close fires a task later: a question asked since then is not answered by it.
    if (dialog.open) return;
    clearTimeout(armTimer);
    delete dialog.dataset.armed;
    const done = pending;
    pending = null;
    done?.(dialog.returnValue === 'run');
  });
}

/** Ask whether to run t.command; resolves true only on Run. */
export function confirmCommand(t: CommandTarget): Promise<boolean> {
  const dialog = byId<HTMLDialogElement>('run-dialog');
  wire(dialog);
  cancelConfirm();
  const where = byId('run-where');
  where.replaceChildren(...exact(t.pod), t.container ? '/' : '', ...exact(t.container), ' in namespace ', ...exact(t.namespace));
  byId('run-count').textContent = t.command.length === 1 ? '1 argument:' : `${t.command.length} arguments:`;
  byId('run-argv').replaceChildren(...t.command.map((arg) => h('li', {}, h('code', {}, ...exact(arg)))));
  return new Promise<boolean>((resolve) => {
    pending = resolve;
    dialog.returnValue = '';
    armedAt = performance.now() + ARM_MS;
    clearTimeout(armTimer);
    delete dialog.dataset.armed;
    armTimer = window.setTimeout(() => (dialog.dataset.armed = 'true'), ARM_MS);
    dialog.showModal();
    byId<HTMLButtonElement>('run-ok').focus();
  });
}

/** Close the question unanswered (another route replaced it). */
export function cancelConfirm(): void {
  const dialog = byId<HTMLDialogElement>('run-dialog');
  if (dialog.open) dialog.close('');
}
