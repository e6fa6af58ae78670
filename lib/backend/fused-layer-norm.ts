import * as tf from '@tensorflow/tfjs-core';

/**
 * LayerNorm over the last axis as one op with a one-kernel gradient, for backends that register the
 * two kernels (the native backend: an ONNX Runtime graph each way, native-kernels.ts). As TensorFlow.js
 * ops a LayerNorm is nine kernels forward and some twenty backward, each a pass over the [tokens, 768]
 * activations with an output of its own; a 2-layer step runs six of them. The forward graph runs the
 * chain's nodes (lib/model/nn.ts `layerNorm` on the native backend), so the values are the chain's bit
 * for bit where its [rows, 1] statistics are below the backend's `minNativeElements`; the gradient is
 * the closed form r·(g − mean(g) − x̂·mean(g·x̂)), g = dy·γ, with its means and sums in float64, where
 * the chain differentiates through the moments in float32. The op keeps only its input and γ.
 */
export const LAYER_NORM = 'KbbLayerNorm';
export const LAYER_NORM_GRAD = 'KbbLayerNormGrad';

/** Whether the active backend has both kernels. */
export function hasFusedLayerNorm(): boolean {
  const backend = tf.getBackend();
  return tf.getKernel(LAYER_NORM, backend) !== undefined && tf.getKernel(LAYER_NORM_GRAD, backend) !== undefined;
}

/** (x − mean)·rsqrt(variance + eps)·γ + β over the last axis of a float32 x of rank 2 or more. */
export function fusedLayerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor {
  const attrs = { eps } as unknown as tf.NamedAttrMap;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, scale, shift, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([input, scale]);
    return {
      value: tf.engine().runKernel(LAYER_NORM, { x: input, gamma: scale, beta: shift }, attrs) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [kept, keptScale] = saved as [tf.Tensor, tf.Tensor];
        return tf.engine().runKernel(LAYER_NORM_GRAD, { dy, x: kept, gamma: keptScale }, attrs) as tf.Tensor[];
      },
    };
  });
  return op(x, gamma, beta) as tf.Tensor;
}
