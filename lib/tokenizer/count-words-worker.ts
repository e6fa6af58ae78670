import { parentPort, workerData } from 'node:worker_threads';
import type { BertNormalizerOptions } from './normalizer.js';
import { InvalidUtf8Error, WordCounter } from './word-counter.js';

/** What the main thread sends a counting thread: chunks, then `finish`. */
export type CountWordsCommand =
  | { readonly kind: 'utf8'; readonly id: number; readonly bytes: Uint8Array }
  | { readonly kind: 'text'; readonly id: number; readonly text: string }
  | { readonly kind: 'finish' };

/** What a counting thread answers: each chunk counted (or not UTF-8), and at the end its sorted counts. */
export type CountWordsReply =
  | { readonly kind: 'counted'; readonly id: number }
  | { readonly kind: 'invalid-utf8'; readonly id: number }
  /** Sorted counts: whenever the thread holds `maxWords` distinct words, and at the end (`last`). */
  | { readonly kind: 'counts'; readonly words: string[]; readonly counts: Float64Array; readonly last: boolean }
  | { readonly kind: 'error'; readonly message: string };

export interface CountWordsWorkerData {
  readonly normalizer: BertNormalizerOptions;
  readonly maxWords: number;
}

const port = parentPort!;
const { normalizer, maxWords } = workerData as CountWordsWorkerData;
const counter = new WordCounter(normalizer);
const handOver = (last: boolean): void => {
  const { words, counts } = counter.takeSorted();
  port.postMessage({ kind: 'counts', words, counts, last } satisfies CountWordsReply, [counts.buffer as ArrayBuffer]);
};
port.on('message', (command: CountWordsCommand) => {
  try {
    if (command.kind === 'finish') {
      handOver(true);
      port.close();
      return;
    }
    if (command.kind === 'utf8') counter.addUtf8(command.bytes);
    else counter.add(command.text);
    if (counter.size >= maxWords) handOver(false);
    port.postMessage({ kind: 'counted', id: command.id } satisfies CountWordsReply);
  } catch (error) {
    if (error instanceof InvalidUtf8Error && command.kind === 'utf8') port.postMessage({ kind: 'invalid-utf8', id: command.id } satisfies CountWordsReply);
    else port.postMessage({ kind: 'error', message: error instanceof Error ? error.message : String(error) } satisfies CountWordsReply);
  }
});
