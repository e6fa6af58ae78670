import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { frameTfRecord } from '../tfrecord/writer.js';
import { EVENT_FILE_VERSION, encodeEvent, type SummaryValue, type TfEvent } from './event-proto.js';

export interface EventFileWriterOptions {
  /** Unix time in seconds that names the file and stamps its first event (default: now). */
  readonly time?: number;
  /** The host name in the file name (default `os.hostname()`). */
  readonly hostname?: string;
  /** Appended to the file name, like TensorBoard's `filename_suffix` (default none). */
  readonly suffix?: string;
  /**
   * Events waiting for `flush()` are written anyway once they come to this many bytes (default
   * 1 MiB), so a caller that seldom flushes does not hold them all in memory.
   */
  readonly maxPendingBytes?: number;
  /**
   * fsync on every `flush()`, not only on `close()` (default false). A flush without it already
   * shows the events to every reader and survives the process being killed; the fsync only adds
   * surviving a power loss, at the price of a disk sync per flush.
   */
  readonly fsyncOnFlush?: boolean;
}

const DEFAULT_MAX_PENDING_BYTES = 1 << 20;

/**
 * Writes one TensorBoard event file, `events.out.tfevents.<seconds>.<host><suffix>` in a folder,
 * as TensorFlow's EventsWriter names it; a second writer in the same second gets `.1`, `.2`… added
 * rather than overwriting the first. The file starts with the `file_version` event.
 *
 * Unlike TfRecordWriter there is no temporary name: TensorBoard and `kbb watch --follow` read the
 * file while training runs, so it is created under its final name and only ever appended to.
 * Events are framed (TFRecord framing) into memory as they come; `flush()` appends them with one
 * write, after which any reader sees them. So a crash (an exception, kill -9) loses only the events
 * not yet flushed, and a kill in the middle of a flush leaves at most one record cut short at the
 * end, which the readers take for the end of the file (as TensorBoard's do). A power loss can also
 * lose flushed events unless `fsyncOnFlush` is set; `close()` always syncs.
 *
 * After a failed write nothing more is written (appending after a partial record would put a
 * corrupt record in the middle of the file): the error is thrown by every later call.
 */
export class EventFileWriter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The appends in flight, chained so that they land in order. */
  private writing: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    /** The event file's path. */
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly options: EventFileWriterOptions,
  ) {}

  /** Creates the folder if needed and a new event file in it, with its `file_version` event written. */
  static async open(dir: string, options: EventFileWriterOptions = {}): Promise<EventFileWriter> {
    const time = options.time ?? Date.now() / 1000;
    // TensorFlow's name: whole seconds, zero-padded to 10 digits (`%010lld`).
    const name = `events.out.tfevents.${String(Math.floor(time)).padStart(10, '0')}.${options.hostname ?? hostname()}${options.suffix ?? ''}`;
    await mkdir(dir, { recursive: true });
    for (let n = 0; ; n++) {
      const path = join(dir, n === 0 ? name : `${name}.${n}`);
      let handle: FileHandle;
      try {
        // O_APPEND as well as O_EXCL: every write lands at the end, whatever the file position.
        handle = await open(path, 'ax');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw error;
      }
      const writer = new EventFileWriter(path, handle, options);
      writer.event({ wallTime: time, step: 0, fileVersion: EVENT_FILE_VERSION });
      await writer.flush();
      return writer;
    }
  }

  /**
   * Adds one scalar as its own event, a float32 `simple_value` (what TF1's `tf.summary.scalar`
   * writes; TensorBoard reads it as a scalar). `wallTime` in seconds defaults to now.
   */
  scalar(tag: string, value: number, step: number, wallTime?: number): void {
    this.scalars(step, new Map([[tag, value]]), wallTime);
  }

  /** Adds several scalars of one step as a single event, as TF1's merged summaries do. Nothing is written for none. */
  scalars(step: number, values: Readonly<Record<string, number>> | ReadonlyMap<string, number>, wallTime?: number): void {
    const entries = values instanceof Map ? [...values] : Object.entries(values);
    if (entries.length === 0) return;
    const summary: SummaryValue[] = entries.map(([tag, value]) => {
      if (typeof value !== 'number') throw new TypeError(`scalar ${JSON.stringify(tag)}: ${String(value)} is not a number`);
      return { tag, simpleValue: value };
    });
    this.event({ wallTime: wallTime ?? Date.now() / 1000, step, summary });
  }

  /** Adds any event (a TF2-style tensor summary, say). The bytes are framed at once, so `event` may be changed afterwards. */
  event(event: TfEvent): void {
    this.assertWritable();
    if (!Number.isSafeInteger(event.step)) throw new RangeError(`event step ${event.step} is not an integer within ±2^53`);
    if (!Number.isFinite(event.wallTime)) throw new RangeError(`event wall time ${event.wallTime} is not a finite number`);
    const framed = frameTfRecord(encodeEvent(event));
    this.pending.push(framed);
    this.pendingBytes += framed.length;
    if (this.pendingBytes >= (this.options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES)) this.push();
  }

  /** Appends the pending events to the file (and fsyncs with `fsyncOnFlush`); readers see them once this resolves. */
  async flush(): Promise<void> {
    this.assertWritable();
    this.push();
    await this.writing;
    if (this.failure) throw this.failure;
    if (this.options.fsyncOnFlush) await this.handle.sync().catch((error: Error) => this.fail(error));
    if (this.failure) throw this.failure;
  }

  /** Flushes, syncs to disk and closes the file. Calling it again returns the same promise. */
  close(): Promise<void> {
    this.closing ??= this.finish();
    return this.closing;
  }

  private async finish(): Promise<void> {
    this.push();
    await this.writing;
    try {
      if (!this.failure) await this.handle.sync().catch((error: Error) => this.fail(error));
    } finally {
      await this.handle.close();
    }
    if (this.failure) throw this.failure;
  }

  private assertWritable(): void {
    if (this.closing) throw new Error(`${this.path}: event written after close`);
    if (this.failure) throw this.failure;
  }

  /** Queues the pending events as one append behind those already in flight. */
  private push(): void {
    if (this.pendingBytes === 0) return;
    const chunk = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    this.writing = this.writing.then(() => this.append(chunk));
  }

  /** Never rejects: a failure is kept and thrown by the next call, since nobody may be awaiting this append. */
  private async append(chunk: Buffer): Promise<void> {
    if (this.failure) return;
    try {
      for (let at = 0; at < chunk.length; ) {
        const { bytesWritten } = await this.handle.write(chunk, at, chunk.length - at);
        at += bytesWritten;
      }
    } catch (error) {
      this.fail(error as Error);
    }
  }

  private fail(error: Error): void {
    this.failure ??= new Error(`${this.path}: writing events failed (${error.message}); nothing more is written to this file`, { cause: error });
  }
}
