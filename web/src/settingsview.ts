// The Settings dialog (index.html's #settings-dialog): shows the settings,
// applies each change at once (the terminal behind it shows the result) and
// hands it to the page, which keeps it. Reset goes back to the defaults.

import { byId } from './dom';
import { checkSettings, DEFAULTS, type Settings } from './settings';

export class SettingsDialog {
  private readonly dialog = byId<HTMLDialogElement>('settings-dialog');
  private readonly form = byId<HTMLFormElement>('settings-form');
  private readonly fontSize = byId<HTMLInputElement>('set-font-size');
  private readonly fontFamily = byId<HTMLInputElement>('set-font-family');
  private readonly cursor = byId<HTMLSelectElement>('set-cursor');
  private readonly scrollback = byId<HTMLInputElement>('set-scrollback');
  private readonly theme = byId<HTMLSelectElement>('set-theme');
  private readonly screenReader = byId<HTMLInputElement>('set-sr');
  private readonly clipboardRead = byId<HTMLInputElement>('set-clip-read');
  private returnFocus: HTMLElement | null = null;

  constructor(
    private readonly current: () => Settings,
    private readonly changed: (s: Settings) => void,
  ) {
    // 'change', not 'input': a font size typed digit by digit is not applied at "1".
    this.form.addEventListener('change', () => this.changed(this.read()));
    byId('settings-reset').addEventListener('click', () => {
      this.show({ ...DEFAULTS });
      this.changed({ ...DEFAULTS });
    });
    this.dialog.addEventListener('close', () => {
      this.changed(this.read());
      this.returnFocus?.focus();
      this.returnFocus = null;
    });
  }

  open(returnFocus: HTMLElement | null): void {
    if (this.dialog.open) return;
    this.returnFocus = returnFocus;
    this.show(this.current());
    this.dialog.showModal();
    this.fontSize.focus();
  }

  get isOpen(): boolean {
    return this.dialog.open;
  }

  private show(s: Settings): void {
    this.fontSize.value = String(s.fontSize);
    this.fontFamily.value = s.fontFamily;
    this.cursor.value = s.cursorStyle;
    this.scrollback.value = String(s.scrollback);
    this.theme.value = s.theme;
    this.screenReader.checked = s.screenReader;
    this.clipboardRead.checked = s.clipboardRead;
  }

  private read(): Settings {
    const s = checkSettings({
      fontSize: this.fontSize.value,
      fontFamily: this.fontFamily.value,
      cursorStyle: this.cursor.value,
      scrollback: this.scrollback.value,
      theme: this.theme.value,
      screenReader: this.screenReader.checked,
      clipboardRead: this.clipboardRead.checked,
    });
    this.show(s); // clamped values shown as they are applied
    return s;
  }
}
