import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { dropoutMultiplier } from '../../lib/random/dropout-multiplier.js';
import { FUZZ_RUNS } from '../helpers/fuzz.js';

/** The one-pass dropout multiplier against tf.dropout itself (on the cpu reference backend). */
describe('dropoutMultiplier', () => {
  beforeAll(() => tf.setBackend('cpu'));

  test('is the multiplier tf.dropout draws from the same seed, bit for bit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.double({ min: 0.001, max: 0.95, noNaN: true }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        (length, rate, seed) => {
          const expected = tf.tidy(() => tf.dropout(tf.ones([length]), rate, undefined, seed).dataSync());
          expect(dropoutMultiplier(length, rate, seed)).toEqual(expected);
        },
      ),
      { numRuns: Math.min(FUZZ_RUNS, 100) },
    );
  });

  test('drops about `rate` of the values without a seed, and scales the rest by 1 / (1 − rate)', () => {
    const values = dropoutMultiplier(200_000, 0.1);
    const dropped = values.filter((v) => v === 0).length / values.length;
    expect(dropped).toBeGreaterThan(0.095);
    expect(dropped).toBeLessThan(0.105);
    expect(new Set(values)).toEqual(new Set([0, Math.fround(1 / Math.fround(0.9))]));
  });

  test('refuses a rate outside [0, 1)', () => {
    expect(() => dropoutMultiplier(3, 1)).toThrow(/\[0, 1\)/);
  });
});
