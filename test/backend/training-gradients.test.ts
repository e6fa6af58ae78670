import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { expectClose, inputValues, useWasmAndCpu } from './backend-parity.js';

/**
 * The gradients of lib/backend/gradient-fixes.ts against references that reach the same
 * function through tfjs-core's own, working gradients: explicit broadcasting (broadcastTo/tile sum
 * their gradient back), and gathers at indices computed here. On cpu and on wasm.
 */

function gradientsOf(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: readonly (readonly number[])[], seed: number): number[][] {
  return tf.tidy(() => {
    const xs = inputs.map((shape, i) => tf.tensor(inputValues({ shape }, seed + i), shape as number[]));
    const probe = f(...xs);
    const weights = tf.tensor(inputValues({ shape: probe.shape }, seed + 99), probe.shape);
    return tf
      .grads((...ys: tf.Tensor[]) => tf.sum(tf.mul(f(...ys), weights)))(xs)
      .map((g) => Array.from(g.dataSync()));
  });
}

function expectSameGradients(
  fixed: (...xs: tf.Tensor[]) => tf.Tensor,
  reference: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: readonly (readonly number[])[],
): void {
  const actual = gradientsOf(fixed, inputs, 7);
  const expected = gradientsOf(reference, inputs, 7);
  expect(actual.length).toBe(expected.length);
  actual.forEach((g, i) => {
    expectClose(g, expected[i], `gradient ${i}`);
  });
}

const broadcastBoth = (f: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor) => (a: tf.Tensor, b: tf.Tensor) => {
  const shape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
  return f(tf.broadcastTo(a, shape), tf.broadcastTo(b, shape));
};

/** Explicitly broadcast batch dimensions of a matMul's operands. */
const matMulReference = (transposeA: boolean, transposeB: boolean) => (a: tf.Tensor, b: tf.Tensor) => {
  const batch = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  return tf.matMul(tf.broadcastTo(a, [...batch, ...a.shape.slice(-2)]), tf.broadcastTo(b, [...batch, ...b.shape.slice(-2)]), transposeA, transposeB);
};

/** Flat positions a strided slice reads, computed here for positive and negative strides (no masks). */
function stridedPositions(shape: readonly number[], begin: readonly number[], end: readonly number[], strides: readonly number[]): number[] {
  const axes = shape.map((size, axis) => {
    const picked: number[] = [];
    const norm = (v: number): number => (v < 0 ? v + size : v);
    for (let i = norm(begin[axis]); strides[axis] > 0 ? i < norm(end[axis]) : i > norm(end[axis]); i += strides[axis]) picked.push(i);
    return picked;
  });
  const strideOf = shape.map((_, axis) => shape.slice(axis + 1).reduce((p, q) => p * q, 1));
  let positions = [0];
  axes.forEach((picked, axis) => {
    positions = positions.flatMap((p) => picked.map((i) => p + i * strideOf[axis]));
  });
  return positions;
}

