import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { decodeExample, type Example } from './example.js';
import { maskedCrc32c } from './masked-crc32c.js';
import { TfRecordError } from './tfrecord-error.js';

export type TfRecordCompression = 'none' | 'gzip';

export interface TfRecordReadOptions {
  /** `auto` (default) looks for the gzip magic bytes. */
  readonly compression?: TfRecordCompression | 'auto';
  /** Check the masked CRC-32C of every length and payload (default true). */
  readonly verifyChecksums?: boolean;
  /**
   * `throw` (default) stops at the first problem. `skip` records it in `skipped` and goes on: a bad
   * payload checksum skips that record; a bad length checksum or a truncated tail ends the file,
   * because once a length cannot be trusted there is no way to find the next record.
   */
  readonly onCorrupt?: 'throw' | 'skip';
  /** Read size in bytes (default 1 MiB). */
  readonly chunkSize?: number;
}

export interface TfRecord {
  readonly data: Uint8Array;
  /** Position of the record in the file, from 0, counting skipped records too. */
  readonly index: number;
  /** Byte offset of the record's header in the (decompressed) stream. */
  readonly offset: number;
}

/** Records of one file; `skipped` fills as corrupt records are met in `skip` mode. */
export interface TfRecordStream extends AsyncIterable<TfRecord> {
  readonly skipped: TfRecordError[];
}

/** Refuses lengths that cannot be a real record rather than trying to buffer them. */
const MAX_RECORD_BYTES = 2 ** 31 - 1;
const GZIP_MAGIC = [0x1f, 0x8b];

async function detectGzip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  } finally {
    await handle.close();
  }
}

/** Streams the records of a TFRecord file (uncompressed or GZIP) with bounded memory. */
export function readTfRecords(path: string, options: TfRecordReadOptions = {}): TfRecordStream {
  const skipped: TfRecordError[] = [];
  const verify = options.verifyChecksums ?? true;
  const skip = options.onCorrupt === 'skip';
  async function* records(): AsyncGenerator<TfRecord> {
    const compression = options.compression ?? 'auto';
    const gzip = compression === 'gzip' || (compression === 'auto' && (await detectGzip(path)));
    const file = createReadStream(path, { highWaterMark: options.chunkSize ?? 1 << 20 });
    const source: AsyncIterable<Buffer> = gzip ? file.pipe(createGunzip()) : file;
    if (gzip) file.on('error', (error) => (source as NodeJS.ReadableStream as import('node:stream').Transform).destroy(error));

    let pending: Buffer = Buffer.alloc(0); // bytes read but not yet consumed
    let pendingOffset = 0; // stream offset of pending[0]
    let index = 0;
    const iterator = source[Symbol.asyncIterator]();
    let ended = false;
    const fill = async (needed: number): Promise<boolean> => {
      const parts: Buffer[] = [pending];
      let have = pending.length;
      while (have < needed && !ended) {
        let next: IteratorResult<Buffer>;
        try {
          next = await iterator.next();
        } catch (error) {
          throw new TfRecordError(path, index, pendingOffset + have, `${gzip ? 'GZIP stream' : 'file'} could not be read (${(error as Error).message})`);
        }
        if (next.done) ended = true;
        else {
          parts.push(next.value);
          have += next.value.length;
        }
      }
      if (parts.length > 1) pending = Buffer.concat(parts, have);
      return pending.length >= needed;
    };
    const problem = (offset: number, message: string): TfRecordError => new TfRecordError(path, index, offset, message);

    for (;;) {
      const offset = pendingOffset;
      if (!(await fill(1))) return; // clean end of file
      if (!(await fill(12))) {
        const error = problem(offset, `truncated record header: expected 12 bytes, found ${pending.length}`);
        if (!skip) throw error;
        skipped.push(error);
        return;
      }
      const low = pending.readUInt32LE(0);
      const high = pending.readUInt32LE(4);
      if (verify) {
        const stored = pending.readUInt32LE(8);
        const computed = maskedCrc32c(pending.subarray(0, 8));
        if (stored !== computed) {
          const error = problem(offset, `length checksum mismatch (stored 0x${hex(stored)}, computed 0x${hex(computed)}): the file is corrupt from here on`);
          if (!skip) throw error;
          skipped.push(error);
          return;
        }
      }
      const length = high * 2 ** 32 + low;
      if (length > MAX_RECORD_BYTES) {
        const error = problem(offset, `record length ${length} is larger than ${MAX_RECORD_BYTES} bytes`);
        if (!skip) throw error;
        skipped.push(error);
        return;
      }
      const total = 12 + length + 4;
      if (!(await fill(total))) {
        const error = problem(offset, `truncated record: header says ${length} payload bytes plus a 4-byte checksum, only ${pending.length - 12} bytes left`);
        if (!skip) throw error;
        skipped.push(error);
        return;
      }
      const data = pending.subarray(12, 12 + length);
      let good = true;
      if (verify) {
        const stored = pending.readUInt32LE(12 + length);
        const computed = maskedCrc32c(data);
        if (stored !== computed) {
          const error = problem(offset, `payload checksum mismatch (stored 0x${hex(stored)}, computed 0x${hex(computed)})`);
          if (!skip) throw error;
          skipped.push(error);
          good = false;
        }
      }
      // Copy out so consumers may keep the record after the buffer moves on.
      if (good) yield { data: Uint8Array.prototype.slice.call(data), index, offset };
      pending = pending.subarray(total);
      pendingOffset += total;
      index++;
    }
  }
  return { skipped, [Symbol.asyncIterator]: () => records() };
}

/** Decoded `tf.train.Example`s of a TFRecord file; a record that does not parse is an error naming it. */
export async function* readExamples(path: string, options: TfRecordReadOptions = {}): AsyncGenerator<Example> {
  for await (const record of readTfRecords(path, options)) {
    let example: Example;
    try {
      example = decodeExample(record.data);
    } catch (error) {
      throw new TfRecordError(path, record.index, record.offset, `not a tf.train.Example (${(error as Error).message})`);
    }
    yield example;
  }
}

const hex = (n: number): string => n.toString(16).padStart(8, '0');
