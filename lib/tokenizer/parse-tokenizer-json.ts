import type { BertNormalizerOptions } from './normalizer.js';
import { MAX_VOCAB_SIZE, tokenizerJsonObject } from './tokenizer-file-text.js';
import { TokenizerLoadError } from './tokenizer-load-error.js';
import { DEFAULT_WORDPIECE_OPTIONS, type WordPieceOptions } from './wordpiece.js';

/** What kbb takes from a BERT WordPiece `tokenizer.json`, every part checked. */
export interface ParsedTokenizerJson {
  readonly vocab: Map<string, number>;
  readonly addedTokens: Map<string, number>;
  readonly normalizer: BertNormalizerOptions;
  readonly wordPiece: WordPieceOptions;
}

type Json = Record<string, unknown>;

/** How a JSON value is named in a message: its type, or the value itself when short. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return value.length <= 40 ? JSON.stringify(value) : `a string of ${value.length} characters`;
  return String(value);
}

/** A key path as a message shows it: `model.vocab["[UNK]"]`, `added_tokens[3].id`. */
const keyPath = (parent: string, key: string | number): string =>
  typeof key === 'number'
    ? `${parent}[${key}]`
    : /^[A-Za-z_][A-Za-z0-9_]*$/.test(key)
      ? parent
        ? `${parent}.${key}`
        : key
      : `${parent}[${JSON.stringify(key)}]`;

/**
 * The checks of one tokenizer.json, each failure one `TokenizerLoadError` naming the file, the key
 * path and what was expected, so that no value of the wrong type reaches code that trusts it.
 */
class Shape {
  constructor(private readonly file: string) {}

  fail(path: string, expected: string, value: unknown): never {
    throw new TokenizerLoadError(this.file, `${path}: expected ${expected}, found ${describe(value)}`);
  }

  object(value: unknown, path: string): Json {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(path, 'an object', value);
    return value as Json;
  }

  /** `fallback` when the key is absent; any present value must be a string. */
  string(parent: Json, key: string, path: string, fallback?: string): string {
    const value = parent[key];
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== 'string') this.fail(keyPath(path, key), 'a string', value);
    return value;
  }

  boolean(parent: Json, key: string, path: string, fallback?: boolean): boolean {
    const value = parent[key];
    if (value === undefined && fallback !== undefined) return fallback;
    if (typeof value !== 'boolean') this.fail(keyPath(path, key), 'true or false', value);
    return value;
  }

  /** A non-negative integer below `limit`. */
  count(value: unknown, path: string, limit = Number.MAX_SAFE_INTEGER): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= limit) {
      this.fail(path, `an integer from 0 to ${limit - 1}`, value);
    }
    return value;
  }

  /** `type` must be one of `supported`. */
  type(node: Json, path: string, supported: string): void {
    if (node.type !== supported) {
      throw new TokenizerLoadError(this.file, `${keyPath(path, 'type')} ${describe(node.type)} is not supported (expected "${supported}")`);
    }
  }
}

/**
 * A BERT WordPiece `tokenizer.json` read and checked as a whole, the one place its shape is known:
 * `model` (type "WordPiece", `vocab` mapping each token to an id below `MAX_VOCAB_SIZE`, `unk_token`
 * in the vocabulary), `normalizer` (null or a "BertNormalizer" with its four settings),
 * `pre_tokenizer` ("BertPreTokenizer") and `added_tokens` (non-normalized tokens without strip or
 * single-word options). Anything else is a `TokenizerLoadError` naming the file and the key path.
 * Keys kbb does not use (`post_processor`, `decoder`, `truncation`, …) are not looked at.
 */
export function parseTokenizerJson(file: string, bytes: Uint8Array): ParsedTokenizerJson {
  const json = tokenizerJsonObject(file, bytes);
  const shape = new Shape(file);

  const model = shape.object(json.model, 'model');
  shape.type(model, 'model', 'WordPiece');
  const vocabJson = shape.object(model.vocab, 'model.vocab');
  const vocab = new Map<string, number>();
  for (const token in vocabJson) {
    if (!Object.hasOwn(vocabJson, token)) continue;
    vocab.set(token, shape.count(vocabJson[token], keyPath('model.vocab', token), MAX_VOCAB_SIZE));
  }
  if (vocab.size === 0) throw new TokenizerLoadError(file, 'model.vocab: the vocabulary is empty');
  const wordPiece: WordPieceOptions = {
    unkToken: shape.string(model, 'unk_token', 'model', DEFAULT_WORDPIECE_OPTIONS.unkToken),
    continuingSubwordPrefix: shape.string(model, 'continuing_subword_prefix', 'model', DEFAULT_WORDPIECE_OPTIONS.continuingSubwordPrefix),
    maxInputCharsPerWord:
      model.max_input_chars_per_word === undefined
        ? DEFAULT_WORDPIECE_OPTIONS.maxInputCharsPerWord
        : shape.count(model.max_input_chars_per_word, 'model.max_input_chars_per_word'),
  };
  if (!vocab.has(wordPiece.unkToken)) {
    throw new TokenizerLoadError(file, `model.unk_token ${JSON.stringify(wordPiece.unkToken)} is not in model.vocab`);
  }

  // null: no normalization at all (the Rust library's Option<NormalizerWrapper>).
  let normalizer: BertNormalizerOptions = { cleanText: false, handleChineseChars: false, lowercase: false, stripAccents: false };
  if (json.normalizer !== null) {
    const norm = shape.object(json.normalizer, 'normalizer');
    shape.type(norm, 'normalizer', 'BertNormalizer');
    const lowercase = shape.boolean(norm, 'lowercase', 'normalizer');
    const stripAccents = norm.strip_accents;
    if (stripAccents !== null && stripAccents !== undefined && typeof stripAccents !== 'boolean') {
      shape.fail('normalizer.strip_accents', 'true, false or null', stripAccents);
    }
    normalizer = {
      cleanText: shape.boolean(norm, 'clean_text', 'normalizer'),
      handleChineseChars: shape.boolean(norm, 'handle_chinese_chars', 'normalizer'),
      lowercase,
      // null (or absent) follows lowercase, as BertNormalizer does.
      stripAccents: typeof stripAccents === 'boolean' ? stripAccents : lowercase,
    };
  }

  shape.type(shape.object(json.pre_tokenizer, 'pre_tokenizer'), 'pre_tokenizer', 'BertPreTokenizer');

  const addedTokens = new Map<string, number>();
  const addedJson: unknown = json.added_tokens ?? [];
  if (!Array.isArray(addedJson)) shape.fail('added_tokens', 'an array', addedJson);
  (addedJson as unknown[]).forEach((entry, k) => {
    const path = keyPath('added_tokens', k);
    const token = shape.object(entry, path);
    const content = shape.string(token, 'content', path);
    for (const option of ['normalized', 'lstrip', 'rstrip', 'single_word'] as const) {
      if (shape.boolean(token, option, path, false)) {
        throw new TokenizerLoadError(
          file,
          `${path} ${JSON.stringify(content)}: only non-normalized tokens without strip/single-word options are supported (${option} is true)`,
        );
      }
    }
    const id = shape.count(token.id, `${path}.id`, MAX_VOCAB_SIZE);
    // The Rust AddedVocabulary skips an empty token (it would match everywhere, advancing nothing).
    if (content !== '') addedTokens.set(content, id);
  });
  return { vocab, addedTokens, normalizer, wordPiece };
}
