import { AddedTokenMatcher } from './added-tokens.js';
import { CHAR_CLASS_TABLE, CharClass } from './char-class.js';
import { IdBuffer } from './id-buffer.js';
import { type BertNormalizerOptions, bertNormalize } from './normalizer.js';
import { bertPreTokenize } from './pre-tokenizer.js';
import { WordPiece, type WordPieceOptions, type WordPieceTries } from './wordpiece.js';

export interface WordPieceTokenizerOptions {
  readonly normalizer: BertNormalizerOptions;
  readonly wordPiece: WordPieceOptions;
}

/**
 * What a tokenizer is made of, as structured-clonable data: a worker thread receives it with
 * `postMessage` and rebuilds the tokenizer (`WordPieceTokenizer.fromState`) without reading the
 * folder or building the vocabulary tries again.
 */
export interface WordPieceTokenizerState {
  readonly vocab: ReadonlyMap<string, number>;
  readonly addedTokens: ReadonlyMap<string, number>;
  readonly options: WordPieceTokenizerOptions;
  readonly tries: WordPieceTries;
}

/** The full analysis of one text: what `tokenize(text)` gives the REPL and notebooks. */
export interface Tokenization {
  readonly tokens: string[];
  readonly ids: number[];
  /** Index of the pre-tokenized word each token belongs to (an added token is a word of its own). */
  readonly wordIds: number[];
  /** `[start, end)` of each token in the input, in UTF-16 units (JavaScript string indices). */
  readonly offsets: [number, number][];
}

/**
 * BertTokenizerFast, token for token: added (special) tokens matched on the raw text, then the
 * BERT normalizer, the BERT pre-tokenizer and WordPiece.
 *
 * Two paths share the stages' rules. `analyze` runs the stages one after another with offsets
 * (readable, and what the REPL shows). `encodeInto` fuses them into one pass over the UTF-16 units
 * that allocates nothing per word; it is what the pretraining builder calls millions of times.
 */
export class WordPieceTokenizer {
  readonly model: WordPiece;
  readonly addedTokens: ReadonlyMap<string, number>;
  readonly vocabSize: number;
  /** Token string of each id (vocabulary and added tokens). */
  readonly idToToken: readonly string[];
  /** 1 where the token continues a word (starts with the continuation prefix). */
  readonly isContinuation: Uint8Array;
  private readonly matcher: AddedTokenMatcher;
  private readonly fused: boolean;
  /** Code units that can start an added token, so the fused pass checks for one only there. */
  private readonly addedTokenStart = new Uint8Array(0x10000);
  private readonly scratch = new IdBuffer(4096);

  constructor(
    vocab: ReadonlyMap<string, number>,
    addedTokens: ReadonlyMap<string, number>,
    readonly options: WordPieceTokenizerOptions,
    tries?: WordPieceTries,
  ) {
    this.model = new WordPiece(vocab, options.wordPiece, tries);
    this.addedTokens = addedTokens;
    this.matcher = new AddedTokenMatcher(addedTokens);
    const idToToken: string[] = [];
    for (const [token, id] of vocab) idToToken[id] = token;
    for (const [token, id] of addedTokens) idToToken[id] = token;
    this.idToToken = idToToken;
    this.vocabSize = idToToken.length;
    this.isContinuation = new Uint8Array(idToToken.length);
    const prefix = options.wordPiece.continuingSubwordPrefix;
    idToToken.forEach((token, id) => {
      if (token?.startsWith(prefix) && !addedTokens.has(token)) this.isContinuation[id] = 1;
    });
    const n = options.normalizer;
    // The fused pass implements the configuration of cased BERT vocabularies such as KoBigBird's.
    // Other settings (lowercasing, accent stripping, no CJK padding, no cleaning) take the staged path.
    this.fused = n.cleanText && n.handleChineseChars && !n.lowercase && !n.stripAccents;
    for (const token of addedTokens.keys()) if (token.length > 0) this.addedTokenStart[token.charCodeAt(0)] = 1;
  }

  state(): WordPieceTokenizerState {
    return { vocab: this.model.vocab, addedTokens: this.addedTokens, options: this.options, tries: this.model.tries() };
  }

  static fromState(state: WordPieceTokenizerState): WordPieceTokenizer {
    return new WordPieceTokenizer(state.vocab, state.addedTokens, state.options, state.tries);
  }

  tokenToId(token: string): number | undefined {
    return this.addedTokens.get(token) ?? this.model.vocab.get(token);
  }

  /** Token ids of `text` (no [CLS]/[SEP] added), like `encode(text, add_special_tokens=False).ids`. */
  encode(text: string): Int32Array {
    this.scratch.clear();
    this.encodeInto(text, this.scratch);
    return this.scratch.toArray();
  }

