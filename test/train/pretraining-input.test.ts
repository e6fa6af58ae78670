import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeExample, floatFeature, int64Feature, TfRecordWriter } from '../../lib/tfrecord/index.js';
import { type PretrainingBatch, PretrainingInput, type PretrainingInputOptions } from '../../lib/train/index.js';

/**
 * The trainer's input: deterministic, every record once per epoch, resumable from its state after any
 * batch, and strict about record shapes before the first step.
 */

const SEQ = 8;
const P = 2;
let dir = '';

/** A record whose first input id is `id` (1000 + file·100 + record), so each batch row says which record it is. */
function record(id: number, seq = SEQ, predictions = P): Uint8Array {
  return encodeExample(
    new Map([
      ['input_ids', int64Feature([id, ...Array.from({ length: seq - 3 }, (_, i) => 10 + i), 0, 0])],
      ['segment_ids', int64Feature(new Array<number>(seq).fill(0))],
      ['masked_lm_positions', int64Feature([1, ...new Array<number>(predictions - 1).fill(0)])],
      ['masked_lm_ids', int64Feature([11, ...new Array<number>(predictions - 1).fill(0)])],
      ['masked_lm_weights', floatFeature([1, ...new Array<number>(predictions - 1).fill(0)])],
      ['next_sentence_labels', int64Feature([0])],
    ]),
  );
}

async function writeShards(folder: string, sizes: readonly number[]): Promise<number[]> {
  mkdirSync(folder, { recursive: true });
  const ids: number[] = [];
  for (const [file, size] of sizes.entries()) {
    const writer = TfRecordWriter.open(join(folder, `pretrain_data.tfrecord-${file}-of-${sizes.length}`));
    for (let r = 0; r < size; r++) {
      const id = 1000 + file * 100 + r;
      ids.push(id);
      await writer.write(record(id));
    }
    await writer.close();
  }
  return ids;
}

const options = (dataDir: string, more: Partial<PretrainingInputOptions> = {}): PretrainingInputOptions => ({
  dataDir,
  seqLength: SEQ,
  predictions: P,
  batchSize: 3,
  padId: 0,
  seed: 42,
  shuffleBuffer: 5,
  ...more,
});

const firstIds = (batch: PretrainingBatch): number[] => Array.from({ length: batch.size }, (_, r) => batch.inputIds[r * batch.seqLength]);

async function take(input: PretrainingInput, batches: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < batches; i++) out.push(...firstIds((await input.nextBatch())!));
  return out;
}

