// The question before a tab whose process still runs is closed (index.html's
// #close-dialog): closing ends that process. Resolves true only on "Close tab".

import { byId } from './dom';
import { plainText } from './text';

let pending: ((ok: boolean) => void) | null = null;
let wired = false;

export function askCloseTab(name: string): Promise<boolean> {
  const dialog = byId<HTMLDialogElement>('close-dialog');
  if (!wired) {
    wired = true;
    dialog.addEventListener('close', () => {
      const done = pending;
      pending = null;
      done?.(dialog.returnValue === 'close');
    });
  }
  if (dialog.open) dialog.close('');
  byId('close-title').textContent = `Close “${plainText(name)}”?`;
  byId('close-message').textContent = 'A process is still running in this tab. Closing the tab ends it.';
  return new Promise<boolean>((resolve) => {
    pending = resolve;
    dialog.returnValue = '';
    dialog.showModal();
    // Cancel first: Enter held from typing `exit` must not end a process.
    byId<HTMLButtonElement>('close-cancel').focus();
  });
}
