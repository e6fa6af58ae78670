export { AddedTokenMatcher, type Segment } from './added-tokens.js';
export { CHAR_CLASS_TABLE, CharClass, charClass } from './char-class.js';
export { IdBuffer } from './id-buffer.js';
export { loadSpecialTokens, loadTokenizer, parseVocab, SPECIAL_TOKEN_KEYS, type SpecialTokenKey, TokenizerLoadError } from './load-tokenizer.js';
export { type BertNormalizerOptions, bertNormalize, type NormalizedString } from './normalizer.js';
export { bertPreTokenize, type Word } from './pre-tokenizer.js';
export { type SaveTokenizerFolderOptions, saveTokenizerFolder } from './save-tokenizer-folder.js';
export {
  type BertTokenizerJsonOptions,
  bertTokenizerJson,
  formatTokenizerJson,
  type TemplatePiece,
  type TemplateSpecialToken,
  type TokenizerJson,
  type TokenizerJsonAddedToken,
} from './tokenizer-json.js';
export { DEFAULT_WORDPIECE_OPTIONS, WordPiece, type WordPieceOptions, type WordPieceTries } from './wordpiece.js';
export { type Tokenization, WordPieceTokenizer, type WordPieceTokenizerOptions, type WordPieceTokenizerState } from './wordpiece-tokenizer.js';
