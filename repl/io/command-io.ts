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
  /** Extra figures shown after the bar, each followed by its name, updated with `update(done, extra)`. */
  readonly extra?: readonly string[];
}

/** An extra figure of a progress display. */
export type ProgressExtraValue = number | string;

export interface ProgressReporter {
  /** A number extra shows with thousands separators; a string (a loss, a learning rate) as it is. */
  update(done: number, extra?: Readonly<Record<string, ProgressExtraValue>>): void;
  /** Ends the display (the bar stays on screen at its final value). */
  stop(): void;
}

/** True for the error a cancelled command rejects with (the signal's default reason or an AbortError). */
export const isAbortError = (error: unknown): boolean => error instanceof Error && error.name === 'AbortError';

/**
 * What a command rejects with when a cancel made it stop cleanly and it has something to say about it
 * (training stopped at a step, with a checkpoint to resume from): shown as `cancelled: MESSAGE`.
 */
export class CancelledWithNote extends Error {
  override name = 'AbortError';
}

/** The note of a cancelled command, if it left one. */
export const cancelNote = (error: unknown): string | undefined => (error instanceof CancelledWithNote ? error.message : undefined);

/** How a cancel is reported: `cancelled`, or `cancelled: NOTE`. */
export const cancelledText = (note: string | undefined): string => (note ? `cancelled: ${note}` : 'cancelled');
