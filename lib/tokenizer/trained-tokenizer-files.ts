import type { BertNormalizerOptions } from './normalizer.js';
import { bertTokenizerJson, formatTokenizerJson } from './tokenizer-json.js';
import { DEFAULT_WORDPIECE_OPTIONS } from './wordpiece.js';
import { WordPieceTokenizer } from './wordpiece-tokenizer.js';

export interface TrainedTokenizerFilesOptions {
  /** The special tokens, as trained (they lead the vocabulary). */
  readonly specialTokens: readonly string[];
  readonly normalizer: BertNormalizerOptions;
  readonly continuingSubwordPrefix: string;
  /** tokenizer_config.json's `model_max_length`: the longest sequence the model takes (KoBigBird: 4096). */
  readonly modelMaxLength: number;
}

/** The special_tokens_map.json key of each special token BERT and KoBigBird name, in KoBigBird's key order. */
const SPECIAL_TOKEN_ROLES: readonly (readonly [key: string, token: string])[] = [
  ['bos_token', '<s>'],
  ['eos_token', '</s>'],
  ['unk_token', '[UNK]'],
  ['sep_token', '[SEP]'],
  ['pad_token', '[PAD]'],
  ['cls_token', '[CLS]'],
  ['mask_token', '[MASK]'],
];
/** BertTokenizer cannot do without these: unknown words, and the [CLS] … [SEP] frame. */
const REQUIRED = ['[UNK]', '[CLS]', '[SEP]'];

/**
 * The files of a Hugging Face BERT tokenizer folder for a trained vocabulary, as [name, content]:
 * vocab.txt (one token per line, line number = id), special_tokens_map.json and tokenizer_config.json
 * laid out as KoBigBird's (BertTokenizer), and the tokenizer.json transformers' BertConverter would
 * build from them. Special tokens named as BERT names them get their roles (`<s>` bos, `</s>` eos,
 * `[UNK]` unk, …); any other is an `additional_special_tokens` entry.
 *
 * `clean_text` has no tokenizer_config.json key: transformers' BertTokenizer always cleans. With it
 * off, only tokenizer.json (which fast tokenizers, and kbb, load first) says so.
 */
export function trainedTokenizerFiles(vocab: readonly string[], options: TrainedTokenizerFilesOptions): [name: string, content: string][] {
  const missing = REQUIRED.filter((token) => !options.specialTokens.includes(token));
  if (missing.length > 0) throw new Error(`a BERT tokenizer needs the special tokens ${missing.join(' ')}; add them to the special tokens`);
  for (const token of vocab) {
    if (/[\r\n]/.test(token)) throw new Error(`token ${JSON.stringify(token)} holds a line break and cannot be written to vocab.txt`);
  }
  const named = new Set(SPECIAL_TOKEN_ROLES.map(([, token]) => token));
  const specialMap: Record<string, unknown> = {};
  for (const [key, token] of SPECIAL_TOKEN_ROLES) if (options.specialTokens.includes(token)) specialMap[key] = token;
  const additional = options.specialTokens.filter((token) => !named.has(token));
  if (additional.length > 0) specialMap.additional_special_tokens = additional;

  const { lowercase, stripAccents, handleChineseChars } = options.normalizer;
  const config: Record<string, unknown> = {
    do_lower_case: lowercase,
    do_basic_tokenize: true,
    never_split: null,
  };
  for (const key of ['unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token', 'bos_token', 'eos_token']) {
    if (specialMap[key] !== undefined) config[key] = specialMap[key];
  }
  if (additional.length > 0) config.additional_special_tokens = additional;
  config.tokenize_chinese_chars = handleChineseChars;
  // null is BertTokenizer's "follow do_lower_case"; written as KoBigBird writes it when it agrees.
  config.strip_accents = stripAccents === lowercase ? null : stripAccents;
  config.model_max_length = options.modelMaxLength;
  config.tokenizer_class = 'BertTokenizer';

  const ids = new Map(vocab.map((token, id) => [token, id]));
  const added = new Map(options.specialTokens.map((token) => [token, ids.get(token)!]));
  const tokenizer = new WordPieceTokenizer(ids, added, {
    normalizer: options.normalizer,
    wordPiece: { ...DEFAULT_WORDPIECE_OPTIONS, continuingSubwordPrefix: options.continuingSubwordPrefix },
  });
  const tokenizerJson = formatTokenizerJson(bertTokenizerJson(tokenizer, { stripAccents: config.strip_accents as boolean | null }));
  return [
    ['vocab.txt', `${vocab.join('\n')}\n`],
    ['special_tokens_map.json', JSON.stringify(specialMap, null, 2)],
    ['tokenizer_config.json', JSON.stringify(config, null, 2)],
    ['tokenizer.json', tokenizerJson],
  ];
}
