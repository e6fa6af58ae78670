import * as tf from '@tensorflow/tfjs-core';

/**
 * HF's `gelu_new` as one op with a one-kernel gradient, for backends that register the two kernels
 * (the native backend: ONNX Runtime's FastGelu forward, a fused derivative graph backward). As a chain
 * of TensorFlow.js ops the activation and its gradient were some twenty passes over the [tokens, 3072]
 * intermediate layer, two seconds of a 4096-token step. The op keeps only its input for the backward
 * pass, as the model's recomputed chain does. Elsewhere the model uses that chain (lib/model/nn.ts).
 */
export const GELU_NEW = 'KbbGeluNew';
export const GELU_NEW_GRAD = 'KbbGeluNewGrad';

/** Whether the active backend has both kernels. */
export function hasFusedGeluNew(): boolean {
  const backend = tf.getBackend();
  return tf.getKernel(GELU_NEW, backend) !== undefined && tf.getKernel(GELU_NEW_GRAD, backend) !== undefined;
}

/** `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`, its gradient `dy · d/dx` of the same. */
export const fusedGeluNew: (x: tf.Tensor) => tf.Tensor = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  const save = args[1] as tf.GradSaveFunc;
  save([x]);
  return {
    value: tf.engine().runKernel(GELU_NEW, { x }) as tf.Tensor,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.engine().runKernel(GELU_NEW_GRAD, { dy, x: saved[0] as tf.Tensor }) as tf.Tensor,
  };
}) as (x: tf.Tensor) => tf.Tensor;
