import { writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSafetensors, SAFETENSORS_DTYPE_BYTES, SafetensorsError, writeSafetensors } from '../../lib/convert/index.js';
import { expectReadOrRefused, fuzzParameters, mutated, mutatedJson } from '../helpers/fuzz.js';

/*
 * The safetensors reader under hostile input: seeded byte mutations of a valid file, and mutations
 * of its header's JSON (offsets, shapes, dtypes, metadata) re-encoded with a correct length, so the
 * checks behind the JSON parser are reached too. Each case opens the file and reads every tensor;
 * the reader must return the bytes its header promises or throw a SafetensorsError naming the file.
 */

let dir = '';
let valid: Buffer;
let header: Record<string, unknown>;
let data: Buffer;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbb-safetensors-fuzz-'));
  const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
  await writeSafetensors(
    join(dir, 'valid.safetensors'),
    [
      { name: 'bert.embeddings.word_embeddings.weight', dtype: 'F32', shape: [4, 3], data: bytes(48, 1) },
      { name: 'bert.pooler.dense.bias', dtype: 'F16', shape: [3], data: bytes(6, 2) },
      { name: 'cls.predictions.bias', dtype: 'BF16', shape: [4], data: bytes(8, 3) },
      { name: 'position_ids', dtype: 'I64', shape: [1, 2], data: bytes(16, 4) },
      { name: 'empty', dtype: 'F32', shape: [0, 5] },
      { name: 'flag', dtype: 'BOOL', shape: [], data: bytes(1, 5) },
    ],
    { metadata: { format: 'pt', note: '한국어' } },
  );
  valid = await readFile(join(dir, 'valid.safetensors'));
  const length = Number(valid.readBigUInt64LE(0));
  header = JSON.parse(valid.subarray(8, 8 + length).toString('utf8'));
  data = valid.subarray(8 + length);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A safetensors file of `json` (any JSON value) as its header, padded to 8 bytes, then `body`. */
function encode(json: unknown, body: Uint8Array): Buffer {
  const text = Buffer.from(JSON.stringify(json) ?? 'null');
  const padded = Buffer.concat([text, Buffer.alloc((8 - (text.length % 8)) % 8, 0x20)]);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(padded.length));
  return Buffer.concat([length, padded, body]);
}

/** Opens and reads every tensor, checking what a successful read promises: each tensor's bytes are its own, of the size its shape says. */
async function openAndReadAll(path: string, fileBytes: number): Promise<void> {
  const file = await openSafetensors(path);
  try {
    const ranges: [number, number][] = [];
    for (const [name, info] of file.tensors) {
      const count = info.shape.reduce((a, b) => a * b, 1);
      expect(info.byteLength).toBe(count * SAFETENSORS_DTYPE_BYTES[info.dtype]);
      expect(info.byteOffset + info.byteLength).toBeLessThanOrEqual(fileBytes);
      expect((await file.read(name)).byteLength).toBe(info.byteLength);
      if (info.byteLength > 0) ranges.push([info.byteOffset, info.byteOffset + info.byteLength]);
    }
    ranges.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i][0]).toBeGreaterThanOrEqual(ranges[i - 1][1]);
  } finally {
    await file.close();
  }
}

describe('fuzzed safetensors files', () => {
  it('byte mutations (truncation, flips, huge length fields, …): read whole or refused with a SafetensorsError naming the file', async () => {
    let n = 0;
    const outcomes = { read: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(mutated(valid), async (input) => {
        const file = join(dir, `bytes-${n++}.safetensors`);
        writeFileSync(file, input.bytes);
        outcomes[await expectReadOrRefused(file, () => openAndReadAll(file, input.bytes.length), input.mutations)]++;
      }),
      fuzzParameters(),
    );
    // The mutations reach both sides of the reader.
    expect(outcomes.refused).toBeGreaterThan(0);
  });

  it('header mutations (offsets, shapes, dtypes, metadata replaced by nulls, negatives, huge numbers, strings, …): read or refused', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(mutatedJson(header), fc.boolean(), async (json, truncate) => {
        const file = join(dir, `header-${n++}.safetensors`);
        const bytes = encode(json, truncate ? data.subarray(0, data.length - 5) : data);
        writeFileSync(file, bytes);
        await expectReadOrRefused(file, () => openAndReadAll(file, bytes.length), json);
      }),
      fuzzParameters(),
    );
  });

  it('offsets chosen at random, in any order, with gaps, overlaps and ends past the data: read only when each tensor has its own bytes inside the file', async () => {
    let n = 0;
    const offset = fc.oneof(fc.nat({ max: 200 }), fc.constantFrom(2 ** 53, 2 ** 53 - 1, -1, 1e20, 0.5));
    const entry = fc.record({
      dtype: fc.constantFrom('F32', 'F16', 'I8', 'U8', 'BOOL', 'F8_E4M3', 'f32', ''),
      shape: fc.array(fc.oneof(fc.nat({ max: 6 }), fc.constantFrom(-1, 2 ** 31, 2 ** 53, 1.5)), { maxLength: 3 }),
      data_offsets: fc.tuple(offset, offset),
    });
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string({ maxLength: 4 }), entry, { maxKeys: 5 }), async (json) => {
        const file = join(dir, `offsets-${n++}.safetensors`);
        const bytes = encode(json, data);
        writeFileSync(file, bytes);
        await expectReadOrRefused(file, () => openAndReadAll(file, bytes.length), json);
      }),
      fuzzParameters(),
    );
  });
});

