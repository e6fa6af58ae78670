import * as tf from '@tensorflow/tfjs-core';
import {
  BatchMatMul,
  GatherV2,
  type GatherV2Attrs,
  type GradConfig,
  getGradient,
  Maximum,
  Minimum,
  registerGradient,
  SquaredDifference,
  StridedSlice,
  type StridedSliceAttrs,
  type Tensor,
  unregisterGradient,
} from '@tensorflow/tfjs-core';

/**
 * Gradients tfjs-core 4.22 gets wrong or lacks, on every backend (the cpu backend fails the same way):
 *  - `BatchMatMul`, `SquaredDifference`, `Minimum`, `Maximum` return a gradient of the broadcast
 *    output's shape instead of summing it back to a broadcast input's shape, so the engine throws
 *    ("The gradient of input 'b' has shape '4,7,3', which does not match…") for e.g. a [B, L, H] ×
 *    [H, H] dense layer or a layer norm's squaredDifference(x, mean).
 *  - `StridedSlice` has no gradient at all.
 *  - `GatherV2` with batchDims ≥ 2 (BigBird's random-attention gather) throws a reshape error.
 * The formulas are tfjs-core's; what is added is the reduction to the input's shape (or, for the
 * shared right side of a batched matMul, the cheaper folded product that gives it directly).
 */

/** Sums `grad` over the axes along which `shape` was broadcast to `grad.shape`, then reshapes to it. */
function reduceToShape(grad: Tensor, shape: readonly number[]): Tensor {
  if (tf.util.arraysEqual(grad.shape, shape as number[])) return grad;
  const axes = tf.backend_util.getReductionAxes(shape as number[], grad.shape);
  const summed = axes.length > 0 ? tf.sum(grad, axes) : grad;
  return tf.reshape(summed, shape as number[]);
}

/** [batch…, rows, cols] as a [batch·rows, cols] matrix, `transposed` meaning stored as [batch…, cols, rows]. */
function foldRows(x: Tensor, transposed: boolean): Tensor {
  const rank = x.rank;
  const rowsFirst = transposed ? tf.transpose(x, [...Array(rank - 2).keys(), rank - 1, rank - 2]) : x;
  return tf.reshape(rowsFirst, [-1, rowsFirst.shape[rank - 1]]);
}

const batchMatMulGrad: GradConfig = {
  kernelName: BatchMatMul,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved;
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const g = dy as Tensor;
    const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
    const derA = (): Tensor => {
      const full = !transposeA ? tf.matMul(g, b, false, !transposeB) : tf.matMul(b, g, transposeB, true);
      return reduceToShape(full, a.shape);
    };
    const derB = (): Tensor => {
      if (batchB === 1 && batchA > 1) {
        // The right side is shared by the whole batch: its gradient is one product over the folded
        // batch, [K, B·M] × [B·M, N], rather than B products summed afterwards.
        const aRows = foldRows(a, transposeA);
        const gRows = tf.reshape(g, [-1, g.shape[g.rank - 1]]);
        const shared = transposeB ? tf.matMul(gRows, aRows, true, false) : tf.matMul(aRows, gRows, true, false);
        return tf.reshape(shared, b.shape);
      }
      const full = !transposeB ? tf.matMul(a, g, !transposeA, false) : tf.matMul(g, a, true, transposeA);
      return reduceToShape(full, b.shape);
    };
    return { a: derA, b: derB };
  },
};

const squaredDifferenceGrad: GradConfig = {
  kernelName: SquaredDifference,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved) => {
    const [a, b] = saved;
    const g = dy as Tensor;
    return {
      a: () => reduceToShape(tf.mul(g, tf.mul(tf.scalar(2), tf.sub(a, b))), a.shape),
      b: () => reduceToShape(tf.mul(g, tf.mul(tf.scalar(2), tf.sub(b, a))), b.shape),
    };
  },
};

const minimumGrad: GradConfig = {
  kernelName: Minimum,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved) => {
    const [a, b] = saved;
    const g = dy as Tensor;
    return {
      a: () => reduceToShape(tf.mul(g, tf.cast(tf.lessEqual(a, b), 'float32')), a.shape),
      b: () => reduceToShape(tf.mul(g, tf.cast(tf.greater(a, b), 'float32')), b.shape),
    };
  },
};

