import * as tf from '@tensorflow/tfjs-core';
import { FUSED_DROPOUT, hasFusedDropout } from './fused-dropout.js';

/**
 * dropout(softmax(x)) over the last axis as one op whose gradient needs no second dropout pass.
 *
 * With y = softmax(x) and dropped = m·y (m the seeded multiplier), the chain's gradient is
 * y·(m·dy) − Σ(y·m·dy)·y: it draws the multiplier again for the gradient of the dropout, then runs the
 * softmax gradient. Since y·m·dy = dy·dropped, the same gradient is dy·dropped − Σ(dy·dropped)·y, from
 * the two tensors the pass keeps anyway (dropped is the input of the product with the values, whose
 * gradient keeps it). At 1024 tokens full attention's probabilities are 12.6 M values a layer, and the
 * dropout pass over them took 17 ms. The native backend runs this gradient as one ONNX Runtime graph
 * (`KbbDroppedSoftmaxGrad`, native-kernels.ts); elsewhere it is three ops. The value is the chain's bit
 * for bit; the gradient is the chain's up to the rounding of a product of three factors taken in
 * another order.
 */
export const DROPPED_SOFTMAX_GRAD = 'KbbDroppedSoftmaxGrad';

/** Whether the active backend runs `fusedSoftmaxDropout` (its dropout is the fused op). */
export function hasFusedSoftmaxDropout(): boolean {
  return hasFusedDropout();
}

/** `dropout(softmax(logits), rate, seed)` over the last axis, for float32 logits. */
export function fusedSoftmaxDropout(logits: tf.Tensor, rate: number, seed: number): tf.Tensor {
  const attrs = { rate, seed } as unknown as tf.NamedAttrMap;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const y = tf.softmax(x);
    const dropped = tf.engine().runKernel(FUSED_DROPOUT, { x: y }, attrs) as tf.Tensor;
    save([y, dropped]);
    return {
      value: dropped,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [probabilities, kept] = saved as [tf.Tensor, tf.Tensor];
        const backend = tf.backend() as unknown as { minNativeElements?: number };
        if (tf.getKernel(DROPPED_SOFTMAX_GRAD, tf.getBackend()) !== undefined && dy.size >= (backend.minNativeElements ?? 0)) {
          return tf.engine().runKernel(DROPPED_SOFTMAX_GRAD, { dy, dropped: kept, y: probabilities }) as tf.Tensor;
        }
        const p = tf.mul(dy, kept);
        return tf.sub(p, tf.mul(tf.sum(p, -1, true), probabilities));
      },
    };
  });
  return op(logits) as tf.Tensor;
}
