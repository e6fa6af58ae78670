import { fileSystemFor, joinPath } from '../fs/index.js';
import type { BertNormalizerOptions } from './normalizer.js';
import { readOptionalFile } from './read-optional-file.js';
import { TokenizerLoadError } from './tokenizer-load-error.js';
import { DEFAULT_WORDPIECE_OPTIONS, type WordPieceOptions } from './wordpiece.js';
import { WordPieceTokenizer } from './wordpiece-tokenizer.js';

/** The special-token keys transformers reads from special_tokens_map.json / tokenizer_config.json. */
export const SPECIAL_TOKEN_KEYS = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'] as const;
export type SpecialTokenKey = (typeof SPECIAL_TOKEN_KEYS)[number];

export { TokenizerLoadError } from './tokenizer-load-error.js';

type Json = Record<string, unknown>;

async function readJson(file: string): Promise<Json | undefined> {
  const bytes = await readOptionalFile(file);
  if (bytes === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('expected a JSON object');
    return value as Json;
  } catch (error) {
    throw new TokenizerLoadError(file, `invalid JSON (${(error as Error).message})`);
  }
}

/** A special token's text, whether written as a string or as an AddedToken object `{content: …}`. */
export const tokenContent = (value: unknown): string | undefined =>
  typeof value === 'string'
    ? value
    : typeof value === 'object' && value !== null && typeof (value as Json).content === 'string'
      ? ((value as Json).content as string)
      : undefined;

/**
 * vocab.txt as transformers' `load_vocab` reads it: universal newlines (Python text mode), one token
 * per line, the line number is the id, a later duplicate wins.
 */
export function parseVocab(text: string): Map<string, number> {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const vocab = new Map<string, number>();
  lines.forEach((token, id) => {
    vocab.set(token, id);
  });
  return vocab;
}

/**
 * Loads a Hugging Face tokenizer folder the way `AutoTokenizer.from_pretrained(dir, use_fast=True)`
 * does for a BERT WordPiece tokenizer: `tokenizer.json` when present, else `vocab.txt` converted with
 * the settings of `tokenizer_config.json`, with every special token of `special_tokens_map.json`
 * registered as an added special token. `dir` may be local or `gs://bucket/prefix`.
 */
export async function loadTokenizer(dir: string): Promise<WordPieceTokenizer> {
  const configFile = joinPath(dir, 'tokenizer_config.json');
  const config = (await readJson(configFile)) ?? {};
  const specialMap = (await readJson(joinPath(dir, 'special_tokens_map.json'))) ?? {};
  const tokenizerJsonFile = joinPath(dir, 'tokenizer.json');
  const tokenizerJson = await readOptionalFile(tokenizerJsonFile);
  if (tokenizerJson !== undefined) return fromTokenizerJson(tokenizerJsonFile, tokenizerJson.toString('utf8'), config, specialMap);

  const vocabFile = joinPath(dir, 'vocab.txt');
  const vocabBytes = await readOptionalFile(vocabFile);
  if (vocabBytes === undefined) {
    // Only now, on the way to an error, is it worth a request to tell a missing folder from an incomplete one.
    const folder = await fileSystemFor(dir).stat(dir);
    throw new TokenizerLoadError(
      dir,
      !folder
        ? 'tokenizer folder not found'
        : folder.isDirectory
          ? 'no vocab.txt or tokenizer.json in this tokenizer folder'
          : 'not a folder (expected a tokenizer folder with vocab.txt or tokenizer.json)',
    );
  }
  const vocab = parseVocab(vocabBytes.toString('utf8'));
  if (vocab.size === 0) throw new TokenizerLoadError(vocabFile, 'the vocabulary is empty');

  const lowercase = config.do_lower_case === undefined ? true : Boolean(config.do_lower_case);
  const stripAccents = config.strip_accents === undefined || config.strip_accents === null ? lowercase : Boolean(config.strip_accents);
  const normalizer: BertNormalizerOptions = {
    cleanText: true,
    handleChineseChars: config.tokenize_chinese_chars === undefined ? true : Boolean(config.tokenize_chinese_chars),
    lowercase,
    stripAccents,
  };
  const unkToken = tokenContent(specialMap.unk_token ?? config.unk_token) ?? DEFAULT_WORDPIECE_OPTIONS.unkToken;
  const wordPiece: WordPieceOptions = { ...DEFAULT_WORDPIECE_OPTIONS, unkToken };
  if (!vocab.has(unkToken)) throw new TokenizerLoadError(vocabFile, `the unknown token ${JSON.stringify(unkToken)} is not in the vocabulary`);

  // transformers adds the special tokens after conversion; one missing from vocab.txt gets the next free id.
  const specials: string[] = [];
  for (const key of SPECIAL_TOKEN_KEYS) {
    const token = tokenContent(specialMap[key] ?? config[key]);
    if (token !== undefined) specials.push(token);
  }
  for (const source of [config.additional_special_tokens, specialMap.additional_special_tokens]) {
    if (Array.isArray(source)) for (const t of source) if (tokenContent(t) !== undefined) specials.push(tokenContent(t)!);
  }
  const added = new Map<string, number>();
  let nextId = Math.max(...vocab.values()) + 1;
  for (const token of specials) {
    if (added.has(token)) continue;
    added.set(token, vocab.get(token) ?? nextId++);
  }
  return new WordPieceTokenizer(vocab, added, { normalizer, wordPiece });
}

