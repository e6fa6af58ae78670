import type { CommandIo, ProgressExtraValue, ProgressOptions } from './command-io.js';

/** A progress display for a `lib/` callback that reports its total with every update. */
export interface DeferredProgress {
  /** Shows `done` of `total`; the display starts at the first call. */
  readonly update: (done: number, total: number, extra?: Readonly<Record<string, ProgressExtraValue>>) => void;
  /** Ends the display, if it started. */
  readonly stop: () => void;
  /** Whether anything was reported yet. */
  readonly started: boolean;
}

/**
 * Starts `io`'s progress display at the first report, when the total is known:
 * `onProgress: progress.update` in the lib call, `.finally(progress.stop)` after it.
 */
export function deferredProgress(io: CommandIo, options: Omit<ProgressOptions, 'total'>): DeferredProgress {
  let reporter: ReturnType<CommandIo['progress']> | undefined;
  return {
    update: (done, total, extra) => {
      reporter ??= io.progress({ ...options, total });
      reporter.update(done, extra);
    },
    stop: () => reporter?.stop(),
    get started() {
      return reporter !== undefined;
    },
  };
}
