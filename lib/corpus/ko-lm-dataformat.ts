import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Decompress } from 'fzstd';
import { compareCodePoints } from '../text/compare-code-points.js';
import { CorpusError } from './corpus-error.js';
import { decodeUtf8, firstInvalidUtf8 } from './utf8.js';

/** A document's `text`: a string, a list of sentences, or (rarely) an object, as stored. */
export type KoLmText = string | string[] | Record<string, unknown>;
export type KoLmMeta = Record<string, unknown>;

export interface StreamDataOptions {
  /** Yield `[text, meta]` pairs instead of texts (meta defaults to `{}`). */
  readonly getMeta?: boolean;
  /** Join a list-valued `text` with `sentJoiner`. */
  readonly autojoinSentences?: boolean;
  readonly sentJoiner?: string;
  /** Compressed bytes per read (default 1 MiB). */
  readonly chunkSize?: number;
}

/** One JSON line of a ko_lm_dataformat archive, with where it came from. */
export interface KoLmRecord {
  readonly text: KoLmText;
  readonly meta: KoLmMeta;
  readonly file: string;
  /** 1-based JSON line number inside the decompressed stream (of the tar member, for tars). */
  readonly line: number;
}

/**
 * What ko_lm_dataformat's `Reader(path).stream_data(get_meta, autojoin_sentences, sent_joiner)`
 * yields, for a `.jsonl.zst` file, a `.jsonl.zst.tar`, or a folder (its entries in sorted order,
 * not recursive; other names — such as the writer's `current_chunk_incomplete_*` — skipped).
 */
export async function* streamData(path: string, options: StreamDataOptions = {}): AsyncGenerator<KoLmText | [KoLmText, KoLmMeta]> {
  const joiner = options.sentJoiner ?? ' ';
  for await (const record of koLmRecords(path, options)) {
    const text = options.autojoinSentences && Array.isArray(record.text) ? record.text.join(joiner) : record.text;
    yield options.getMeta ? [text, record.meta] : text;
  }
}

/** The documents of a ko_lm_dataformat file or folder, with meta and line numbers. */
export async function* koLmRecords(path: string, options: Pick<StreamDataOptions, 'chunkSize'> = {}): AsyncGenerator<KoLmRecord> {
  const info = await stat(path).catch(() => {
    throw new CorpusError(path, 'not found');
  });
  if (info.isDirectory()) {
    for (const name of (await readdir(path)).sort(compareCodePoints)) {
      const child = join(path, name);
      if ((name.endsWith('.jsonl.zst') || name.endsWith('.jsonl.zst.tar')) && (await stat(child)).isFile()) yield* koLmRecords(child, options);
    }
    return;
  }
  if (path.endsWith('.jsonl.zst.tar')) yield* tarRecords(path, options.chunkSize);
  else if (path.endsWith('.jsonl.zst')) yield* zstJsonLines(path, fileChunks(path, options.chunkSize), path);
  else throw new CorpusError(path, 'not a ko_lm_dataformat archive (expected .jsonl.zst or .jsonl.zst.tar)');
}

async function* fileChunks(path: string, chunkSize = 1 << 20): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: chunkSize })) yield chunk as Buffer;
  } catch (error) {
    throw new CorpusError(path, `cannot read (${(error as Error).message})`);
  }
}

/**
 * Decompresses a zstd stream (every frame, back to back) and parses it as JSON lines, with memory
 * bounded by the read size and the zstd window.
 */
