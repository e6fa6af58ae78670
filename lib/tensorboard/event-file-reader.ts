import { fileSystemFor } from '../fs/file-system-for.js';
import { InputError } from '../fs/input-error.js';
import { joinPath } from '../fs/paths.js';
import { StorageError } from '../fs/storage-error.js';
import { compareCodePoints } from '../text/compare-code-points.js';
import { readTfRecords } from '../tfrecord/reader.js';
import { decodeEvent, type TfEvent, tensorScalarValue } from './event-proto.js';

/** One point of a scalar series, from a `simple_value` or a one-element float or double tensor. */
export interface ScalarPoint {
  readonly tag: string;
  readonly step: number;
  /** Seconds since the Unix epoch. */
  readonly wallTime: number;
  readonly value: number;
}

export interface EventReadOptions {
  /** Byte offset to start at: the `end` of an earlier read of the same file (default 0). A file now shorter than this is read from 0. */
  readonly start?: number;
  /**
   * Called for each damaged record passed over (an `InputError` naming the file and the record's
   * byte offset): a bad checksum, or a payload that is not an Event.
   * A record cut short at the end of the file is not damage (the run is still writing it, or was
   * killed while it did) and is not reported.
   */
  readonly onSkip?: (problem: Error) => void;
  /** Bytes per read (default 1 MiB). */
  readonly chunkSize?: number;
}

/** An event and the byte offset of its record. */
export interface EventRecord {
  readonly event: TfEvent;
  readonly offset: number;
}

/** The events of one file. Each iteration reads the file afresh from `start`. */
export interface EventStream extends AsyncIterable<EventRecord> {
  /**
   * Where the complete records read so far end: the `start` for a later read that wants only what
   * has been appended since. A cut-off last record is not passed, so it is read once it is whole.
   */
  readonly end: number;
}

const HEADER_BYTES = 12; // u64 length + u32 masked CRC of the length
const FOOTER_BYTES = 4; // u32 masked CRC of the payload

/**
 * Reads the events of one event file from a byte offset (TFRecord framing by `readTfRecords`), as a
 * file still being written must be read. It stops without error where a record is cut short, and
 * also at a length whose checksum fails (nothing after it can be trusted; reported). A payload whose
 * checksum fails is reported and passed over, except when it is the last thing in the file: a write
 * still landing (on a network file system) looks the same, so it is left to be read again.
 */
export function readEvents(path: string, options: EventReadOptions = {}): EventStream {
  const stream = {
    end: options.start ?? 0,
    [Symbol.asyncIterator]: () => read(),
  };
  // Each problem passed over is kbb's own located input error, as a reader that threw would give.
  const report = (offset: number, problem: string): void => options.onSkip?.(new InputError(path, `${path}: record at byte ${offset}: ${problem}`));
  async function* read(): AsyncGenerator<EventRecord> {
    const info = await fileSystemFor(path).stat(path);
    if (!info) throw new StorageError(path, 'ENOENT', 'no such event file');
    const { size } = info;
    const requested = options.start ?? 0;
    stream.end = requested <= size ? requested : 0; // a shorter file was replaced: read it whole
    // Nothing appended since: no read at all (on Cloud Storage, no request, and no empty range for a server to misread).
    if (stream.end === size) return;
    /** A payload whose checksum failed: damage once anything follows it, else perhaps a write still landing. */
    let damaged: number | undefined;
    /** Whatever follows a damaged payload, at `offset`, makes it damage: reported and passed over. */
    const passDamaged = (offset: number): void => {
      if (damaged === undefined) return;
      report(damaged, 'data CRC mismatch');
      damaged = undefined;
      stream.end = offset;
    };
    const records = readTfRecords(path, {
      start: stream.end,
      compression: 'none',
      onCorrupt: 'skip',
      ...(options.chunkSize === undefined ? {} : { chunkSize: options.chunkSize }),
      onSkip: (problem) => {
        if (problem.code === 'data-crc') {
          passDamaged(problem.offset);
          damaged = problem.offset;
          return;
        }
        passDamaged(problem.offset);
        if (problem.code === 'length-crc') report(problem.offset, 'length CRC mismatch; the rest of the file is passed over');
        else if (problem.code !== 'truncated') report(problem.offset, problem.problem); // a cut-off record is still being written
      },
    });
    for await (const record of records) {
      passDamaged(record.offset);
      stream.end = record.offset + HEADER_BYTES + record.data.length + FOOTER_BYTES;
      let event: TfEvent;
      try {
        event = decodeEvent(record.data);
      } catch (error) {
        report(record.offset, `not an Event (${(error as Error).message})`);
        continue;
      }
      yield { event, offset: record.offset };
    }
  }
  return stream;
}

