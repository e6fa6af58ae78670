import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskedCrc32c } from '../../lib/checksum/masked-crc32c.js';
import { InputError } from '../../lib/fs/index.js';
import { DATA_CLASS_SCALAR, DT_DOUBLE, DT_FLOAT, EventFileWriter, readEvents, readNewScalars, scalarPoints } from '../../lib/tensorboard/index.js';
import { readTfRecords } from '../../lib/tfrecord/index.js';
import { expectReadOrRefused, fuzzParameters, mutated } from '../helpers/fuzz.js';

/*
 * The event-file reader `kbb watch` follows a training run with, on mutated event files. It passes
 * damaged records over (the file may still be written), so the contract here is: it returns the
 * events it can read, each problem it passes over is an InputError naming the file and the record's
 * byte, and anything it throws is an InputError naming the file; never a runtime error or a hang.
 */

let dir = '';
let valid: Buffer;
/** The payloads (serialized Events) of the valid file, in order. */
const payloads: Uint8Array[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbb-events-fuzz-'));
  const writer = await EventFileWriter.open(join(dir, 'valid'), { time: 1700000000, hostname: 'h' });
  for (let step = 1; step <= 4; step++) writer.scalar('loss', 1 / step, step, 1700000000 + step);
  writer.scalars(5, { 'learning_rate/초': 1e-4, mlm_accuracy: 0.5 }, 1700000005);
  const scalars = { pluginName: 'scalars', dataClass: DATA_CLASS_SCALAR };
  writer.event({ wallTime: 2, step: 6, summary: [{ tag: 'loss', tensor: { dtype: DT_FLOAT, shape: [], floatVal: [0.5] }, metadata: scalars }] });
  writer.event({
    wallTime: 3,
    step: 7,
    summary: [{ tag: 'lr', tensor: { dtype: DT_DOUBLE, shape: [], content: new Uint8Array(Float64Array.of(0.1).buffer) } }],
  });
  writer.event({
    wallTime: 4,
    step: 8,
    summary: [{ tag: 'h', tensor: { dtype: DT_DOUBLE, shape: [1, 3], doubleVal: [0, 1, 2] }, metadata: { pluginName: 'histograms' } }],
  });
  await writer.close();
  valid = await readFile(writer.path);
  for await (const record of readTfRecords(writer.path)) payloads.push(record.data);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

let cases = 0;
/** A fresh folder holding one event file with `bytes`; the file's path. */
function eventFile(bytes: Uint8Array): string {
  const folder = join(dir, `case-${cases++}`);
  mkdirSync(folder);
  const file = join(folder, 'events.out.tfevents.1700000000.h');
  writeFileSync(file, bytes);
  return file;
}

/** TFRecord framing around each payload, with right checksums: the mutations then reach the Event decoder. */
function framed(records: readonly Uint8Array[]): Buffer {
  return Buffer.concat(
    records.flatMap((data) => {
      const header = Buffer.alloc(12);
      header.writeBigUInt64LE(BigInt(data.length));
      header.writeUInt32LE(maskedCrc32c(header.subarray(0, 8)), 8);
      const footer = Buffer.alloc(4);
      footer.writeUInt32LE(maskedCrc32c(data));
      return [header, Buffer.from(data), footer];
    }),
  );
}

/** Reads every event of `file` from `start` and its scalar points; each problem passed over must be an InputError naming the file and a byte. */
async function readAll(file: string, start = 0): Promise<number> {
  let points = 0;
  const stream = readEvents(file, {
    start,
    onSkip: (problem) => {
      expect(problem).toBeInstanceOf(InputError);
      expect(problem.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: record at byte \\d+: `));
    },
  });
  for await (const { event } of stream) points += scalarPoints(event).length;
  expect(stream.end).toBeLessThanOrEqual(statSync(file).size);
  return points;
}

describe('fuzzed TensorBoard event files', () => {
  it('the valid file reads whole, every scalar', async () => {
    expect(await readAll(eventFile(valid))).toBe(8);
    expect(await readAll(eventFile(framed(payloads)))).toBe(8);
  });

  it('a mutated event file reads what it can, passing damage over as located InputErrors', async () => {
    await fc.assert(
      fc.asyncProperty(mutated(valid), async (input) => {
        const file = eventFile(input.bytes);
        await expectReadOrRefused(file, () => readAll(file), input.mutations);
      }),
      fuzzParameters(),
    );
  });

  it('mutated Event payloads in right framing reach the decoder: read, or passed over as located InputErrors', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(payloads.length - 1), fc.nat(), async (which, seed) => {
        // One payload mutated (chosen by `which`), the others as written.
        const [mutation] = fc.sample(mutated(payloads[which]), { numRuns: 1, seed });
        const records = payloads.map((p, i) => (i === which ? mutation.bytes : p));
        const file = eventFile(framed(records));
        await expectReadOrRefused(file, () => readAll(file), { which, mutations: mutation.mutations });
      }),
      fuzzParameters(),
    );
  });

  it('following a mutated file from any offset (what `kbb watch` does) reads or passes over, never throws a runtime error', async () => {
    await fc.assert(
      fc.asyncProperty(mutated(valid), fc.nat(), async (input, start) => {
        const file = eventFile(input.bytes);
        await expectReadOrRefused(file, () => readAll(file, start % (input.bytes.length + 2)), { ...input, start });
        await expectReadOrRefused(
          file,
          async () => {
            const first = await readNewScalars(join(file, '..'));
            await readNewScalars(join(file, '..'), first.offsets);
          },
          input.mutations,
        );
      }),
      fuzzParameters(),
    );
  });
});
