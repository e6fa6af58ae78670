import { Decompress } from 'fzstd';
import { fileSystemFor } from '../fs/index.js';
import { compareCodePoints } from '../text/compare-code-points.js';
import { CorpusError, readProblem } from './corpus-error.js';
import { JsonLinesParser, type JsonValue, type KoLmRecord } from './json-lines.js';
import { lineLimit } from './max-line-bytes.js';
import { ZstdFrameWalker, type ZstdStructureError } from './zstd-frames.js';

export type { JsonValue, KoLmRecord } from './json-lines.js';

/** A document's `text` as stored: in practice a string or a list of sentences; anything else is passed on unchanged. */
export type KoLmText = JsonValue;
/** A document's `meta` as stored (usually an object); `{}` when the line has none. */
export type KoLmMeta = JsonValue;

export interface StreamDataOptions {
  /** Yield `[text, meta]` pairs instead of texts. */
  readonly getMeta?: boolean;
  /** Join a list-valued `text` with `sentJoiner` (default `' '`). */
  readonly autojoinSentences?: boolean;
  readonly sentJoiner?: string;
  /** Compressed bytes per read (default 1 MiB). */
  readonly chunkSize?: number;
  /**
   * Called with the size of every chunk read from the file as it is consumed: the compressed bytes
   * read so far add up to the file's size by its end, which is what a progress bar should count.
   */
  readonly onRead?: (bytes: number) => void;
  /** The longest decompressed JSON line (one document) read, in bytes (default `MAX_LINE_BYTES`, 64 MiB). */
  readonly maxLineBytes?: number;
}

/** The options every archive reader takes. */
type ArchiveOptions = Pick<StreamDataOptions, 'chunkSize' | 'onRead' | 'maxLineBytes'>;

/**
 * What ko_lm_dataformat's `Reader(path).stream_data(get_meta, autojoin_sentences, sent_joiner)`
 * yields (Python tuples as 2-element arrays), for a `.jsonl.zst` file, a `.jsonl.zst.tar`, or a
 * folder: its entries in code-point order, not recursive, names with no reader skipped (such as the
 * writer's open `current_chunk_incomplete_*`).
 *
 * Deviations, all of them errors where the reference would carry on: a `.dat.zst`, `.json.zst`,
 * `.txt`, `.zip`, `.tar.gz` or `.gz` entry (the reference reads those formats; this reader does
 * not); a single file with an unknown name (the reference yields nothing); a zstd stream that stops
 * inside a frame (python-zstandard quietly yields what it decoded); a JSON line longer than
 * `maxLineBytes` (`MAX_LINE_BYTES`, 64 MiB), refused while it is decompressed.
 */
export function streamData(path: string, options: StreamDataOptions & { readonly getMeta: true }): AsyncGenerator<[KoLmText, KoLmMeta]>;
export function streamData(path: string, options?: StreamDataOptions & { readonly getMeta?: false }): AsyncGenerator<KoLmText>;
export function streamData(path: string, options?: StreamDataOptions): AsyncGenerator<KoLmText | [KoLmText, KoLmMeta]>;
export async function* streamData(path: string, options: StreamDataOptions = {}): AsyncGenerator<KoLmText | [KoLmText, KoLmMeta]> {
  const joiner = options.sentJoiner ?? ' ';
  for await (const batch of koLmRecordBatches(path, options)) {
    for (const record of batch) {
      let text = record.text;
      if (options.autojoinSentences && Array.isArray(text)) {
        if (!text.every((part) => typeof part === 'string')) {
          const label = record.member === undefined ? record.file : `${record.file}:${record.member}`;
          throw new CorpusError(label, 'cannot join the sentences of "text": the list holds a non-string', { line: record.line });
        }
        text = text.join(joiner);
      }
      yield options.getMeta ? [text, record.meta] : text;
    }
  }
}

type ArchiveKind = 'jsonl' | 'tar' | 'unsupported' | 'none';

/** How the reference dispatches on a name (first matching suffix wins, in its order). */
function archiveKind(name: string): ArchiveKind {
  if (name.endsWith('.jsonl.zst')) return 'jsonl';
  if (name.endsWith('.jsonl.zst.tar')) return 'tar';
  if (['.dat.zst', '.json.zst', '.txt', '.zip', '.tar.gz', '.json.gz', '.gz'].some((suffix) => name.endsWith(suffix))) return 'unsupported';
  return 'none';
}

