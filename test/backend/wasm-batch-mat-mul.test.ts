import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { expectClose, inputValues, useWasmAndCpu } from './backend-parity.js';

/**
 * lib/backend/wasm-batch-mat-mul.ts against the cpu backend. The reference broadcasts the batch
 * dimensions explicitly first (tf.broadcastTo), because cpu's (and stock wasm's) BatchMatMul
 * broadcasts wrongly when both sides broadcast, e.g. [2, 1, …] × [1, 3, …].
 */

interface Product {
  readonly a: readonly number[];
  readonly b: readonly number[];
}

const products: Product[] = [
  { a: [5, 7], b: [7, 3] }, // 2-D
  { a: [1, 13, 9], b: [1, 9, 11] }, // batch 1
  { a: [4, 5, 7], b: [4, 7, 3] }, // batched
  { a: [6, 3, 10], b: [10, 17] }, // shared right side (folded)
  { a: [6, 3, 10], b: [1, 10, 17] },
  { a: [1, 3, 10], b: [6, 10, 17] }, // shared left side
  { a: [2, 3, 5, 7], b: [3, 7, 4] }, // 4-D × 3-D
  { a: [2, 1, 5, 7], b: [1, 3, 7, 4] }, // both sides broadcast
  { a: [2, 3, 4, 19, 9], b: [2, 3, 4, 9, 23] }, // 5-D, attention-like layout
  { a: [3, 2, 33], b: [3, 33, 2] }, // N < M
  { a: [3, 0, 4], b: [3, 4, 5] }, // empty rows
  { a: [3, 6, 0], b: [3, 0, 5] }, // empty inner dimension: zeros
];

const transposes: readonly (readonly [boolean, boolean])[] = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

/** Stored shape of an operand given as its untransposed shape. */
function stored(shape: readonly number[], transposed: boolean): number[] {
  const s = shape.slice();
  if (transposed) [s[s.length - 2], s[s.length - 1]] = [s[s.length - 1], s[s.length - 2]];
  return s;
}

async function product(
  backend: string,
  p: Product,
  transposeA: boolean,
  transposeB: boolean,
  reference: boolean,
): Promise<{ shape: number[]; values: number[] }> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const aShape = stored(p.a, transposeA);
    const bShape = stored(p.b, transposeB);
    let a = tf.tensor(inputValues({ shape: aShape }, 3), aShape);
    let b = tf.tensor(inputValues({ shape: bShape }, 4), bShape);
    if (reference) {
      const batch = tf.broadcast_util.assertAndGetBroadcastShape(aShape.slice(0, -2), bShape.slice(0, -2));
      a = tf.broadcastTo(a, [...batch, ...aShape.slice(-2)]);
      b = tf.broadcastTo(b, [...batch, ...bShape.slice(-2)]);
    }
    const y = tf.matMul(a, b, transposeA, transposeB);
    return { shape: y.shape, values: Array.from(y.dataSync()) };
  });
}

describe('wasm BatchMatMul against cpu', () => {
  beforeAll(useWasmAndCpu);

  for (const p of products) {
    for (const [transposeA, transposeB] of transposes) {
      test(`[${p.a}] × [${p.b}], transposeA ${transposeA}, transposeB ${transposeB}`, async () => {
        const expected = await product('cpu', p, transposeA, transposeB, true);
        const before = tf.memory().numTensors;
        await tf.setBackend('wasm');
        const actual = await product('wasm', p, transposeA, transposeB, false);
        expect(tf.memory().numTensors).toBe(before);
        expect(actual.shape).toEqual(expected.shape);
        expectClose(actual.values, expected.values, 'product');
      });
    }
  }

  test('repeated products with the same weights and with new ones stay correct (XNNPACK caches by tensor id)', async () => {
    const xValues = inputValues({ shape: [8, 6] }, 5);
    await tf.setBackend('wasm');
    const x = tf.tensor(xValues, [8, 6]);
    for (let round = 0; round < 3; round++) {
      const wValues = inputValues({ shape: [6, 4] }, 10 + round);
      await tf.setBackend('wasm');
      const w = tf.tensor(wValues, [6, 4]);
      const wasm = [0, 1].map(() => tf.tidy(() => Array.from(tf.matMul(x, w).dataSync())));
      w.dispose();
      await tf.setBackend('cpu');
      const expected = tf.tidy(() => Array.from(tf.matMul(tf.tensor(xValues, [8, 6]), tf.tensor(wValues, [6, 4])).dataSync()));
      for (const values of wasm) expectClose(values, expected, `round ${round}`);
    }
    x.dispose();
  });
});
