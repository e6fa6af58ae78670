import { type FileHandle, open } from 'node:fs/promises';
import { maskedCrc32c } from '../checksum/masked-crc32c.js';
import type { FileSystem } from '../fs/file-system.js';
import { fileSystemFor } from '../fs/file-system-for.js';
import { reasonOf, TfRecordError } from './tfrecord-error.js';

const HEADER_BYTES = 12; // u64 length + u32 masked CRC of the length
const FOOTER_BYTES = 4; // u32 masked CRC of the payload

/** Where a record is in an uncompressed TFRecord file: enough to read it again without scanning. */
export interface RecordPointer {
  /** Position of the record in the file, from 0 (for messages). */
  readonly index: number;
  /** Byte offset of the record's header. */
  readonly offset: number;
  /** Payload bytes. */
  readonly length: number;
}

const hex = (n: number): string => n.toString(16).padStart(8, '0');

/** Positioned reads of one file: `length` bytes at `position`, fewer only where the file ends. */
interface RandomAccess {
  read(position: number, length: number): Promise<Buffer>;
  /** The same, for a read that the next ones are likely to follow (a header when indexing). */
  readAhead(position: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

/** A local file: one descriptor kept open, each read a pread. */
class LocalAccess implements RandomAccess {
  constructor(private readonly handle: FileHandle) {}

  async read(position: number, length: number): Promise<Buffer> {
    const bytes = Buffer.alloc(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await this.handle.read(bytes, got, length - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === length ? bytes : bytes.subarray(0, got);
  }

  readAhead(position: number, length: number): Promise<Buffer> {
    return this.read(position, length);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** Bytes fetched at once when a header is read from a remote file: indexing walks the headers in order. */
const READ_AHEAD_BYTES = 1 << 20;

/**
 * A file on a remote store, read with ranged reads. A header read fetches the next MiB, so walking a
 * file's headers (what indexing does) costs one request per MiB rather than one per record; a
 * payload inside that window is served from it, any other payload is one ranged read of its own bytes
 * (a shuffled read would waste most of a window).
 */
class RangedAccess implements RandomAccess {
  private window: { start: number; bytes: Buffer } = { start: 0, bytes: Buffer.alloc(0) };

  constructor(
    private readonly fs: FileSystem,
    private readonly path: string,
  ) {}

  private cached(position: number, length: number): Buffer | undefined {
    const at = position - this.window.start;
    return at >= 0 && at + length <= this.window.bytes.length ? this.window.bytes.subarray(at, at + length) : undefined;
  }

  async read(position: number, length: number): Promise<Buffer> {
    return this.cached(position, length) ?? this.fs.readRange(this.path, position, length);
  }

  async readAhead(position: number, length: number): Promise<Buffer> {
    const hit = this.cached(position, length);
    if (hit) return hit;
    this.window = { start: position, bytes: await this.fs.readRange(this.path, position, Math.max(length, READ_AHEAD_BYTES)) };
    return this.window.bytes.subarray(0, length);
  }

  async close(): Promise<void> {
    this.window = { start: 0, bytes: Buffer.alloc(0) };
  }
}

/**
 * Random access to the records of one uncompressed TFRecord file, local or `gs://`: `pointerAt`
 * reads just a record's 12-byte header (so a file is indexed without reading its payloads), `read`
 * reads and checks one payload. The training input keeps pointers in its shuffle buffer and reads a
 * record only when a batch takes it, which keeps the buffer small and its state a list of numbers.
 */
export class RecordFile {
  private constructor(
    readonly path: string,
    private readonly access: RandomAccess,
    /** File size when opened. */
    readonly size: number,
  ) {}

  static async open(path: string): Promise<RecordFile> {
    const fs = fileSystemFor(path);
    const unreadable = (error: unknown): TfRecordError =>
      new TfRecordError(path, 0, 0, 'unreadable', `file could not be opened (${reasonOf(error, path)})`, { cause: error });
    if (fs.kind === 'local') {
      // A descriptor of its own: the trainer reads a record per example, and an open per read would cost more than the read.
      let handle: FileHandle;
      try {
        handle = await open(path, 'r');
      } catch (error) {
        throw unreadable(error);
      }
      const { size } = await handle.stat();
      return new RecordFile(path, new LocalAccess(handle), size);
    }
    let info: Awaited<ReturnType<FileSystem['stat']>>;
    try {
      info = await fs.stat(path);
    } catch (error) {
      throw unreadable(error);
    }
    if (!info || info.isDirectory) throw unreadable(new Error(info ? 'a folder, not a file' : 'no such file'));
    return new RecordFile(path, new RangedAccess(fs, path), info.size);
  }

  /** The record whose header starts at `offset` (record number `index`), or undefined at the end of the file. */
  async pointerAt(offset: number, index: number): Promise<RecordPointer | undefined> {
    if (offset >= this.size) return undefined;
    const header = await this.access.readAhead(offset, HEADER_BYTES);
    const problem = (code: 'truncated' | 'length-crc', message: string): TfRecordError => new TfRecordError(this.path, index, offset, code, message);
    if (header.length < HEADER_BYTES) throw problem('truncated', `truncated record header: expected ${HEADER_BYTES} bytes, only ${header.length} left`);
    const stored = header.readUInt32LE(8);
    const computed = maskedCrc32c(header.subarray(0, 8));
    if (stored !== computed) {
      const gzip = offset === 0 && header[0] === 0x1f && header[1] === 0x8b;
      throw problem(
        'length-crc',
        gzip
          ? 'the file is GZIP-compressed; training reads uncompressed TFRecords, as the reference trainer does'
          : `length CRC mismatch (stored 0x${hex(stored)}, computed 0x${hex(computed)})`,
      );
    }
    const length = header.readUInt32LE(4) * 2 ** 32 + header.readUInt32LE(0);
    if (offset + HEADER_BYTES + length + FOOTER_BYTES > this.size) {
      throw problem(
        'truncated',
        `truncated record: header says ${length} data bytes + ${FOOTER_BYTES}-byte CRC, only ${this.size - offset - HEADER_BYTES} bytes left`,
      );
    }
    return { index, offset, length };
  }

  /** Offset of the record after `pointer`. */
  static next(pointer: RecordPointer): number {
    return pointer.offset + HEADER_BYTES + pointer.length + FOOTER_BYTES;
  }

  /** The payload at `pointer`, its CRC checked. */
  async read(pointer: RecordPointer): Promise<Uint8Array> {
    const bytes = await this.access.read(pointer.offset + HEADER_BYTES, pointer.length + FOOTER_BYTES);
    if (bytes.length < pointer.length + FOOTER_BYTES)
      throw new TfRecordError(this.path, pointer.index, pointer.offset, 'truncated', `truncated record: the file ended while reading it`);
    const data = bytes.subarray(0, pointer.length);
    const stored = bytes.readUInt32LE(pointer.length);
    const computed = maskedCrc32c(data);
    if (stored !== computed) {
      throw new TfRecordError(this.path, pointer.index, pointer.offset, 'data-crc', `data CRC mismatch (stored 0x${hex(stored)}, computed 0x${hex(computed)})`);
    }
    return new Uint8Array(data.buffer, data.byteOffset, data.length);
  }

  close(): Promise<void> {
    return this.access.close();
  }
}
