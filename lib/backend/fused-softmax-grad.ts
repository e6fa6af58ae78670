import * as tf from '@tensorflow/tfjs-core';

/**
 * Softmax's gradient as one kernel where the backend has it (the native backend's `KbbSoftmaxGrad`,
 * native-kernels.ts): tfjs-core's gradient is four ops, `dy·y − Σ(dy·y)·y`, each a pass over the
 * attention probabilities with its own output (at 1024 tokens full attention's are 12.6 M values a
 * layer). The kernel runs the same nodes in one ONNX Runtime call, so the result is the same bits.
 * Tensors the backend would give its JavaScript kernels (`minNativeElements`), other axes and other
 * backends keep tfjs-core's chain.
 */
export const SOFTMAX_GRAD = 'KbbSoftmaxGrad';

let registered = false;

/** Wraps the registered Softmax gradient (idempotent; after tfjs-core's gradients are registered). */
export function registerFusedSoftmaxGradient(): void {
  const chain = tf.getGradient(tf.Softmax);
  if (registered || chain === undefined) return;
  registered = true;
  tf.unregisterGradient(tf.Softmax);
  tf.registerGradient({
    ...chain,
    gradFunc: (dy, saved, attrs) => {
      const [y] = saved as [tf.Tensor];
      const g = dy as tf.Tensor;
      const { dim } = attrs as unknown as { dim: number };
      const backend = tf.backend() as unknown as { minNativeElements?: number };
      const fused =
        tf.getKernel(SOFTMAX_GRAD, tf.getBackend()) !== undefined &&
        g.dtype === 'float32' &&
        (dim === -1 || dim === y.rank - 1) &&
        g.size >= (backend.minNativeElements ?? 0);
      if (!fused) return chain.gradFunc(dy, saved, attrs);
      return { logits: () => tf.engine().runKernel(SOFTMAX_GRAD, { dy: g, y }) as tf.Tensor };
    },
  });
}
