import { createWriteStream, type WriteStream } from 'node:fs';
import { readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { maskedCrc32c } from '../checksum/masked-crc32c.js';
import { temporaryPath } from '../fs/atomic-write.js';
import { copyFile } from '../fs/copy-file.js';
import type { FileSystem } from '../fs/file-system.js';
import { fileSystemFor } from '../fs/file-system-for.js';
import { baseName } from '../fs/paths.js';
import { isProcessAlive } from '../fs/process-alive.js';

export interface TfRecordWriteOptions {
  readonly compression?: 'none' | 'gzip';
  /**
   * Records are framed into a buffer of this many bytes (default 64 KiB) and handed to the stream
   * when it fills, so small records do not cost a write (or a zlib call) each. Small by default
   * because a pretraining job keeps hundreds of shard writers open at once; at most about three
   * buffers' worth is held per writer (one filling, two in flight).
   */
  readonly bufferSize?: number;
  /**
   * Local files: fsync the data before the rename (default true), so that after a power loss the
   * final name holds the whole file rather than a hole; the rename itself is what makes it atomic.
   * (A Cloud Storage upload is durable once finalized.)
   */
  readonly fsync?: boolean;
}

const HEADER_BYTES = 12;
const FOOTER_BYTES = 4;
const DEFAULT_BUFFER_BYTES = 1 << 16;
const NO_BYTES = Buffer.alloc(0);

type State = 'open' | 'closing' | 'closed' | 'aborted';

interface Streams {
  /** The local file being written: the hidden temporary name, or the spool file of an upload. */
  readonly file: WriteStream;
  /** Where records go: the file itself, or a gzip stream piped into it. */
  readonly sink: Writable;
}

let spoolCounter = 0;
let spoolsSwept = false;

/** `.kbb-spool-PID-N-NAME` in TMPDIR: a shard on its way to a bucket. */
const SPOOL_PREFIX = '.kbb-spool-';

/**
 * Removes the spool files of processes that are gone (a kill -9 mid-build leaves its spooled shards
 * behind), once per process, in the background: a rerun then does not fill the disk with them.
 */
function sweepStaleSpools(): void {
  if (spoolsSwept) return;
  spoolsSwept = true;
  void readdir(tmpdir())
    .then((names) =>
      Promise.all(
        names
          .filter((name) => name.startsWith(SPOOL_PREFIX))
          .filter((name) => {
            const pid = Number(name.slice(SPOOL_PREFIX.length).split('-')[0]);
            return Number.isSafeInteger(pid) && !isProcessAlive(pid);
          })
          .map((name) => unlink(join(tmpdir(), name)).catch(() => {})),
      ),
    )
    .catch(() => {});
}

/**
 * Writes a TFRecord file that appears under `path` only when complete, on `close()`; an interrupted
 * run never leaves a half-written file under the final name, and `abort()` leaves none. A local file
 * is written under a temporary name in the same folder (`.NAME.tmp-PID-N`, hidden so globs for the
 * final names do not see it) and renamed. A `gs://` one is written the same way to a spool file in
 * the local temporary folder (TMPDIR) and uploaded on `close()`, an upload Cloud Storage finalizes
 * whole, as TensorFlow's own GCS file system writes: a build keeps a thousand shards open, and a
 * thousand uploads held open for the whole build would hold a thousand connections and their buffers.
 *
 * The file is created only when the first buffer fills, or at `close()`: a pretraining build keeps
 * a thousand shards open, most of which hold a few records, and then each shard costs one open
 * (create, write, fsync, close; or one upload with its CRC-32C) rather than a stream opened early.
 */
export class TfRecordWriter {
  private state: State = 'open';
  private failure: Error | undefined;
  private backlog: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private streams: Streams | undefined;
  /** Allocated on the first write, so a writer that gets no record (an empty shard) holds none. */
  private batch: Buffer = NO_BYTES;
  private used = 0;
  private records_ = 0;
  private bytes_ = 0;

  private constructor(
    readonly path: string,
    /** Where the bytes go until `close()`: the hidden temporary name of a local file, or the spool file of an upload. */
    readonly tempPath: string,
    private readonly options: TfRecordWriteOptions,
    /** Set for a file on a remote store, which is uploaded rather than renamed. */
    private readonly remote: FileSystem | undefined,
  ) {}

  /** Starts a file (local or `gs://`); problems creating it (a missing folder, say) surface from `write` or `close`. */
  static open(path: string, options: TfRecordWriteOptions = {}): TfRecordWriter {
    const fs = fileSystemFor(path);
    // Local files keep their own path (a write stream sized for overlap, one writeFile for small
    // shards): the build writes hundreds of shards per job, and this is where its time goes.
    if (fs.kind === 'local') return new TfRecordWriter(path, temporaryPath(path), options, undefined);
    sweepStaleSpools();
    const spool = join(tmpdir(), `${SPOOL_PREFIX}${process.pid}-${++spoolCounter}-${baseName(path)}`);
    return new TfRecordWriter(path, spool, options, fs);
  }

  private openStreams(): Streams {
    if (this.streams) return this.streams;
    // Two buffers may be in flight before write() waits, so framing overlaps the disk write.
    // `flush` fsyncs before the close, so after a power loss the final name never holds a hole.
    const file = createWriteStream(this.tempPath, { highWaterMark: 2 * this.bufferSize, flush: this.options.fsync ?? true });
    let sink: Writable = file;
    if (this.options.compression === 'gzip') {
      const gzip = createGzip({ chunkSize: 1 << 16 });
      gzip.pipe(file);
      sink = gzip;
    }
    // A stream error with no listener would crash the process: keep it, report it from write/close,
    // and take both streams down so that nobody waits for a drain or close that never comes.
    const keep = (error: Error): void => {
      if (this.state === 'aborted') return; // tearing down on purpose makes the pipe complain
      this.failure ??= error;
      sink.destroy();
      file.destroy();
    };
    file.on('error', keep);
    if (sink !== file) sink.on('error', keep);
    this.streams = { file, sink };
    return this.streams;
  }

  /** Records written so far. */
  get records(): number {
    return this.records_;
  }

  /** Uncompressed bytes written so far (framing included). */
  get bytes(): number {
    return this.bytes_;
  }

  private get bufferSize(): number {
    return this.options.bufferSize ?? DEFAULT_BUFFER_BYTES;
  }

  /**
   * Appends one record. The bytes are copied, so `data` may be reused at once. Resolves at once
   * unless the file is behind, in which case it waits for the stream to drain (backpressure).
   * All bookkeeping happens before the first await, so calls that are not awaited stay in order.
   */
  async write(data: Uint8Array): Promise<void> {
    this.assertWritable();
    const size = HEADER_BYTES + data.length + FOOTER_BYTES;
    if (size > this.batch.length - this.used) {
      this.push();
      // A record bigger than the buffer gets a buffer of its own, used once.
      this.batch = Buffer.allocUnsafe(Math.max(size, this.bufferSize));
    }
    frame(this.batch, this.used, data);
    this.used += size;
    this.records_++;
    this.bytes_ += size;
    if (this.backlog) await this.backlog;
    if (this.failure) throw this.failed(this.failure);
  }

  /** Hands the framed records to the stream; notes when it is over its high-water mark. */
  private push(): void {
    if (this.used === 0) return;
    // The stream keeps a reference to `chunk` until written, so the next records need a new buffer.
    const chunk = this.batch.subarray(0, this.used);
    this.batch = NO_BYTES;
    this.used = 0;
    if (!this.openStreams().sink.write(chunk) && !this.backlog) {
      this.backlog = this.drained().then(() => {
        this.backlog = undefined;
      });
    }
  }

  /** Resolves on drain, or when the stream dies (whoever resumes checks `failure`). */
  private drained(): Promise<void> {
    const { sink } = this.openStreams();
    // A stream already gone emits nothing more.
    if (sink.destroyed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        sink.off('drain', done);
        sink.off('error', done);
        sink.off('close', done);
        resolve();
      };
      sink.on('drain', done);
      sink.on('error', done);
      sink.on('close', done);
    });
  }

  private assertWritable(): void {
    if (this.state !== 'open') throw new Error(`${this.path}: write after ${this.state === 'aborted' ? 'abort' : 'close'}`);
    if (this.failure) throw this.failed(this.failure);
  }

  private failed(error: Error): Error {
    const reason = error.message.startsWith(`${this.path}: `) ? error.message.slice(this.path.length + 2) : error.message;
    const what = this.remote ? 'writing (spooled in TMPDIR, uploaded on close)' : `writing ${this.tempPath}`;
    return new Error(`${this.path}: ${what} failed (${reason})`, { cause: error });
  }

  /**
   * Flushes, closes and renames the file to its final name. On failure the temporary file is
   * removed and the error thrown. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    if (this.state === 'aborted') return Promise.reject(new Error(`${this.path}: close after abort`));
    this.closing ??= this.finish();
    return this.closing;
  }

  private async finish(): Promise<void> {
    this.state = 'closing';
    try {
      if (this.failure) throw this.failed(this.failure);
      const chunk = this.batch.subarray(0, this.used);
      this.batch = NO_BYTES;
      this.used = 0;
      if (!this.streams && this.options.compression !== 'gzip' && this.remote) {
        // Everything is still in memory: one upload, its CRC-32C sent with it.
        await this.remote.writeFile(this.path, chunk).catch((error: Error) => Promise.reject(this.failed(error)));
      } else {
        if (!this.streams && this.options.compression !== 'gzip') {
          // Everything is still in memory: one open, one write, one fsync.
          await writeFile(this.tempPath, chunk, { flush: this.options.fsync ?? true }).catch((error: Error) => {
            throw this.failed(error);
          });
        } else {
          const { file, sink } = this.openStreams();
          if (!file.closed) {
            await new Promise<void>((resolve) => {
              file.once('close', resolve);
              if (chunk.length > 0) sink.end(chunk);
              else sink.end();
            });
          }
          if (this.failure) throw this.failed(this.failure);
        }
        if (this.remote) {
          // The spool file is complete: one upload, finalized whole and checked with CRC-32C.
          await copyFile(this.tempPath, this.path).catch((error: Error) => Promise.reject(this.failed(error)));
          await unlink(this.tempPath).catch(() => {});
        } else await rename(this.tempPath, this.path);
      }
      this.state = 'closed';
    } catch (error) {
      this.state = 'aborted';
      await this.discard();
      throw error;
    }
  }

  /** Stops writing and removes the temporary file; the final name is not created. Safe to repeat. */
  async abort(): Promise<void> {
    if (this.state === 'aborted') return;
    if (this.state !== 'open') {
      // Once close() has begun it either completes the file or removes it itself; a complete file
      // under its final name is not taken back.
      await this.closing?.catch(() => {});
      return;
    }
    this.state = 'aborted';
    this.batch = NO_BYTES;
    await this.discard();
  }

  private async discard(): Promise<void> {
    const streams = this.streams;
    if (streams && !streams.file.closed) {
      await new Promise<void>((resolve) => {
        streams.file.once('close', resolve);
        streams.sink.destroy();
        streams.file.destroy();
      });
    }
    await unlink(this.tempPath).catch(() => {});
  }
}

/**
 * One record framed on its own, for writers that append to a file themselves rather than through
 * TfRecordWriter's temporary name (TensorBoard event files must grow in place while being read).
 */
export function frameTfRecord(data: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(HEADER_BYTES + data.length + FOOTER_BYTES);
  frame(framed, 0, data);
  return framed;
}

/** Writes `u64 length | u32 masked CRC(length) | data | u32 masked CRC(data)` at `at`. */
function frame(into: Buffer, at: number, data: Uint8Array): void {
  into.writeUInt32LE(data.length >>> 0, at);
  into.writeUInt32LE(Math.floor(data.length / 2 ** 32), at + 4);
  into.writeUInt32LE(maskedCrc32c(into.subarray(at, at + 8)), at + 8);
  into.set(data, at + HEADER_BYTES);
  into.writeUInt32LE(maskedCrc32c(data), at + HEADER_BYTES + data.length);
}
