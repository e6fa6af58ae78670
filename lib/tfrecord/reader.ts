import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { maskedCrc32c } from '../checksum/masked-crc32c.js';
import { fileSystemFor } from '../fs/file-system-for.js';
import { decodeExample, type Example } from './example.js';
import { reasonOf, TfRecordError, type TfRecordProblem } from './tfrecord-error.js';

export type TfRecordCompression = 'none' | 'gzip';

export interface TfRecordReadOptions {
  /**
   * `auto` (default): GZIP when the file starts with the gzip magic bytes 1f 8b and does not start
   * with a valid record header (an uncompressed record whose length begins 1f 8b is possible).
   */
  readonly compression?: TfRecordCompression | 'auto';
  /** Check the masked CRC-32C of every length and payload (default true). */
  readonly verifyChecksums?: boolean;
  /**
   * `throw` (default) stops at the first problem. `skip` records it (`skipped`, `onSkip`) and goes
   * on where it can: a bad payload checksum skips just that record, since its length was verified
   * and the next header is found from it. A bad length checksum, an absurd length, a truncated tail
   * or corrupt GZIP data ends the file: once a length cannot be trusted there is no reliable way to
   * find the next record (scanning for a header whose checksum happens to match could resync on a
   * false positive inside a payload), so the rest of the file is given up, counted as one problem.
   * I/O errors (a missing or unreadable file) always throw.
   */
  readonly onCorrupt?: 'throw' | 'skip';
  /** Called for each problem passed over in `skip` mode, as it is met. */
  readonly onSkip?: (error: TfRecordError) => void;
  /** Bytes per read from the file (default 1 MiB). Memory held is about this plus the largest record. */
  readonly chunkSize?: number;
  /** Longer lengths are corrupt rather than buffered (default 2^31 − 1, protobuf's own limit). */
  readonly maxRecordBytes?: number;
  /**
   * Byte offset of the first record to read, in an uncompressed file (default 0): where an earlier
   * read ended, to read only what was appended since. Offsets stay the file's; record numbers count
   * from here.
   */
  readonly start?: number;
}

export interface TfRecord {
  /** The payload: a copy, safe to keep. */
  readonly data: Uint8Array;
  /** Position of the record in the file, from 0, counting skipped records too. */
  readonly index: number;
  /** Byte offset of the record's header in the (decompressed) stream. */
  readonly offset: number;
}

/** Records of one file. Each iteration reads the file afresh; the counts describe the latest one. */
export interface TfRecordStream extends AsyncIterable<TfRecord> {
  /** Problems passed over in `skip` mode, with file, record index and offset. */
  readonly skipped: readonly TfRecordError[];
  /** Good records yielded so far. */
  readonly records: number;
}

/** Decoded Examples of one file, with the same counts as `TfRecordStream`. */
export interface ExampleStream extends AsyncIterable<Example> {
  readonly skipped: readonly TfRecordError[];
  readonly records: number;
}

const HEADER_BYTES = 12; // u64 length + u32 masked CRC of the length
const FOOTER_BYTES = 4; // u32 masked CRC of the payload
const DEFAULT_MAX_RECORD_BYTES = 2 ** 31 - 1;
const EMPTY = Buffer.alloc(0);

/** Streams the records of a TFRecord file (uncompressed or GZIP, local or `gs://`) with bounded memory. */
export function readTfRecords(path: string, options: TfRecordReadOptions = {}): TfRecordStream {
  return new RecordStream(path, options);
}

class RecordStream implements TfRecordStream {
  readonly skipped: TfRecordError[] = [];
  records = 0;

  constructor(
    private readonly path: string,
    private readonly options: TfRecordReadOptions,
  ) {}

  [Symbol.asyncIterator](): AsyncIterator<TfRecord> {
    return this.read();
  }

  /** In skip mode records the problem and returns; otherwise throws it. */
  private corrupt(error: TfRecordError): void {
    if (this.options.onCorrupt !== 'skip') throw error;
    this.skipped.push(error);
    this.options.onSkip?.(error);
  }

