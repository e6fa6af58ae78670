import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AttentionInputs, fullAttention } from '../../lib/model/index.js';
import { useTestBackend } from '../helpers/tf-backend.js';

/**
 * attention.ts skips work that cannot change a bit: it scales the query instead of the scores where
 * 1/√d is a power of two, and adds no mask penalty when there is no pad token. Here against the
 * formula written out (scores divided by √d, a zero penalty added), forward and gradient.
 */
describe('attention shortcuts', () => {
  beforeAll(async () => {
    await useTestBackend();
  });

  const written = (q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D): tf.Tensor => {
    const [batch, , seq, size] = q.shape;
    const scores = tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(size)), tf.zeros([batch, 1, 1, seq]));
    return tf.matMul(tf.softmax(scores), v);
  };

  for (const size of [64, 16, 48]) {
    it(`full attention without padding, head size ${size}: output and gradients bit for bit the written formula's`, () => {
      const [batch, heads, seq] = [2, 3, 40];
      const q = tf.randomNormal([batch, heads, seq, size], 0, 2, 'float32', 1) as tf.Tensor4D;
      const k = tf.randomNormal([batch, heads, seq, size], 0, 2, 'float32', 2) as tf.Tensor4D;
      const v = tf.randomNormal([batch, heads, seq, size], 0, 1, 'float32', 3) as tf.Tensor4D;
      const dy = tf.randomNormal([batch, heads, seq, size], 0, 1, 'float32', 4);
      const inputs: AttentionInputs = { batchSize: batch, seqLength: seq, mask: new Int32Array(batch * seq).fill(1), probsDropout: 0 };
      const ours = tf.grads((a, b, c) => fullAttention(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D, inputs));
      const theirs = tf.grads((a, b, c) => written(a as tf.Tensor4D, b as tf.Tensor4D, c as tf.Tensor4D));
      expect(fullAttention(q, k, v, inputs).dataSync()).toEqual(written(q, k, v).dataSync());
      const [dq, dk, dv] = ours([q, k, v], dy);
      const [eq, ek, ev] = theirs([q, k, v], dy);
      expect(dq?.dataSync()).toEqual(eq?.dataSync());
      expect(dk?.dataSync()).toEqual(ek?.dataSync());
      expect(dv?.dataSync()).toEqual(ev?.dataSync());
    });
  }
});
