import { createWriteStream, type WriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { createGzip, type Gzip } from 'node:zlib';
import { maskedCrc32c } from './masked-crc32c.js';

export interface TfRecordWriteOptions {
  readonly compression?: 'none' | 'gzip';
}

/**
 * Writes a TFRecord file under a temporary name in the same folder and renames it into place on
 * `close()`, so an interrupted run never leaves a half-written file under the final name.
 */
export class TfRecordWriter {
  private closed = false;
  /** Records written so far. */
  records = 0;

  private constructor(
    readonly path: string,
    readonly tempPath: string,
    private readonly file: WriteStream,
    private readonly sink: Writable,
    private readonly gzip: Gzip | undefined,
  ) {}

  static open(path: string, options: TfRecordWriteOptions = {}): TfRecordWriter {
    const tempPath = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
    const file = createWriteStream(tempPath, { highWaterMark: 1 << 20 });
    const gzip = options.compression === 'gzip' ? createGzip() : undefined;
    if (gzip) gzip.pipe(file);
    return new TfRecordWriter(path, tempPath, file, gzip ?? file, gzip);
  }

  /** Appends one record; resolves once the stream can take more (backpressure). */
  async write(data: Uint8Array): Promise<void> {
    if (this.closed) throw new Error(`${this.path}: write after close`);
    const header = Buffer.alloc(12);
    header.writeUInt32LE(data.length >>> 0, 0);
    header.writeUInt32LE(Math.floor(data.length / 2 ** 32), 4);
    header.writeUInt32LE(maskedCrc32c(header.subarray(0, 8)), 8);
    const footer = Buffer.alloc(4);
    footer.writeUInt32LE(maskedCrc32c(data), 0);
    this.sink.write(header);
    this.sink.write(data);
    const ok = this.sink.write(footer);
    this.records++;
    if (!ok) await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.sink.once('error', onError);
      this.sink.once('drain', () => {
        this.sink.off('error', onError);
        resolve();
      });
    });
  }

  /** Flushes, closes and renames the file to its final name. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve, reject) => {
      this.file.once('error', reject);
      this.file.once('close', resolve);
      this.sink.end();
    });
    await rename(this.tempPath, this.path);
  }

  /** Stops writing and removes the temporary file; the final name is never created. */
  async abort(): Promise<void> {
    this.closed = true;
    this.gzip?.destroy();
    await new Promise<void>((resolve) => {
      this.file.once('close', () => resolve());
      this.file.destroy();
    });
    await unlink(this.tempPath).catch(() => {});
  }
}
