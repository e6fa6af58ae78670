import { writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { bytesFeature, encodeExample, floatFeature, int64Feature, readExamples, readTfRecords, TfRecordWriter } from '../../lib/tfrecord/index.js';
import { expectReadOrRefused, fuzzParameters, mutated } from '../helpers/fuzz.js';

let dir = '';
let valid: Buffer;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbb-tfrecord-fuzz-'));
  const writer = TfRecordWriter.open(join(dir, 'valid.tfrecord'));
  for (let i = 0; i < 4; i++) {
    await writer.write(
      encodeExample(
        new Map([
          ['input_ids', int64Feature([101, 2000 + i, 102])],
          ['weights', floatFeature([1, 0.5])],
          ['text', bytesFeature([Buffer.from(`문장 ${i}`)])],
        ]),
      ),
    );
  }
  await writer.close();
  valid = await readFile(join(dir, 'valid.tfrecord'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('fuzzed TFRecord files and tf.train.Example records', () => {
  it('readTfRecords returns records or throws a TfRecordError naming the file, record and byte', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(mutated(valid), async (input) => {
        const file = join(dir, `records-${n++}.tfrecord`);
        writeFileSync(file, input.bytes);
        await expectReadOrRefused(
          file,
          async () => {
            for await (const _ of readTfRecords(file)) {
              // read every record
            }
          },
          input.mutations,
        );
      }),
      fuzzParameters(),
    );
  });

  it('readExamples decodes examples or throws an error naming the file', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(mutated(valid), async (input) => {
        const file = join(dir, `examples-${n++}.tfrecord`);
        writeFileSync(file, input.bytes);
        await expectReadOrRefused(
          file,
          async () => {
            for await (const _ of readExamples(file)) {
              // decode every example
            }
          },
          input.mutations,
        );
      }),
      fuzzParameters(),
    );
  });
});
