import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { FUSED_DROPOUT } from '../../lib/backend/fused-dropout.js';
import { DROPPED_SOFTMAX_GRAD, fusedSoftmaxDropout, hasFusedSoftmaxDropout } from '../../lib/backend/fused-softmax-dropout.js';
import { selectBackend } from '../../lib/backend/select-backend.js';
import { dropoutMultiplier } from '../../lib/random/dropout-multiplier.js';

/** The chain the fused op replaces: softmax, then the product with the multiplier. */
function chain(logits: tf.Tensor, rate: number, seed: number): tf.Tensor {
  return tf.mul(tf.softmax(logits), tf.tensor(dropoutMultiplier(logits.size, rate, seed), logits.shape));
}

/**
 * The chain's gradient in float64 from the float32 inputs: m·dy·y − Σ(m·dy·y)·y with y the float32
 * softmax, each product and the sum exact to double rounding.
 */
function gradientInFloat64(logits: tf.Tensor, dy: tf.Tensor, rate: number, seed: number): Float64Array {
  const y = tf.softmax(logits).dataSync();
  const g = dy.dataSync();
  const m = dropoutMultiplier(logits.size, rate, seed);
  const width = logits.shape[logits.rank - 1] as number;
  const out = new Float64Array(y.length);
  for (let row = 0; row < y.length; row += width) {
    let sum = 0;
    for (let j = row; j < row + width; j++) sum += (m[j] as number) * (g[j] as number) * (y[j] as number);
    for (let j = row; j < row + width; j++) out[j] = (m[j] as number) * (g[j] as number) * (y[j] as number) - sum * (y[j] as number);
  }
  return out;
}

describe('fused softmax dropout', () => {
  test.each([
    ['native', 'attention-sized', [2, 3, 40, 300]],
    ['native', 'below the native threshold (three ops)', [3, 50]],
    ['cpu', 'on the cpu backend (three ops)', [2, 3, 40, 300]],
  ] as const)('on %s, %s: the value is the chain’s bit for bit, the gradient the chain’s to float32 rounding', async (backend, _, shape) => {
    expect((await selectBackend({ prefer: backend })).backend).toBe(backend);
    expect(hasFusedSoftmaxDropout()).toBe(true);
    expect(tf.getKernel(FUSED_DROPOUT, backend)).toBeDefined();
    expect(tf.getKernel(DROPPED_SOFTMAX_GRAD, backend) !== undefined).toBe(backend === 'native');
    const logits = tf.randomNormal([...shape], 0, 3, 'float32', 7);
    const dy = tf.randomNormal([...shape], 0, 1, 'float32', 8);
    expect(fusedSoftmaxDropout(logits, 0.1, 42).dataSync()).toEqual(chain(logits, 0.1, 42).dataSync());

    const fused = tf
      .grad((x) => fusedSoftmaxDropout(x, 0.1, 42))(logits, dy)
      .dataSync();
    const unfused = tf
      .grad((x) => chain(x, 0.1, 42))(logits, dy)
      .dataSync();
    const exact = gradientInFloat64(logits, dy, 0.1, 42);
    let scale = 0;
    for (const value of exact) scale = Math.max(scale, Math.abs(value));
    let fusedError = 0;
    let unfusedError = 0;
    for (let i = 0; i < exact.length; i++) {
      fusedError = Math.max(fusedError, Math.abs((fused[i] as number) - (exact[i] as number)));
      unfusedError = Math.max(unfusedError, Math.abs((unfused[i] as number) - (exact[i] as number)));
    }
    // Both are a few float32 roundings from the exact value: neither is more than 4 ulps of the
    // largest gradient away, and the fused one is no further than twice the chain's own error.
    expect(fusedError).toBeLessThan(4 * 2 ** -23 * scale);
    expect(fusedError).toBeLessThanOrEqual(2 * unfusedError + 2 ** -24 * scale);
    // And it is a softmax gradient: each row sums to zero (Σp − Σp·Σy with Σy = 1).
    const width = shape[shape.length - 1] as number;
    for (let row = 0; row < fused.length; row += width) {
      let sum = 0;
      for (let j = row; j < row + width; j++) sum += fused[j] as number;
      expect(Math.abs(sum)).toBeLessThan(1e-5);
    }
  });
});