/**
 * The scalar points an event holds: `simple_value`s, and tensors of one float or double element
 * (TF2's `tf.summary.scalar`) unless their metadata names a plugin other than `scalars`. Only a
 * tag's first value usually carries metadata, so this looks at the tensor itself rather than
 * remembering plugins per tag: histograms, images and text are never one float.
 */
export function scalarPoints(event: TfEvent): ScalarPoint[] {
  const points: ScalarPoint[] = [];
  for (const value of event.summary ?? []) {
    let number = value.simpleValue;
    if (number === undefined && value.tensor !== undefined) {
      const plugin = value.metadata?.pluginName ?? '';
      if (plugin === '' || plugin === 'scalars') number = tensorScalarValue(value.tensor);
    }
    if (number !== undefined) points.push({ tag: value.tag, step: event.step, wallTime: event.wallTime, value: number });
  }
  return points;
}

/**
 * The event files at `path` (local or `gs://`): the file itself, or the files of a folder whose names
 * contain `tfevents` (TensorBoard's own test), not recursive, in name order, which is time order for
 * the files of one host.
 */
export async function eventFiles(path: string): Promise<string[]> {
  const fs = fileSystemFor(path);
  const info = await fs.stat(path);
  if (!info) throw new StorageError(path, 'ENOENT', 'no such file or folder');
  if (!info.isDirectory) return [path];
  return (await fs.list(path))
    .filter((entry) => !entry.isDirectory && entry.name.includes('tfevents'))
    .map((entry) => entry.name)
    .sort(compareCodePoints)
    .map((name) => joinPath(path, name));
}

/** Options for reading scalars from a file or a folder. */
export interface ScalarReadOptions {
  /** Called for each damaged record passed over (see `EventReadOptions.onSkip`). */
  readonly onSkip?: (problem: Error) => void;
}

/** The scalar points of an event file, or of every event file in a folder, in file and record order. */
export async function* readScalars(path: string, options: ScalarReadOptions = {}): AsyncGenerator<ScalarPoint> {
  for (const file of await eventFiles(path)) {
    for await (const { event } of readEvents(file, options)) yield* scalarPoints(event);
  }
}

/** What `readNewScalars` found, and where to start the next time. */
export interface ScalarUpdate {
  /** The points appended since the previous read, in file and record order. */
  readonly points: ScalarPoint[];
  /** Event file path → byte offset read up to: pass it to the next call. */
  readonly offsets: ReadonlyMap<string, number>;
}

/**
 * The scalar points appended to the event files at `path` (a file or a folder) since a previous
 * call returned `since`; every point when `since` is empty. For following a run that is still
 * writing: each call lists the folder again (a restarted run starts a new file), reads each file
 * from its offset, and stops before a record that is not yet whole. A file that disappeared
 * between the listing and the read is left out.
 */
export async function readNewScalars(path: string, since: ReadonlyMap<string, number> = new Map(), options: ScalarReadOptions = {}): Promise<ScalarUpdate> {
  const points: ScalarPoint[] = [];
  const offsets = new Map<string, number>();
  for (const file of await eventFiles(path)) {
    const stream = readEvents(file, { start: since.get(file) ?? 0, onSkip: options.onSkip });
    try {
      for await (const { event } of stream) for (const point of scalarPoints(event)) points.push(point);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    offsets.set(file, stream.end);
  }
  return { points, offsets };
}

/**
 * Adds a point to its tag's series, keeping each series in increasing step order the way
 * TensorBoard purges orphaned data: a step at or below the series' last step means the run went
 * back (it restarted from an earlier checkpoint), so the points from that step on are dropped
 * first and the new one replaces them.
 */
export function addScalarPoint(series: Map<string, ScalarPoint[]>, point: ScalarPoint): void {
  let points = series.get(point.tag);
  if (points === undefined) {
    points = [];
    series.set(point.tag, points);
  }
  while (points.length > 0 && points[points.length - 1].step >= point.step) points.pop();
  points.push(point);
}

/** Every scalar series of an event file or folder: tag → points in increasing step order (see `addScalarPoint`). */
export async function readScalarSeries(path: string, options: ScalarReadOptions = {}): Promise<Map<string, ScalarPoint[]>> {
  const series = new Map<string, ScalarPoint[]>();
  for await (const point of readScalars(path, options)) addScalarPoint(series, point);
  return series;
}
