import { appendFileSync, mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskedCrc32c } from '../../lib/checksum/masked-crc32c.js';
import { InputError } from '../../lib/fs/index.js';
import {
  DATA_CLASS_SCALAR,
  DT_DOUBLE,
  DT_FLOAT,
  EventFileWriter,
  eventFiles,
  readEvents,
  readScalarSeries,
  readScalars,
  type ScalarPoint,
  type TfEvent,
} from '../../lib/tensorboard/index.js';

let root = '';
let folders = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kbb-tb-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** A fresh folder name (not yet created: the writer creates it). */
const freshDir = (): string => join(root, `run-${folders++}`);

async function collect(path: string, onSkip?: (e: Error) => void): Promise<ScalarPoint[]> {
  const points: ScalarPoint[] = [];
  for await (const point of readScalars(path, { onSkip })) points.push(point);
  return points;
}

async function events(path: string, start = 0): Promise<{ events: { event: TfEvent; offset: number }[]; end: number; problems: string[] }> {
  const problems: string[] = [];
  const stream = readEvents(path, { start, onSkip: (e) => problems.push(e.message) });
  const read = [];
  for await (const record of stream) read.push(record);
  return { events: read, end: stream.end, problems };
}

/** A writer with ten points of `loss` at steps 1…10, closed; its path. */
async function tenPoints(dir = freshDir()): Promise<string> {
  const writer = await EventFileWriter.open(dir, { time: 1700000000, hostname: 'h' });
  for (let step = 1; step <= 10; step++) writer.scalar('loss', 1 / step, step, 1700000000 + step);
  await writer.close();
  return writer.path;
}