const maximumGrad: GradConfig = {
  kernelName: Maximum,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved) => {
    const [a, b] = saved;
    const g = dy as Tensor;
    return {
      a: () => reduceToShape(tf.mul(g, tf.cast(tf.greaterEqual(a, b), 'float32')), a.shape),
      b: () => reduceToShape(tf.mul(g, tf.cast(tf.less(a, b), 'float32')), b.shape),
    };
  },
};

/**
 * The gradient of a strided slice scatters dy back to the positions it was read from. Which positions
 * those are (begin/end/stride with all five masks) is left to the StridedSlice kernel itself: slicing
 * a tensor of flat positions with the same attributes yields them, so no mask logic is repeated here.
 */
const stridedSliceGrad: GradConfig = {
  kernelName: StridedSlice,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const g = dy as Tensor;
    return {
      x: () => {
        const positions = tf.reshape(tf.range(0, x.size, 1, 'int32'), x.shape);
        const a = attrs as unknown as StridedSliceAttrs;
        const picked = tf.stridedSlice(positions, a.begin, a.end, a.strides, a.beginMask, a.endMask, a.ellipsisMask, a.newAxisMask, a.shrinkAxisMask);
        // (Cast: the cpu kernel returns a strided slice of int32 as float32.)
        const flat = tf.scatterND(tf.cast(tf.reshape(picked, [-1, 1]), 'int32'), tf.reshape(g, [-1]), [x.size]);
        return tf.reshape(flat, x.shape);
      },
    };
  },
};

/**
 * Gather's gradient scatters dy back with UnsortedSegmentSum. For batchDims > 0 every (batch, outer,
 * index) triple gets its own segment in x viewed as [batch · outer · dim, slice] (gather_util's view),
 * which covers any number of batch dimensions; batchDims 0 keeps tfjs-core's gradient.
 */
function gatherGradWith(stock: GradConfig | undefined): GradConfig {
  return {
    kernelName: GatherV2,
    inputsToSave: ['x', 'indices'],
    gradFunc: (dy, saved, attrs) => {
      const [x, indices] = saved;
      const { axis, batchDims } = attrs as unknown as GatherV2Attrs;
      if (batchDims === 0 && stock !== undefined) return stock.gradFunc(dy, saved, attrs);
      return {
        x: () => {
          const parsedAxis = tf.util.parseAxisParam(axis, x.shape)[0];
          const info = tf.backend_util.segment_util.collectGatherOpShapeInfo(x, indices, parsedAxis, batchDims);
          const { batchSize, outerSize, dimSize, sliceSize } = info;
          const perBatch = indices.size / batchSize;
          // int32 throughout: a JS number operand would promote the ids to float32.
          const int = (value: number): Tensor => tf.scalar(value, 'int32');
          const batchStart = tf.reshape(tf.mul(tf.range(0, batchSize, 1, 'int32'), int(outerSize)), [batchSize, 1, 1]);
          const outerStart = tf.reshape(tf.range(0, outerSize, 1, 'int32'), [1, outerSize, 1]);
          const rowBase = tf.mul(tf.add(batchStart, outerStart), int(dimSize));
          const index = tf.reshape(tf.cast(indices, 'int32'), [batchSize, 1, perBatch]);
          const segmentIds = tf.reshape(tf.add(rowBase, index), [-1]) as tf.Tensor1D;
          const rows = tf.reshape(dy as Tensor, [batchSize * outerSize * perBatch, sliceSize]);
          return tf.reshape(tf.unsortedSegmentSum(rows, segmentIds, batchSize * outerSize * dimSize), x.shape);
        },
        indices: () => tf.zerosLike(indices),
      };
    },
  };
}

export const GRADIENT_FIXES: readonly GradConfig[] = [batchMatMulGrad, squaredDifferenceGrad, minimumGrad, maximumGrad, stridedSliceGrad];

let gatherGrad: GradConfig | undefined;

/** Installs the fixed gradients over whatever is registered (idempotent; no override warnings). */
export function registerGradientFixes(): void {
  if (gatherGrad === undefined) {
    const stock = getGradient(GatherV2);
    gatherGrad = gatherGradWith(stock);
  }
  for (const config of [...GRADIENT_FIXES, gatherGrad]) {
    if (getGradient(config.kernelName) === config) continue;
    if (getGradient(config.kernelName) !== undefined) unregisterGradient(config.kernelName);
    registerGradient(config);
  }
}
