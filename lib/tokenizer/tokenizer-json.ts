import { byCodePoints } from '../text/compare-code-points.js';
import type { WordPieceTokenizer } from './wordpiece-tokenizer.js';

export interface BertTokenizerJsonOptions {
  /** The folder's `cls_token` (special_tokens_map.json or tokenizer_config.json); BertTokenizer's default otherwise. */
  readonly clsToken?: string;
  /** The folder's `sep_token`. */
  readonly sepToken?: string;
  /**
   * `strip_accents` as tokenizer_config.json has it. BertConverter passes it through unchanged, so a
   * config that says `null` (or nothing: BertTokenizer's default) gives `null` in tokenizer.json, which
   * the Rust normalizer reads as "follow lowercase". The tokenizer itself only keeps the resolved flag,
   * so without this option that flag is written.
   */
  readonly stripAccents?: boolean | null;
}

export interface TokenizerJsonAddedToken {
  readonly id: number;
  readonly content: string;
  readonly single_word: boolean;
  readonly lstrip: boolean;
  readonly rstrip: boolean;
  readonly normalized: boolean;
  readonly special: boolean;
}

export type TemplatePiece =
  | { readonly SpecialToken: { readonly id: string; readonly type_id: number } }
  | { readonly Sequence: { readonly id: 'A' | 'B'; readonly type_id: number } };

export interface TemplateSpecialToken {
  readonly id: string;
  readonly ids: readonly number[];
  readonly tokens: readonly string[];
}

/**
 * A BERT `tokenizer.json`. Objects keyed by token text are Maps: a plain object would move keys that
 * look like array indices ("0", "2019", both in real vocabularies) to the front, out of id order.
 */
export interface TokenizerJson {
  readonly version: '1.0';
  readonly truncation: null;
  readonly padding: null;
  readonly added_tokens: readonly TokenizerJsonAddedToken[];
  readonly normalizer: {
    readonly type: 'BertNormalizer';
    readonly clean_text: boolean;
    readonly handle_chinese_chars: boolean;
    readonly strip_accents: boolean | null;
    readonly lowercase: boolean;
  };
  readonly pre_tokenizer: { readonly type: 'BertPreTokenizer' };
  readonly post_processor: {
    readonly type: 'TemplateProcessing';
    readonly single: readonly TemplatePiece[];
    readonly pair: readonly TemplatePiece[];
    readonly special_tokens: ReadonlyMap<string, TemplateSpecialToken>;
  };
  readonly decoder: { readonly type: 'WordPiece'; readonly prefix: string; readonly cleanup: boolean };
  readonly model: {
    readonly type: 'WordPiece';
    readonly unk_token: string;
    readonly continuing_subword_prefix: string;
    readonly max_input_chars_per_word: number;
    readonly vocab: ReadonlyMap<string, number>;
  };
}

const special = (id: string, typeId: number): TemplatePiece => ({ SpecialToken: { id, type_id: typeId } });
const sequence = (id: 'A' | 'B', typeId: number): TemplatePiece => ({ Sequence: { id, type_id: typeId } });

/**
 * The `tokenizer.json` of the BertTokenizerFast that `tokenizer` reproduces: what transformers'
 * BertConverter builds from vocab.txt and the `tokenizers` library serializes, field for field.
 *
 * Every added token is written as special and not normalized: kbb registers only the folder's special
 * tokens as added tokens, and transformers adds those with `normalized=False, special=True`.
 */
export function bertTokenizerJson(tokenizer: WordPieceTokenizer, options: BertTokenizerJsonOptions = {}): TokenizerJson {
  const { normalizer, wordPiece } = tokenizer.options;
  const stripAccents = options.stripAccents === undefined ? normalizer.stripAccents : options.stripAccents;
  // A stated strip_accents that tokenizes differently from the tokenizer would make a file that disagrees with it.
  if ((stripAccents ?? normalizer.lowercase) !== normalizer.stripAccents) {
    throw new Error(
      `bertTokenizerJson: strip_accents ${JSON.stringify(stripAccents)} with lowercase ${normalizer.lowercase} disagrees with the tokenizer, which ${normalizer.stripAccents ? 'strips' : 'keeps'} accents`,
    );
  }

  const clsToken = options.clsToken ?? '[CLS]';
  const sepToken = options.sepToken ?? '[SEP]';
  const idOf = (token: string, role: string): number => {
    const id = tokenizer.tokenToId(token);
    if (id === undefined) throw new Error(`bertTokenizerJson: the ${role} token ${JSON.stringify(token)} is neither in the vocabulary nor an added token`);
    return id;
  };
  const clsId = idOf(clsToken, 'cls');
  const sepId = idOf(sepToken, 'sep');
  // The Rust serializer writes this map with its keys sorted (by UTF-8 bytes, i.e. by code point).
  const specialTokens = new Map<string, TemplateSpecialToken>(
    [
      ...new Map([
        [clsToken, clsId],
        [sepToken, sepId],
      ]),
    ]
      .sort(byCodePoints(([token]) => token))
      .map(([token, id]) => [token, { id: token, ids: [id], tokens: [token] }]),
  );

  const addedTokens = [...tokenizer.addedTokens]
    .sort(([, a], [, b]) => a - b)
    .map(([content, id]): TokenizerJsonAddedToken => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  // vocab.txt's Map keeps a repeated token at its first position with its last id; the file lists ids in order.
  const vocab = new Map([...tokenizer.model.vocab].sort(([, a], [, b]) => a - b));

  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: addedTokens,
    normalizer: {
      type: 'BertNormalizer',
      clean_text: normalizer.cleanText,
      handle_chinese_chars: normalizer.handleChineseChars,
      strip_accents: stripAccents,
      lowercase: normalizer.lowercase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [special(clsToken, 0), sequence('A', 0), special(sepToken, 0)],
      pair: [special(clsToken, 0), sequence('A', 0), special(sepToken, 0), sequence('B', 1), special(sepToken, 1)],
      special_tokens: specialTokens,
    },
    // BertConverter's decoder uses the model's "##"; kbb's model prefix is the same unless a tokenizer.json said otherwise.
    decoder: { type: 'WordPiece', prefix: wordPiece.continuingSubwordPrefix, cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: wordPiece.unkToken,
      continuing_subword_prefix: wordPiece.continuingSubwordPrefix,
      max_input_chars_per_word: wordPiece.maxInputCharsPerWord,
      vocab,
    },
  };
}

/**
 * The text of a tokenizer.json as the Rust library's `save(path, pretty=true)` writes it: two-space
 * indentation, `"key": value`, Maps as objects in insertion order, no trailing newline.
 */
export function formatTokenizerJson(json: TokenizerJson): string {
  return formatValue(json, '');
}

function formatValue(value: unknown, indent: string): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`formatTokenizerJson: ${value} has no JSON form`);
    return JSON.stringify(value);
  }
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((item) => inner + formatValue(item, inner)).join(',\n')}\n${indent}]`;
  }
  if (typeof value === 'object') {
    const entries = value instanceof Map ? [...(value as Map<unknown, unknown>)] : Object.entries(value);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([key, item]) => `${inner}${JSON.stringify(String(key))}: ${formatValue(item, inner)}`).join(',\n')}\n${indent}}`;
  }
  throw new Error(`formatTokenizerJson: a ${typeof value} has no JSON form`);
}
