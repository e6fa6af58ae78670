import type { BertNormalizerOptions } from './normalizer.js';
import { forEachWord } from './split-words.js';
import { sortedWordCounts } from './word-counts.js';

/** Thrown by `WordCounter.addUtf8` when the bytes are not UTF-8. */
export class InvalidUtf8Error extends Error {}

/** Counts the words of the texts it is given (see `forEachWord`). */
export class WordCounter {
  private counts = new Map<string, number>();
  // Kept: the reference reads a byte-order mark as U+FEFF, which clean_text drops like any format character.
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  private readonly visit = (word: string): void => {
    this.counts.set(word, (this.counts.get(word) ?? 0) + 1);
  };

  constructor(private readonly normalizer: BertNormalizerOptions) {}

  /** Distinct words so far. */
  get size(): number {
    return this.counts.size;
  }

  add(text: string): void {
    forEachWord(text, this.normalizer, this.visit);
  }

  /** Whole lines of UTF-8 text: a chunk boundary must not fall inside a word. */
  addUtf8(bytes: Uint8Array): void {
    let text: string;
    try {
      text = this.decoder.decode(bytes);
    } catch {
      throw new InvalidUtf8Error('invalid UTF-8');
    }
    this.add(text);
  }

  /** The counts so far, sorted (see `sortedWordCounts`); the counter starts again from nothing. */
  takeSorted(): { words: string[]; counts: Float64Array } {
    const sorted = sortedWordCounts(this.counts);
    this.counts = new Map();
    return sorted;
  }
}
