import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointReader, diffCheckpoints, type TensorToWrite, writeCheckpoint } from '../../lib/checkpoint/index.js';

const dir = mkdtempSync(join(tmpdir(), 'kbb-ckpt-diff-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const floats = (...values: number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);
const ints = (...values: number[]): Uint8Array => new Uint8Array(Int32Array.from(values).buffer);
const text = (...values: string[]): Uint8Array[] => values.map((v) => new TextEncoder().encode(v));

describe('diffCheckpoints', () => {
  it('sorts every variable into added, removed, reshaped or same shape, with how far a shared one moved', async () => {
    const a: TensorToWrite[] = [
      { name: 'moved', dtype: 'float32', shape: [2, 2], data: floats(1, 2, 3, 4) },
      { name: 'still', dtype: 'int32', shape: [3], data: ints(7, 8, 9) },
      { name: 'gone', dtype: 'float32', shape: [1], data: floats(0) },
      { name: 'grown', dtype: 'float32', shape: [2], data: floats(0, 0) },
      { name: 'retyped', dtype: 'float32', shape: [1], data: floats(1) },
      { name: 'words', dtype: 'string', shape: [2], data: text('a', 'b') },
    ];
    const b: TensorToWrite[] = [
      { name: 'moved', dtype: 'float32', shape: [2, 2], data: floats(1, 2.5, 3, 1) },
      { name: 'still', dtype: 'int32', shape: [3], data: ints(7, 8, 9) },
      { name: 'grown', dtype: 'float32', shape: [3], data: floats(0, 0, 0) },
      { name: 'retyped', dtype: 'int32', shape: [1], data: ints(1) },
      { name: 'words', dtype: 'string', shape: [2], data: text('a', 'c') },
      { name: 'new', dtype: 'float32', shape: [4], data: floats(1, 1, 1, 1) },
    ];
    await writeCheckpoint(join(dir, 'a'), a);
    await writeCheckpoint(join(dir, 'b'), b);
    const [left, right] = await Promise.all([CheckpointReader.open(join(dir, 'a')), CheckpointReader.open(join(dir, 'b'))]);
    try {
      const rows = await diffCheckpoints(left, right);
      expect(rows.map((r) => [r.name, r.change, r.difference])).toEqual([
        ['gone', 'removed', undefined],
        ['grown', 'reshaped', undefined],
        ['moved', 'same shape', 3],
        ['new', 'added', undefined],
        ['retyped', 'reshaped', undefined],
        ['still', 'same shape', 0],
        ['words', 'same shape', 'differs'],
      ]);
      expect(rows.find((r) => r.name === 'grown')).toMatchObject({ a: { dtype: 'float32', shape: [2] }, b: { dtype: 'float32', shape: [3] } });
      expect(rows.find((r) => r.name === 'new')).toMatchObject({ b: { dtype: 'float32', shape: [4] } });
      expect(rows.find((r) => r.name === 'new')?.a).toBeUndefined();
      // A checkpoint against itself: everything the same, strings identical.
      const self = await diffCheckpoints(left, left);
      expect(self.map((r) => r.difference)).toEqual([0, 0, 0, 0, 0, 'identical']);
    } finally {
      await Promise.all([left.close(), right.close()]);
    }
  });

  it('stops between variables when cancelled', async () => {
    const reader = await CheckpointReader.open(join(dir, 'a'));
    try {
      const cancel = new AbortController();
      cancel.abort();
      await expect(diffCheckpoints(reader, reader, { signal: cancel.signal })).rejects.toThrow(/abort/i);
    } finally {
      await reader.close();
    }
  });
});
