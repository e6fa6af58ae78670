import { type FileHandle, open } from 'node:fs/promises';
import { maskedCrc32c } from '../checksum/masked-crc32c.js';
import { TfRecordError } from './tfrecord-error.js';

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

/**
 * Random access to the records of one uncompressed TFRecord file: `pointerAt` reads just a record's
 * 12-byte header (so a file is indexed without reading its payloads), `read` reads and checks one
 * payload. The training input keeps pointers in its shuffle buffer and reads a record only when a
 * batch takes it, which keeps the buffer small and its state a list of numbers.
 */
export class RecordFile {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    /** File size when opened. */
    readonly size: number,
  ) {}

  static async open(path: string): Promise<RecordFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      throw new TfRecordError(path, 0, 0, 'unreadable', `file could not be opened (${(error as Error).message})`, { cause: error });
    }
    const { size } = await handle.stat();
    return new RecordFile(path, handle, size);
  }

  /** The record whose header starts at `offset` (record number `index`), or undefined at the end of the file. */
  async pointerAt(offset: number, index: number): Promise<RecordPointer | undefined> {
    if (offset >= this.size) return undefined;
    const header = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await this.handle.read(header, 0, HEADER_BYTES, offset);
    const problem = (code: 'truncated' | 'length-crc', message: string): TfRecordError => new TfRecordError(this.path, index, offset, code, message);
    if (bytesRead < HEADER_BYTES) throw problem('truncated', `truncated record header: expected ${HEADER_BYTES} bytes, only ${bytesRead} left`);
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
    const bytes = Buffer.alloc(pointer.length + FOOTER_BYTES);
    const { bytesRead } = await this.handle.read(bytes, 0, bytes.length, pointer.offset + HEADER_BYTES);
    if (bytesRead < bytes.length)
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
    return this.handle.close();
  }
}
