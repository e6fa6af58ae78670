import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSafetensors, SafetensorsError, type SafetensorsFile, type SafetensorsTensorSource, writeSafetensors } from '../../lib/convert/safetensors.js';
import { fixture, GOLDEN_BIGBIRD_CASES, hasFixtures } from '../helpers/fixtures.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbb-safetensors-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const GOLDEN_CASES = GOLDEN_BIGBIRD_CASES;

async function withFile<T>(path: string, use: (file: SafetensorsFile) => Promise<T>): Promise<T> {
  const file = await openSafetensors(path);
  try {
    return await use(file);
  } finally {
    await file.close();
  }
}

/** A file built by hand: `header` JSON (unpadded) and `data`, with the header length given or taken from the JSON. */
function handMade(name: string, header: unknown, data: Uint8Array, headerLength?: bigint): string {
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(headerLength ?? BigInt(json.length));
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat([length, json, data]));
  return path;
}

async function failure(path: string): Promise<SafetensorsError> {
  const error = await openSafetensors(path).then(
    async (file) => {
      await file.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SafetensorsError);
  return error as SafetensorsError;
}

const f32 = (...values: number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);

describe.skipIf(!hasFixtures)('safetensors: golden-bigbird model files (HF names, written as save_pretrained lays them out)', () => {
  for (const name of GOLDEN_CASES) {
    it(`${name}/model.safetensors: read every tensor, write them back, byte-for-byte the same file`, async () => {
      const input = fixture('golden-bigbird', name, 'model.safetensors');
      const output = join(dir, `${name}.safetensors`);
      await withFile(input, async (file) => {
        expect(file.metadata).toEqual({ format: 'pt' });
        expect(file.tensors.size).toBeGreaterThan(30);
        for (const info of file.tensors.values()) expect(info.dtype).toBe('F32');
        // Lazy sources, in reverse order: the writer must sort and fetch them itself.
        const sources: SafetensorsTensorSource[] = [...file.tensors].reverse().map(([tensor, info]) => ({
          name: tensor,
          dtype: info.dtype,
          shape: info.shape,
          data: () => file.read(tensor),
        }));
        await writeSafetensors(output, sources);
      });
      const expected = readFileSync(input);
      const actual = readFileSync(output);
      expect(actual.length).toBe(expected.length);
      expect(actual.equals(expected)).toBe(true);
    });
  }

  it('reads tensor values: the word embeddings are the bytes at their offset', async () => {
    const input = fixture('golden-bigbird', 'pretraining_block_sparse_eval_s64', 'model.safetensors');
    const whole = readFileSync(input);
    await withFile(input, async (file) => {
      const info = file.tensors.get('bert.embeddings.word_embeddings.weight')!;
      expect(info.shape).toEqual([101, 32]);
      expect(info.byteOffset).toBe(8 + file.headerLength + 33280);
      const bytes = await file.read('bert.embeddings.word_embeddings.weight');
      expect(Buffer.from(bytes).equals(whole.subarray(info.byteOffset, info.byteOffset + info.byteLength))).toBe(true);
      const values = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      // Row 0 (pad) is not zero in these fixtures.
      expect(values.slice(0, 32).some((v) => v !== 0)).toBe(true);
      expect(file.tensors.has('cls.seq_relationship.weight')).toBe(true);
      expect(file.tensors.has('cls.predictions.decoder.weight')).toBe(false);
    });
  });
});

describe('safetensors: writer', () => {
  it('lays out sorted names with no gaps, compact JSON padded with spaces to 8 bytes, metadata first', async () => {
    const path = join(dir, 'small.safetensors');
    await writeSafetensors(path, [
      { name: 'b', dtype: 'F32', shape: [2], data: f32(1, 2) },
      { name: 'a', dtype: 'I64', shape: [1], data: async () => new Uint8Array(new BigInt64Array([-3n]).buffer) },
      { name: 'c', dtype: 'U8', shape: [0] },
    ]);
    const bytes = readFileSync(path);
    const n = Number(bytes.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const text = bytes.subarray(8, 8 + n).toString();
    const json =
      '{"__metadata__":{"format":"pt"},"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"c":{"dtype":"U8","shape":[0],"data_offsets":[16,16]}}';
    expect(text).toBe(json + ' '.repeat(n - json.length));
    expect(bytes.length).toBe(8 + n + 16);
    await withFile(path, async (file) => {
      expect([...file.tensors.keys()]).toEqual(['a', 'b', 'c']);
      expect(new BigInt64Array((await file.read('a')).buffer)[0]).toBe(-3n);
      expect([...new Float32Array((await file.read('b')).buffer)]).toEqual([1, 2]);
      expect((await file.read('c')).length).toBe(0);
      await expect(file.read('d')).rejects.toThrow(/small\.safetensors: tensor "d": no such tensor/);
    });
  });

  it('sorts by code point, as Python and Rust do (U+FF5E before an astral character)', async () => {
    const path = join(dir, 'unicode.safetensors');
    await writeSafetensors(path, [
      { name: '\u{1F600}', dtype: 'U8', shape: [1], data: Uint8Array.of(1) },
      { name: '\uFF5E', dtype: 'U8', shape: [1], data: Uint8Array.of(2) },
    ]);
    await withFile(path, async (file) => expect([...file.tensors.keys()]).toEqual(['\uFF5E', '\u{1F600}']));
  });

  it('takes metadata, and leaves the key out for an empty map', async () => {
    const path = join(dir, 'meta.safetensors');
    await writeSafetensors(path, [{ name: 'x', dtype: 'BOOL', shape: [1], data: Uint8Array.of(1) }], { metadata: { format: 'pt', step: '600000' } });
    await withFile(path, async (file) => expect(file.metadata).toEqual({ format: 'pt', step: '600000' }));
    await writeSafetensors(path, [{ name: 'x', dtype: 'BOOL', shape: [1], data: Uint8Array.of(1) }], { metadata: {} });
    expect(readFileSync(path).subarray(8, 50).toString()).toMatch(/^\{"x":/);
  });

  it('fetches lazily: one tensor at a time, in file order', async () => {
    const events: string[] = [];
    const source = (name: string): SafetensorsTensorSource => ({
      name,
      dtype: 'F32',
      shape: [1],
      data: async () => {
        events.push(`fetch ${name}`);
        return f32(1);
      },
    });
    await writeSafetensors(join(dir, 'lazy.safetensors'), [source('z'), source('m'), source('a')]);
    expect(events).toEqual(['fetch a', 'fetch m', 'fetch z']);
  });

  it('a failing tensor leaves nothing under the final name, and no temporary file', async () => {
    const sub = await mkdtemp(join(dir, 'fail-'));
    const path = join(sub, 'model.safetensors');
    const error = await writeSafetensors(path, [
      { name: 'a', dtype: 'F32', shape: [1], data: f32(1) },
      { name: 'b', dtype: 'F32', shape: [3], data: f32(1, 2) },
    ]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SafetensorsError);
    expect((error as Error).message).toMatch(/model\.safetensors: tensor "b": data is 8 bytes, but F32 \[3\] needs 12/);
    expect(readdirSync(sub)).toEqual([]);

    const thrown = await writeSafetensors(path, [
      {
        name: 'a',
        dtype: 'F32',
        shape: [1],
        data: () => {
          throw new Error('source broke');
        },
      },
    ]).catch((e: unknown) => e);
    expect((thrown as Error).message).toBe('source broke');
    expect(readdirSync(sub)).toEqual([]);
  });

  it('refuses bad tensor lists before creating a file', async () => {
    const path = join(dir, 'bad-list.safetensors');
    await expect(writeSafetensors(path, [{ name: '__metadata__', dtype: 'U8', shape: [0] }])).rejects.toThrow(/tensor "__metadata__": this name is reserved/);
    await expect(
      writeSafetensors(path, [
        { name: 'a', dtype: 'U8', shape: [0] },
        { name: 'a', dtype: 'U8', shape: [0] },
      ]),
    ).rejects.toThrow(/tensor "a": the name is given twice/);
    await expect(writeSafetensors(path, [{ name: 'a', dtype: 'F32', shape: [-1] }])).rejects.toThrow(/tensor "a": shape \[-1\]/);
    await expect(writeSafetensors(path, [{ name: 'a', dtype: 'F32', shape: [2] }])).rejects.toThrow(/tensor "a": no data given for F32 \[2\] \(8 bytes\)/);
    expect(existsSync(path)).toBe(false);
  });
});

describe('safetensors: malformed files', () => {
  const good = {
    __metadata__: { format: 'pt' },
    w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] },
    b: { dtype: 'F32', shape: [2], data_offsets: [16, 24] },
  };
  const data = f32(1, 2, 3, 4, 5, 6);

  it('the good hand-made file opens', async () => {
    await withFile(handMade('good.safetensors', good, data), async (file) => {
      expect([...file.tensors.keys()]).toEqual(['w', 'b']);
      expect([...new Float32Array((await file.read('b')).buffer)]).toEqual([5, 6]);
    });
  });

  it('a file shorter than the length field', async () => {
    const path = join(dir, 'tiny.safetensors');
    writeFileSync(path, Buffer.from([1, 0, 0]));
    expect((await failure(path)).message).toMatch(/tiny\.safetensors: 3 bytes is too short .*\(expected at least the 8-byte header length/);
  });

  it('a header length beyond the file', async () => {
    const error = await failure(handMade('long-header.safetensors', good, data, 1n << 40n));
    expect(error.message).toMatch(
      /long-header\.safetensors: header length 1099511627776 runs past the end of the file \(expected at most \d+: the file is \d+ bytes\)/,
    );
    expect(error.tensor).toBeUndefined();
  });

  it('a truncated file: the last tensor runs past the end of the data', async () => {
    const path = handMade('truncated.safetensors', good, data.subarray(0, 20));
    const error = await failure(path);
    expect(error.tensor).toBe('b');
    expect(error.message).toMatch(/truncated\.safetensors: tensor "b": data_offsets \[16, 24\] run past the end of the data \(expected at most 20/);
  });

  it('a file cut inside its header', async () => {
    const path = join(dir, 'cut-header.safetensors');
    writeFileSync(path, readFileSync(handMade('cut-source.safetensors', good, data)).subarray(0, 40));
    expect((await failure(path)).message).toMatch(/cut-header\.safetensors: header length \d+ runs past the end of the file/);
  });

  it('offsets that do not match the shape', async () => {
    const bad = { ...good, w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 16] } };
    const error = await failure(handMade('shape.safetensors', bad, data));
    expect(error.tensor).toBe('w');
    expect(error.message).toMatch(/shape\.safetensors: tensor "w": data_offsets \[0, 16\] hold 16 bytes, but F32 \[2,3\] needs 24/);
  });

  it('overlapping tensors', async () => {
    const bad = { ...good, b: { dtype: 'F32', shape: [2], data_offsets: [12, 20] } };
    expect((await failure(handMade('overlap.safetensors', bad, data))).message).toMatch(/overlap\.safetensors: tensor "b": data_offsets overlap those of "w"/);
  });

  it('an unknown dtype, bad offsets, bad JSON, bad metadata', async () => {
    expect((await failure(handMade('dtype.safetensors', { ...good, b: { dtype: 'F8', shape: [2], data_offsets: [16, 24] } }, data))).message).toMatch(
      /tensor "b": dtype "F8" is not one of F64, F32/,
    );
    expect((await failure(handMade('offsets.safetensors', { ...good, b: { dtype: 'F32', shape: [2], data_offsets: [16] } }, data))).message).toMatch(
      /tensor "b": data_offsets \[16\] is not a pair/,
    );
    expect((await failure(handMade('backwards.safetensors', { ...good, b: { dtype: 'F32', shape: [0], data_offsets: [24, 16] } }, data))).message).toMatch(
      /tensor "b": data_offsets \[24, 16\] run backwards/,
    );
    expect((await failure(handMade('meta.safetensors', { ...good, __metadata__: { step: 1 } }, data))).message).toMatch(
      /__metadata__ is not a map of strings to strings/,
    );
    const path = join(dir, 'json.safetensors');
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(3n);
    writeFileSync(path, Buffer.concat([length, Buffer.from('{"a'), data]));
    expect((await failure(path)).message).toMatch(/json\.safetensors: header is not valid UTF-8 JSON/);
  });
});
