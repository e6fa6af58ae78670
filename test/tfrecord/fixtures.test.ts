import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bytesValues,
  decodeExample,
  type Example,
  encodeExample,
  type Feature,
  floatValues,
  int64Values,
  readTfRecords,
  TfRecordWriter,
} from '../../lib/tfrecord/index.js';
import { fixture, hasFixtures } from '../helpers/fixtures.js';

// The reference dumps come from an independent Python decoder (see PROVENANCE.md): float32 values
// widened exactly to double, bytes as UTF-8 text, int64 as JSON numbers (all below 2^53 here).
type DumpKind = 'int64_list' | 'float_list' | 'bytes_list' | null;
interface DumpFeature {
  kind: DumpKind;
  values: (number | string)[];
}
interface Dump {
  stats: { records: number; len_crc_ok: number; data_crc_ok: number };
  gzip: boolean;
  schema: Record<string, { kind: DumpKind; min_len: number; max_len: number; records_with_empty_feature?: number }>;
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

const KIND: Record<Feature['kind'], DumpKind> = { int64List: 'int64_list', floatList: 'float_list', bytesList: 'bytes_list', none: null };
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Our decoded feature in the dump's vocabulary, without rounding anything on the way. */
function asDump(feature: Feature): DumpFeature {
  switch (feature.kind) {
    case 'int64List':
      // A bigint would stay a bigint here and fail the comparison rather than be rounded.
      return { kind: 'int64_list', values: Array.from(feature.value as ArrayLike<number>) };
    case 'floatList':
      return { kind: 'float_list', values: Array.from(feature.value) }; // float32 → double is exact
    case 'bytesList':
      return { kind: 'bytes_list', values: feature.value.map((v) => utf8.decode(v)) };
    case 'none':
      return { kind: null, values: [] };
  }
}
const asObject = (example: Example): Record<string, DumpFeature> => Object.fromEntries([...example].map(([k, f]) => [k, asDump(f)]));

interface Loaded {
  dump: Dump;
  path: string;
  raw: Uint8Array[];
  offsets: number[];
  examples: Example[];
}

/** The serialized map entries of an Example (Features field 1), each as hex: to compare up to order. */
function mapEntries(bytes: Uint8Array): string[] {
  const entries: string[] = [];
  const example = new BinaryReader(bytes);
  while (example.pos < example.len) {
    const [field, wire] = example.tag();
    expect([field, wire]).toEqual([1, WireType.LengthDelimited]);
    const features = new BinaryReader(example.bytes());
    while (features.pos < features.len) {
      expect(features.tag()).toEqual([1, WireType.LengthDelimited]);
      entries.push(Buffer.from(features.bytes()).toString('hex'));
    }
  }
  return entries.sort();
}

describe.skipIf(!hasFixtures)('TFRecord files written by TensorFlow', () => {
  const loaded = new Map<string, Loaded>();
  const get = (file: string): Loaded => loaded.get(file)!;
  let scratch = '';

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'kbb-tfr-fix-'));
    for (const [dir, file, dumpFile] of CASES) {
      const path = fixture('tfrecords', dir, file);
      const entry: Loaded = { dump: JSON.parse(readFileSync(fixture('tfrecords', dir, dumpFile), 'utf8')) as Dump, path, raw: [], offsets: [], examples: [] };
      for await (const record of readTfRecords(path)) {
        entry.raw.push(record.data);
        entry.offsets.push(record.offset);
        entry.examples.push(decodeExample(record.data));
      }
      loaded.set(file, entry);
    }
  });
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  it('covers every TFRecord file in the fixture folder', () => {
    const files = readdirSync(fixture('tfrecords'), { recursive: true, encoding: 'utf8' }).filter((f) => /\.tfrecord$|\.gz$/.test(f));
    expect(files.sort()).toEqual(CASES.map(([dir, file]) => `${dir}/${file}`).sort());
  });

  for (const [dir, file] of CASES) {
    describe(`${dir}/${file}`, () => {
      it('record count, checksums and offsets: every record verifies and the records tile the stream', () => {
        const { dump, path, raw, offsets } = get(file);
        expect(dump.stats.len_crc_ok).toBe(dump.stats.records);
        expect(dump.stats.data_crc_ok).toBe(dump.stats.records);
        expect(raw.length).toBe(dump.stats.records);
        const stream = dump.gzip ? gunzipSync(readFileSync(path)) : readFileSync(path);
        let at = 0;
        raw.forEach((data, i) => {
          expect(offsets[i]).toBe(at);
          at += 16 + data.length;
        });
        expect(at).toBe(stream.length);
      });

      it('the records the dump lists, feature by feature, exactly', () => {
        const { dump, examples } = get(file);
        expect(dump.first_records.length).toBeGreaterThan(0);
        for (const record of dump.first_records) {
          for (const f of Object.values(record)) if (f.kind === 'int64_list') for (const v of f.values) expect(Number.isSafeInteger(v)).toBe(true);
        }
        dump.first_records.forEach((expected, i) => {
          expect(asObject(examples[i]), `record ${i}`).toEqual(expected);
        });
      });

      it('every record fits the dump’s schema: keys, kinds, list lengths, empty-feature counts', () => {
        const { dump, examples } = get(file);
        const empty: Record<string, number> = {};
        for (const example of examples) {
          expect([...example.keys()].sort()).toEqual(Object.keys(dump.schema).sort());
          for (const [key, feature] of example) {
            const schema = dump.schema[key];
            if (feature.kind === 'none') {
              empty[key] = (empty[key] ?? 0) + 1;
              continue;
            }
            expect(KIND[feature.kind], key).toBe(schema.kind);
            expect(feature.value.length).toBeGreaterThanOrEqual(schema.min_len);
            expect(feature.value.length).toBeLessThanOrEqual(schema.max_len);
          }
        }
        const expectedEmpty = Object.fromEntries(
          Object.entries(dump.schema).flatMap(([k, s]) => (s.records_with_empty_feature ? [[k, s.records_with_empty_feature]] : [])),
        );
        expect(empty).toEqual(expectedEmpty);
      });

      it('re-encoding gives TensorFlow’s bytes up to map order, and is deterministic', () => {
        const { raw, examples } = get(file);
        examples.forEach((example, i) => {
          const ours = encodeExample(example);
          // Same map entries byte for byte, only (possibly) in another order: TF packs lists as we do.
          expect(mapEntries(ours), `record ${i}`).toEqual(mapEntries(raw[i]));
          expect(decodeExample(ours)).toEqual(example);
          // Independent of decode order: a shuffled map encodes the same; decoding ours and
          // encoding again changes nothing.
          expect(Buffer.from(encodeExample(new Map([...example].reverse()))).equals(Buffer.from(ours))).toBe(true);
          expect(Buffer.from(encodeExample(decodeExample(ours))).equals(Buffer.from(ours))).toBe(true);
        });
      });

      it('decode → encode → our writer → our reader round-trips every record', async () => {
        const { dump, examples } = get(file);
        const out = join(scratch, `${file}.copy`);
        const writer = TfRecordWriter.open(out, { compression: dump.gzip ? 'gzip' : 'none' });
        for (const example of examples) await writer.write(encodeExample(example));
        await writer.close();
        const again: Example[] = [];
        for await (const record of readTfRecords(out)) again.push(decodeExample(record.data));
        expect(again.length).toBe(examples.length);
        again.forEach((example, i) => {
          expect(asObject(example), `record ${i}`).toEqual(asObject(examples[i]));
        });
      });
    });
  }

  it('map order is TensorFlow’s, not sorted: 59 key orders among the 60 BERT records, 61 among 100 penguin (eval)', () => {
    const orders = (file: string): number => new Set(get(file).examples.map((e) => [...e.keys()].join(','))).size;
    expect(orders('tf_examples.tfrecord')).toBe(59);
    expect(orders('Split-eval_data_tfrecord-00000-of-00001.gz')).toBe(61);
  });

  describe('facts from PROVENANCE.md', () => {
    it('BERT record 1 equals the example printed in the upstream log.md', () => {
      const record1 = get('tf_examples.tfrecord').examples[1];
      const ids =
        '101 2023 3793 2003 2443 2000 2191 2469 27260 2003 8971 19688 1024 1778 1779 103 1781 1782 1493 30030 30031 30032 29893 103 29895 29896 29897 29898 102 3793 2323 2022 2028 1011 103 1011 2566 103 2240 1010 2007 4064 3210 103 5491 1012 102';
      expect(int64Values(record1, 'input_ids')).toEqual([...ids.split(' ').map(Number), ...Array(81).fill(0)]);
      expect(int64Values(record1, 'input_mask')).toEqual([...Array(47).fill(1), ...Array(81).fill(0)]);
      expect(int64Values(record1, 'segment_ids')).toEqual([...Array(29).fill(0), ...Array(18).fill(1), ...Array(81).fill(0)]);
      expect(int64Values(record1, 'masked_lm_positions')).toEqual([11, 15, 23, 34, 37, 38, 43, ...Array(13).fill(0)]);
      expect(int64Values(record1, 'masked_lm_ids')).toEqual([7919, 1780, 29894, 6251, 1011, 2240, 2090, ...Array(13).fill(0)]);
      expect(Array.from(floatValues(record1, 'masked_lm_weights'))).toEqual([...Array(7).fill(1), ...Array(13).fill(0)]);
      expect(int64Values(record1, 'next_sentence_labels')).toEqual([0]);
    });

    it('BERT: record 0 starts 101 2005 2062 2084 1037 103; next_sentence_labels 32 × 1, 28 × 0', () => {
      const { examples } = get('tf_examples.tfrecord');
      expect(int64Values(examples[0], 'input_ids').slice(0, 6)).toEqual([101, 2005, 2062, 2084, 1037, 103]);
      const labels = examples.map((e) => int64Values(e, 'next_sentence_labels')[0]);
      expect(labels.filter((l) => l === 1)).toHaveLength(32);
      expect(labels.filter((l) => l === 0)).toHaveLength(28);
    });

    it('taxi record 0: int64 above 2^31, empty features, float32 values', () => {
      const [record0, record1] = get('data_tfrecord-00000-of-00012.gz').examples;
      expect(record0.get('dropoff_census_tract')).toEqual({ kind: 'int64List', value: [17031080100] });
      expect(int64Values(record0, 'trip_start_timestamp')).toEqual([1432075500]);
      expect(record0.get('company')).toEqual({ kind: 'none' });
      expect(record0.get('pickup_census_tract')).toEqual({ kind: 'none' });
      expect(floatValues(record0, 'dropoff_latitude')[0]).toBe(41.90752029418945);
      expect(floatValues(record0, 'tips')[0]).toBe(2.6500000953674316);
      expect(floatValues(record0, 'fare')[0]).toBe(12.25);
      expect(utf8.decode(bytesValues(record0, 'payment_type')[0])).toBe('Credit Card');
      expect(utf8.decode(bytesValues(record1, 'company')[0])).toBe('Taxi Affiliation Services');
      expect(utf8.decode(bytesValues(record1, 'payment_type')[0])).toBe('Cash');
      expect(floatValues(record1, 'fare')[0]).toBe(Math.fround(17.65));
      expect(int64Values(record1, 'trip_seconds')).toEqual([1020]);
      expect(int64Values(record1, 'trip_start_timestamp')).toEqual([1418437800]);
    });

    it('penguin: Split-train record 0 is the first CSV row as float32; Split-eval record 0', () => {
      const train0 = get('Split-train_data_tfrecord-00000-of-00001.gz').examples[0];
      expect(floatValues(train0, 'culmen_length_mm')[0]).toBe(Math.fround(0.2545454545454545));
      expect(floatValues(train0, 'culmen_length_mm')[0]).toBe(0.2545454502105713);
      expect(floatValues(train0, 'culmen_depth_mm')[0]).toBe(0.6666666865348816);
      expect(floatValues(train0, 'flipper_length_mm')[0]).toBe(0.1525423675775528);
      expect(floatValues(train0, 'body_mass_g')[0]).toBe(0.2916666567325592);
      expect(int64Values(train0, 'species')).toEqual([0]);
      const eval0 = get('Split-eval_data_tfrecord-00000-of-00001.gz').examples[0];
      expect(floatValues(eval0, 'body_mass_g')[0]).toBeCloseTo(0.256944, 6);
      expect(floatValues(eval0, 'culmen_depth_mm')[0]).toBeCloseTo(0.559524, 6);
      expect(floatValues(eval0, 'culmen_length_mm')[0]).toBeCloseTo(0.247273, 6);
      expect(floatValues(eval0, 'flipper_length_mm')[0]).toBeCloseTo(0.152542, 6);
      expect(int64Values(eval0, 'species')).toEqual([0]);
    });

    it('tfjs next-page: records 0–2', () => {
      const rows = get('data.tfrecord.gz')
        .examples.slice(0, 3)
        .map((e) => [utf8.decode(bytesValues(e, 'cur_page')[0]), utf8.decode(bytesValues(e, 'label')[0]), int64Values(e, 'session_index')[0]]);
      expect(rows).toEqual([
        ['page2', 'page3', 1],
        ['page4', 'page2', 1],
        ['page2', 'page3', 0],
      ]);
    });

    it('MNIST: 784 floats in [-0.5, 0.5] per record, classes 9 3 6 1 8 first, class counts', () => {
      const { examples } = get('mnist.tfrecord');
      const classes = examples.map((e) => int64Values(e, 'image_class')[0] as number);
      expect(classes.slice(0, 5)).toEqual([9, 3, 6, 1, 8]);
      const counts = Object.fromEntries(Array.from({ length: 10 }, (_, c) => [c, classes.filter((k) => k === c).length]));
      expect(counts).toEqual({ 0: 87, 1: 137, 2: 87, 3: 90, 4: 118, 5: 79, 6: 78, 7: 107, 8: 120, 9: 97 });
      expect(floatValues(examples[0], 'image_floats')[0]).toBe(-0.5);
      for (const example of examples) {
        const pixels = floatValues(example, 'image_floats');
        expect(pixels.length).toBe(784);
        expect(pixels.every((p) => p >= -0.5 && p <= 0.5)).toBe(true);
      }
    });
  });
});