  /**
   * Ids of many texts at once, flat: the ids of `texts[k]` are `ids.subarray(offsets[k], offsets[k + 1])`.
   * One allocation for the whole batch instead of one array per text.
   */
  encodeBatch(texts: readonly string[]): { readonly ids: Int32Array; readonly offsets: Int32Array } {
    const out = new IdBuffer(Math.max(1024, texts.length * 8));
    const offsets = new Int32Array(texts.length + 1);
    for (let k = 0; k < texts.length; k++) {
      this.encodeInto(texts[k], out);
      offsets[k + 1] = out.length;
    }
    return { ids: out.toArray(), offsets };
  }

  /** Token strings, like Hugging Face `tokenizer.tokenize(text)`. */
  tokenize(text: string): string[] {
    return Array.from(this.encode(text), (id) => this.idToToken[id]);
  }

  /** Appends the ids of `text` to `out`; returns the number of ids appended. */
  encodeInto(text: string, out: IdBuffer): number {
    const before = out.length;
    if (!this.fused) {
      for (const id of this.analyze(text).ids) out.push(id);
      return out.length - before;
    }
    this.encodeFused(text, out);
    return out.length - before;
  }

  /** The staged pipeline with word ids and offsets. */
  analyze(text: string): Tokenization {
    const result: Tokenization = { tokens: [], ids: [], wordIds: [], offsets: [] };
    let wordIndex = 0;
    const emit = (id: number, start: number, end: number): void => {
      result.ids.push(id);
      result.tokens.push(this.idToToken[id]);
      result.wordIds.push(wordIndex);
      result.offsets.push([start, end]);
    };
    for (const segment of this.matcher.split(text)) {
      if (segment.kind === 'added') {
        emit(segment.id, segment.start, segment.end);
        wordIndex++;
        continue;
      }
      const normalized = bertNormalize(text.slice(segment.start, segment.end), this.options.normalizer);
      for (const word of bertPreTokenize(normalized.text)) {
        const buffer = new IdBuffer(16);
        this.model.tokenizeRange(word.text, 0, word.text.length, buffer);
        const ids = buffer.toArray();
        const prefixLength = this.options.wordPiece.continuingSubwordPrefix.length;
        let at = word.start;
        for (const id of ids) {
          // Map each piece back through the normalizer's alignment to the original text.
          const token = this.idToToken[id];
          const pieceLength = id === this.model.unkId && ids.length === 1 ? word.end - word.start : token.length - (at > word.start ? prefixLength : 0);
          const pieceEnd = Math.min(word.end, at + pieceLength);
          emit(id, segment.start + normalized.start[at], segment.start + normalized.end[pieceEnd - 1]);
          at = pieceEnd;
        }
        wordIndex++;
      }
    }
    return result;
  }

  /**
   * Added-token matching, normalization, pre-tokenization and WordPiece in one pass. Word characters
   * accumulate into a run; a removed character (clean_text) keeps the word open, so its neighbours
   * join; whitespace closes the word; punctuation and CJK ideographs close it and are words of their own.
   */
  private encodeFused(text: string, out: IdBuffer): void {
    const table = CHAR_CLASS_TABLE;
    const model = this.model;
    const addedTokenStart = this.addedTokenStart;
    const to = text.length;
    let runStart = -1; // start of the current run of word characters
    let carried = ''; // word characters before a removed character inside the same word
    let i = 0;
    while (i < to) {
      let cp = text.charCodeAt(i);
      if (addedTokenStart[cp] === 1) {
        const added = this.matchAddedToken(text, i);
        if (added !== undefined) {
          if (runStart >= 0 || carried !== '') {
            this.emitWord(text, runStart, i, carried, out);
            runStart = -1;
            carried = '';
          }
          out.push(added.id);
          i += added.length;
          continue;
        }
      }
      let width = 1;
      if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < to) {
        const low = text.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          cp = ((cp - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
          width = 2;
        }
      }
      const cls = table[cp];
      if (cls === CharClass.Word) {
        if (runStart < 0) runStart = i;
      } else if (cls === CharClass.Removed) {
        if (runStart >= 0) {
          carried += text.slice(runStart, i);
          runStart = -1;
        }
      } else {
        if (runStart >= 0 || carried !== '') {
          this.emitWord(text, runStart, i, carried, out);
          runStart = -1;
          carried = '';
        }
        if (cls !== CharClass.Whitespace) model.tokenizeRange(text, i, i + width, out);
      }
      i += width;
    }
    if (runStart >= 0 || carried !== '') this.emitWord(text, runStart, to, carried, out);
  }

  private emitWord(text: string, runStart: number, end: number, carried: string, out: IdBuffer): void {
    if (carried === '') {
      this.model.tokenizeRange(text, runStart, end, out);
    } else {
      const word = runStart >= 0 ? carried + text.slice(runStart, end) : carried;
      this.model.tokenizeRange(word, 0, word.length, out);
    }
  }

  /** The longest added token starting at `at` (leftmost-longest, as the Rust AddedVocabulary). */
  private matchAddedToken(text: string, at: number): { readonly id: number; readonly length: number } | undefined {
    return this.matcher.matchAt(text, at);
  }
}
