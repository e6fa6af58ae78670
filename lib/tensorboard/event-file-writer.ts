import { hostname } from 'node:os';
import type { AppendableFile } from '../fs/file-system.js';
import { fileSystemFor } from '../fs/file-system-for.js';
import { joinPath } from '../fs/paths.js';
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
  /**
   * The least seconds between two flushes that `flushIfDue()` makes; `flush()` always flushes.
   * Default: 0 on a local disk, where a flush is one append, and `REMOTE_FLUSH_SECONDS` on Cloud
   * Storage, where every flush uploads the whole file again.
   */
  readonly flushIntervalSeconds?: number;
}

const DEFAULT_MAX_PENDING_BYTES = 1 << 20;

/**
 * `flushIfDue`'s default interval on Cloud Storage. It has no append, so each flush uploads the whole
 * event file again (as TensorFlow's GCS file system does at every flush of its summary writer, whose
 * own default interval is 120 s): a flush costs the file's size, not the events added. Every 30 s
 * keeps `kbb watch gs://…` close behind the run while a long run's file (about 150 bytes a step) stays
 * far from costing more than the steps between two flushes.
 */
export const REMOTE_FLUSH_SECONDS = 30;

/**
 * Writes one TensorBoard event file, `events.out.tfevents.<seconds>.<host><suffix>` in a folder
 * (local or `gs://`), as TensorFlow's EventsWriter names it; a second writer in the same second gets
 * `.1`, `.2`… added rather than overwriting the first. The file starts with the `file_version` event.
 *
 * Unlike TfRecordWriter there is no temporary name: TensorBoard and `kbb watch --follow` read the
 * file while training runs, so it is created under its final name and only ever grows (an
 * `AppendableFile`). Events are framed (TFRecord framing) into memory as they come; `flush()` appends
 * them, after which any reader sees them. Locally that is one write at the end, so a crash (an
 * exception, kill -9) loses only the events not yet flushed, and a kill in the middle of a flush
 * leaves at most one record cut short at the end, which the readers take for the end of the file
 * (as TensorBoard's do). A power loss can also lose flushed events unless `fsyncOnFlush` is set;
 * `close()` always syncs. On Cloud Storage a flush uploads the whole file again, each upload
 * finalized whole, so a reader sees the previous flush's file or this one's, never a cut record:
 * hence `flushIfDue()`, which the trainer calls often and which flushes there only every
 * `flushIntervalSeconds`.
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
  /** `performance.now()` of the last flush. */
  private flushedAt = performance.now();

  private constructor(
    /** The event file's path. */
    readonly path: string,
    private readonly file: AppendableFile,
    private readonly options: EventFileWriterOptions,
    /** Milliseconds `flushIfDue` waits between flushes. */
    private readonly flushIntervalMs: number,
  ) {}

  /** Creates the folder if needed and a new event file in it, with its `file_version` event written. */
  static async open(dir: string, options: EventFileWriterOptions = {}): Promise<EventFileWriter> {
    const time = options.time ?? Date.now() / 1000;
    // TensorFlow's name: whole seconds, zero-padded to 10 digits (`%010lld`).
    const name = `events.out.tfevents.${String(Math.floor(time)).padStart(10, '0')}.${options.hostname ?? hostname()}${options.suffix ?? ''}`;
    const fs = fileSystemFor(dir);
    await fs.mkdir(dir);
    const interval = options.flushIntervalSeconds ?? (fs.kind === 'gcs' ? REMOTE_FLUSH_SECONDS : 0);
    for (let n = 0; ; n++) {
      const path = joinPath(dir, n === 0 ? name : `${name}.${n}`);
      let file: AppendableFile;
      try {
        // A new file only (O_EXCL locally), appended to at its end.
        file = await fs.createAppendable(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw error;
      }
      const writer = new EventFileWriter(path, file, options, interval * 1000);
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
    this.flushedAt = performance.now();
    await this.writing;
    if (this.failure) throw this.failure;
    await this.file.flush(this.options.fsyncOnFlush ?? false).catch((error: Error) => this.fail(error));
    if (this.failure) throw this.failure;
  }

  /** `flush()` if `flushIntervalSeconds` have passed since the last flush; otherwise the events wait (a later flush writes them). */
  async flushIfDue(): Promise<void> {
    this.assertWritable();
    if (performance.now() - this.flushedAt >= this.flushIntervalMs) await this.flush();
  }

  /** Flushes, syncs to disk and closes the file. Calling it again returns the same promise. */
  close(): Promise<void> {
    this.closing ??= this.finish();
    return this.closing;
  }

  private async finish(): Promise<void> {
    this.push();
    await this.writing;
    // The file's close syncs (locally) or uploads what is left (Cloud Storage); after a failure it only lets go of the file.
    if (this.failure) await this.file.close().catch(() => undefined);
    else await this.file.close().catch((error: Error) => this.fail(error));
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
      await this.file.append(chunk);
    } catch (error) {
      this.fail(error as Error);
    }
  }

  private fail(error: Error): void {
    this.failure ??= new Error(`${this.path}: writing events failed (${error.message}); nothing more is written to this file`, { cause: error });
  }
}
