import * as tf from '@tensorflow/tfjs-core';
import { applyDropout } from '../random/dropout-multiplier.js';

/**
 * Inverted dropout as one op on the backends whose tensors are typed arrays (cpu and native): x times
 * the seeded multiplier of lib/random/dropout-multiplier.ts, made on the fly (WebAssembly SIMD) in the
 * same pass, and the gradient the same pass over dy with the same seed. As `x · multiplier` the mask
 * was a tensor of x's size made in JavaScript and kept for the backward pass, and the product's
 * gradient also took one for the mask: at 1024 tokens full attention's probabilities are 12.6 M
 * elements a layer, drawn in the forward pass and again in its recomputation. The values are the
 * product's, bit for bit.
 */
export const FUSED_DROPOUT = 'KbbDropout';

const BACKENDS = ['cpu', 'native'] as const;

interface ArrayBackend {
  readonly data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
  allocate?(length: number): Float32Array;
}

function register(): void {
  for (const backendName of BACKENDS) {
    if (tf.getKernel(FUSED_DROPOUT, backendName) !== undefined) continue;
    tf.registerKernel({
      kernelName: FUSED_DROPOUT,
      backendName,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const store = backend as unknown as ArrayBackend;
        const x = inputs.x as tf.TensorInfo;
        const stored = store.data.get(x.dataId).values;
        // A few cpu kernels store a float32 result in another typed array (a cast from bool keeps its bytes).
        const values = stored instanceof Float32Array ? stored : Float32Array.from(stored as ArrayLike<number>);
        const out = store.allocate?.(values.length) ?? new Float32Array(values.length);
        applyDropout(values, attrs?.rate as number, attrs?.seed as number, out);
        return store.makeTensorInfo([...x.shape], 'float32', out);
      },
    });
  }
}

/** Whether the active backend runs the fused op (registering it on first call). */
export function hasFusedDropout(): boolean {
  register();
  return tf.getKernel(FUSED_DROPOUT, tf.getBackend()) !== undefined;
}

/** `x · dropoutMultiplier(x.size, rate, seed)` for float32 x, with its gradient `dy ·` the same multiplier. */
export function fusedDropout(x: tf.Tensor, rate: number, seed: number): tf.Tensor {
  const attrs = { rate, seed } as unknown as tf.NamedAttrMap;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    return {
      value: tf.engine().runKernel(FUSED_DROPOUT, { x: input }, attrs) as tf.Tensor,
      gradFunc: (dy: tf.Tensor) => tf.engine().runKernel(FUSED_DROPOUT, { x: dy }, attrs) as tf.Tensor,
    };
  });
  return op(x) as tf.Tensor;
}
