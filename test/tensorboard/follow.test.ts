import { appendFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addScalarPoint, EventFileWriter, encodeEvent, readNewScalars, type ScalarPoint } from '../../lib/tensorboard/index.js';
import { frameTfRecord } from '../../lib/tfrecord/index.js';

let root = '';
let folders = 0;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kbb-tb-follow-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

const freshDir = (): string => join(root, `run-${folders++}`);
const steps = (points: readonly ScalarPoint[]): number[] => points.map((p) => p.step);

describe('reading a run while it writes', () => {
  it('after flush() a reader sees the new points; each incremental read returns only what is new', async () => {
    const dir = freshDir();
    const writer = await EventFileWriter.open(dir, { time: 1700000000, hostname: 'h' });
    // open() has flushed the file_version event already.
    let update = await readNewScalars(dir);
    expect(update.points).toEqual([]);
    expect([...update.offsets]).toEqual([[writer.path, statSync(writer.path).size]]);

    writer.scalar('loss', 1, 1, 1700000001);
    update = await readNewScalars(dir, update.offsets);
    expect(update.points).toEqual([]); // not flushed yet

    await writer.flush();
    update = await readNewScalars(dir, update.offsets);
    expect(update.points).toEqual([{ tag: 'loss', step: 1, wallTime: 1700000001, value: 1 }]);
    update = await readNewScalars(dir, update.offsets);
    expect(update.points).toEqual([]);

    writer.scalars(2, { loss: 0.5, lr: 0.25 }, 1700000002);
    writer.scalar('loss', 0.125, 3, 1700000003);
    await writer.flush();
    update = await readNewScalars(dir, update.offsets);
    expect(update.points.map((p) => [p.tag, p.step])).toEqual([
      ['loss', 2],
      ['lr', 2],
      ['loss', 3],
    ]);

    // A run that restarts writes a second file, which the next read finds.
    const restarted = await EventFileWriter.open(dir, { time: 1700000100, hostname: 'h' });
    restarted.scalar('loss', 9, 3, 1700000103);
    await restarted.flush();
    update = await readNewScalars(dir, update.offsets);
    expect(update.points).toEqual([{ tag: 'loss', step: 3, wallTime: 1700000103, value: 9 }]);
    expect([...update.offsets.keys()]).toEqual([writer.path, restarted.path]);
    await Promise.all([writer.close(), restarted.close()]);
  });

  it('a record still being written is not read until it is whole, and is then read once', async () => {
    const dir = freshDir();
    const writer = await EventFileWriter.open(dir, { time: 1700000000, hostname: 'h' });
    writer.scalar('loss', 1, 1, 1);
    await writer.close();
    let update = await readNewScalars(dir);
    expect(steps(update.points)).toEqual([1]);
    const whole = update.offsets.get(writer.path)!;

    // Another writer's record arriving a few bytes at a time, as a reader may see it.
    const record = frameTfRecord(encodeEvent({ wallTime: 2, step: 2, summary: [{ tag: 'loss', simpleValue: 2 }] }));
    let written = 0;
    for (const end of [5, 12, 20, record.length - 1]) {
      appendFileSync(writer.path, record.subarray(written, end));
      written = end;
      update = await readNewScalars(dir, update.offsets);
      expect(update.points).toEqual([]);
      expect(update.offsets.get(writer.path)).toBe(whole);
    }
    appendFileSync(writer.path, record.subarray(written));
    update = await readNewScalars(dir, update.offsets);
    expect(steps(update.points)).toEqual([2]);
    expect(update.offsets.get(writer.path)).toBe(whole + record.length);
  });

  it('a file now shorter than the offset (replaced) is read again from the start', async () => {
    const dir = freshDir();
    const writer = await EventFileWriter.open(dir, { time: 1700000000, hostname: 'h' });
    writer.scalar('loss', 1, 1, 1);
    writer.scalar('loss', 2, 2, 2);
    await writer.close();
    const first = await readNewScalars(dir);
    const replaced = frameTfRecord(encodeEvent({ wallTime: 3, step: 1, summary: [{ tag: 'loss', simpleValue: 3 }] }));
    writeFileSync(writer.path, replaced);
    const second = await readNewScalars(dir, first.offsets);
    expect(second.points).toEqual([{ tag: 'loss', step: 1, wallTime: 3, value: 3 }]);

    // Series kept up to date from the updates follow the restart rule: step 1 again replaces 1 and 2.
    const series = new Map<string, ScalarPoint[]>();
    for (const point of [...first.points, ...second.points]) addScalarPoint(series, point);
    expect(series.get('loss')).toEqual(second.points);
  });

  it('pending events are written without flush() once they pass maxPendingBytes', async () => {
    const dir = freshDir();
    const writer = await EventFileWriter.open(dir, { time: 1700000000, hostname: 'h', maxPendingBytes: 100 });
    const before = statSync(writer.path).size;
    for (let step = 1; step <= 10; step++) writer.scalar('loss', step, step, step); // about 30 bytes each
    for (let i = 0; i < 100 && statSync(writer.path).size === before; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    const update = await readNewScalars(dir);
    expect(update.points.length).toBeGreaterThanOrEqual(3);
    expect(update.points.length).toBeLessThan(10);
    await writer.close();
    expect(steps((await readNewScalars(dir)).points)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});