/** The documents of a ko_lm_dataformat file or folder, with meta and line numbers. */
export async function* koLmRecords(path: string, options: Pick<StreamDataOptions, 'chunkSize' | 'maxLineBytes'> = {}): AsyncGenerator<KoLmRecord> {
  for await (const batch of koLmRecordBatches(path, options)) yield* batch;
}

/**
 * `koLmRecords` in batches (the records decoded from one read each), for callers that go through
 * millions of documents and should not pay an awaited promise per document.
 */
export async function* koLmRecordBatches(path: string, options: ArchiveOptions = {}): AsyncGenerator<KoLmRecord[]> {
  const fs = fileSystemFor(path);
  const info = await fs.stat(path);
  if (!info) throw new CorpusError(path, 'not found');
  if (info.isDirectory) {
    const names = (await fs.list(path)).map((entry) => entry.name);
    for (const name of names.sort(compareCodePoints)) {
      if (archiveKind(name) === 'none') continue;
      yield* archiveRecords(path.endsWith('/') ? path + name : `${path}/${name}`, options);
    }
    return;
  }
  if (archiveKind(path) === 'none')
    throw new CorpusError(path, 'not a ko_lm_dataformat archive (expected a .jsonl.zst or .jsonl.zst.tar file, or a folder of them)');
  yield* archiveRecords(path, options);
}

/** The record batches of one `.jsonl.zst` (or `.jsonl.zst.tar`) file — never a folder, whatever its name. */
export function koLmFileRecordBatches(file: string, options: ArchiveOptions = {}): AsyncGenerator<KoLmRecord[]> {
  return archiveRecords(file, options);
}

async function* archiveRecords(path: string, options: ArchiveOptions): AsyncGenerator<KoLmRecord[]> {
  const { chunkSize, onRead } = options;
  const maxLineBytes = lineLimit(options.maxLineBytes);
  const kind = archiveKind(path);
  if (kind === 'unsupported') throw new CorpusError(path, 'ko_lm_dataformat reads this format, but this reader only supports .jsonl.zst and .jsonl.zst.tar');
  const info = await fileSystemFor(path).stat(path);
  if (!info || info.isDirectory) throw new CorpusError(path, info ? 'not a readable regular file (a folder)' : 'not found');
  let read = 0;
  const counted = onRead
    ? (bytes: number): void => {
        read += bytes;
        onRead(bytes);
      }
    : undefined;
  if (kind === 'tar') yield* tarRecords(path, info.size, maxLineBytes, chunkSize, counted);
  else yield* zstJsonLines(fileChunks(path, chunkSize, counted), path, maxLineBytes);
  // A tar archive's padding after its end-of-archive block is never read; it still counts as done.
  if (onRead && read < info.size) onRead(info.size - read);
}

async function* fileChunks(path: string, chunkSize = 1 << 20, onRead?: (bytes: number) => void): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of fileSystemFor(path).createReadStream(path, { highWaterMark: chunkSize }) as AsyncIterable<Buffer>) {
      onRead?.(chunk.length);
      yield chunk;
    }
  } catch (error) {
    throw new CorpusError(path, readProblem(error, path));
  }
}

/** Decompressed bytes after which the records decoded so far are handed on, mid-chunk if need be. */
const BATCH_BYTES = 1 << 20;

/** A printable label for a tar member: a name with control characters (a newline …) is quoted, so an error stays one line. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is quoted.
const memberLabel = (member: string): string => (/[\u0000-\u001f\u007f]/.test(member) ? JSON.stringify(member) : member);

/**
 * Decompresses a zstd stream (every frame, back to back) and parses it as JSON lines, as
 * `jsonlines.Reader` over python-zstandard's stream reader does, yielding the records decoded so
 * far every `BATCH_BYTES` of decompressed data. Memory stays bounded by the read size, the zstd
 * window, `maxLineBytes` and `BATCH_BYTES`, not by how far the input expands: the decoder gets one
 * block at a time (at most 128 KiB decompressed each), so a small file that decompresses to
 * gigabytes is read a block at a time too, and a line longer than `maxLineBytes` stops it. Each
 * frame goes to a fresh fzstd decoder, pushed as final once the walker has seen its end, so
 * decoding errors are pinned to their frame and a stream cut off mid-frame is noticed. Errors come
 * after the records decoded before them.
 */