let all: number[] = [];
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kbb-input-'));
  // Four shards of 4, 0, 5 and 3 records (an empty shard, as the builder leaves them): 12 records.
  all = await writeShards(join(dir, 'data'), [4, 0, 5, 3]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('PretrainingInput (training)', () => {
  it('gives every record once per epoch, shuffled, and the same batches for the same seed', async () => {
    const input = await PretrainingInput.open(options(join(dir, 'data')));
    const first = await take(input, 8); // two epochs of 12
    await input.close();
    expect([...first.slice(0, 12)].sort()).toEqual([...all].sort());
    expect([...first.slice(12)].sort()).toEqual([...all].sort());
    expect(first.slice(0, 12)).not.toEqual(all);
    expect(first.slice(12)).not.toEqual(first.slice(0, 12));
    const again = await PretrainingInput.open(options(join(dir, 'data')));
    expect(await take(again, 8)).toEqual(first);
    await again.close();
    const other = await PretrainingInput.open(options(join(dir, 'data'), { seed: 43 }));
    expect(await take(other, 8)).not.toEqual(first);
    await other.close();
  });

  it('fills a batch with the arrays the model reads: the input mask is input_ids != pad', async () => {
    const input = await PretrainingInput.open(options(join(dir, 'data')));
    const batch = (await input.nextBatch())!;
    await input.close();
    expect([batch.size, batch.seqLength, batch.predictions]).toEqual([3, SEQ, P]);
    expect(Array.from(batch.inputMask.subarray(0, SEQ))).toEqual([1, 1, 1, 1, 1, 1, 0, 0]);
    expect(Array.from(batch.maskedLmWeights)).toEqual([1, 0, 1, 0, 1, 0]);
    expect(Array.from(batch.maskedLmIds.subarray(0, P))).toEqual([11, 0]);
  });

  it('continues from its state after any batch exactly as an uninterrupted input', async () => {
    const straight = await PretrainingInput.open(options(join(dir, 'data')));
    const expected = await take(straight, 10);
    await straight.close();
    for (const stopAfter of [1, 3, 4, 7]) {
      const first = await PretrainingInput.open(options(join(dir, 'data')));
      const head = await take(first, stopAfter);
      const state = JSON.parse(JSON.stringify(first.state()));
      await first.close();
      const resumed = await PretrainingInput.open(options(join(dir, 'data'), { state }));
      expect([...head, ...(await take(resumed, 10 - stopAfter))], `stopped after ${stopAfter}`).toEqual(expected);
      await resumed.close();
    }
  });

  it('refuses to resume over other files', async () => {
    const input = await PretrainingInput.open(options(join(dir, 'data')));
    await take(input, 1);
    const state = input.state();
    await input.close();
    const elsewhere = join(dir, 'fewer');
    await writeShards(elsewhere, [4, 0, 5]);
    await expect(PretrainingInput.open(options(elsewhere, { state }))).rejects.toThrow(/the training data changed since the checkpoint was saved/);
  });
});

describe('PretrainingInput (evaluation)', () => {
  it('reads the files once in name order, unshuffled, and drops the last partial batch', async () => {
    const input = await PretrainingInput.open(options(join(dir, 'data'), { mode: 'eval', batchSize: 5 }));
    const read = await take(input, 2);
    expect(await input.nextBatch()).toBeUndefined();
    await input.close();
    expect(read).toEqual(all.slice(0, 10));
  });
});

describe('PretrainingInput refuses bad data before the first step', () => {
  it('a record of another length, naming the file, the record and both numbers', async () => {
    const folder = join(dir, 'short');
    mkdirSync(folder);
    const writer = TfRecordWriter.open(join(folder, 'pretrain_data.tfrecord-0-of-1'));
    await writer.write(record(1, SEQ + 4));
    await writer.close();
    await expect(PretrainingInput.open(options(folder))).rejects.toThrow(
      `${join(folder, 'pretrain_data.tfrecord-0-of-1')}: record 0: input_ids has 12 values, but --max_encoder_length is 8`,
    );
    const slots = join(dir, 'slots');
    mkdirSync(slots);
    const other = TfRecordWriter.open(join(slots, 'pretrain_data.tfrecord-0-of-1'));
    await other.write(record(1, SEQ, P + 1));
    await other.close();
    await expect(PretrainingInput.open(options(slots))).rejects.toThrow(/record 0: masked_lm_positions has 3 values, but --max_predictions_per_seq is 2/);
  });

  it('an empty folder, a folder of empty shards, and compressed data', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    await expect(PretrainingInput.open(options(empty))).rejects.toThrow(/no pretrain_data\.tfrecord\* files/);
    const hollow = join(dir, 'hollow');
    await writeShards(hollow, [0, 0]);
    await expect(PretrainingInput.open(options(hollow))).rejects.toThrow(/the 2 pretrain_data\.tfrecord\* files hold no record/);
    const zipped = join(dir, 'zipped');
    mkdirSync(zipped);
    writeFileSync(join(zipped, 'pretrain_data.tfrecord-0-of-1'), gzipSync(Buffer.from('not what training reads')));
    await expect(PretrainingInput.open(options(zipped))).rejects.toThrow(/GZIP-compressed; training reads uncompressed TFRecords/);
  });
});