  private async *read(): AsyncGenerator<TfRecord> {
    const { path, options } = this;
    this.skipped.length = 0;
    this.records = 0;
    const verify = options.verifyChecksums ?? true;
    const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    const compression = options.compression ?? 'auto';
    const gzip = compression === 'gzip' || (compression === 'auto' && (await looksGzipped(path)));
    const start = options.start ?? 0;
    if (gzip && start > 0) throw new TfRecordError(path, 0, start, 'unreadable', 'a GZIP file can only be read from its start');

    const chunkSize = options.chunkSize ?? 1 << 20;
    // From 0 the whole file is read, so Cloud Storage can check it against the object's CRC-32C; a
    // ranged read cannot be, and relies on the records' own checksums.
    const file = fileSystemFor(path).createReadStream(path, { highWaterMark: chunkSize, start: start > 0 ? start : undefined });
    // pipeline, not pipe: a read error on the file must reach the gunzip stream we read. Node's
    // zlib takes non-zero bytes after the last member for a bad member ("incorrect header check")
    // and drops the output of that last inflate step (at most one 64 KiB chunk) with the error.
    const source: Readable = gzip ? pipeline(file, createGunzip({ chunkSize: Math.min(chunkSize, 1 << 16) }), () => {}) : file;
    const chunks = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;

    let pending: Buffer = EMPTY; // bytes read but not yet consumed
    let pendingOffset = start; // stream offset of pending[0]
    let index = 0;
    let ended = false;
    let broken = false; // the stream failed and that failure is already counted
    const problem = (offset: number, code: TfRecordProblem, message: string, cause?: unknown): TfRecordError =>
      new TfRecordError(path, index, offset, code, message, cause === undefined ? undefined : { cause });

    /** Makes `pending` hold at least `needed` bytes unless the stream ends first. */
    const fill = async (needed: number): Promise<boolean> => {
      if (pending.length >= needed) return true;
      const parts: Buffer[] = [pending];
      let have = pending.length;
      while (have < needed && !ended) {
        let next: IteratorResult<Buffer>;
        try {
          next = await chunks.next();
        } catch (error) {
          const failure = readFailure(error, pendingOffset + have);
          if (failure.code !== 'bad-gzip') throw failure;
          this.corrupt(failure); // throws unless skipping; then the data ends here, already counted
          broken = true;
          ended = true;
          break;
        }
        if (next.done) ended = true;
        else {
          parts.push(next.value);
          have += next.value.length;
        }
      }
      pending = parts.length === 1 ? parts[0] : Buffer.concat(parts, have);
      return have >= needed;
    };
    const readFailure = (error: unknown, at: number): TfRecordError => {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      const reason = (error as Error).message;
      // zlib's codes start Z_ (bad data, or a stream cut off): the file is corrupt, not unreadable.
      if (gzip && code.startsWith('Z_'))
        return problem(pendingOffset, 'bad-gzip', `GZIP data is corrupt after ${at} decompressed bytes (zlib: ${reason})`, error);
      return problem(pendingOffset, 'unreadable', `${gzip ? 'GZIP file' : 'file'} could not be read (${reasonOf(error, path)})`, error);
    };

    try {
      for (;;) {
        const offset = pendingOffset;
        if (!(await fill(1))) return; // end of file (or of readable GZIP data, counted)
        if (!(await fill(HEADER_BYTES))) {
          if (!broken) this.corrupt(problem(offset, 'truncated', `truncated record header: expected ${HEADER_BYTES} bytes, only ${pending.length} left`));
          return;
        }
        const length = pending.readUInt32LE(4) * 2 ** 32 + pending.readUInt32LE(0);
        if (verify) {
          const stored = pending.readUInt32LE(8);
          const computed = maskedCrc32c(pending.subarray(0, 8));
          if (stored !== computed) {
            this.corrupt(
              problem(
                offset,
                'length-crc',
                `length CRC mismatch (stored 0x${hex(stored)}, computed 0x${hex(computed)}); the rest of the file cannot be trusted`,
              ),
            );
            return;
          }
        }
        if (length > maxRecordBytes) {
          this.corrupt(problem(offset, 'too-large', `record length ${length} is over the ${maxRecordBytes}-byte limit`));
          return;
        }
        const total = HEADER_BYTES + length + FOOTER_BYTES;
        if (!(await fill(total))) {
          if (!broken)
            this.corrupt(
              problem(
                offset,
                'truncated',
                `truncated record: header says ${length} data bytes + ${FOOTER_BYTES}-byte CRC, only ${pending.length - HEADER_BYTES} bytes left`,
              ),
            );
          return;
        }
        const data = pending.subarray(HEADER_BYTES, HEADER_BYTES + length);
        let good = true;
        if (verify) {
          const stored = pending.readUInt32LE(HEADER_BYTES + length);
          const computed = maskedCrc32c(data);
          if (stored !== computed) {
            this.corrupt(problem(offset, 'data-crc', `data CRC mismatch (stored 0x${hex(stored)}, computed 0x${hex(computed)})`));
            good = false;
          }
        }
        pending = pending.subarray(total);
        pendingOffset += total;
        index++;
        if (good) {
          this.records++;
          yield { data: new Uint8Array(data), index: index - 1, offset };
        }
      }
    } finally {
      // Also reached when the consumer stops early: release the file descriptor now.
      source.destroy();
      file.destroy();
    }
  }
}