async function* zstJsonLines(
  compressed: AsyncIterable<Uint8Array>,
  file: string,
  maxLineBytes: number,
  inTar: { readonly member?: string; readonly baseOffset?: number } = {},
): AsyncGenerator<KoLmRecord[]> {
  const { member, baseOffset = 0 } = inTar; // compressed offsets are reported as offsets in `file`
  const label = member === undefined ? file : `${file}:${memberLabel(member)}`;
  const walker = new ZstdFrameWalker(baseOffset);
  const lines = new JsonLinesParser(label, file, member, maxLineBytes);
  let records: KoLmRecord[] = [];
  let decoded = 0; // decompressed bytes since the last batch was handed on
  let failure: unknown;
  const onData = (chunk: Uint8Array): void => {
    if (failure !== undefined || chunk.length === 0) return;
    decoded += chunk.length;
    try {
      lines.push(chunk, records);
    } catch (error) {
      failure = error;
    }
  };
  let decoder = new Decompress(onData);
  let chunkStart = baseOffset; // offset in the file of the current chunk
  let frameStart = baseOffset; // offset in the file of the frame the decoder is in
  const push = (piece: Uint8Array, final: boolean): void => {
    if (failure !== undefined) return;
    try {
      decoder.push(piece, final);
    } catch (error) {
      failure ??= new CorpusError(label, `corrupt zstd data in the frame that starts at byte ${frameStart} (fzstd: ${(error as Error).message})`, {
        byteOffset: frameStart,
      });
    }
  };
  const take = (): KoLmRecord[] => {
    const out = records;
    records = [];
    decoded = 0;
    return out;
  };

  const blockEnds: number[] = [];
  for await (const chunk of compressed) {
    blockEnds.length = 0;
    const frameEnds = walker.feed(chunk, blockEnds);
    let from = 0;
    // Block ends and frame ends in order (a frame without a checksum ends where its last block does).
    for (let b = 0, f = 0; b < blockEnds.length || f < frameEnds.length; ) {
      const final = f < frameEnds.length && (b >= blockEnds.length || frameEnds[f] <= blockEnds[b]);
      const end = final ? frameEnds[f++] : blockEnds[b++];
      if (final && b < blockEnds.length && blockEnds[b] === end) b++;
      push(chunk.subarray(from, end), final);
      if (final) {
        decoder = new Decompress(onData);
        frameStart = chunkStart + end;
      }
      from = end;
      if (failure !== undefined) break;
      if (decoded >= BATCH_BYTES && records.length > 0) yield take();
    }
    // Bytes past a structural error are never decoded; the error is reported once what preceded it is out.
    if (from < chunk.length && !walker.error) push(chunk.subarray(from), false);
    chunkStart += chunk.length;
    if (records.length > 0) yield take();
    if (failure !== undefined) throw failure;
    if (walker.error) break;
  }
  try {
    walker.finish();
  } catch (error) {
    const { message, byteOffset } = error as ZstdStructureError;
    throw new CorpusError(label, message, { byteOffset });
  }
  lines.finish(records);
  if (records.length > 0) yield take();
}

/**
 * ko_lm_dataformat's `.jsonl.zst.tar`: every regular member with data is its own zstd JSON-lines
 * stream, read in archive order. Headers are parsed as its own tar reader parses them: the archive
 * ends at a header whose size field is all NUL bytes, a pax `size` applies to the next header, and
 * every type but '0' and NUL is skipped.
 */
