export { AddedTokenMatcher, type Segment } from './added-tokens.js';
export { CHAR_CLASS_TABLE, CharClass, charClass } from './char-class.js';
export { type CorpusChunk, corpusChunks } from './corpus-chunks.js';
export { type CorpusWordCounts, type CountCorpusWordsOptions, countCorpusWords, MAX_WORDS_PER_THREAD } from './count-corpus-words.js';
export { IdBuffer } from './id-buffer.js';
export { loadSpecialTokens, loadTokenizer, parseVocab, SPECIAL_TOKEN_KEYS, type SpecialTokenKey, TokenizerLoadError } from './load-tokenizer.js';
export { MergeQueue, PAIR_KEY_BASE } from './merge-queue.js';
export { type BertNormalizerOptions, bertNormalize, type NormalizedString } from './normalizer.js';
export { PairTable } from './pair-table.js';
export { bertPreTokenize, type Word } from './pre-tokenizer.js';
export { type SaveTokenizerFolderOptions, saveTokenizerFolder } from './save-tokenizer-folder.js';
export { SortedRuns } from './sorted-runs.js';
export { forEachWord, splitWords } from './split-words.js';
export {
  type BertTokenizerJsonOptions,
  bertTokenizerJson,
  formatTokenizerJson,
  type TemplatePiece,
  type TemplateSpecialToken,
  type TokenizerJson,
  type TokenizerJsonAddedToken,
} from './tokenizer-json.js';
export {
  TRAINED_TOKENIZER_FILE_NAMES,
  type TrainTokenizerOptions,
  type TrainTokenizerResult,
  trainTokenizer,
  type VocabProgress,
} from './train-tokenizer.js';
export { type TrainedTokenizerFilesOptions, trainedTokenizerFiles } from './trained-tokenizer-files.js';
export { InvalidUtf8Error, WordCounter } from './word-counter.js';
export { mergeWordCounts, sortedWordCounts, type WordCounts } from './word-counts.js';
export { WordLists } from './word-lists.js';
export { DEFAULT_WORDPIECE_OPTIONS, WordPiece, type WordPieceOptions, type WordPieceTries } from './wordpiece.js';
export { type Tokenization, WordPieceTokenizer, type WordPieceTokenizerOptions, type WordPieceTokenizerState } from './wordpiece-tokenizer.js';
export { checkTrainerOptions, type TrainedWordPiece, type TrainWordPieceHooks, trainWordPiece, trainWordPieceAsync } from './wordpiece-trainer.js';
export {
  HF_WORDPIECE_TRAINER_DEFAULTS,
  KBB_VOCAB_DEFAULTS,
  KOBIGBIRD_MODEL_MAX_LENGTH,
  KOBIGBIRD_NORMALIZER,
  KOBIGBIRD_SPECIAL_TOKENS,
  type WordPieceTrainerOptions,
} from './wordpiece-trainer-options.js';
