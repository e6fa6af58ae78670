import type { ProgressExtraValue, ProgressOptions } from '../io/command-io.js';

/** A progress display's state as the Ink bar renders it. */
export interface ProgressState extends ProgressOptions {
  readonly done: number;
  readonly values: Readonly<Record<string, ProgressExtraValue>>;
  /** performance.now() at the start, for rate and ETA. */
  readonly started: number;
  /** performance.now() at this update. */
  readonly now: number;
}
