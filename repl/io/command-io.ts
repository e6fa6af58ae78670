/** What a running command reports to, whichever face runs it (command line, REPL, plain script). */
export interface CommandIo {
  /** Aborted when the user cancels (Ctrl-C); long commands pass it to `lib/` and stop cleanly. */
  readonly signal: AbortSignal;
  /** Terminal width for layout (a fixed width where there is no terminal). */
  readonly columns: number;
  /** A block of text (no trailing newline needed). */
  text(text: string): void;
  /** A table with a header row; numbers are right-aligned. */
  table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): void;
  /** A value as JSON: pretty with `indent`, else one line (one record per line for streams). */
  json(value: unknown, options?: { readonly indent?: number }): void;
  /** Starts a progress display; the face decides how (a bar on a terminal, nothing in a log). */
  progress(options: ProgressOptions): ProgressReporter;
}

export interface ProgressOptions {
  readonly label: string;
  readonly total: number;
  /** `bytes` shows done/total and the rate in KB, MB…; `items` as plain counts. */
  readonly unit: 'bytes' | 'items';
  /** Extra counters shown after the bar, updated with `update(done, extra)`. */
  readonly extra?: readonly string[];
}

export interface ProgressReporter {
  update(done: number, extra?: Readonly<Record<string, number>>): void;
  /** Ends the display (the bar stays on screen at its final value). */
  stop(): void;
}

/** True for the error a cancelled command rejects with (the signal's default reason or an AbortError). */
export const isAbortError = (error: unknown): boolean => error instanceof Error && error.name === 'AbortError';
