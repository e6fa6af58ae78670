import { writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { compressSync } from 'snappy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointReader, type TensorToWrite, writeCheckpoint } from '../../lib/checkpoint/index.js';
import { crc32c } from '../../lib/checksum/crc32.js';
import { maskCrc } from '../../lib/checksum/masked-crc32c.js';
import { sampleBertCheckpoint } from '../../lib/package/index.js';
import { expectReadOrRefused, FUZZ_RUNS, fuzzParameters, mutated } from '../helpers/fuzz.js';

/*
 * The TensorBundle reader on mutated checkpoints: the `.index` (the SSTable's footer, blocks,
 * restarts, varints, checksums and Snappy compression; the header and entry protos) and the data
 * file, each mutated alone. Opening the checkpoint and reading every variable must give data or a
 * CheckpointError naming the checkpoint's file; never a runtime error, a hang or a huge allocation.
 */

const DATA = '.data-00000-of-00001';
let dir = '';
/** Valid checkpoints: a small one of every kind of tensor kbb writes, the same with a Snappy index, and the demo BERT. */
const valid: Record<'small' | 'snappy' | 'bert', { index: Buffer; data: Buffer }> = {} as never;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbb-ckpt-fuzz-'));
  const small = join(dir, 'valid', 'model.ckpt-1');
  const f32 = new Float32Array([0.5, -1.25, 3, 1e-3, 7, 8]);
  const tensors: TensorToWrite[] = [
    { name: 'bert/embeddings/word_embeddings', dtype: 'float32', shape: [3, 2], data: new Uint8Array(f32.buffer) },
    { name: 'bert/embeddings/LayerNorm/gamma', dtype: 'float32', shape: [2], data: new Uint8Array(f32.buffer, 0, 8) },
    { name: 'global_step', dtype: 'int64', shape: [], data: new Uint8Array(new BigInt64Array([42n]).buffer) },
    { name: 'half', dtype: 'float16', shape: [2], data: new Uint8Array(new Uint16Array([0x3c00, 0xc000]).buffer) },
    { name: 'flags', dtype: 'bool', shape: [3], data: Uint8Array.from([1, 0, 1]) },
    { name: 'vocab', dtype: 'string', shape: [3], data: [Buffer.from('[CLS]'), Buffer.from('안녕'), Buffer.from('')] },
  ];
  await writeCheckpoint(small, tensors);
  const smallIndex = await readFile(`${small}.index`);
  valid.small = { index: smallIndex, data: await readFile(small + DATA) };
  valid.snappy = { index: withDataBlock(smallIndex, dataBlockOf(smallIndex).contents, 'snappy'), data: valid.small.data };
  valid.bert = { index: await readFile(`${sampleBertCheckpoint}.index`), data: await readFile(sampleBertCheckpoint + DATA) };
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Opens the checkpoint at `prefix` and reads every variable: what `kbb ckpt ls`, `export` and `warm-start` do with one. */
async function readAll(prefix: string): Promise<number> {
  const reader = await CheckpointReader.open(prefix);
  try {
    await reader.checkDataFiles();
    for (const v of reader.variables) await reader.read(v.name);
    return reader.variables.length;
  } finally {
    await reader.close();
  }
}

/** Each case gets a prefix of its own: the mutated file, and the other one copied whole. */
let cases = 0;
function prefixWith(which: keyof typeof valid, mutatedSuffix: '.index' | typeof DATA, bytes: Uint8Array): string {
  const prefix = join(dir, `case-${cases++}`);
  writeFileSync(prefix + mutatedSuffix, bytes);
  const other = mutatedSuffix === '.index' ? DATA : '.index';
  writeFileSync(prefix + other, other === '.index' ? valid[which].index : valid[which].data);
  return prefix;
}

describe('fuzzed TensorBundle checkpoints', () => {
  it('the valid inputs read whole (the mutations start from good files)', async () => {
    for (const which of ['small', 'snappy', 'bert'] as const) {
      const prefix = prefixWith(which, '.index', valid[which].index);
      expect(await readAll(prefix), which).toBeGreaterThan(5);
    }
  });

  for (const which of ['small', 'snappy', 'bert'] as const) {
    it(`${which}: a mutated .index opens and reads, or is refused naming the checkpoint`, async () => {
      const outcomes = { read: 0, refused: 0 };
      await fc.assert(
        fc.asyncProperty(mutated(valid[which].index), async (input) => {
          const prefix = prefixWith(which, '.index', input.bytes);
          outcomes[await expectReadOrRefused(prefix, () => readAll(prefix), input.mutations)]++;
        }),
        fuzzParameters(),
      );
      // Most mutations of an index break a checksum; some must still be refused, not all pass unseen.
      expect(outcomes.refused).toBeGreaterThan(0);
    });
  }

  for (const which of ['small', 'bert'] as const) {
    it(`${which}: a mutated data block with its checksum made right (restarts, varints, keys, header and entry protos) is read or refused`, async () => {
      const { contents } = dataBlockOf(valid[which].index);
      await fc.assert(
        fc.asyncProperty(mutated(contents), fc.boolean(), async (input, snappy) => {
          const index = withDataBlock(valid[which].index, input.bytes, snappy ? 'snappy' : 'none');
          const prefix = prefixWith(which, '.index', index);
          await expectReadOrRefused(prefix, () => readAll(prefix), { ...input, snappy });
        }),
        fuzzParameters(),
      );
    });
  }

  it('small: mutated Snappy bytes with their checksum made right (lengths that lie, bad copies) are read or refused', async () => {
    const { contents } = dataBlockOf(valid.small.index);
    const compressed = compressSync(Buffer.from(contents));
    await fc.assert(
      fc.asyncProperty(mutated(compressed), async (input) => {
        const index = withDataBlock(valid.small.index, contents, 'snappy', input.bytes);
        const prefix = prefixWith('small', '.index', index);
        await expectReadOrRefused(prefix, () => readAll(prefix), input.mutations);
      }),
      fuzzParameters(),
    );
  });

  for (const which of ['small', 'bert'] as const) {
    it(`${which}: a mutated data file reads, or is refused naming the data file`, async () => {
      // The demo BERT's data file is 1.6 MB: fewer cases keep the suite quick.
      const runs = which === 'bert' ? Math.max(1, Math.ceil(FUZZ_RUNS / 4)) : FUZZ_RUNS;
      await fc.assert(
        fc.asyncProperty(mutated(valid[which].data), async (input) => {
          const prefix = prefixWith(which, DATA, input.bytes);
          await expectReadOrRefused(prefix + DATA, () => readAll(prefix), input.mutations);
        }),
        fuzzParameters(runs),
      );
    });
  }

  it('a flipped bit in any data byte is caught by the checksums', async () => {
    const prefix = join(dir, 'flip');
    writeFileSync(`${prefix}.index`, valid.small.index);
    for (let at = 0; at < valid.small.data.length; at++) {
      const data = Buffer.from(valid.small.data);
      data[at] ^= 0x04;
      writeFileSync(prefix + DATA, data);
      await expect(readAll(prefix), `byte ${at}`).rejects.toThrow(`${prefix}${DATA}: `);
    }
  });
});

/** The one data block of a table kbb wrote (small checkpoints fit one), and its index key. */
function dataBlockOf(index: Uint8Array): { readonly contents: Uint8Array; readonly key: Uint8Array; readonly metaindex: Uint8Array } {
  const footer = index.subarray(index.length - 48);
  const cursor = { bytes: footer, at: 0 };
  const [metaOffset, metaSize, indexOffset, indexSize] = [readVarint(cursor), readVarint(cursor), readVarint(cursor), readVarint(cursor)];
  const indexBlock = index.subarray(indexOffset, indexOffset + indexSize);
  const entry = { bytes: indexBlock, at: 0 };
  const [shared, keyLength, valueLength] = [readVarint(entry), readVarint(entry), readVarint(entry)];
  expect(shared).toBe(0);
  const key = indexBlock.subarray(entry.at, entry.at + keyLength);
  const handle = { bytes: indexBlock.subarray(entry.at + keyLength, entry.at + keyLength + valueLength), at: 0 };
  const [dataOffset, dataSize] = [readVarint(handle), readVarint(handle)];
  // One entry in the index block: its restart array is [0] and the count 1.
  expect([dataOffset, entry.at + keyLength + valueLength + 8]).toEqual([0, indexSize]);
  return { contents: index.subarray(0, dataSize), key, metaindex: index.subarray(metaOffset, metaOffset + metaSize) };
}

/**
 * A table like `index` whose one data block holds `contents` instead, stored raw or Snappy-compressed
 * (as TensorFlow's default table options write it; `compressed` replaces the Snappy bytes, to
 * fuzz them), every handle and block checksum made right, so that mutations reach what lies behind them.
 */
function withDataBlock(index: Uint8Array, contents: Uint8Array, compression: 'none' | 'snappy', compressed?: Uint8Array): Buffer {
  const { key, metaindex } = dataBlockOf(index);
  const blocks: Buffer[] = [];
  let offset = 0;
  const addBlock = (bytes: Uint8Array, type: number): number[] => {
    const trailer = Buffer.alloc(5);
    trailer[0] = type;
    trailer.writeUInt32LE(maskCrc(crc32c(trailer.subarray(0, 1), crc32c(bytes))), 1);
    blocks.push(Buffer.from(bytes), trailer);
    const handle = [offset, bytes.length];
    offset += bytes.length + 5;
    return handle;
  };
  const data = compression === 'snappy' ? addBlock(compressed ?? compressSync(Buffer.from(contents)), 1) : addBlock(contents, 0);
  const meta = addBlock(metaindex, 0);
  const handle = varints(data);
  const restarts = Buffer.alloc(8); // one restart, at 0; then the count, 1
  restarts.writeUInt32LE(1, 4);
  const indexHandle = addBlock(Buffer.concat([varints([0, key.length, handle.length]), key, handle, restarts]), 0);
  const footer = Buffer.alloc(48);
  varints([...meta, ...indexHandle]).copy(footer);
  Buffer.from(index.subarray(index.length - 8)).copy(footer, 40); // the magic number
  return Buffer.concat([...blocks, footer]);
}

function readVarint(cursor: { bytes: Uint8Array; at: number }): number {
  let value = 0;
  let scale = 1;
  for (;;) {
    const b = cursor.bytes[cursor.at++];
    value += (b & 0x7f) * scale;
    if (b < 0x80) return value;
    scale *= 128;
  }
}

function varints(values: readonly number[]): Buffer {
  const out: number[] = [];
  for (let value of values) {
    while (value >= 0x80) {
      out.push((value % 128) | 0x80);
      value = Math.floor(value / 128);
    }
    out.push(value);
  }
  return Buffer.from(out);
}