describe.each(['cpu', 'wasm'])('fixed gradients on %s', (backend) => {
  beforeAll(async () => {
    await useWasmAndCpu();
    await tf.setBackend(backend);
  });

  test.each([
    [[4, 5, 7], [7, 3], false, false],
    [[4, 5, 7], [3, 7], false, true],
    [[4, 7, 5], [1, 7, 3], true, false],
    [[4, 7, 5], [3, 7], true, true],
    [[5, 7], [4, 7, 3], false, false],
    [[2, 1, 5, 7], [1, 3, 7, 4], false, false],
    [[2, 3, 5, 7], [3, 4, 7], false, true],
  ] as const)('matMul [%j] × [%j] transposeA %s transposeB %s', (a, b, transposeA, transposeB) => {
    // cpu's BatchMatMul itself is wrong when both sides broadcast (it clamps flat batch indices), so
    // its forward, and any gradient built on it, differs from the explicit broadcast; wasm's is fixed.
    if (backend === 'cpu' && a.length === 4 && a[1] === 1) return;
    expectSameGradients((x, y) => tf.matMul(x, y, transposeA, transposeB), matMulReference(transposeA, transposeB), [a, b]);
  });

  test.each([
    ['squaredDifference', tf.squaredDifference],
    ['minimum', tf.minimum],
    ['maximum', tf.maximum],
  ] as const)('%s with broadcasting', (_, op) => {
    expectSameGradients(
      (a, b) => op(a, b),
      broadcastBoth((a, b) => op(a, b)),
      [
        [3, 4, 5],
        [4, 1],
      ],
    );
    expectSameGradients(
      (a, b) => op(a, b),
      broadcastBoth((a, b) => op(a, b)),
      [[5], [2, 3, 1]],
    );
  });

  test('maximum and minimum with ties split the gradient as tfjs-core does (all to a)', () => {
    const tie = tf.tensor([1, 2, 3]);
    const other = tf.tensor([[1, 0, 3]]);
    const [ga, gb] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.maximum(a, b)))([tie, other]);
    expect(Array.from(ga.dataSync())).toEqual([1, 1, 1]);
    expect(Array.from(gb.dataSync())).toEqual([0, 0, 0]);
    tf.dispose([tie, other, ga, gb]);
  });

  test.each([
    [
      [4, 5, 6],
      [0, 1, 0],
      [4, 5, 6],
      [2, 2, 1],
    ],
    [
      [4, 5, 6],
      [3, -1, 5],
      [0, 0, 0],
      [-1, -2, -3],
    ],
    [
      [7, 3],
      [1, 0],
      [7, 3],
      [3, 1],
    ],
  ] as const)('stridedSlice of [%j] from %j to %j by %j', (shape, begin, end, strides) => {
    const positions = stridedPositions(shape, begin, end, strides);
    const sliceShape = tf.tidy(
      () =>
        tf.stridedSlice(tf.zeros(shape as unknown as number[]), begin as unknown as number[], end as unknown as number[], strides as unknown as number[]).shape,
    );
    expect(positions.length).toBe(sliceShape.reduce((p, q) => p * q, 1));
    expectSameGradients(
      (x) => tf.stridedSlice(x, begin as unknown as number[], end as unknown as number[], strides as unknown as number[]),
      (x) => tf.reshape(tf.gather(tf.reshape(x, [-1]), tf.tensor1d(positions, 'int32')), sliceShape),
      [shape],
    );
  });

  test('gather with batchDims 2 equals per-batch gathers', () => {
    const ids = [
      [
        [1, 3, 3, 0],
        [9, 1, 2, 2],
        [8, 7, 6, 5],
      ],
      [
        [4, 4, 0, 1],
        [9, 9, 2, 3],
        [5, 7, 0, 6],
      ],
    ];
    const indices = tf.tensor3d(ids, [2, 3, 4], 'int32');
    expectSameGradients(
      (x) => tf.gather(x, indices, 2, 2),
      (x) =>
        tf.stack(
          ids.map((perHead, b) =>
            tf.stack(perHead.map((row, h) => tf.gather(tf.squeeze(tf.slice(x, [b, h, 0, 0], [1, 1, -1, -1]), [0, 1]), tf.tensor1d(row, 'int32')))),
          ),
        ),
      [[2, 3, 10, 5]],
    );
    indices.dispose();
  });

  test('gather with batchDims 1 on a later axis equals per-batch gathers', () => {
    const ids = [
      [1, 3, 9],
      [0, 0, 2],
    ];
    const indices = tf.tensor2d(ids, [2, 3], 'int32');
    expectSameGradients(
      (x) => tf.gather(x, indices, 2, 1),
      (x) => tf.stack(ids.map((row, b) => tf.gather(tf.squeeze(tf.slice(x, [b, 0, 0, 0], [1, -1, -1, -1]), [0]), tf.tensor1d(row, 'int32'), 1))),
      [[2, 3, 10, 5]],
    );
    indices.dispose();
  });
});
