import { table } from '../format.js';
import type { CommandIo } from '../io/command-io.js';
import type { ProgressState } from './progress-state.js';

export interface InkIoOptions {
  readonly signal: AbortSignal;
  readonly columns: number;
  /** A finished block of output. */
  readonly print: (text: string) => void;
  /** The live bar (undefined when it ends). */
  readonly setProgress: (progress: ProgressState | undefined) => void;
  /** A bar that ended: it stays in the output at its last value. */
  readonly printProgress: (progress: ProgressState) => void;
  /** Least time between two live-bar renders (the build reports every read batch). */
  readonly progressIntervalMs?: number;
}

/** The CommandIo of the Ink REPL: output becomes entries above the prompt, progress a live bar. */
export function inkIo(options: InkIoOptions): CommandIo {
  const print = (text: string): void => {
    // After a cancel the command may still print while it unwinds; the prompt has moved on.
    if (!options.signal.aborted) options.print(text.replace(/\n$/, ''));
  };
  return {
    signal: options.signal,
    columns: options.columns,
    text: print,
    table: (header, rows) => print(table(header, rows)),
    json: (value, { indent } = {}) => print(JSON.stringify(value, null, indent)),
    progress(progressOptions) {
      const started = performance.now();
      let state: ProgressState = { ...progressOptions, done: 0, values: {}, started, now: started };
      let shown = 0;
      let stopped = false;
      options.setProgress(state);
      return {
        update(done, values = {}) {
          if (stopped) return;
          const now = performance.now();
          state = { ...state, done, values: { ...state.values, ...values }, now };
          if (now - shown >= (options.progressIntervalMs ?? 80)) {
            shown = now;
            options.setProgress(state);
          }
        },
        stop() {
          if (stopped) return;
          stopped = true;
          options.setProgress(undefined);
          if (!options.signal.aborted) options.printProgress({ ...state, now: performance.now() });
        },
      };
    },
  };
}
