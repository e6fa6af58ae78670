import * as tf from '@tensorflow/tfjs-core';
import type { InputSpec } from './backend-parity.js';

/**
 * The sweep over the ops BigBird training uses, run on a backend and on the cpu reference backend
 * (wasm-kernels.test.ts, native-kernels.test.ts).
 */

export const f32 = (...shape: number[]): InputSpec => ({ shape });
export const positive = (...shape: number[]): InputSpec => ({ shape, low: 0.1, high: 3 });
export const wide = (low: number, high: number, ...shape: number[]): InputSpec => ({ shape, low, high });
export const ints = (values: number[], shape: number[] = [values.length]): InputSpec => ({ shape, dtype: 'int32', values });
export const given = (values: number[], shape: number[] = [values.length]): InputSpec => ({ shape, values });

export interface ParityCase {
  readonly name: string;
  readonly inputs: readonly InputSpec[];
  readonly f: (...xs: tf.Tensor[]) => tf.Tensor;
  /** Input positions to differentiate; default every float32 input. */
  readonly differentiate?: readonly number[];
}

export const PARITY_CASES: ParityCase[] = [
  { name: 'matMul 2-D', inputs: [f32(5, 7), f32(7, 3)], f: (a, b) => tf.matMul(a, b) },
  { name: 'matMul 2-D transposeA', inputs: [f32(7, 5), f32(7, 3)], f: (a, b) => tf.matMul(a, b, true, false) },
  { name: 'matMul 2-D transposeB', inputs: [f32(5, 7), f32(3, 7)], f: (a, b) => tf.matMul(a, b, false, true) },
  { name: 'matMul 2-D both transposed', inputs: [f32(7, 5), f32(3, 7)], f: (a, b) => tf.matMul(a, b, true, true) },
  { name: 'matMul 3-D', inputs: [f32(4, 5, 7), f32(4, 7, 3)], f: (a, b) => tf.matMul(a, b) },
  { name: 'matMul 3-D × 2-D', inputs: [f32(4, 5, 7), f32(7, 3)], f: (a, b) => tf.matMul(a, b) },
  { name: 'matMul 3-D × 2-D transposeB', inputs: [f32(4, 5, 7), f32(3, 7)], f: (a, b) => tf.matMul(a, b, false, true) },
  { name: 'matMul 3-D transposeA × batch-1', inputs: [f32(4, 7, 5), f32(1, 7, 3)], f: (a, b) => tf.matMul(a, b, true, false) },
  { name: 'matMul 4-D transposeB', inputs: [f32(2, 3, 5, 7), f32(2, 3, 9, 7)], f: (a, b) => tf.matMul(a, b, false, true) },
  { name: 'matMul 4-D × 3-D', inputs: [f32(2, 3, 5, 7), f32(3, 7, 4)], f: (a, b) => tf.matMul(a, b) },
  { name: 'gather rows', inputs: [f32(10, 4), ints([1, 3, 3, 0, 9, 1])], f: (x, i) => tf.gather(x, i) },
  { name: 'gather axis 1', inputs: [f32(3, 10, 4), ints([1, 3, 3, 0, 9, 1])], f: (x, i) => tf.gather(x, i, 1) },
  { name: 'gather 2-D indices', inputs: [f32(10, 4), ints([1, 3, 3, 0, 9, 1], [2, 3])], f: (x, i) => tf.gather(x, i) },
  {
    name: 'gather rows of ≥ 64 elements (key/value blocks), repeated indices',
    inputs: [f32(10, 4, 32), ints([3, 0, 9, 3, 1], [5])],
    f: (x, i) => tf.gather(x, i, 0),
  },
  { name: 'gather rows of ≥ 64 elements along axis 1', inputs: [f32(2, 10, 80), ints([9, 0, 4, 4], [2, 2])], f: (x, i) => tf.gather(x, i, 1) },
  { name: 'gather batchDims 1', inputs: [f32(2, 10, 4), ints([1, 3, 3, 0, 9, 1], [2, 3])], f: (x, i) => tf.gather(x, i, 1, 1) },
  {
    name: 'gather batchDims 2 (random-attention blocks)',
    inputs: [f32(2, 3, 10, 4), ints([1, 3, 3, 0, 9, 1, 2, 2, 8, 7, 6, 5, 4, 4, 0, 1, 9, 9, 2, 3, 5, 7, 0, 6, 2, 8, 1, 3, 5, 7], [2, 3, 5])],
    f: (x, i) => tf.gather(x, i, 2, 2),
  },
  { name: 'gather batchDims 1, axis 2', inputs: [f32(2, 3, 10, 4), ints([1, 3, 9, 0], [2, 2])], f: (x, i) => tf.gather(x, i, 2, 1) },
  {
    name: 'gather batchDims 1 of int32',
    inputs: [ints([-7, 2 ** 31 - 1, -(2 ** 31), 5, 6, 7], [2, 3]), ints([2, 0, 1, 1], [2, 2])],
    f: (x, i) => tf.gather(x, i, 1, 1),
  },
  { name: 'add broadcast', inputs: [f32(3, 1, 5), f32(4, 5)], f: (a, b) => tf.add(a, b) },
  { name: 'sub broadcast', inputs: [f32(3, 4, 5), f32(5)], f: (a, b) => tf.sub(a, b) },
  { name: 'mul broadcast', inputs: [f32(3, 4, 1), f32(1, 4, 5)], f: (a, b) => tf.mul(a, b) },
  { name: 'div broadcast', inputs: [f32(3, 4, 5), positive(4, 1)], f: (a, b) => tf.div(a, b) },
  { name: 'add scalar', inputs: [f32(3, 4), f32()], f: (a, b) => tf.add(a, b) },
  { name: 'tanh', inputs: [f32(40)], f: (x) => tf.tanh(x) },
  { name: 'tanh saturated', inputs: [wide(-30, 30, 40)], f: (x) => tf.tanh(x) },
  { name: 'pow 3', inputs: [f32(40)], f: (x) => tf.pow(x, 3) },
  { name: 'pow 0.5', inputs: [positive(40)], f: (x) => tf.pow(x, 0.5) },
  { name: 'pow tensor exponent', inputs: [positive(4, 5), f32(5)], f: (a, b) => tf.pow(a, b) },
  { name: 'sqrt', inputs: [positive(40)], f: (x) => tf.sqrt(x) },
  { name: 'rsqrt', inputs: [positive(40)], f: (x) => tf.rsqrt(x) },
  { name: 'exp', inputs: [wide(-20, 20, 40)], f: (x) => tf.exp(x) },
  { name: 'log', inputs: [positive(40)], f: (x) => tf.log(x) },
  { name: 'max last axis', inputs: [f32(3, 4, 5)], f: (x) => tf.max(x, -1) },
  { name: 'max all', inputs: [f32(3, 4, 5)], f: (x) => tf.max(x) },
  { name: 'max axis 0 keepDims', inputs: [f32(3, 4, 5)], f: (x) => tf.max(x, 0, true) },
  { name: 'max with ties', inputs: [given([1, 1, 0, 2, 3, 3, 5, 5, 5, -1, 0, -1], [4, 3])], f: (x) => tf.max(x, 1) },
  { name: 'sum last axis', inputs: [f32(3, 4, 5)], f: (x) => tf.sum(x, -1) },
  { name: 'sum two axes', inputs: [f32(3, 4, 5)], f: (x) => tf.sum(x, [0, 1]) },
  { name: 'sum middle keepDims', inputs: [f32(3, 4, 5)], f: (x) => tf.sum(x, 1, true) },
  { name: 'sum int32', inputs: [ints([1, 2, 3, 4, 5, 6], [2, 3])], f: (x) => tf.sum(x, 1) },
  { name: 'mean keepDims', inputs: [f32(3, 4, 5)], f: (x) => tf.mean(x, -1, true) },
  { name: 'mean axis 0', inputs: [f32(3, 4, 5)], f: (x) => tf.mean(x, 0) },
  { name: 'softmax', inputs: [wide(-10, 10, 3, 4, 9)], f: (x) => tf.softmax(x) },
  { name: 'softmax large logits', inputs: [wide(-100, 100, 3, 9)], f: (x) => tf.softmax(x) },
  { name: 'logSoftmax', inputs: [wide(-10, 10, 3, 4, 9)], f: (x) => tf.logSoftmax(x) },
  { name: 'logSoftmax large logits', inputs: [wide(-100, 100, 3, 9)], f: (x) => tf.logSoftmax(x) },
  { name: 'reshape', inputs: [f32(3, 4, 5)], f: (x) => tf.reshape(x, [12, 5]) },
  { name: 'transpose', inputs: [f32(2, 3, 4, 5)], f: (x) => tf.transpose(x, [0, 2, 1, 3]) },
  { name: 'transpose general', inputs: [f32(2, 3, 4, 5)], f: (x) => tf.transpose(x, [3, 1, 0, 2]) },
  { name: 'transpose int32', inputs: [ints([1, 2, 3, 4, 5, 6], [2, 3])], f: (x) => tf.transpose(x) },
  { name: 'concat', inputs: [f32(2, 3, 4), f32(2, 5, 4)], f: (a, b) => tf.concat([a, b], 1) },
  { name: 'concat last axis', inputs: [f32(2, 3, 4), f32(2, 3, 1)], f: (a, b) => tf.concat([a, b], -1) },
  { name: 'concat int32', inputs: [ints([1, 2, 3]), ints([4, 5])], f: (a, b) => tf.concat([a, b]) },
  { name: 'slice', inputs: [f32(4, 5, 6)], f: (x) => tf.slice(x, [1, 0, 2], [2, -1, 3]) },
  { name: 'stridedSlice', inputs: [f32(4, 5, 6)], f: (x) => tf.stridedSlice(x, [0, 1, 0], [4, 5, 6], [2, 2, 1]) },
  { name: 'stridedSlice negative strides', inputs: [f32(4, 5, 6)], f: (x) => tf.stridedSlice(x, [3, -1, 0], [0, 0, 6], [-1, -2, 1]) },
  { name: 'stridedSlice masks', inputs: [f32(4, 5, 6)], f: (x) => tf.stridedSlice(x, [1, 0, 2], [3, 0, 5], [1, 1, 1], 0b010, 0b010, 0, 0, 0b001) },
  {
    name: 'stridedSlice of int32 (negative and extreme values)',
    inputs: [ints([-1, 4, -(2 ** 31), 2 ** 31 - 1, 7, -5, 0, 9, 2139095041, -4194304, 3, 1], [3, 4])],
    f: (x) => tf.stridedSlice(x, [0, 3], [3, 0], [1, -2]),
  },
  {
    name: 'stridedSlice of bool',
    inputs: [ints([1, 0, 0, 1, 1, 1, 0, 1, 0, 0, 1, 0], [3, 4])],
    f: (x) => tf.stridedSlice(tf.cast(x, 'bool'), [0, 1], [3, 4], [2, 1]),
  },
  { name: 'stack', inputs: [f32(3, 4), f32(3, 4)], f: (a, b) => tf.stack([a, b], 1) },
  { name: 'unstack', inputs: [f32(3, 4, 2)], f: (x) => tf.mul(tf.unstack(x, 1)[2], tf.unstack(x, 1)[0]) },
  { name: 'tile', inputs: [f32(2, 3)], f: (x) => tf.tile(x, [2, 3]) },
  { name: 'tile 3-D', inputs: [f32(2, 1, 3)], f: (x) => tf.tile(x, [1, 4, 2]) },
  { name: 'tile int32', inputs: [ints([1, 2, 3], [1, 3])], f: (x) => tf.tile(x, [2, 2]) },
  { name: 'expandDims', inputs: [f32(3, 4)], f: (x) => tf.expandDims(x, 1) },
  { name: 'squeeze', inputs: [f32(3, 1, 4)], f: (x) => tf.squeeze(x, [1]) },
  { name: 'oneHot (out-of-range ids are all-off rows)', inputs: [ints([0, 3, 2, 9, -1, 3])], f: (i) => tf.oneHot(i, 5) },
  { name: 'oneHot on/off values', inputs: [ints([0, 3, 2, 4])], f: (i) => tf.oneHot(i, 5, 0.9, 0.025) },
  { name: 'oneHot 2-D', inputs: [ints([0, 3, 2, 4], [2, 2])], f: (i) => tf.oneHot(i, 5) },
  { name: 'cast float32 → int32', inputs: [wide(-5, 5, 20)], f: (x) => tf.cast(x, 'int32'), differentiate: [] },
  { name: 'cast int32 → float32', inputs: [ints([1, -2, 3])], f: (x) => tf.cast(x, 'float32') },
  { name: 'cast float32 → bool', inputs: [given([0, 1, -0.5, -0, 2, 256, NaN, Infinity])], f: (x) => tf.cast(x, 'bool'), differentiate: [] },
  { name: 'cast int32 → bool', inputs: [ints([0, 1, -1, 2, 256, 512, -256])], f: (x) => tf.cast(x, 'bool') },
  { name: 'cast bool → float32', inputs: [ints([0, 1, 1])], f: (x) => tf.cast(tf.cast(x, 'bool'), 'float32') },
  { name: 'float mask via bool cast', inputs: [f32(3, 4)], f: (x) => tf.mul(x, tf.cast(tf.cast(tf.mul(x, 3), 'bool'), 'float32')) },
  { name: 'where', inputs: [f32(3, 4), f32(3, 4), f32(3, 4)], f: (c, a, b) => tf.where(tf.greater(c, 0), a, b), differentiate: [1, 2] },
  { name: 'where broadcast', inputs: [f32(3, 1), f32(3, 4), f32(4)], f: (c, a, b) => tf.where(tf.greater(c, 0), a, b), differentiate: [1, 2] },
  { name: 'where rank-1 condition', inputs: [f32(4), f32(3, 4), f32(3, 4)], f: (c, a, b) => tf.where(tf.greater(c, 0), a, b), differentiate: [1, 2] },
  { name: 'greater', inputs: [f32(3, 4), f32(4)], f: (a, b) => tf.greater(a, b), differentiate: [] },
  { name: 'equal int32', inputs: [ints([1, 2, 3, 4]), ints([1, 0, 3, 5])], f: (a, b) => tf.equal(a, b) },
  { name: 'equal with NaN and -0', inputs: [given([1, 2, NaN, 0]), given([1, 2.5, NaN, -0])], f: (a, b) => tf.equal(a, b), differentiate: [] },
  { name: 'neg', inputs: [f32(10)], f: (x) => tf.neg(x) },
  { name: 'neg int32', inputs: [ints([1, -2])], f: (x) => tf.neg(x) },
  { name: 'square', inputs: [f32(10)], f: (x) => tf.square(x) },
  { name: 'squaredDifference broadcast', inputs: [f32(3, 4), f32(4)], f: (a, b) => tf.squaredDifference(a, b) },
  { name: 'minimum broadcast', inputs: [f32(3, 4), f32(4)], f: (a, b) => tf.minimum(a, b) },
  { name: 'maximum broadcast', inputs: [f32(3, 4), f32(4)], f: (a, b) => tf.maximum(a, b) },
  { name: 'maximum ties', inputs: [given([1, 2, 3, 4]), given([1, 0, 3, 5])], f: (a, b) => tf.maximum(a, b) },
  { name: 'minimum int32', inputs: [ints([1, 2, 3, 4]), ints([1, 0, 3, 5])], f: (a, b) => tf.minimum(a, b) },
  // (Out-of-range ids: forward only, their gradient is a gather that rejects them on every backend.)
  {
    name: 'unsortedSegmentSum: repeated, negative, out-of-range ids, empty segments',
    inputs: [f32(7, 3), ints([0, 2, 2, -1, 7, 2, 0])],
    f: (x, i) => tf.unsortedSegmentSum(x, i as tf.Tensor1D, 6),
    differentiate: [],
  },
  // (Ids of rank ≥ 2 are left out: cpu's kernel then sums only over the first axis, TensorFlow's
  // semantics — and this wasm kernel's — sum over all the ids' axes.)
  {
    name: 'unsortedSegmentSum of int32',
    inputs: [ints([5, -3, 2 ** 20, 7], [4, 1]), ints([1, 1, 0, 1])],
    f: (x, i) => tf.unsortedSegmentSum(x, i as tf.Tensor1D, 2),
  },
  { name: 'addN', inputs: [f32(3, 4), f32(3, 4), f32(3, 4)], f: (a, b, c) => tf.addN([a, b, c]) },
  { name: 'erf', inputs: [f32(10)], f: (x) => tf.erf(x) },
  { name: 'argMax', inputs: [f32(3, 7)], f: (x) => tf.argMax(x, 1), differentiate: [] },
  {
    name: 'gelu (tanh form)',
    inputs: [f32(5, 8)],
    f: (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))))))),
  },
  {
    name: 'layer norm',
    inputs: [f32(5, 8), f32(8), f32(8)],
    f: (x, gamma, beta) => {
      const mean = tf.mean(x, -1, true);
      const variance = tf.mean(tf.squaredDifference(x, mean), -1, true);
      return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-12))), gamma), beta);
    },
  },
  {
    name: 'masked-LM cross-entropy',
    inputs: [wide(-5, 5, 5, 8), ints([1, 0, 7, 3, 3])],
    f: (logits, labels) => tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(labels, 8), tf.logSoftmax(logits)), -1))),
  },
  {
    name: 'embedding lookup with repeated ids',
    inputs: [f32(12, 6), ints([3, 3, 0, 11, 3, 5, 0, 0], [2, 4])],
    f: (table, ids) => tf.tanh(tf.gather(table, ids)),
  },
];
