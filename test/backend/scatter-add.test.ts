import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { scatterAddRows } from '../../lib/backend/scatter-add.js';
import { FUZZ_RUNS } from '../helpers/fuzz.js';

/** Row by row, each add rounded to float32: the gradient of a gather, written out. */
function reference(source: Float32Array, offsets: Int32Array, slice: number, length: number): Float32Array {
  const out = new Float32Array(length);
  offsets.forEach((at, row) => {
    for (let j = 0; j < slice; j++) out[at + j] = Math.fround((out[at + j] as number) + (source[row * slice + j] as number));
  });
  return out;
}

describe('scatterAddRows', () => {
  test('sums rows into their places in row order, bit for bit, repeated rows included (SIMD and JavaScript paths)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.constantFrom(1, 3, 4, 8, 64),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 1000 }),
        (targets, slice, rows, seed) => {
          let state = seed;
          const next = () => {
            state = (Math.imul(state, 1103515245) + 12345) >>> 0;
            return state / 2 ** 32;
          };
          const offsets = Int32Array.from({ length: rows }, () => Math.floor(next() * targets) * slice);
          const source = Float32Array.from({ length: rows * slice }, () => (next() - 0.5) * 10 ** Math.floor(next() * 8 - 4));
          const out = new Float32Array(targets * slice).fill(Number.NaN); // whatever was there is overwritten
          scatterAddRows(source, offsets, slice, out);
          expect(out).toEqual(reference(source, offsets, slice, targets * slice));
        },
      ),
      { numRuns: Math.min(FUZZ_RUNS, 300) },
    );
  });
});
