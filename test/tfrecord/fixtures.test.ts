import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeExample, encodeExample, type Example, type Feature, readTfRecords, TfRecordWriter } from '../../lib/tfrecord/index.js';
import { fixture, hasFixtures } from '../helpers/fixtures.js';

interface DumpFeature {
  kind: 'int64_list' | 'float_list' | 'bytes_list' | null;
  values: (number | string)[];
}
interface Dump {
  stats: { records: number; len_crc_ok: number; data_crc_ok: number };
  gzip: boolean;
  first_records: Record<string, DumpFeature>[];
}

const CASES = [
  ['bert-pretraining-uncompressed', 'tf_examples.tfrecord', 'reference_dump.json'],
  ['tfx-chicago-taxi-gzip', 'data_tfrecord-00000-of-00012.gz', 'reference_dump.json'],
  ['tfx-penguin-gzip', 'Split-eval_data_tfrecord-00000-of-00001.gz', 'reference_dump.Split-eval.json'],
  ['tfx-penguin-gzip', 'Split-train_data_tfrecord-00000-of-00001.gz', 'reference_dump.Split-train.json'],
  ['tfx-tfjs-next-page-gzip', 'data.tfrecord.gz', 'reference_dump.json'],
  ['tfx-mnist-uncompressed', 'mnist.tfrecord', 'reference_dump.json'],
] as const;

/** Our decoded feature in the dump's vocabulary: floats widened exactly from float32, bytes as UTF-8. */
function asDump(feature: Feature): DumpFeature {
  switch (feature.kind) {
    case 'int64List':
      return { kind: 'int64_list', values: Array.from(feature.value, Number) };
    case 'floatList':
      return { kind: 'float_list', values: Array.from(feature.value) };
    case 'bytesList':
      return { kind: 'bytes_list', values: feature.value.map((v) => new TextDecoder().decode(v)) };
    case 'none':
      return { kind: null, values: [] };
  }
}

const asObject = (example: Example): Record<string, DumpFeature> => Object.fromEntries([...example].map(([k, f]) => [k, asDump(f)]));

async function readAll(path: string): Promise<Example[]> {
  const examples: Example[] = [];
  for await (const record of readTfRecords(path)) examples.push(decodeExample(record.data));
  return examples;
}

describe.skipIf(!hasFixtures)('TFRecord files written by TensorFlow', () => {
  it('covers every file in the fixture folder', () => {
    const files = readdirSync(fixture('tfrecords'), { recursive: true, encoding: 'utf8' }).filter((f) => /\.tfrecord$|\.gz$/.test(f));
    expect(files.sort()).toEqual(CASES.map(([dir, file]) => `${dir}/${file}`).sort());
  });

  for (const [dir, file, dumpFile] of CASES) {
    it(`${dir}/${file}: every record, every feature equals the reference dump`, async () => {
      const dump = JSON.parse(readFileSync(fixture('tfrecords', dir, dumpFile), 'utf8')) as Dump;
      const examples = await readAll(fixture('tfrecords', dir, file));
      expect(examples.length).toBe(dump.stats.records);
      expect(dump.first_records.length).toBeGreaterThan(0);
      dump.first_records.forEach((expected, i) => expect(asObject(examples[i])).toEqual(expected));
    });

    it(`${dir}/${file}: decode → encode → write → read round-trips`, async () => {
      const examples = await readAll(fixture('tfrecords', dir, file));
      const scratch = await mkdtemp(join(tmpdir(), 'kbb-tfr-'));
      try {
        const out = join(scratch, 'copy.tfrecord');
        const writer = TfRecordWriter.open(out, { compression: dir.endsWith('gzip') ? 'gzip' : 'none' });
        for (const example of examples) await writer.write(encodeExample(example));
        await writer.close();
        const again = await readAll(out);
        expect(again.length).toBe(examples.length);
        again.forEach((example, i) => {
          expect(asObject(example)).toEqual(asObject(examples[i]));
          // Deterministic: encoding is independent of the decode (map) order.
          expect(Buffer.from(encodeExample(example)).equals(Buffer.from(encodeExample(examples[i])))).toBe(true);
        });
      } finally {
        await rm(scratch, { recursive: true, force: true });
      }
    });
  }

  it('BERT record 1 equals the example printed in the upstream log', async () => {
    const [, record1] = await readAll(fixture('tfrecords', 'bert-pretraining-uncompressed', 'tf_examples.tfrecord'));
    const ints = (key: string): number[] => (record1.get(key) as unknown as { value: number[] }).value;
    expect(ints('input_ids').slice(0, 47)).toEqual(
      '101 2023 3793 2003 2443 2000 2191 2469 27260 2003 8971 19688 1024 1778 1779 103 1781 1782 1493 30030 30031 30032 29893 103 29895 29896 29897 29898 102 3793 2323 2022 2028 1011 103 1011 2566 103 2240 1010 2007 4064 3210 103 5491 1012 102'
        .split(' ')
        .map(Number),
    );
    expect(ints('input_ids').slice(47)).toEqual(new Array(81).fill(0));
    expect(ints('masked_lm_positions')).toEqual([11, 15, 23, 34, 37, 38, 43, ...new Array(13).fill(0)]);
    expect(ints('masked_lm_ids')).toEqual([7919, 1780, 29894, 6251, 1011, 2240, 2090, ...new Array(13).fill(0)]);
    expect(Array.from((record1.get('masked_lm_weights') as { value: Float32Array }).value)).toEqual([...new Array(7).fill(1), ...new Array(13).fill(0)]);
  });

  it('taxi: int64 above 2^31 and empty features', async () => {
    const [record0] = await readAll(fixture('tfrecords', 'tfx-chicago-taxi-gzip', 'data_tfrecord-00000-of-00012.gz'));
    expect(record0.get('dropoff_census_tract')).toEqual({ kind: 'int64List', value: [17031080100] });
    expect(record0.get('pickup_census_tract')).toEqual({ kind: 'none' });
  });
});
