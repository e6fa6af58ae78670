import { getKernel, type KernelConfig, type NamedTensorInfoMap, registerKernel, type TensorInfo } from '@tensorflow/tfjs-core';
import { adamWUpdateSimd, hasAdamWSimd } from './adamw-simd.js';
import { type FusedAdamWAttrs, fusedAdamWUpdate } from './adamw-update.js';

export type { FusedAdamWAttrs } from './adamw-update.js';

/**
 * One AdamW update of one variable as a single pass over its four arrays, for the backends whose
 * tensors are JavaScript typed arrays (cpu and native). As a chain of TensorFlow.js ops the update is
 * fifteen passes, each reading and writing a whole parameter-sized array: at BERT-base's 110 M
 * parameters that was a third of a training step on the native backend. The pass runs in WebAssembly
 * SIMD (adamw-simd.ts), else in JavaScript (adamw-update.ts).
 *
 * The result is bit for bit the op chain's (lib/train/adamw.ts; see adamw-update.ts).
 */
export const FUSED_ADAMW = 'KbbFusedAdamW';

interface ArrayBackend {
  readonly data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
  allocate?(length: number): Float32Array;
}

function fusedAdamWConfig(backendName: string): KernelConfig {
  // WebAssembly SIMD where the engine has it (every Node kbb supports), six times JavaScript's speed.
  const simd = hasAdamWSimd();
  return {
    kernelName: FUSED_ADAMW,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const store = backend as unknown as ArrayBackend;
      const { variable, grad, m, v } = inputs as NamedTensorInfoMap;
      const arrays = [variable, grad, m, v].map((t) => store.data.get((t as TensorInfo).dataId).values as Float32Array) as [
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
      ];
      const shape = (variable as TensorInfo).shape;
      const allocate = (): Float32Array => store.allocate?.(arrays[0].length) ?? new Float32Array(arrays[0].length);
      const out = { variable: allocate(), m: allocate(), v: allocate() };
      const update = attrs as unknown as FusedAdamWAttrs;
      (simd ? adamWUpdateSimd : fusedAdamWUpdate)(...arrays, update, out);
      return [
        store.makeTensorInfo(shape, 'float32', out.variable),
        store.makeTensorInfo(shape, 'float32', out.m),
        store.makeTensorInfo(shape, 'float32', out.v),
      ];
    },
  };
}

/** Backends whose tensors are typed arrays the kernel can read directly. */
export const FUSED_ADAMW_BACKENDS = ['cpu', 'native'] as const;

/** Registers the kernel for the cpu and native backends (idempotent). */
export function registerFusedAdamW(): void {
  for (const backendName of FUSED_ADAMW_BACKENDS) {
    if (getKernel(FUSED_ADAMW, backendName) === undefined) registerKernel(fusedAdamWConfig(backendName));
  }
}
