import { copyFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError, CheckpointReader, latestCheckpoint, parseCheckpointState, type TensorToWrite, writeCheckpoint } from '../../lib/checkpoint/index.js';
import { fixture, hasFixtures } from '../helpers/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'kbb-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Each fixture checkpoint: folder, prefix, the independent decoder's dump (see PROVENANCE.md). */
const CASES = [
  ['keras-bert-tiny', 'bert_model.ckpt', 'reference_dump.json'],
  ['t2t-transformer-2shards', 'model.ckpt-1', 'reference_dump.json'],
  ['tfx-estimator-model.ckpt-1000', 'model.ckpt-1000', 'reference_dump.json'],
  ['tfx-keras-tf2-variables', 'variables', 'reference_dump.json'],
  ['serving-half-plus-two-tf2', 'variables', 'reference_dump.json'],
  ['serving-half-plus-two-tf1-snappy', 'variables', 'reference_dump.json'],
  ['swift-models-index-only', 'minigo', 'reference_dump.minigo.json'],
  ['swift-models-index-only', 'style', 'reference_dump.style.json'],
  ['swift-models-index-only', 'transformer', 'reference_dump.transformer.json'],
] as const;
const UNCOMPRESSED = new Set(['keras-bert-tiny', 't2t-transformer-2shards', 'tfx-estimator-model.ckpt-1000', 'tfx-keras-tf2-variables']);

interface DumpTensor {
  readonly name: string;
  readonly dtype: string;
  readonly shape: number[];
  readonly shard_id: number;
  readonly offset: number;
  readonly size: number;
  readonly crc32c: number;
  readonly data?: string;
  readonly first_values?: (number | string)[];
  readonly sum?: number;
  readonly string_lengths?: number[];
}

const ckpt = (folder: string, prefix: string): string => fixture('tf-checkpoints', folder, prefix);

