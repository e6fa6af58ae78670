import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventFileWriter, readEvents, readScalarSeries, readScalars } from '../../lib/tensorboard/index.js';

/**
 * An independent reader and writer: Python's own protobuf library, with the Event messages built
 * from a descriptor in event-file-protobuf.py and the TFRecord framing parsed there by hand.
 * Debian's python3-protobuf installs for /usr/bin/python3, which need not be the python3 on PATH
 * (pyenv), so both are tried.
 */
const SCRIPT = fileURLToPath(new URL('./event-file-protobuf.py', import.meta.url));
const python = ['python3', '/usr/bin/python3'].find((exe) => spawnSync(exe, ['-c', 'import google.protobuf'], { stdio: 'ignore' }).status === 0);
if (python === undefined) {
  console.warn(
    "[kbb tests] skipped: python3 with google.protobuf not found (the TensorBoard event file test reads kbb's files back with Python's protobuf; apt-get install python3-protobuf)",
  );
}

function runScript(...args: string[]): unknown {
  const result = spawnSync(python!, [SCRIPT, ...args], { encoding: 'utf8' });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${SCRIPT} ${args.join(' ')} exited with ${result.status}:\n${result.stderr}`);
  return JSON.parse(result.stdout);
}

interface Decoded {
  truncated: boolean;
  events: {
    wall_time: number;
    step: number;
    what: string | null;
    file_version: string;
    values: { tag: string; kind: string; simple_value: number | null }[];
    canonical: boolean;
  }[];
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbb-tb-py-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.skipIf(python === undefined)("event files and Python's protobuf", () => {
  it('protobuf decodes what kbb writes: framing and CRCs, file_version first, tags, steps, wall times, float32 values, canonical bytes', async () => {
    const writer = await EventFileWriter.open(join(dir, 'kbb'), { time: 1700000000.875, hostname: 'pyhost' });
    const written: { step: number; wallTime: number; values: Record<string, number> }[] = [
      { step: 1, wallTime: 1700000001.125, values: { loss: 10.5 } },
      { step: 2, wallTime: 1700000002.0625, values: { loss: 2.71, 'train/learning_rate': 1e-4, '손실/mlm': -0.001 } },
      { step: 2 ** 40, wallTime: 1700000003.5, values: { loss: 0, huge: 3.4e38 } },
    ];
    for (const { step, wallTime, values } of written) writer.scalars(step, values, wallTime);
    writer.scalar('eval/accuracy', 0.8125, 3, 1700000004);
    await writer.close();

    const decoded = runScript('decode', writer.path) as Decoded;
    expect(decoded.truncated).toBe(false);
    expect(decoded.events.every((e) => e.canonical)).toBe(true);
    expect(decoded.events[0]).toMatchObject({ what: 'file_version', file_version: 'brain.Event:2', wall_time: 1700000000.875, step: 0 });
    const expected = [
      ...written.map(({ step, wallTime, values }) => ({
        wall_time: wallTime,
        step,
        what: 'summary',
        values: Object.entries(values).map(([tag, v]) => ({ tag, kind: 'simple_value', simple_value: Math.fround(v) })),
      })),
      { wall_time: 1700000004, step: 3, what: 'summary', values: [{ tag: 'eval/accuracy', kind: 'simple_value', simple_value: 0.8125 }] },
    ];
    expect(decoded.events.slice(1).map(({ wall_time, step, what, values }) => ({ wall_time, step, what, values }))).toEqual(expected);
  });

  it('kbb reads what protobuf writes the TF2 and TF1 ways, passing over graphs, histograms, other plugins, session logs, unknown fields and a cut-off tail', async () => {
    const path = join(dir, 'events.out.tfevents.1700000000.pyhost');
    const expected = runScript('write', path);
    const problems: Error[] = [];
    const points = [];
    for await (const point of readScalars(path, { onSkip: (e) => problems.push(e) })) points.push(point);
    expect(points).toEqual(expected);
    expect(problems).toEqual([]);

    const events = [];
    for await (const { event } of readEvents(path)) events.push(event);
    expect(events[0]).toEqual({ wallTime: 1700000000.5, step: 0, fileVersion: 'brain.Event:2' });
    expect(events).toHaveLength(10); // every complete record, whatever its kind; the cut-off one is not read

    const series = await readScalarSeries(path);
    expect([...series.keys()]).toEqual(['loss', 'learning_rate', 'global_step/sec']);
    expect(series.get('loss')!.map((p) => p.step)).toEqual([1, 2, 4]);
  });
});
