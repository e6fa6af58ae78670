import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { SOFTMAX_GRAD } from '../../lib/backend/fused-softmax-grad.js';
import { selectBackend } from '../../lib/backend/select-backend.js';

/** tfjs-core's softmax gradient, written out: what the fused kernel must equal bit for bit. */
function chain(dy: tf.Tensor, y: tf.Tensor): tf.Tensor {
  const dyTimesY = tf.mul(dy, y);
  return tf.sub(dyTimesY, tf.mul(tf.sum(dyTimesY, [y.rank - 1], true), y));
}

describe('fused softmax gradient', () => {
  test.each([
    ['attention-sized', [2, 3, 40, 300]],
    ['below the native threshold (the chain runs)', [3, 50]],
    ['one row', [1, 5000]],
  ])('on native, %s: the gradient is the op chain’s, bit for bit', async (_, shape) => {
    expect((await selectBackend({ prefer: 'native' })).backend).toBe('native');
    expect(tf.getKernel(SOFTMAX_GRAD, 'native')).toBeDefined();
    const logits = tf.randomNormal(shape as number[], 0, 3, 'float32', 1);
    const dy = tf.randomNormal(shape as number[], 0, 1, 'float32', 2);
    const grad = tf.grad((x) => tf.softmax(x))(logits, dy);
    expect(grad.dataSync()).toEqual(chain(dy, tf.softmax(logits)).dataSync());
    // And it is a softmax gradient: rows of y ⊙ (dy − ⟨dy, y⟩) sum to zero.
    const rowSums = tf.sum(grad, -1).dataSync();
    for (const sum of rowSums) expect(Math.abs(sum)).toBeLessThan(1e-5);
  });

  test('the cpu backend keeps the chain', async () => {
    expect((await selectBackend({ prefer: 'cpu' })).backend).toBe('cpu');
    expect(tf.getKernel(SOFTMAX_GRAD, 'cpu')).toBeUndefined();
    const logits = tf.randomNormal([4, 1100], 0, 3, 'float32', 3);
    const dy = tf.randomNormal([4, 1100], 0, 1, 'float32', 4);
    expect(
      tf
        .grad((x) => tf.softmax(x))(logits, dy)
        .dataSync(),
    ).toEqual(chain(dy, tf.softmax(logits)).dataSync());
  });
});