/**
 * The special tokens a tokenizer folder names (`special_tokens_map.json`, else `tokenizer_config.json`),
 * by key, as transformers' `tokenizer.pad_token` etc. give them; a key the folder does not set is absent.
 */
export async function loadSpecialTokens(dir: string): Promise<Partial<Record<SpecialTokenKey, string>>> {
  const config = (await readJson(joinPath(dir, 'tokenizer_config.json'))) ?? {};
  const specialMap = (await readJson(joinPath(dir, 'special_tokens_map.json'))) ?? {};
  const tokens: Partial<Record<SpecialTokenKey, string>> = {};
  for (const key of SPECIAL_TOKEN_KEYS) {
    const token = tokenContent(specialMap[key] ?? config[key]);
    if (token !== undefined) tokens[key] = token;
  }
  return tokens;
}

function fromTokenizerJson(file: string, text: string, config: Json, specialMap: Json): WordPieceTokenizer {
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch (error) {
    throw new TokenizerLoadError(file, `invalid JSON (${(error as Error).message})`);
  }
  const model = json.model as Json | undefined;
  if (model?.type !== 'WordPiece') throw new TokenizerLoadError(file, `model type ${JSON.stringify(model?.type)} is not supported (expected "WordPiece")`);
  const norm = json.normalizer as Json | null;
  if (norm && norm.type !== 'BertNormalizer')
    throw new TokenizerLoadError(file, `normalizer ${JSON.stringify(norm.type)} is not supported (expected "BertNormalizer")`);
  const pre = json.pre_tokenizer as Json | null;
  if (pre?.type !== 'BertPreTokenizer')
    throw new TokenizerLoadError(file, `pre_tokenizer ${JSON.stringify(pre?.type)} is not supported (expected "BertPreTokenizer")`);
  const lowercase = norm ? Boolean(norm.lowercase) : false;
  const normalizer: BertNormalizerOptions = {
    cleanText: norm ? Boolean(norm.clean_text) : false,
    handleChineseChars: norm ? Boolean(norm.handle_chinese_chars) : false,
    lowercase,
    stripAccents: norm ? (norm.strip_accents === null || norm.strip_accents === undefined ? lowercase : Boolean(norm.strip_accents)) : false,
  };
  const vocab = new Map<string, number>(Object.entries(model.vocab as Record<string, number>));
  const wordPiece: WordPieceOptions = {
    unkToken: String(model.unk_token ?? DEFAULT_WORDPIECE_OPTIONS.unkToken),
    continuingSubwordPrefix: String(model.continuing_subword_prefix ?? '##'),
    maxInputCharsPerWord: Number(model.max_input_chars_per_word ?? 100),
  };
  const added = new Map<string, number>();
  for (const token of (json.added_tokens as Json[] | undefined) ?? []) {
    if (token.normalized === true || token.lstrip === true || token.rstrip === true || token.single_word === true) {
      throw new TokenizerLoadError(
        file,
        `added token ${JSON.stringify(token.content)}: only non-normalized tokens without strip/single-word options are supported`,
      );
    }
    added.set(String(token.content), Number(token.id));
  }
  void config;
  void specialMap;
  return new WordPieceTokenizer(vocab, added, { normalizer, wordPiece });
}
