import { firstInvalidUtf8 } from '../corpus/utf8.js';
import { TokenizerLoadError } from './tokenizer-load-error.js';

/**
 * Largest tokenizer file kbb reads (vocab.txt, tokenizer.json, the JSON configs). A 250,000-token
 * tokenizer.json is about 10 MB; the limit keeps a hostile file from growing into a string V8 cannot
 * make (about 512 M characters) and says so by name instead.
 */
export const MAX_TOKENIZER_FILE_BYTES = 256 * 1024 * 1024;

/**
 * Largest vocabulary (and so largest token id + 1) kbb accepts. The largest published BERT-style
 * vocabularies have a few hundred thousand entries; a token id sizes the model's embedding table and
 * kbb's id-indexed arrays, so an id of 4 billion in a hostile tokenizer.json would otherwise be an
 * allocation of that size.
 */
export const MAX_VOCAB_SIZE = 1 << 24;

/**
 * The text of a tokenizer file, decoded as Python's `open(file, encoding="utf-8")` decodes it:
 * strictly (invalid UTF-8 is an error naming the line and byte, where Node would put U+FFFD in
 * silently), a byte-order mark kept.
 */
export function tokenizerFileText(file: string, bytes: Uint8Array): string {
  if (bytes.length > MAX_TOKENIZER_FILE_BYTES) {
    throw new TokenizerLoadError(file, `${bytes.length} bytes, more than a tokenizer file may have (${MAX_TOKENIZER_FILE_BYTES} bytes)`);
  }
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) {
    let line = 1;
    for (let i = 0; i < bad; i++) if (bytes[i] === 0x0a) line++;
    throw new TokenizerLoadError(file, `invalid UTF-8 at byte ${bad} (line ${line}, byte 0x${bytes[bad].toString(16).padStart(2, '0')})`);
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/** A tokenizer file's JSON object (`tokenizer_config.json`, `special_tokens_map.json`, `tokenizer.json`, …). */
export function tokenizerJsonObject(file: string, bytes: Uint8Array): Record<string, unknown> {
  const text = tokenizerFileText(file, bytes);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TokenizerLoadError(file, `invalid JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TokenizerLoadError(file, `expected a JSON object, found ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}`);
  }
  return value as Record<string, unknown>;
}