/**
 * GZIP magic at the start, unless the first 12 bytes are a valid record header: a record whose
 * length happens to start 1f 8b would otherwise be taken for GZIP (1 in 2^32 the other way).
 */
async function looksGzipped(path: string): Promise<boolean> {
  let head: Buffer;
  try {
    // One ranged read: on Cloud Storage the 12 bytes, not the object.
    head = await fileSystemFor(path).readRange(path, 0, HEADER_BYTES);
  } catch (error) {
    throw new TfRecordError(path, 0, 0, 'unreadable', `file could not be opened (${reasonOf(error, path)})`, { cause: error });
  }
  if (head.length < 2 || head[0] !== 0x1f || head[1] !== 0x8b) return false;
  return head.length < HEADER_BYTES || maskedCrc32c(head.subarray(0, 8)) !== head.readUInt32LE(8);
}

/**
 * Decoded `tf.train.Example`s of a TFRecord file. A payload that is not an Example is a
 * `not-example` problem naming the record: thrown, or in `skip` mode passed over like a bad CRC.
 */
export function readExamples(path: string, options: TfRecordReadOptions = {}): ExampleStream {
  const records = new RecordStream(path, options);
  const skippedHere: TfRecordError[] = [];
  let decoded = 0;
  async function* examples(): AsyncGenerator<Example> {
    skippedHere.length = 0;
    decoded = 0;
    for await (const record of records) {
      let example: Example;
      try {
        example = decodeExample(record.data);
      } catch (error) {
        const problem = new TfRecordError(path, record.index, record.offset, 'not-example', `not a tf.train.Example: ${(error as Error).message}`, {
          cause: error,
        });
        if (options.onCorrupt !== 'skip') throw problem;
        skippedHere.push(problem);
        options.onSkip?.(problem);
        continue;
      }
      decoded++;
      yield example;
    }
  }
  return {
    get skipped() {
      return [...records.skipped, ...skippedHere].sort((a, b) => a.recordIndex - b.recordIndex);
    },
    get records() {
      return decoded;
    },
    [Symbol.asyncIterator]: () => examples(),
  };
}

/** Number of good records in a file (every checksum verified unless turned off). */
export async function countRecords(path: string, options: TfRecordReadOptions = {}): Promise<number> {
  const stream = readTfRecords(path, options);
  for await (const _ of stream) void _;
  return stream.records;
}

const hex = (n: number): string => n.toString(16).padStart(8, '0');