describe.skipIf(!hasFixtures)('TensorFlow-written checkpoints (../shared/fixtures/tf-checkpoints)', () => {
  for (const [folder, prefix, dumpName] of CASES) {
    it(`${folder}/${prefix}: every entry and every value equal the reference dump`, async () => {
      const dump = JSON.parse(readFileSync(fixture('tf-checkpoints', folder, dumpName), 'utf8')) as {
        header: { num_shards: number; version: { producer: number } };
        tensors: DumpTensor[];
      };
      const reader = await CheckpointReader.open(ckpt(folder, prefix));
      try {
        expect(reader.header.numShards).toBe(dump.header.num_shards);
        expect(reader.header.version.producer).toBe(dump.header.version.producer);
        expect(
          reader.variables.map((v) => ({
            name: v.name,
            dtype: v.dtype,
            shape: v.shape,
            shard_id: v.shardId,
            offset: v.offset,
            size: v.byteLength,
            crc32c: v.crc32c,
          })),
        ).toEqual(
          dump.tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, shard_id: t.shard_id, offset: t.offset, size: t.size, crc32c: t.crc32c })),
        );
        for (const t of dump.tensors) {
          if (t.data === 'missing shard file') {
            await expect(reader.read(t.name)).rejects.toThrow(`missing data shard (needed for variable ${t.name})`);
            continue;
          }
          const tensor = await reader.read(t.name);
          const values = Array.from(tensor.values as ArrayLike<number | bigint | Uint8Array>);
          if (t.dtype === 'string') {
            expect(
              values.map((s) => (s as Uint8Array).length),
              t.name,
            ).toEqual(t.string_lengths);
            // The dump shows each element's first 24 bytes in hex.
            expect(
              values.map(
                (s) =>
                  `${Buffer.from(s as Uint8Array)
                    .toString('hex')
                    .slice(0, 48)}...`,
              ),
              t.name,
            ).toEqual(t.first_values);
            continue;
          }
          const numbers = values.map(Number);
          expect(numbers.slice(0, t.first_values!.length), t.name).toEqual(t.first_values);
          const sum = numbers.reduce((a, b) => a + b, 0);
          // The dump's sums were taken in another order (numpy's pairwise float32 sum): allow rounding only.
          expect(Math.abs(sum - t.sum!), t.name).toBeLessThanOrEqual(
            1e-5 *
              Math.max(
                1,
                numbers.reduce((a, b) => a + Math.abs(b), 0),
              ),
          );
        }
      } finally {
        await reader.close();
      }
    });
  }

  it('keras-bert-tiny: global_step is 20 and the word embeddings start as PROVENANCE.md says', async () => {
    const reader = await CheckpointReader.open(ckpt('keras-bert-tiny', 'bert_model.ckpt'));
    expect((await reader.read('global_step')).values).toEqual(new BigInt64Array([20n]));
    const words = reader.variable('bert/embeddings/word_embeddings');
    expect([words.dtype, words.shape, words.offset, words.byteLength]).toEqual(['float32', [15, 4], 960, 240]);
    expect(Array.from((await reader.read(words.name)).values as Float32Array).slice(0, 4)).toEqual(
      [-0.0062598074, 0.020772612, 0.025258726, 0.022320498].map(Math.fround),
    );
    await reader.close();
  });

  for (const [folder, prefix] of CASES.filter(([f]) => f !== 'swift-models-index-only')) {
    it(`${folder}: rewriting its tensors in its own data order gives ${UNCOMPRESSED.has(folder) ? 'the same bytes, index and data' : 'the same tensors (its index block is Snappy-compressed; kbb writes uncompressed)'}`, async () => {
      const reader = await CheckpointReader.open(ckpt(folder, prefix));
      const target = join(dir, folder, prefix);
      const inDataOrder = [...reader.variables].sort((a, b) => a.shardId - b.shardId || a.offset - b.offset);
      const tensors: TensorToWrite[] = inDataOrder.map((v) => ({
        name: v.name,
        dtype: v.dtype as TensorToWrite['dtype'],
        shape: v.shape,
        shard: v.shardId,
        data: async () => (v.dtype === 'string' ? ((await reader.read(v.name)).values as Uint8Array[]) : reader.readBytes(v.name)),
      }));
      await writeCheckpoint(target, tensors, { numShards: reader.header.numShards });
      const shards = Array.from(
        { length: reader.header.numShards },
        (_, s) => `.data-${String(s).padStart(5, '0')}-of-${String(reader.header.numShards).padStart(5, '0')}`,
      );
      for (const suffix of shards) expect(readFileSync(target + suffix).equals(readFileSync(ckpt(folder, prefix) + suffix)), suffix).toBe(true);
      if (UNCOMPRESSED.has(folder)) expect(readFileSync(`${target}.index`).equals(readFileSync(`${ckpt(folder, prefix)}.index`))).toBe(true);
      const reread = await CheckpointReader.open(target);
      expect(reread.variables).toEqual(reader.variables);
      for (const v of reader.variables)
        expect(Buffer.from(await reread.readBytes(v.name)).equals(Buffer.from(await reader.readBytes(v.name))), v.name).toBe(true);
      await Promise.all([reader.close(), reread.close()]);
    });
  }

  it('the checkpoint state file: model_checkpoint_path and all paths, as tf.train.latest_checkpoint reads them', async () => {
    const state = parseCheckpointState(readFileSync(fixture('tf-checkpoints', 'tfx-estimator-model.ckpt-1000', 'checkpoint'), 'utf8'));
    expect(state).toEqual({ modelCheckpointPath: 'model.ckpt-1000', allModelCheckpointPaths: ['model.ckpt-0', 'model.ckpt-999', 'model.ckpt-1000'] });
    expect(await latestCheckpoint(fixture('tf-checkpoints', 't2t-transformer-2shards'))).toBe(ckpt('t2t-transformer-2shards', 'model.ckpt-1'));
  });

  describe('bad checkpoints are named: file, variable, what was expected', () => {
    const copy = (name: string): string => {
      const prefix = join(dir, 'bad', name);
      rmSync(join(dir, 'bad', name), { force: true });
      for (const suffix of ['.index', '.data-00000-of-00001']) {
        copyFileSync(ckpt('keras-bert-tiny', 'bert_model.ckpt') + suffix, prefix + suffix);
      }
      return prefix;
    };
    it('bad magic, a flipped index byte, a short data shard, a flipped data byte, a missing shard', async () => {
      writeFileSync(join(dir, 'placeholder'), '');
      rmSync(join(dir, 'bad'), { recursive: true, force: true });
      (await import('node:fs')).mkdirSync(join(dir, 'bad'));

      const magic = copy('magic');
      const index = readFileSync(`${magic}.index`);
      index[index.length - 1] ^= 0xff;
      writeFileSync(`${magic}.index`, index);
      await expect(CheckpointReader.open(magic)).rejects.toThrow(`${magic}.index: bad magic number`);

      const block = copy('block');
      const blockIndex = readFileSync(`${block}.index`);
      blockIndex[40] ^= 0x01; // inside the data block
      writeFileSync(`${block}.index`, blockIndex);
      await expect(CheckpointReader.open(block)).rejects.toThrow(/block\.index: data block at byte 0: block checksum mismatch/);

      const short = copy('short');
      truncateSync(`${short}.data-00000-of-00001`, 8000);
      const reader = await CheckpointReader.open(short);
      const last = reader.variables.reduce((a, b) => (b.offset > a.offset ? b : a));
      await expect(reader.read(last.name)).rejects.toThrow(`${short}.data-00000-of-00001: data shard too short for variable ${last.name}`);
      await reader.close();

      const flipped = copy('flipped');
      const data = readFileSync(`${flipped}.data-00000-of-00001`);
      data[960] ^= 0x10; // first byte of bert/embeddings/word_embeddings
      writeFileSync(`${flipped}.data-00000-of-00001`, data);
      const r2 = await CheckpointReader.open(flipped);
      await expect(r2.read('bert/embeddings/word_embeddings')).rejects.toThrow(
        `${flipped}.data-00000-of-00001: variable bert/embeddings/word_embeddings: checksum mismatch`,
      );
      await expect(r2.read('bert/embeddings/LayerNorm/beta')).resolves.toMatchObject({ dtype: 'float32' });
      await r2.close();

      const missing = copy('missing');
      rmSync(`${missing}.data-00000-of-00001`);
      const r3 = await CheckpointReader.open(missing);
      await expect(r3.read('global_step')).rejects.toThrow(`${missing}.data-00000-of-00001: missing data shard (needed for variable global_step)`);
      await r3.close();
      expect(CheckpointError.name).toBe('CheckpointError');
    });
  });
});