describe('EventFileWriter and the readers', () => {
  it('names the file as TensorFlow does, writes file_version first, and reads every scalar back (float32 values)', async () => {
    const dir = join(freshDir(), 'nested', 'folder');
    const writer = await EventFileWriter.open(dir, { time: 1700000123.9, hostname: 'trainer-0' });
    expect(writer.path).toBe(join(dir, 'events.out.tfevents.1700000123.trainer-0'));
    writer.scalar('loss', 2.5, 1, 1700000124.5);
    writer.scalars(2, { loss: 0.1, 'lr/학습률': 1e-4 }, 1700000125.125);
    writer.scalars(3, new Map([['overflow', 1e39]]), 1700000126);
    writer.scalar('nan', Number.NaN, 2 ** 40, 1700000127);
    writer.scalars(4, {}); // nothing
    await writer.close();

    const read = await events(writer.path);
    expect(read.events[0]).toEqual({ event: { wallTime: 1700000123.9, step: 0, fileVersion: 'brain.Event:2' }, offset: 0 });
    expect(read.events).toHaveLength(5);
    expect(read.end).toBe(statSync(writer.path).size);
    expect(await collect(writer.path)).toEqual([
      { tag: 'loss', step: 1, wallTime: 1700000124.5, value: 2.5 },
      { tag: 'loss', step: 2, wallTime: 1700000125.125, value: Math.fround(0.1) },
      { tag: 'lr/학습률', step: 2, wallTime: 1700000125.125, value: Math.fround(1e-4) },
      { tag: 'overflow', step: 3, wallTime: 1700000126, value: Number.POSITIVE_INFINITY },
      { tag: 'nan', step: 2 ** 40, wallTime: 1700000127, value: Number.NaN },
    ]);
    // The folder reads the same as its one file.
    expect(await collect(dir)).toEqual(await collect(writer.path));
  });

  it('defaults: now and the host name; the wall time of a scalar is now', async () => {
    const before = Date.now() / 1000;
    const writer = await EventFileWriter.open(freshDir(), { suffix: '.v2' });
    writer.scalar('x', 1, 7);
    await writer.close();
    const after = Date.now() / 1000;
    const [, , , seconds, ...rest] = basename(writer.path).split('.');
    expect(Number(seconds)).toBeGreaterThanOrEqual(Math.floor(before));
    expect(Number(seconds)).toBeLessThanOrEqual(after);
    expect(rest.join('.')).toBe(`${hostname()}.v2`);
    const [point] = await collect(writer.path);
    expect(point.wallTime).toBeGreaterThanOrEqual(before);
    expect(point.wallTime).toBeLessThanOrEqual(after);
  });

  it('a second writer in the same second gets a new name; a folder reads its tfevents files in name order and nothing else', async () => {
    const dir = freshDir();
    const first = await EventFileWriter.open(dir, { time: 1700000000, hostname: 'h' });
    const second = await EventFileWriter.open(dir, { time: 1700000000, hostname: 'h' });
    expect(second.path).toBe(`${first.path}.1`);
    second.scalar('b', 2, 1, 1);
    first.scalar('a', 1, 1, 1);
    await Promise.all([first.close(), second.close()]);
    writeFileSync(join(dir, 'notes.txt'), 'not events');
    mkdirSync(join(dir, 'events.out.tfevents.1.h.folder'));
    expect(await eventFiles(dir)).toEqual([first.path, second.path]);
    expect((await collect(dir)).map((p) => p.tag)).toEqual(['a', 'b']);
  });

  it('refuses a step that is not a safe integer, and any event after close', async () => {
    const writer = await EventFileWriter.open(freshDir(), { time: 1, hostname: 'h' });
    expect(() => writer.scalar('x', 1, 1.5)).toThrow(/step 1.5/);
    expect(() => writer.scalar('x', 1, 2 ** 53)).toThrow(/step/);
    await writer.close();
    expect(() => writer.scalar('x', 1, 1)).toThrow(/after close/);
    await writer.close(); // again: the same settled promise
  });

  for (const [where, cut] of [
    ['its payload', 5],
    ['its header', -6],
  ] as const) {
    it(`a file cut in the middle of ${where} of its last record reads every complete record, with no error`, async () => {
      const path = await tenPoints();
      const whole = await events(path);
      const last = whole.events.at(-1)!.offset;
      truncateSync(path, cut > 0 ? statSync(path).size - cut : last - cut);
      const problems: Error[] = [];
      const points = await collect(path, (e) => problems.push(e));
      expect(points.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(problems).toEqual([]);
      expect((await events(path)).end).toBe(last); // where the cut record starts: read again later
    });
  }

  it('a damaged payload in the middle is reported and passed over; at the very end it is left for a later read', async () => {
    const path = await tenPoints();
    const { events: records } = await events(path);
    const bytes = readFileSync(path);
    bytes[records[3].offset + 14] ^= 0x40; // the payload of the record of step 3
    bytes[bytes.length - 6] ^= 0x40; // the payload of the last record, step 10
    writeFileSync(path, bytes);
    const read = await events(path);
    expect(read.problems).toEqual([`${path}: record at byte ${records[3].offset}: data CRC mismatch`]);
    expect(read.events.map((r) => r.event.step)).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9]);
    expect(read.end).toBe(records[10].offset);

    // Once something follows it, the last record is damage after all.
    appendFileSync(path, bytes.subarray(records[1].offset, records[2].offset));
    const later = await events(path, read.end);
    expect(later.problems).toEqual([`${path}: record at byte ${records[10].offset}: data CRC mismatch`]);
    expect(later.events.map((r) => r.event.step)).toEqual([1]);
  });

  it('each problem passed over is an InputError naming the file, as a refused file would be; a payload that is not an Event names its byte', async () => {
    const path = await tenPoints();
    const { events: records } = await events(path);
    const bytes = readFileSync(path);
    // Record 2's payload replaced by bytes that are no Event (a tag of wire type 7), its checksum made right.
    const start = records[2].offset + 12;
    const length = records[3].offset - start - 4;
    bytes.fill(0xff, start, start + length);
    bytes.writeUInt32LE(maskedCrc32c(bytes.subarray(start, start + length)), start + length);
    writeFileSync(path, bytes);
    const problems: Error[] = [];
    const steps: number[] = [];
    for await (const { event } of readEvents(path, { onSkip: (problem) => problems.push(problem) })) steps.push(event.step);
    expect(steps).toEqual([0, 1, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toBeInstanceOf(InputError);
    expect((problems[0] as InputError).file).toBe(path);
    expect(problems[0].message).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: record at byte ${records[2].offset}: not an Event \\(`));
  });

  it('a damaged length ends the file there, reported once', async () => {
    const path = await tenPoints();
    const { events: records } = await events(path);
    const bytes = readFileSync(path);
    bytes[records[5].offset + 1] ^= 0x01;
    writeFileSync(path, bytes);
    const read = await events(path);
    expect(read.problems).toEqual([`${path}: record at byte ${records[5].offset}: length CRC mismatch; the rest of the file is passed over`]);
    expect(read.events.map((r) => r.event.step)).toEqual([0, 1, 2, 3, 4]);
    expect(read.end).toBe(records[5].offset);
  });

  it('TF2 scalar tensors are read (float_val, double_val, tensor_content; metadata or none); other tensors are not', async () => {
    const writer = await EventFileWriter.open(freshDir(), { time: 1, hostname: 'h' });
    const scalars = { pluginName: 'scalars', dataClass: DATA_CLASS_SCALAR };
    writer.event({ wallTime: 2, step: 1, summary: [{ tag: 'loss', tensor: { dtype: DT_FLOAT, shape: [], floatVal: [0.5] }, metadata: scalars }] });
    writer.event({
      wallTime: 3,
      step: 2,
      summary: [{ tag: 'loss', tensor: { dtype: DT_FLOAT, shape: [], content: new Uint8Array(Float32Array.of(0.25).buffer) } }],
    });
    writer.event({ wallTime: 4, step: 2, summary: [{ tag: 'lr', tensor: { dtype: DT_DOUBLE, shape: [1], doubleVal: [1e-300] }, metadata: scalars }] });
    writer.event({
      wallTime: 5,
      step: 3,
      summary: [{ tag: 'lr', tensor: { dtype: DT_DOUBLE, shape: [], content: new Uint8Array(Float64Array.of(0.1).buffer) } }],
    });
    writer.event({
      wallTime: 6,
      step: 3,
      summary: [{ tag: 'hist', tensor: { dtype: DT_DOUBLE, shape: [1, 3], doubleVal: [0, 1, 2] }, metadata: { pluginName: 'histograms' } }],
    });
    writer.event({
      wallTime: 6,
      step: 3,
      summary: [{ tag: 'other', tensor: { dtype: DT_FLOAT, shape: [], floatVal: [1] }, metadata: { pluginName: 'custom' } }],
    });
    writer.event({ wallTime: 6, step: 3, summary: [{ tag: 'ints', tensor: { dtype: 3, shape: [] } }] });
    await writer.close();
    expect(await collect(writer.path)).toEqual([
      { tag: 'loss', step: 1, wallTime: 2, value: 0.5 },
      { tag: 'loss', step: 2, wallTime: 3, value: 0.25 },
      { tag: 'lr', step: 2, wallTime: 4, value: 1e-300 },
      { tag: 'lr', step: 3, wallTime: 5, value: 0.1 },
    ]);
  });

  it('series by tag, in step order; a restarted run (a later file going back in steps) replaces the points from there on', async () => {
    const dir = freshDir();
    const first = await EventFileWriter.open(dir, { time: 1700000000, hostname: 'h' });
    for (let step = 1; step <= 5; step++) first.scalars(step, { loss: step, acc: -step }, step);
    await first.close(); // killed at step 5, restarted from the checkpoint of step 3
    const second = await EventFileWriter.open(dir, { time: 1700000100, hostname: 'h' });
    second.scalar('loss', 30, 3, 103);
    second.scalar('loss', 40, 4, 104);
    await second.close();
    const series = await readScalarSeries(dir);
    expect([...series.keys()]).toEqual(['loss', 'acc']);
    expect(series.get('loss')!.map((p) => [p.step, p.value])).toEqual([
      [1, 1],
      [2, 2],
      [3, 30],
      [4, 40],
    ]);
    expect(series.get('acc')!.map((p) => p.step)).toEqual([1, 2, 3, 4, 5]); // not logged again: kept
  });
});
