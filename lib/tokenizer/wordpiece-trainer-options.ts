import type { BertNormalizerOptions } from './normalizer.js';

/** What `trainWordPiece` learns and how: the options of Hugging Face's `WordPieceTrainer`. */
export interface WordPieceTrainerOptions {
  /** The vocabulary stops growing at this many entries (special tokens and the alphabet included). */
  readonly vocabSize: number;
  /** A pair seen fewer times than this is never merged; training stops at the first such pair. */
  readonly minFrequency: number;
  /** Keep at most this many characters (the most frequent) before merging; `undefined` keeps them all. */
  readonly limitAlphabet?: number;
  /** Characters always in the alphabet, seen in the corpus or not, and never dropped by `limitAlphabet` first. */
  readonly initialAlphabet: readonly string[];
  /** Tokens given the first ids, in this order. */
  readonly specialTokens: readonly string[];
  /** Marks a piece that continues a word (`##` in BERT). */
  readonly continuingSubwordPrefix: string;
}

/** `WordPieceTrainer::default()` of Hugging Face tokenizers: what `Tokenizer.train(files)` uses for WordPiece. */
export const HF_WORDPIECE_TRAINER_DEFAULTS: WordPieceTrainerOptions = {
  vocabSize: 30000,
  minFrequency: 0,
  limitAlphabet: undefined,
  initialAlphabet: [],
  specialTokens: [],
  continuingSubwordPrefix: '##',
};

/** KoBigBird's special tokens, in the ids 0–6 its tokenizer gives them. */
export const KOBIGBIRD_SPECIAL_TOKENS: readonly string[] = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '<s>', '</s>'];

/** KoBigBird's normalizer: cased, no accent stripping, CJK ideographs padded, text cleaned. */
export const KOBIGBIRD_NORMALIZER: BertNormalizerOptions = { cleanText: true, handleChineseChars: true, lowercase: false, stripAccents: false };

/**
 * What `kbb vocab` trains when not told otherwise: a vocabulary like KoBigBird's (32,500 entries, its
 * special tokens first, its cased normalizer), with the reference trainer's other defaults.
 */
export const KBB_VOCAB_DEFAULTS: WordPieceTrainerOptions & { readonly normalizer: BertNormalizerOptions } = {
  ...HF_WORDPIECE_TRAINER_DEFAULTS,
  vocabSize: 32500,
  specialTokens: KOBIGBIRD_SPECIAL_TOKENS,
  normalizer: KOBIGBIRD_NORMALIZER,
};

/** KoBigBird's tokenizer_config.json `model_max_length`: the 4,096 positions of its model. */
export const KOBIGBIRD_MODEL_MAX_LENGTH = 4096;
