import { fileSystemFor, joinPath } from '../fs/index.js';
import type { BertNormalizerOptions } from './normalizer.js';
import { parseTokenizerJson } from './parse-tokenizer-json.js';
import { readOptionalFile } from './read-optional-file.js';
import { MAX_VOCAB_SIZE, tokenizerFileText, tokenizerJsonObject } from './tokenizer-file-text.js';
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
  return bytes === undefined ? undefined : tokenizerJsonObject(file, bytes);
}

/** A special token's text, whether written as a string or as an AddedToken object `{content: …}`. */
export const tokenContent = (value: unknown): string | undefined =>
  typeof value === 'string'
    ? value
    : typeof value === 'object' && value !== null && typeof (value as Json).content === 'string'
      ? ((value as Json).content as string)
      : undefined;

/**
 * The special token `key` of a folder: `special_tokens_map.json`'s, else `tokenizer_config.json`'s.
 * Absent or null is no token; anything but a string or an AddedToken object `{"content": "…"}` is
 * an error naming the file and key (transformers would fail on it later, or worse, not at all).
 */
function specialToken(key: string, config: Json, configFile: string, specialMap: Json, specialMapFile: string): string | undefined {
  const [value, file] = specialMap[key] !== undefined && specialMap[key] !== null ? [specialMap[key], specialMapFile] : [config[key], configFile];
  if (value === undefined || value === null) return undefined;
  const token = tokenContent(value);
  if (token === undefined)
    throw new TokenizerLoadError(file, `${key}: expected a string or an object with a "content" string, found ${JSON.stringify(value)?.slice(0, 60)}`);
  return token;
}

/** The list `additional_special_tokens` of one file: absent or null is none; anything else must be a list of tokens. */
function additionalSpecialTokens(json: Json, file: string): string[] {
  const value = json.additional_special_tokens;
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new TokenizerLoadError(file, 'additional_special_tokens: expected a list of tokens');
  return value.map((item, k) => {
    const token = tokenContent(item);
    if (token === undefined) throw new TokenizerLoadError(file, `additional_special_tokens[${k}]: expected a string or an object with a "content" string`);
    return token;
  });
}

/** A boolean setting of tokenizer_config.json: `fallback` when absent; null is Python's falsy None. */
function configFlag(config: Json, file: string, key: string, fallback: boolean): boolean {
  const value = config[key];
  if (value === undefined) return fallback;
  if (value === null) return false;
  if (typeof value !== 'boolean') throw new TokenizerLoadError(file, `${key}: expected true or false, found ${JSON.stringify(value)?.slice(0, 60)}`);
  return value;
}

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
 * vocab.txt read from its bytes: strict UTF-8, at most `MAX_VOCAB_SIZE` lines, at least one token;
 * each problem a `TokenizerLoadError` naming the file.
 */
export function parseVocabFile(file: string, bytes: Uint8Array): Map<string, number> {
  const vocab = parseVocab(tokenizerFileText(file, bytes));
  if (vocab.size === 0) throw new TokenizerLoadError(file, 'the vocabulary is empty');
  let lines = 0;
  for (const id of vocab.values()) if (id >= lines) lines = id + 1;
  if (lines > MAX_VOCAB_SIZE) throw new TokenizerLoadError(file, `${lines} lines, more than the ${MAX_VOCAB_SIZE} tokens a vocabulary may have`);
  return vocab;
}

/**
 * Loads a Hugging Face tokenizer folder the way `AutoTokenizer.from_pretrained(dir, use_fast=True)`
 * does for a BERT WordPiece tokenizer: `tokenizer.json` when present, else `vocab.txt` converted with
 * the settings of `tokenizer_config.json`, with every special token of `special_tokens_map.json`
 * registered as an added special token. `dir` may be local or `gs://bucket/prefix`.
 */
