import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { selectBackend } from '../../lib/backend/select-backend.js';
import { crossEntropy } from '../../lib/model/heads.js';
import { seededUniform } from '../backend/backend-parity.js';

/**
 * The masked-LM loss at KoBigBird's real vocabulary (32,500 classes) against a float64 computation
 * from the same float32 logits. The softmax normaliser is a sum over every class: accumulated in
 * float32 one class after another (the wasm backend's reduction), the loss drifts by about 2e-6 here;
 * the cpu and native backends accumulate in float64 and give the float64 loss correctly rounded to
 * float32, as close as a float32 result can be.
 */

const ROWS = 32;
const CLASSES = 32_500;

function reference(logits: Float32Array, labels: Int32Array): { loss: number; grad: Float64Array } {
  let loss = 0;
  const grad = new Float64Array(ROWS * CLASSES);
  for (let i = 0; i < ROWS; i++) {
    const row = logits.subarray(i * CLASSES, (i + 1) * CLASSES);
    let max = -Infinity;
    for (const x of row) max = Math.max(max, x);
    let sum = 0;
    for (const x of row) sum += Math.exp(x - max);
    const logSumExp = max + Math.log(sum);
    const label = labels[i] as number;
    loss += (logSumExp - (row[label] as number)) / ROWS;
    for (let j = 0; j < CLASSES; j++) grad[i * CLASSES + j] = (Math.exp((row[j] as number) - logSumExp) - (j === label ? 1 : 0)) / ROWS;
  }
  return { loss, grad };
}

/** The spacing of float32 values at |x|. */
function ulp32(x: number): number {
  return 2 ** (Math.floor(Math.log2(Math.abs(x))) - 23);
}

describe('cross-entropy over 32,500 classes, against float64', () => {
  const next = seededUniform(7);
  const logits = Float32Array.from({ length: ROWS * CLASSES }, () => (next() - 0.5) * 8);
  const labels = Int32Array.from({ length: ROWS }, () => Math.floor(next() * CLASSES));
  const exact = reference(logits, labels);

  test.each(['native', 'cpu'] as const)('%s: the loss within one float32 step of float64, its gradient within 1e-8', async (backend) => {
    const selection = await selectBackend({ prefer: backend });
    if (selection.backend !== backend) {
      console.warn(`skipped on ${backend}: ${selection.skipped.find((s) => s.backend === backend)?.reason ?? 'not selected'}`);
      return;
    }
    const x = tf.tensor2d(logits, [ROWS, CLASSES]);
    const { value, grads } = tf.valueAndGrads((t: tf.Tensor) => crossEntropy(t as tf.Tensor2D, labels))([x]);
    const loss = value.dataSync()[0] as number;
    const grad = (grads[0] as tf.Tensor).dataSync();
    expect(Math.abs(loss - exact.loss)).toBeLessThanOrEqual(ulp32(exact.loss));
    let worst = 0;
    for (let k = 0; k < grad.length; k++) worst = Math.max(worst, Math.abs((grad[k] as number) - (exact.grad[k] as number)));
    expect(worst).toBeLessThan(1e-8);
    tf.dispose([x, value, ...grads]);
  });
});
