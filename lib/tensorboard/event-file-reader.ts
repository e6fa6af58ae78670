import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { maskedCrc32c } from '../checksum/masked-crc32c.js';
import { compareCodePoints } from '../text/compare-code-points.js';
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
   * Called for each damaged record passed over: a bad checksum, or a payload that is not an Event.
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
const EMPTY = Buffer.alloc(0);

/**
 * Reads the events of one event file from a byte offset. This does its own TFRecord framing rather
 * than use `readTfRecords`, which always starts at byte 0: following a growing file would then
 * re-read and re-check the whole file on every poll (about 90 ms for a 4 MB file of 100,000 events,
 * against half a millisecond from an offset). Reading a whole file costs the same either way.
 *
 * It stops without error where a record is cut short, and also at a length whose checksum fails
 * (nothing after it can be trusted; reported). A payload whose checksum fails is reported and
 * passed over, except when it is the last record in the file: a write still landing (on a network
 * file system) looks the same, so it is left to be read again.
 */
export function readEvents(path: string, options: EventReadOptions = {}): EventStream {
  const stream = {
    end: options.start ?? 0,
    [Symbol.asyncIterator]: () => read(),
  };
  async function* read(): AsyncGenerator<EventRecord> {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      const start = options.start ?? 0;
      let position = start <= size ? start : 0; // file offset of `buffered[0]`
      stream.end = position;
      let buffered: Buffer = EMPTY;
      const chunkSize = options.chunkSize ?? 1 << 20;
      /** Reads on until `buffered` holds `needed` bytes; false where the file ends first. */
      const fill = async (needed: number): Promise<boolean> => {
        if (buffered.length >= needed) return true;
        const parts = [buffered];
        let have = buffered.length;
        while (have < needed) {
          // No bigger than what the file held at open: a poll for a few new bytes should not allocate a whole chunk.
          const chunk = Buffer.allocUnsafe(Math.max(needed - have, Math.min(chunkSize, size - position - have)));
          const { bytesRead } = await handle.read(chunk, 0, chunk.length, position + have);
          if (bytesRead === 0) break;
          parts.push(chunk.subarray(0, bytesRead));
          have += bytesRead;
        }
        buffered = parts.length === 1 ? parts[0] : Buffer.concat(parts, have);
        return have >= needed;
      };
      const skip = (offset: number, problem: string): void => options.onSkip?.(new Error(`${path}: record at byte ${offset}: ${problem}`));

      while (await fill(HEADER_BYTES)) {
        const offset = position;
        const length = buffered.readUInt32LE(4) * 2 ** 32 + buffered.readUInt32LE(0);
        if (maskedCrc32c(buffered.subarray(0, 8)) !== buffered.readUInt32LE(8)) {
          skip(offset, 'length CRC mismatch; the rest of the file is passed over');
          return;
        }
        const total = HEADER_BYTES + length + FOOTER_BYTES;
        if (!(await fill(total))) return;
        const data = buffered.subarray(HEADER_BYTES, HEADER_BYTES + length);
        let event: TfEvent | undefined;
        if (maskedCrc32c(data) !== buffered.readUInt32LE(HEADER_BYTES + length)) {
          if (!(await fill(total + 1))) return;
          skip(offset, 'data CRC mismatch');
        } else {
          try {
            event = decodeEvent(data);
          } catch (error) {
            skip(offset, `not an Event (${(error as Error).message})`);
          }
        }
        buffered = buffered.subarray(total);
        position += total;
        stream.end = position;
        if (event) yield { event, offset };
      }
    } finally {
      await handle.close();
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
 * The event files at `path`: the file itself, or the files of a folder whose names contain
 * `tfevents` (TensorBoard's own test), not recursive, in name order, which is time order for the
 * files of one host.
 */
export async function eventFiles(path: string): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  return entries
    .filter((entry) => (entry.isFile() || entry.isSymbolicLink()) && entry.name.includes('tfevents'))
    .map((entry) => entry.name)
    .sort(compareCodePoints)
    .map((name) => join(path, name));
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
      for await (const { event } of stream) points.push(...scalarPoints(event));
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
