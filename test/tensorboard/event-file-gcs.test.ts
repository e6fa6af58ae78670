import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileSystemFor } from '../../lib/fs/index.js';
import { EventFileWriter, eventFiles, REMOTE_FLUSH_SECONDS, readEvents, readNewScalars, readScalarSeries } from '../../lib/tensorboard/index.js';
import { hasGcsEmulator, setUpGcsEmulator, uniqueBucket } from '../helpers/gcs-emulator.js';

setUpGcsEmulator();

/** Event files in a bucket: written as they grow (each flush a whole upload) and read from where the last read ended. */

const localRoot = mkdtempSync(join(tmpdir(), 'kbb-events-gcs-'));
afterAll(async () => {
  rmSync(localRoot, { recursive: true, force: true });
});

const steps = (points: readonly { step: number }[]): number[] => points.map((p) => p.step);

describe.skipIf(!hasGcsEmulator)('event files on gs:// (the Storage emulator)', () => {
  it('a writer in a bucket makes the bytes a local writer makes; a reader follows it from its offsets', async () => {
    const remote = `gs://${uniqueBucket('events')}/run`;
    const local = join(localRoot, 'same');
    const options = { time: 1_700_000_000, hostname: 'host' };
    const writers = [await EventFileWriter.open(remote, options), await EventFileWriter.open(local, options)];
    expect(writers[0].path).toBe(`${remote}/events.out.tfevents.1700000000.host`);
    // A second writer in the same second does not replace the first.
    const second = await EventFileWriter.open(remote, options);
    expect(second.path).toBe(`${remote}/events.out.tfevents.1700000000.host.1`);
    await second.close();
    expect(await eventFiles(remote)).toEqual([writers[0].path, second.path]);

    for (const w of writers) {
      for (const step of [1, 2, 3]) w.scalars(step, { loss: 9 - step, learning_rate: step / 1000 }, 1_700_000_000 + step);
      await w.flush();
    }
    const first = await readNewScalars(writers[0].path);
    expect(steps(first.points)).toEqual([1, 1, 2, 2, 3, 3]);
    expect(first.points).toEqual((await readNewScalars(writers[1].path)).points);

    for (const w of writers) {
      for (const step of [4, 5]) w.scalars(step, { loss: 9 - step, learning_rate: step / 1000 }, 1_700_000_000 + step);
      await w.flush();
    }
    const next = await readNewScalars(writers[0].path, first.offsets);
    expect(steps(next.points)).toEqual([4, 4, 5, 5]);
    expect(next.offsets.get(writers[0].path)).toBeGreaterThan(first.offsets.get(writers[0].path)!);
    // Nothing new: nothing read twice.
    expect((await readNewScalars(writers[0].path, next.offsets)).points).toEqual([]);
    // Read from an offset directly: the events after it, with their offsets in the whole file.
    const tail = [];
    for await (const record of readEvents(writers[0].path, { start: first.offsets.get(writers[0].path)! })) tail.push(record);
    expect(tail.map((r) => r.event.step)).toEqual([4, 5]);
    expect(tail[0].offset).toBe(first.offsets.get(writers[0].path));

    await Promise.all(writers.map((w) => w.close()));
    const uploaded = await fileSystemFor(writers[0].path).readFile(writers[0].path);
    expect(uploaded.equals(readFileSync(writers[1].path))).toBe(true);
    const series = await readScalarSeries(remote);
    expect(series.get('loss')!.map((p) => [p.step, p.value])).toEqual([1, 2, 3, 4, 5].map((s) => [s, 9 - s]));
  });

  it('flushIfDue uploads to a bucket only every REMOTE_FLUSH_SECONDS (each flush is a whole upload), but appends to a local file at once; flush and close always write', async () => {
    expect(REMOTE_FLUSH_SECONDS).toBeGreaterThan(5);
    const remote = await EventFileWriter.open(`gs://${uniqueBucket('due')}/run`, { hostname: 'host' });
    const local = await EventFileWriter.open(join(localRoot, 'due'), { hostname: 'host' });
    for (const w of [remote, local]) {
      w.scalars(1, { loss: 1 });
      await w.flushIfDue();
    }
    expect(steps((await readNewScalars(local.path)).points)).toEqual([1]);
    expect(steps((await readNewScalars(remote.path)).points)).toEqual([]);
    await remote.flush();
    expect(steps((await readNewScalars(remote.path)).points)).toEqual([1]);
    remote.scalars(2, { loss: 2 });
    await remote.flushIfDue();
    expect(steps((await readNewScalars(remote.path)).points)).toEqual([1]);
    await Promise.all([remote.close(), local.close()]);
    expect(steps((await readNewScalars(remote.path)).points)).toEqual([1, 2]);

    // An interval of its own: 0 uploads at every call.
    const eager = await EventFileWriter.open(`gs://${uniqueBucket('eager')}/run`, { hostname: 'host', flushIntervalSeconds: 0 });
    eager.scalars(7, { loss: 7 });
    await eager.flushIfDue();
    expect(steps((await readNewScalars(eager.path)).points)).toEqual([7]);
    await eager.close();
  });

  it('a folder or file that is not in the bucket is an error naming it', async () => {
    const missing = `gs://${uniqueBucket('none')}/no/run`;
    await expect(readScalarSeries(missing)).rejects.toThrow(`${missing}: no such file or folder`);
  });
});
