import { createWriteStream } from 'node:fs';
import { rename, unlink, writeFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { maskedCrc32c } from '../checksum/masked-crc32c.js';
import { temporaryPath } from '../fs/atomic-write.js';
import type { AtomicWriteStream, FileSystem } from '../fs/file-system.js';
import { fileSystemFor } from '../fs/file-system-for.js';

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
  /** The file's bytes: a local write stream to the temporary name, or an upload's stream. */
  readonly file: Writable;
  /** Where records go: the file itself, or a gzip stream piped into it. */
  readonly sink: Writable;
  /** A remote file: the upload, published by its `commit()`. */
  readonly upload?: AtomicWriteStream;
  /** A remote GZIP file: done once the gzip stream has handed all its output to the upload. */
  readonly piped?: Promise<void>;
}

/**
 * Writes a TFRecord file that appears under `path` only when complete, on `close()`; an interrupted
 * run never leaves a half-written file under the final name, and `abort()` leaves none. A local file
 * is written under a temporary name in the same folder (`.NAME.tmp-PID-N`, hidden so globs for the
 * final names do not see it) and renamed; a `gs://` one is an upload that Cloud Storage finalizes on
 * `close()` (`FileSystem.createWriteStream`).
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
    /** Where the bytes go until `close()`: the hidden temporary name of a local file, `path` itself for an upload. */
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
    return fs.kind === 'local' ? new TfRecordWriter(path, temporaryPath(path), options, undefined) : new TfRecordWriter(path, path, options, fs);
  }

  private openStreams(): Streams {
    if (this.streams) return this.streams;
    if (this.remote) return this.openUpload(this.remote);
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

  /** The streams of an upload: records (or the gzip stream) into the upload's stream. */
  private openUpload(fs: FileSystem): Streams {
    const upload = fs.createWriteStream(this.path);
    const file = upload.stream;
    const keep = (error: Error): void => {
      if (this.state === 'aborted') return;
      this.failure ??= error;
    };
    file.on('error', keep);
    // An upload that fails closes its stream without an error event; its reason comes from commit(),
    // which has it at once (this listener runs before any write waiting for a drain resumes).
    file.on('close', () => {
      if (this.state === 'open' && !this.failure) {
        this.failure = new Error('the upload ended early');
        upload.commit().catch((error: Error) => {
          this.failure = error;
        });
      }
    });
    if (this.options.compression !== 'gzip') {
      this.streams = { file, sink: file, upload };
      return this.streams;
    }
    const gzip = createGzip({ chunkSize: 1 << 16 });
    gzip.on('error', keep);
    // Not ended by the pipe: commit() ends the upload once the gzip stream has flushed into it.
    const piped = pipeline(gzip, file, { end: false });
    piped.catch(() => {}); // a failure is kept by `keep` and reported from write/close
    this.streams = { file, sink: gzip, upload, piped };
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
    const what = this.remote ? 'writing' : `writing ${this.tempPath}`;
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
      if (!this.streams && this.options.compression !== 'gzip') {
        // Everything is still in memory: one open, one write, one fsync (or one upload, its CRC-32C sent with it).
        if (this.remote) await this.remote.writeFile(this.path, chunk).catch((error: Error) => Promise.reject(this.failed(error)));
        else
          await writeFile(this.tempPath, chunk, { flush: this.options.fsync ?? true }).catch((error: Error) => {
            throw this.failed(error);
          });
      } else if (this.remote) {
        const { sink, upload, piped } = this.openStreams();
        if (chunk.length > 0) sink.write(chunk);
        if (piped) {
          sink.end();
          await piped.catch(() => {});
        }
        if (this.failure) throw this.failed(this.failure);
        // Ends the upload and finalizes it; rejects with the upload's own failure if it had one.
        await upload!.commit().catch((error: Error) => Promise.reject(this.failed(error)));
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
      if (!this.remote) await rename(this.tempPath, this.path);
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
    if (this.remote) {
      // The upload is never finalized: no object appears.
      streams?.sink.destroy();
      await streams?.upload?.abort();
      return;
    }
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
