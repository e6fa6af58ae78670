import type { IdBuffer } from './id-buffer.js';
import { VocabTrie, type VocabTrieState } from './vocab-trie.js';

export interface WordPieceOptions {
  readonly unkToken: string;
  readonly continuingSubwordPrefix: string;
  readonly maxInputCharsPerWord: number;
}

export const DEFAULT_WORDPIECE_OPTIONS: WordPieceOptions = {
  unkToken: '[UNK]',
  continuingSubwordPrefix: '##',
  maxInputCharsPerWord: 100,
};

export interface WordPieceTries {
  readonly initial: VocabTrieState;
  readonly continuation: VocabTrieState;
}

/**
 * The WordPiece model: greedy longest-prefix match of one pre-tokenized word against the vocabulary,
 * continuation pieces carrying the `##` prefix. A word longer than `maxInputCharsPerWord` code points,
 * or one with any position that cannot be matched, becomes a single unknown token.
 *
 * "Longest prefix in the vocabulary" is found by walking a trie forward, which gives the same piece
 * as Hugging Face's try-the-longest-then-shrink loop without building candidate strings.
 */
export class WordPiece {
  readonly unkId: number;
  /** Every vocabulary entry, as written: what may start a word. */
  private readonly initial: VocabTrie;
  /** Entries that carry the continuation prefix, with the prefix removed: what may continue a word. */
  private readonly continuation: VocabTrie;

  /** `tries`: the tables of another WordPiece over the same vocabulary and options (see `tries()`), used as they are. */
  constructor(
    readonly vocab: ReadonlyMap<string, number>,
    readonly options: WordPieceOptions = DEFAULT_WORDPIECE_OPTIONS,
    tries?: WordPieceTries,
  ) {
    const unkId = vocab.get(options.unkToken);
    if (unkId === undefined) throw new Error(`WordPiece: the unknown token ${JSON.stringify(options.unkToken)} is not in the vocabulary`);
    this.unkId = unkId;
    if (tries) {
      this.initial = VocabTrie.fromState(tries.initial);
      this.continuation = VocabTrie.fromState(tries.continuation);
      return;
    }
    let units = 0;
    for (const token of vocab.keys()) units += token.length;
    this.initial = new VocabTrie(units);
    this.continuation = new VocabTrie(units);
    const prefix = options.continuingSubwordPrefix;
    for (const [token, id] of vocab) {
      this.initial.insert(token, id);
      if (token.startsWith(prefix) && token.length > prefix.length) this.continuation.insert(token.slice(prefix.length), id);
    }
    // An empty prefix makes every entry a continuation too (the Rust code allows it).
    if (prefix.length === 0) for (const [token, id] of vocab) this.continuation.insert(token, id);
  }

  /** The tables built from the vocabulary, which a copy in another thread can take instead of building its own. */
  tries(): WordPieceTries {
    return { initial: this.initial.state(), continuation: this.continuation.state() };
  }

  /** Appends the ids of the word `text[start, end)` to `out`. */
  tokenizeRange(text: string, start: number, end: number, out: IdBuffer): void {
    if (end - start > this.options.maxInputCharsPerWord && countCodePoints(text, start, end) > this.options.maxInputCharsPerWord) {
      out.push(this.unkId);
      return;
    }
    const first = out.length;
    let at = start;
    let trie = this.initial;
    while (at < end) {
      let node = 0;
      let bestId = -1;
      let bestEnd = at;
      for (let i = at; i < end; i++) {
        node = trie.child(node, text.charCodeAt(i));
        if (node < 0) break;
        const id = trie.value(node);
        if (id >= 0) {
          bestId = id;
          bestEnd = i + 1;
        }
      }
      if (bestId < 0) {
        out.length = first;
        out.push(this.unkId);
        return;
      }
      out.push(bestId);
      at = bestEnd;
      trie = this.continuation;
    }
  }
}

function countCodePoints(text: string, start: number, end: number): number {
  let count = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}