describe('safetensors: the hostile headers, one by one', () => {
  const f32 = (...values: number[]): Buffer => Buffer.from(new Float32Array(values).buffer);
  /** The error opening this header over `body` gives. */
  async function refusal(name: string, json: unknown, body: Uint8Array = f32(1, 2, 3, 4)): Promise<SafetensorsError> {
    const file = join(dir, name);
    writeFileSync(file, encode(json, body));
    const error = await openSafetensors(file).then(
      (opened) => opened.close(),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SafetensorsError);
    expect((error as Error).message.startsWith(`${file}: `)).toBe(true);
    return error as SafetensorsError;
  }

  it('a negative, fractional or huge dimension, and a shape that is not a list', async () => {
    expect((await refusal('negative.safetensors', { a: { dtype: 'F32', shape: [-1, 4], data_offsets: [0, 16] } })).message).toMatch(
      /tensor "a": shape \[-1,4\] has a dimension that is not a non-negative integer/,
    );
    expect((await refusal('fraction.safetensors', { a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 16] } })).message).toMatch(/not a non-negative integer/);
    expect((await refusal('huge.safetensors', { a: { dtype: 'F64', shape: [2 ** 31, 2 ** 31, 2 ** 31], data_offsets: [0, 16] } })).message).toMatch(
      /tensor "a": shape \[2147483648,2147483648,2147483648\] is too large/,
    );
    // A product that overflows past a zero dimension is still an empty tensor.
    const empty = join(dir, 'zero.safetensors');
    writeFileSync(empty, encode({ a: { dtype: 'F64', shape: [2 ** 40, 2 ** 40, 0], data_offsets: [0, 0] } }, f32()));
    const zero = await openSafetensors(empty);
    expect(zero.tensors.get('a')?.byteLength).toBe(0);
    await zero.close();
    expect((await refusal('shape-text.safetensors', { a: { dtype: 'F32', shape: '4', data_offsets: [0, 16] } })).message).toMatch(/shape "4" is not an array/);
  });

  it('a shape whose size disagrees with its offsets, an unknown dtype, an entry that is not an object', async () => {
    expect((await refusal('mismatch.safetensors', { a: { dtype: 'F16', shape: [4], data_offsets: [0, 16] } })).message).toMatch(
      /data_offsets \[0, 16\] hold 16 bytes, but F16 \[4\] needs 8/,
    );
    expect((await refusal('dtype.safetensors', { a: { dtype: 'F8_E5M2', shape: [4], data_offsets: [0, 4] } })).message).toMatch(
      /dtype "F8_E5M2" is not one of/,
    );
    expect((await refusal('entry.safetensors', { a: [1, 2] })).message).toMatch(/tensor "a": header entry is not an object: \[1,2\]/);
  });

  it('offsets past the data, unordered ones (fine), gaps (fine) and overlaps', async () => {
    expect((await refusal('past.safetensors', { a: { dtype: 'F32', shape: [5], data_offsets: [0, 20] } })).message).toMatch(
      /data_offsets \[0, 20\] run past the end of the data \(expected at most 16/,
    );
    expect((await refusal('far.safetensors', { a: { dtype: 'U8', shape: [1], data_offsets: [2 ** 53 - 1, 2 ** 53] } })).message).toMatch(
      /data_offsets .* is not a pair/,
    );
    const ok = join(dir, 'unordered-gap.safetensors');
    writeFileSync(
      ok,
      encode(
        {
          b: { dtype: 'F32', shape: [1], data_offsets: [12, 16] },
          a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
        },
        f32(1, 2, 3, 4),
      ),
    );
    const file = await openSafetensors(ok);
    expect([...new Float32Array((await file.read('b')).buffer)]).toEqual([4]);
    await file.close();
    expect(
      (
        await refusal('overlap.safetensors', {
          b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        })
      ).message,
    ).toMatch(/tensor "b": data_offsets overlap those of "a"/);
  });

  it('__metadata__ that is null, a list, or holds non-strings; a header that is not an object', async () => {
    for (const metadata of [null, ['pt'], { format: 1 }, { format: null }]) {
      expect((await refusal('meta.safetensors', { __metadata__: metadata })).message).toMatch(/__metadata__ is not a map of strings to strings/);
    }
    expect((await refusal('list.safetensors', [1, 2])).message).toMatch(/header is not a JSON object/);
    expect((await refusal('null.safetensors', null)).message).toMatch(/header is not a JSON object/);
  });

  it('a header of megabytes in one entry gives a one-line message of bounded length', async () => {
    const error = await refusal('long.safetensors', { a: { dtype: 'x'.repeat(1_000_000), shape: [1], data_offsets: [0, 4] } });
    expect(error.message.length).toBeLessThan(400);
    expect(error.message).not.toContain('\n');
  });
});
