import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeEntry, encodeHeader } from '../../lib/checkpoint/bundle-proto.js';
import { CheckpointError, CheckpointReader, latestCheckpoint, parseCheckpointState, type TensorToWrite, writeCheckpoint } from '../../lib/checkpoint/index.js';
import { readTable, TableBuilder } from '../../lib/checkpoint/sstable.js';
import { readStringTensor, writeStringTensor } from '../../lib/checkpoint/string-tensor.js';
import { crc32c } from '../../lib/checksum/crc32.js';
import { maskCrc } from '../../lib/checksum/masked-crc32c.js';
import { InputError } from '../../lib/fs/index.js';
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

describe('hostile checkpoints are refused with the file, the byte and the variable (no fixtures needed)', () => {
  const sub = join(dir, 'hostile');
  const encoder = new TextEncoder();
  /** A checkpoint whose index holds `entries` (name → BundleEntryProto bytes) after a one-shard header, and `data` as its data file. */
  const craft = (name: string, entries: readonly (readonly [string, Uint8Array])[], data = new Uint8Array(64)): string => {
    mkdirSync(sub, { recursive: true });
    const prefix = join(sub, name);
    const table = new TableBuilder();
    table.add(new Uint8Array(0), encodeHeader({ numShards: 1, endianness: 0, version: { producer: 1, minConsumer: 0, badConsumers: [] } }));
    for (const [key, value] of entries) table.add(encoder.encode(key), value);
    writeFileSync(`${prefix}.index`, table.finish());
    writeFileSync(`${prefix}.data-00000-of-00001`, data);
    return prefix;
  };
  const entry = (fields: Partial<Parameters<typeof encodeEntry>[0]>): Uint8Array =>
    encodeEntry({ dtype: 1, shape: [2], shardId: 0, offset: 0, size: 8, crc32c: 0, ...fields });

  it('malformed entry protos (the errors that once read "premature EOF", "illegal tag", "cant skip wire type 4") name the file, byte and variable', async () => {
    const valid = entry({});
    const cases: [string, Uint8Array, RegExp][] = [
      [
        'premature',
        valid.subarray(0, valid.length - 1),
        /premature\.index: byte \d+ \(data block at byte 0\): variable w: BundleEntryProto\.size: a varint runs past the end/,
      ],
      [
        'illegal',
        Buffer.concat([valid, Buffer.from([0x97, 0x86, 0x6c])]),
        /illegal\.index: byte \d+ \(data block at byte 0\): variable w: BundleEntryProto: field 221282 has wire type 7, which protobuf does not have/,
      ],
      [
        'group',
        Buffer.concat([valid, Buffer.from([0x0c])]),
        /group\.index: byte \d+ \(data block at byte 0\): variable w: BundleEntryProto: field 1 has wire type 4 \(a group\)/,
      ],
      [
        'length',
        Buffer.concat([valid, Buffer.from([0x12, 0xff, 0xff, 0x03])]),
        /length\.index: byte \d+ \(data block at byte 0\): variable w: BundleEntryProto\.shape: 65535 bytes needed, 0 left/,
      ],
    ];
    for (const [name, value, message] of cases) {
      const prefix = craft(name, [['w', value]]);
      const error = await CheckpointReader.open(prefix).catch((e: unknown) => e);
      expect(error, name).toBeInstanceOf(CheckpointError);
      expect((error as CheckpointError).message, name).toMatch(message);
      expect((error as CheckpointError).file, name).toBe(`${prefix}.index`);
    }
  });

  it('entries whose dtype, shape, size, shard or offset do not fit together are refused before anything is read', async () => {
    const cases: [string, Uint8Array, string][] = [
      ['size', entry({ size: 12 }), 'variable w: 12 bytes stored, but float32 [2] needs 8'],
      ['shard', entry({ shardId: 3 }), 'variable w: in shard 3, but the header says 1 shard(s)'],
      ['dims', entry({ shape: [2 ** 30, 2 ** 30, 2 ** 30], size: 8 }), 'variable w: shape [1073741824, 1073741824, 1073741824] has more than 2^53 elements'],
      [
        'negative',
        encodeEntry({ dtype: 1, shape: [-1], shardId: 0, offset: 0, size: 8, crc32c: 0 }),
        'TensorShapeProto.Dim.size: varint 18446744073709552000 is over 2^53 (or a negative number)',
      ],
      ['dtype', entry({ dtype: 0 }), 'variable w: no dtype (DT_INVALID)'],
      ['strings', entry({ dtype: 7, shape: [100], size: 50 }), 'variable w: 50 bytes stored, but a string tensor of shape [100] needs at least 104'],
    ];
    for (const [name, value, message] of cases) {
      const prefix = craft(name, [['w', value]]);
      await expect(CheckpointReader.open(prefix), name).rejects.toThrow(message);
    }
  });

  it('a tensor past the end of its data file is refused from the real file size, before its bytes are allocated', async () => {
    const prefix = craft('past', [['w', entry({ shape: [2 ** 40], size: 2 ** 42, offset: 8 })]]);
    const reader = await CheckpointReader.open(prefix);
    const refusal = `${prefix}.data-00000-of-00001: data shard too short for variable w (needs bytes 8–${8 + 2 ** 42}, the file ends at 64)`;
    await expect(reader.read('w')).rejects.toThrow(refusal);
    // What a command that writes from a checkpoint checks before its first byte.
    await expect(reader.checkDataFiles()).rejects.toThrow(refusal);
    await reader.close();
    const fits = await CheckpointReader.open(craft('fits', [['w', entry({ offset: 56 })]]));
    await expect(fits.checkDataFiles()).resolves.toBeUndefined();
    await fits.close();
  });

  it('string tensors: corrupt lengths are located, however long their varints', () => {
    expect(() => readStringTensor(new Uint8Array(300).fill(0x80), 1, 'f.data', 'variable s')).toThrow(
      'f.data: variable s: byte 0 of its data: string 0 of 1: length: a varint is longer than 10 bytes',
    );
    expect(() => readStringTensor(Uint8Array.from([0xff, 0xff, 0x7f, 0, 0, 0, 0]), 1, 'f.data', 'variable s')).toThrow(
      'string lengths add up to more than the tensor',
    );
    const { bytes } = writeStringTensor([Buffer.from('ab')]);
    expect(() => readStringTensor(Buffer.concat([bytes, Buffer.from([1])]), 1, 'f.data', 'variable s')).toThrow('1 bytes follow the last string');
  });

  it('table structure: a huge restart count, a block handle past the end, two index entries for one block, a Snappy length that lies', async () => {
    const prefix = craft('table', [['w', entry({})]]);
    const good = readFileSync(`${prefix}.index`);
    const tableError = (bytes: Uint8Array): string => {
      try {
        readTable(bytes, 'x.index');
      } catch (error) {
        expect(error).toBeInstanceOf(InputError);
        return (error as Error).message;
      }
      return 'read';
    };
    expect(tableError(good)).toBe('read');
    // The data block's restart count (its last 4 bytes) made huge, its checksum made right.
    const blockSize = dataBlockSize(good);
    const huge = Buffer.from(good);
    huge.writeUInt32LE(0xffffffff, blockSize - 4);
    fixTrailer(huge, 0, blockSize, 0);
    expect(tableError(huge)).toMatch(/^x\.index: byte \d+ \(data block at byte 0\): 4294967295 restart points do not fit in the block's \d+ bytes$/);
    // A table whose index names the same data block twice: refused, not read twice.
    expect(tableError(twice(good, blockSize))).toMatch(/overlaps or comes before the previous one/);
    // An index handle past the end of the blocks.
    expect(tableError(tableOf(good.subarray(0, blockSize), 0, [[0, 10_000]]))).toMatch(
      /^x\.index: data block \(10000 bytes at byte 0, plus a 5-byte trailer\) runs past the blocks, which end at byte \d+$/,
    );
    // A Snappy block that says it holds 1 GB.
    const snappy = Buffer.concat([Buffer.from([0x80, 0x80, 0x80, 0x80, 0x04]), Buffer.alloc(16)]);
    expect(tableError(tableOf(snappy, 1))).toMatch(
      /^x\.index: data block at byte 0: Snappy data states 1073741824 bytes uncompressed, more than 21 compressed bytes can hold$/,
    );
  });
});

/** The size of the first data block of a table kbb wrote: its index block's one handle (offset 0, size). */
function dataBlockSize(table: Uint8Array): number {
  const footer = table.subarray(table.length - 48);
  const read = (bytes: Uint8Array, at: number): [number, number] => {
    let value = 0;
    let scale = 1;
    for (;;) {
      const b = bytes[at++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) return [value, at];
      scale *= 128;
    }
  };
  let at = 0;
  [, at] = read(footer, at);
  [, at] = read(footer, at);
  const [indexOffset] = read(footer, at);
  // The index block's entry: shared 0, key length, value length, key, then the handle (0, size).
  let p = indexOffset;
  const [, p1] = read(table, p);
  const [keyLength, p2] = read(table, p1);
  const [, p3] = read(table, p2);
  p = p3 + keyLength;
  const [, p4] = read(table, p);
  return read(table, p4)[0];
}

/** Rewrites the trailer (type, masked CRC) of the block of `size` bytes at `offset`. */
function fixTrailer(table: Buffer, offset: number, size: number, type: number): void {
  table[offset + size] = type;
  table.writeUInt32LE(maskCrc(crc32c(table.subarray(offset + size, offset + size + 1), crc32c(table.subarray(offset, offset + size)))), offset + size + 1);
}

const varintBytes = (values: readonly number[]): Buffer => {
  const out: number[] = [];
  for (let value of values) {
    while (value >= 0x80) {
      out.push((value % 128) | 0x80);
      value = Math.floor(value / 128);
    }
    out.push(value);
  }
  return Buffer.from(out);
};

/** A table of one data block (`contents`, compression `type`), an empty metaindex, and an index of `handles` (default: the one block). */
function tableOf(contents: Uint8Array, type: number, handles: readonly (readonly [number, number])[] = [[0, contents.length]]): Buffer {
  const blocks: Buffer[] = [];
  let offset = 0;
  const add = (bytes: Uint8Array, blockType: number): [number, number] => {
    const block = Buffer.concat([bytes, Buffer.alloc(5)]);
    fixTrailer(block, 0, bytes.length, blockType);
    blocks.push(block);
    offset += block.length;
    return [offset - block.length, bytes.length];
  };
  add(contents, type);
  const meta = add(Buffer.from([0, 0, 0, 0, 1, 0, 0, 0]), 0);
  const entries = handles.map(([o, s], i) => {
    const handle = varintBytes([o, s]);
    return Buffer.concat([varintBytes([0, 1, handle.length]), Buffer.from([0x61 + i]), handle]);
  });
  const restarts = Buffer.alloc(4 * entries.length + 4);
  let at = 0;
  entries.forEach((e, i) => {
    restarts.writeUInt32LE(at, 4 * i);
    at += e.length;
  });
  restarts.writeUInt32LE(entries.length, 4 * entries.length);
  const index = add(Buffer.concat([...entries, restarts]), 0);
  const footer = Buffer.alloc(48);
  varintBytes([...meta, ...index]).copy(footer);
  footer.writeUInt32LE(0x8b80fb57, 40);
  footer.writeUInt32LE(0xdb477524, 44);
  return Buffer.concat([...blocks, footer]);
}

/** `table`'s data block (of `size` bytes at 0) named twice by the index. */
function twice(table: Uint8Array, size: number): Buffer {
  return tableOf(table.subarray(0, size), 0, [
    [0, size],
    [0, size],
  ]);
}
