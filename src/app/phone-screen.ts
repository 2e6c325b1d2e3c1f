/**
 * Puts the phone's view (phone-view.ts) on a terminal with ANSI escapes only: the event lines
 * scroll as before, the view sits below the last of them, and readline's prompt (when shown)
 * stays below the view. Each repaint goes back up to the view's first row, erases to the end of
 * the screen, writes the new event lines, the view again, and lets readline redraw the prompt
 * with what the user was typing.
 *
 * Cursor rows are counted by us: the view's lines are cut to the width (less one column, so that
 * no terminal wraps them), the prompt's rows come from readline. Lines written to the terminal
 * by anyone else break the count; the phone writes only through here while the view is on.
 */

/** Where the screen writes: a TTY's WriteStream (columns undefined: 80). */
export interface ScreenOutput {
  write(text: string): unknown;
  readonly columns?: number | undefined;
}

/** The readline prompt, when there is one. */
export interface ScreenPrompt {
  /** The prompt is on the screen below the view (a line is being read). */
  shown(): boolean;
  /** The cursor's row within the prompt and the line typed so far (0: the prompt's first row). */
  cursorRow(): number;
  /** Writes the prompt and the line typed so far again, from the current cursor row. */
  redraw(): void;
}

export interface PhoneScreenOptions {
  readonly output: ScreenOutput;
  /** Where error lines go (stderr, the same terminal); default: output. */
  readonly errors?: ScreenOutput;
  /** The view's lines for this width. */
  readonly render: (width: number) => readonly string[];
  readonly prompt?: ScreenPrompt;
  /** Repaint period, ms (default 1000): durations and media figures move. */
  readonly periodMs?: number;
}

const ERASE_DOWN = '\x1b[J';

/**
 * The bytes that take the cursor from `up` rows below the view's first row (at any column) back
 * to it and erase everything from there on.
 */
export function eraseFrom(up: number): string {
  return `\r${up > 0 ? `\x1b[${up}A` : ''}${ERASE_DOWN}`;
}

/** Rows a line of `length` characters takes on a terminal `columns` wide (at least 1). */
export function rowsOf(length: number, columns: number): number {
  return Math.max(1, Math.ceil(length / Math.max(1, columns)));
}

export class PhoneScreen {
  readonly #output: ScreenOutput;
  readonly #errors: ScreenOutput;
  readonly #render: (width: number) => readonly string[];
  readonly #prompt: ScreenPrompt | undefined;
  readonly #periodMs: number;
  /** Rows of the view on the screen, above the cursor's row (or the prompt's first row). */
  #height = 0;
  /** Rows of an entered line, between the view and the cursor. */
  #entered = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: PhoneScreenOptions) {
    this.#output = options.output;
    this.#errors = options.errors ?? options.output;
    this.#render = options.render;
    this.#prompt = options.prompt;
    this.#periodMs = options.periodMs ?? 1000;
  }

  /** Draws the view and repaints it every period until close(). */
  start(): void {
    this.print([]);
    this.#timer = setInterval(() => this.print([]), this.#periodMs);
    // The view never keeps the phone up.
    this.#timer.unref();
  }

  /** Lines above the view (events on output; `toErrors`: on the error stream), then the view again. */
  print(lines: readonly string[], toErrors = false): void {
    this.#paint(lines, toErrors, this.#prompt?.shown() === true);
  }

  #paint(lines: readonly string[], toErrors: boolean, prompting: boolean): void {
    if (this.#closed) return;
    const cursorRow = prompting ? this.#prompt!.cursorRow() : 0;
    this.#output.write(eraseFrom(this.#height + this.#entered + cursorRow));
    this.#entered = 0;
    if (lines.length > 0) (toErrors ? this.#errors : this.#output).write(lines.map((l) => `${l}\n`).join(''));
    const view = this.#render(this.#width());
    this.#height = view.length;
    let text = view.map((l) => `${l}\n`).join('');
    // readline goes up `cursorRow` rows before it redraws the prompt: these rows are its to erase.
    if (prompting) text += '\n'.repeat(cursorRow);
    this.#output.write(text);
    if (prompting) this.#prompt!.redraw();
  }

  /**
   * The user entered `text` (the prompt and the line): readline moved the cursor below it. It is
   * written again above the view, where the events that follow it go.
   */
  entered(text: string): void {
    if (this.#closed) return;
    this.#entered += rowsOf(text.length, this.#output.columns || 80);
    // The prompt is gone with the line, whatever the phone says: the command runs now.
    this.#paint([text], false, false);
  }

  /** Stops the repaints and leaves the last view on the screen, the cursor below it. */
  close(): void {
    if (this.#closed) return;
    clearInterval(this.#timer);
    this.print([]);
    this.#closed = true;
  }

  /** The view's width: one column less than the terminal's, so that a full line does not wrap. */
  #width(): number {
    return Math.max(20, (this.#output.columns || 80) - 1);
  }
}
