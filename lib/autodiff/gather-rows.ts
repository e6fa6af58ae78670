import * as tf from '@tensorflow/tfjs-core';

/**
 * `x[indices]` along axis 0, with a gradient that scatter-adds `dy` back into the rows it came from.
 *
 * Why not plain `tf.gather`: its registered gradient is `unsortedSegmentSum`, which the cpu backend
 * runs as one masked full-size sum per segment (O(segments × size): for a 32,500-row embedding table
 * that never finishes) and the wasm backend does not implement at all. `scatterND` sums duplicate
 * indices, which is exactly the gradient of a gather (a row gathered twice gets both gradients), and
 * is one linear pass on both backends.
 *
 * Call it inside `tf.tidy`: an `Int32Array` becomes an index tensor owned by the enclosing scope.
 */
export function gatherRows<T extends tf.Tensor>(x: T, indices: Int32Array | tf.Tensor1D): T {
  const rows = x.shape[0];
  const ids = indices instanceof Int32Array ? tf.tensor1d(indices, 'int32') : indices;
  if (ids.dtype !== 'int32') throw new TypeError(`gatherRows: indices must be int32, got ${ids.dtype}`);
  const shape = x.shape;
  // The indices go through `save`: the engine keeps saved tensors alive for the backward pass even
  // when the tidy scope that made them has ended (a closure over them would see them disposed).
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [source, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([ids]);
    return {
      value: tf.gather(source, ids, 0) as T,
      gradFunc: (dy: T, saved: tf.Tensor[]) => tf.scatterND(tf.reshape(saved[0], [-1, 1]), dy, [rows, ...shape.slice(1)]),
    };
  });
  return op(x);
}