describe('writing checkpoints (no fixtures needed)', () => {
  it('every dtype round-trips, strings included; keys are sorted in the index whatever the write order', async () => {
    const prefix = join(dir, 'dtypes', 'model.ckpt-0');
    (await import('node:fs')).mkdirSync(join(dir, 'dtypes'), { recursive: true });
    const f32 = new Float32Array([1.5, -2, 3.25]);
    const tensors: TensorToWrite[] = [
      { name: 'z/float', dtype: 'float32', shape: [3], data: new Uint8Array(f32.buffer) },
      { name: 'a/int64', dtype: 'int64', shape: [], data: new Uint8Array(new BigInt64Array([-7n]).buffer) },
      { name: 'm/half', dtype: 'float16', shape: [2], data: new Uint8Array(new Uint16Array([0x3c00, 0xc000]).buffer) },
      { name: 'm/bf16', dtype: 'bfloat16', shape: [1], data: new Uint8Array(new Uint16Array([0x3fc0]).buffer) },
      { name: 'b/bool', dtype: 'bool', shape: [2], data: Uint8Array.from([1, 0]) },
      { name: 's/strings', dtype: 'string', shape: [2], data: [Buffer.from('안녕'), Buffer.from('')] },
    ];
    await writeCheckpoint(prefix, tensors);
    const reader = await CheckpointReader.open(prefix);
    expect(reader.variables.map((v) => v.name)).toEqual(['a/int64', 'b/bool', 'm/bf16', 'm/half', 's/strings', 'z/float']);
    expect((await reader.read('z/float')).values).toEqual(f32);
    expect((await reader.read('a/int64')).values).toEqual(new BigInt64Array([-7n]));
    expect(Array.from((await reader.read('m/half')).values as Float32Array)).toEqual([1, -2]);
    expect(Array.from((await reader.read('m/bf16')).values as Float32Array)).toEqual([1.5]);
    expect((await reader.read('b/bool')).values).toEqual([true, false]);
    expect(((await reader.read('s/strings')).values as Uint8Array[]).map((s) => Buffer.from(s).toString())).toEqual(['안녕', '']);
    await reader.close();
  });

  it('a tensor whose bytes do not fit its shape stops the write, leaving no file behind', async () => {
    const sub = join(dir, 'refused');
    (await import('node:fs')).mkdirSync(sub);
    await expect(writeCheckpoint(join(sub, 'model.ckpt-0'), [{ name: 'w', dtype: 'float32', shape: [2, 2], data: new Uint8Array(12) }])).rejects.toThrow(
      'variable w: 12 bytes given, float32 [2,2] needs 16',
    );
    expect((await import('node:fs')).readdirSync(sub)).toEqual([]);
  });
});