export async function loadTokenizer(dir: string): Promise<WordPieceTokenizer> {
  const files = folderFiles(dir);
  const config = (await readJson(files.config)) ?? {};
  const specialMap = (await readJson(files.specialMap)) ?? {};
  // Checked whichever file the vocabulary comes from: transformers reads these either way.
  const specials = folderSpecialTokens(files, config, specialMap);
  const tokenizerJson = await readOptionalFile(files.tokenizerJson);
  if (tokenizerJson !== undefined) {
    const parsed = parseTokenizerJson(files.tokenizerJson, tokenizerJson);
    return new WordPieceTokenizer(parsed.vocab, parsed.addedTokens, { normalizer: parsed.normalizer, wordPiece: parsed.wordPiece });
  }

  const vocabBytes = await readOptionalFile(files.vocab);
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
  const vocab = parseVocabFile(files.vocab, vocabBytes);

  const lowercase = configFlag(config, files.config, 'do_lower_case', true);
  const stripAccents =
    config.strip_accents === undefined || config.strip_accents === null ? lowercase : configFlag(config, files.config, 'strip_accents', lowercase);
  const normalizer: BertNormalizerOptions = {
    cleanText: true,
    handleChineseChars: configFlag(config, files.config, 'tokenize_chinese_chars', true),
    lowercase,
    stripAccents,
  };
  const unkToken = specials.unk_token ?? DEFAULT_WORDPIECE_OPTIONS.unkToken;
  const wordPiece: WordPieceOptions = { ...DEFAULT_WORDPIECE_OPTIONS, unkToken };
  if (!vocab.has(unkToken)) throw new TokenizerLoadError(files.vocab, `the unknown token ${JSON.stringify(unkToken)} is not in the vocabulary`);

  // transformers adds the special tokens after conversion; one missing from vocab.txt gets the next free id.
  const added = new Map<string, number>();
  // A loop, not Math.max(...ids): spreading a 230,000-token vocabulary into arguments overflows the stack.
  let nextId = 0;
  for (const id of vocab.values()) if (id >= nextId) nextId = id + 1;
  for (const token of specials.all) {
    // The Rust AddedVocabulary skips an empty token (it would match everywhere, advancing nothing).
    if (added.has(token) || token === '') continue;
    added.set(token, vocab.get(token) ?? nextId++);
  }
  return new WordPieceTokenizer(vocab, added, { normalizer, wordPiece });
}

/** The files of a tokenizer folder kbb reads. */
interface FolderFiles {
  readonly config: string;
  readonly specialMap: string;
  readonly tokenizerJson: string;
  readonly vocab: string;
}

const folderFiles = (dir: string): FolderFiles => ({
  config: joinPath(dir, 'tokenizer_config.json'),
  specialMap: joinPath(dir, 'special_tokens_map.json'),
  tokenizerJson: joinPath(dir, 'tokenizer.json'),
  vocab: joinPath(dir, 'vocab.txt'),
});

/**
 * The special tokens of a folder, checked: each key's token, and every special token in the order
 * transformers registers them (the keys, then `additional_special_tokens` of the config and the map).
 */
function folderSpecialTokens(files: FolderFiles, config: Json, specialMap: Json): Partial<Record<SpecialTokenKey, string>> & { readonly all: string[] } {
  const tokens: Partial<Record<SpecialTokenKey, string>> = {};
  const all: string[] = [];
  for (const key of SPECIAL_TOKEN_KEYS) {
    const token = specialToken(key, config, files.config, specialMap, files.specialMap);
    if (token === undefined) continue;
    tokens[key] = token;
    all.push(token);
  }
  // concat, not push(...list): a long list spread into arguments overflows the stack.
  return { ...tokens, all: all.concat(additionalSpecialTokens(config, files.config), additionalSpecialTokens(specialMap, files.specialMap)) };
}

/**
 * The special tokens a tokenizer folder names (`special_tokens_map.json`, else `tokenizer_config.json`),
 * by key, as transformers' `tokenizer.pad_token` etc. give them; a key the folder does not set is absent.
 */
export async function loadSpecialTokens(dir: string): Promise<Partial<Record<SpecialTokenKey, string>>> {
  const files = folderFiles(dir);
  const config = (await readJson(files.config)) ?? {};
  const specialMap = (await readJson(files.specialMap)) ?? {};
  const { all: _, ...tokens } = folderSpecialTokens(files, config, specialMap);
  return tokens;
}
