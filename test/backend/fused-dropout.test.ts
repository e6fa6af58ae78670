import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { FUSED_DROPOUT, fusedDropout, hasFusedDropout } from '../../lib/backend/fused-dropout.js';
import { selectBackend } from '../../lib/backend/select-backend.js';
import { applyDropout, applyDropoutScalar, dropoutMultiplier } from '../../lib/random/dropout-multiplier.js';
import { FUZZ_RUNS } from '../helpers/fuzz.js';

/** The fused dropout op against the product it replaces: `x · multiplier`, and that product's gradient. */
describe('fused dropout', () => {
  test('applyDropout (SIMD) is x times the multiplier, bit for bit, as the JavaScript loop is', () => {
    fc.assert(
      fc.property(
        fc.float32Array({ minLength: 0, maxLength: 70_000 }),
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        (x, rate, seed) => {
          const multiplier = dropoutMultiplier(x.length, rate, seed);
          const product = x.map((value, i) => value * (multiplier[i] as number));
          const simd = new Float32Array(x.length);
          applyDropout(x, rate, seed, simd);
          const scalar = new Float32Array(x.length);
          applyDropoutScalar(x, rate, seed, scalar);
          expect(simd).toEqual(product);
          expect(scalar).toEqual(product);
        },
      ),
      { numRuns: Math.min(FUZZ_RUNS, 40) },
    );
  });

  test.each(['native', 'cpu'] as const)('on %s: the op and its gradient are tf.mul with the multiplier and its gradient, bit for bit', async (backend) => {
    expect((await selectBackend({ prefer: backend })).backend).toBe(backend);
    expect(hasFusedDropout()).toBe(true);
    expect(tf.getKernel(FUSED_DROPOUT, backend)).toBeDefined();
    const x = tf.randomNormal([3, 50, 70], 0, 3, 'float32', 5);
    const dy = tf.randomNormal([3, 50, 70], 0, 1, 'float32', 6);
    const multiplier = tf.tensor(dropoutMultiplier(x.size, 0.1, 42), x.shape);
    expect(fusedDropout(x, 0.1, 42).dataSync()).toEqual(tf.mul(x, multiplier).dataSync());
    const fused = tf.grad((t) => fusedDropout(t, 0.1, 42))(x, dy);
    const product = tf.grad((t) => tf.mul(t, multiplier))(x, dy);
    expect(fused.dataSync()).toEqual(product.dataSync());
  });
});