async function* zstJsonLines(file: string, compressed: AsyncIterable<Uint8Array>, label: string): AsyncGenerator<KoLmRecord> {
  const decompressed: Uint8Array[] = [];
  const decompressor = new Decompress((chunk) => {
    if (chunk.length > 0) decompressed.push(chunk);
  });
  let compressedOffset = 0;
  let lineBytes: Uint8Array[] = []; // bytes of the current, unfinished line
  let lineStart = 0; // decompressed offset of the current line
  let position = 0; // decompressed offset of the next byte
  let line = 1;
  const push = (chunk: Uint8Array, final: boolean): void => {
    try {
      decompressor.push(chunk, final);
    } catch (error) {
      const message = (error as Error).message;
      const truncated = /unexpected EOF/i.test(message);
      throw new CorpusError(label, truncated ? 'truncated zstd stream: the compressed data ends inside a frame' : `corrupt zstd data (${message})`, {
        byteOffset: compressedOffset,
      });
    }
  };
  function* drain(): Generator<KoLmRecord> {
    for (const chunk of decompressed.splice(0)) {
      let from = 0;
      for (;;) {
        const newline = chunk.indexOf(0x0a, from);
        if (newline < 0) {
          lineBytes.push(chunk.subarray(from));
          position += chunk.length - from;
          break;
        }
        lineBytes.push(chunk.subarray(from, newline));
        position += newline - from + 1;
        const bytes = lineBytes.length === 1 ? lineBytes[0] : Buffer.concat(lineBytes);
        yield parseLine(label, bytes, line, lineStart, file);
        lineBytes = [];
        lineStart = position;
        line++;
        from = newline + 1;
      }
    }
  }
  for await (const chunk of compressed) {
    push(chunk, false);
    compressedOffset += chunk.length;
    yield* drain();
  }
  push(new Uint8Array(0), true);
  yield* drain();
  if (lineBytes.some((b) => b.length > 0)) yield parseLine(label, Buffer.concat(lineBytes), line, lineStart, file);
}

function parseLine(label: string, bytes: Uint8Array, line: number, byteOffset: number, file: string): KoLmRecord {
  const bad = firstInvalidUtf8(bytes);
  if (bad >= 0) throw new CorpusError(label, `invalid UTF-8 (byte 0x${bytes[bad].toString(16).padStart(2, '0')}) in the decompressed data`, { line, byteOffset: byteOffset + bad });
  const text = decodeUtf8(bytes);
  if (text.trim() === '') throw new CorpusError(label, 'blank line: every line of a .jsonl archive must hold one JSON object', { line, byteOffset });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CorpusError(label, `invalid JSON (${(error as Error).message})`, { line, byteOffset });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CorpusError(label, 'expected a JSON object {"text": …, "meta": …}', { line, byteOffset });
  const record = value as Record<string, unknown>;
  if (!('text' in record)) throw new CorpusError(label, 'the JSON object has no "text" key', { line, byteOffset });
  const meta = record.meta;
  return { text: record.text as KoLmText, meta: typeof meta === 'object' && meta !== null ? (meta as KoLmMeta) : {}, file, line };
}

/** Every regular member of a tar is its own zstd JSON-lines stream (ko_lm_dataformat's `.jsonl.zst.tar`). */
async function* tarRecords(path: string, chunkSize?: number): AsyncGenerator<KoLmRecord> {
  const source = fileChunks(path, chunkSize)[Symbol.asyncIterator]();
  let buffered: Uint8Array = new Uint8Array(0);
  let offset = 0; // tar offset of buffered[0]
  const take = async (n: number): Promise<Uint8Array | undefined> => {
    while (buffered.length < n) {
      const next = await source.next();
      if (next.done) return undefined;
      buffered = buffered.length ? Buffer.concat([buffered, next.value]) : next.value;
    }
    const out = buffered.subarray(0, n);
    buffered = buffered.subarray(n);
    offset += n;
    return out;
  };
  for (;;) {
    const headerOffset = offset;
    const header = await take(512);
    if (!header || header.every((b) => b === 0)) return; // end-of-archive blocks
    const name = Buffer.from(header.subarray(0, 100)).toString('utf8').replace(/\0.*$/s, '');
    const sizeField = Buffer.from(header.subarray(124, 136)).toString('latin1').replace(/[\0 ]+$/g, '').trim();
    const size = Number.parseInt(sizeField || '0', 8);
    if (!Number.isFinite(size)) throw new CorpusError(path, `bad tar header for ${JSON.stringify(name)}`, { byteOffset: headerOffset });
    const type = String.fromCharCode(header[156]);
    const padded = Math.ceil(size / 512) * 512;
    if (type === '0' || type === '\0') {
      const member = `${path}:${name}`;
      let remaining = size;
      const memberChunks = async function* (): AsyncGenerator<Uint8Array> {
        while (remaining > 0) {
          const piece = await take(Math.min(remaining, 1 << 20));
          if (!piece) throw new CorpusError(member, 'the tar archive ends inside this member', { byteOffset: offset });
          remaining -= piece.length;
          yield piece;
        }
      };
      yield* zstJsonLines(path, memberChunks(), member);
      if ((await take(padded - size)) === undefined && padded > size) return;
    } else if ((await take(padded)) === undefined && padded > 0) {
      throw new CorpusError(path, `the tar archive ends inside ${JSON.stringify(name)}`, { byteOffset: offset });
    }
  }
}