async function* tarRecords(
  path: string,
  fileSize: number,
  maxLineBytes: number,
  chunkSize?: number,
  onRead?: (bytes: number) => void,
): AsyncGenerator<KoLmRecord[]> {
  const source = new ByteSource(fileChunks(path, chunkSize, onRead));
  let paxSize: number | undefined;
  let paxPath: string | undefined;
  for (;;) {
    const headerOffset = source.offset;
    const header = await source.exactly(512);
    if (header.length < 512) throw new CorpusError(path, 'the tar archive ends without its end-of-archive block (truncated?)', { byteOffset: headerOffset });
    if (header.subarray(124, 135).every((b) => b === 0)) return;
    const field = (from: number, to: number): string => Buffer.from(header.subarray(from, to)).toString('utf8').replace(/\0.*$/s, '');
    const sizeField = field(124, 136).replace(/^[ ]+|[ ]+$/g, '');
    if (paxSize === undefined && !/^[0-7]+$/.test(sizeField)) {
      throw new CorpusError(path, `bad tar header (size field ${JSON.stringify(sizeField)})`, { byteOffset: headerOffset });
    }
    const size = paxSize ?? Number.parseInt(sizeField, 8);
    const prefix = field(257, 262) === 'ustar' ? field(345, 500) : '';
    const name = paxPath ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    paxSize = undefined;
    paxPath = undefined;
    const padded = Math.ceil(size / 512) * 512;
    const type = header[156];
    if (type === 0x78 /* 'x': pax attributes for the next header */) {
      // Its body is read whole, so its declared size is checked (against the limit and the file) before anything is allocated.
      if (size > MAX_PAX_BYTES || headerOffset + 512 + size > fileSize) {
        throw new CorpusError(
          path,
          `pax header declares ${size} bytes (${size > MAX_PAX_BYTES ? `at most ${MAX_PAX_BYTES} are read` : `the archive has ${Math.max(0, fileSize - headerOffset - 512)} after the header`})`,
          { byteOffset: headerOffset },
        );
      }
      const body = await source.exactly(padded);
      if (body.length < padded) throw new CorpusError(path, 'the tar archive ends inside a pax header', { byteOffset: source.offset });
      const attributes = parsePax(body.subarray(0, size));
      if (attributes.size !== undefined) {
        if (!/^[0-9]+$/.test(attributes.size)) throw new CorpusError(path, `bad pax size ${JSON.stringify(attributes.size)}`, { byteOffset: headerOffset });
        paxSize = Number(attributes.size);
      }
      paxPath = attributes.path;
      continue;
    }
    if ((type === 0x30 /* '0' */ || type === 0) && size > 0) {
      const member = source.take(
        size,
        () => new CorpusError(path, `the tar archive ends inside member ${JSON.stringify(name)}`, { byteOffset: source.offset }),
      );
      // The member name only labels records and errors: nothing is extracted, no path is made from it.
      yield* zstJsonLines(member, path, maxLineBytes, { member: name, baseOffset: source.offset });
      await source.skip(padded - size);
    } else {
      await source.skip(padded);
    }
  }
}

/** Largest pax extended header read: a path and a size take a few hundred bytes. */
const MAX_PAX_BYTES = 1 << 20;

/** pax extended header records: `LENGTH KEY=VALUE\n`. */
function parsePax(body: Uint8Array): Record<string, string> {
  const attributes: Record<string, string> = {};
  const text = Buffer.from(body).toString('utf8');
  for (const record of text.split('\n')) {
    const space = record.indexOf(' ');
    const equals = record.indexOf('=', space + 1);
    if (space < 0 || equals < 0) continue;
    attributes[record.slice(space + 1, equals)] = record.slice(equals + 1);
  }
  return attributes;
}

/** Reads an async stream of chunks by byte counts, copying only what straddles two chunks. */
class ByteSource {
  private buffered: Uint8Array = new Uint8Array(0);
  private readonly chunks: AsyncIterator<Uint8Array>;
  private ended = false;
  /** Bytes handed out so far. */
  offset = 0;

  constructor(chunks: AsyncIterable<Uint8Array>) {
    this.chunks = chunks[Symbol.asyncIterator]();
  }

  /** `n` bytes, or fewer if the stream ends first. */
  async exactly(n: number): Promise<Uint8Array> {
    if (this.buffered.length >= n) return this.advance(n);
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      if (this.buffered.length === 0 && !(await this.refill())) return out.subarray(0, filled);
      const piece = this.advance(Math.min(n - filled, this.buffered.length));
      out.set(piece, filled);
      filled += piece.length;
    }
    return out;
  }

  /** The next `n` bytes as a stream of views; `ended` makes the error thrown if the data stops short. */
  async *take(n: number, ended: () => Error): AsyncGenerator<Uint8Array> {
    let remaining = n;
    while (remaining > 0) {
      if (this.buffered.length === 0 && !(await this.refill())) throw ended();
      const piece = this.advance(Math.min(remaining, this.buffered.length));
      remaining -= piece.length;
      yield piece;
    }
  }

  /** Skips up to `n` bytes (fewer at the end of the stream, which the next header read reports). */
  async skip(n: number): Promise<void> {
    let remaining = n;
    while (remaining > 0) {
      if (this.buffered.length === 0 && !(await this.refill())) return;
      remaining -= this.advance(Math.min(remaining, this.buffered.length)).length;
    }
  }

  private advance(n: number): Uint8Array {
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    this.offset += n;
    return out;
  }

  private async refill(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.chunks.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    this.buffered = next.value;
    return true;
  }
}
