import { getKernel, type KernelConfig, type NamedTensorInfoMap, registerKernel, type TensorInfo } from '@tensorflow/tfjs-core';

/**
 * One AdamW update of one variable as a single pass over its four arrays, for the backends whose
 * tensors are JavaScript typed arrays (cpu and native). As a chain of TensorFlow.js ops the update is
 * fifteen passes, each reading and writing a whole parameter-sized array: at BERT-base's 110 M
 * parameters that was a third of a training step on the native backend.
 *
 * The result is bit for bit the op chain's (lib/train/adamw.ts): each intermediate is rounded to
 * float32 (`Math.fround`) where an op would store it, and every op is an IEEE operation (+ − × ÷ √),
 * which float64 arithmetic rounded once to float32 gives exactly.
 */
export const FUSED_ADAMW = 'KbbFusedAdamW';

export interface FusedAdamWAttrs {
  readonly flavour: 'bert' | 'pytorch';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly learningRate: number;
  /** The variable's decay rate: 0 where it is excluded from weight decay. */
  readonly weightDecay: number;
  /** torch's bias corrections, 1 − β1^t and √(1 − β2^t); both 1 for `bert`. */
  readonly correction1: number;
  readonly correction2: number;
}

interface ArrayBackend {
  readonly data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
  allocate?(length: number): Float32Array;
}

const f = Math.fround;

export function fusedAdamWUpdate(
  variable: Float32Array,
  grad: Float32Array,
  m: Float32Array,
  v: Float32Array,
  attrs: FusedAdamWAttrs,
  out: { readonly variable: Float32Array; readonly m: Float32Array; readonly v: Float32Array },
): void {
  const b1 = f(attrs.beta1);
  const oneMinusB1 = f(1 - attrs.beta1);
  const b2 = f(attrs.beta2);
  const oneMinusB2 = f(1 - attrs.beta2);
  const correction2 = f(attrs.correction2);
  const epsilon = f(attrs.epsilon);
  const decays = attrs.weightDecay !== 0;
  const nextV = out.v;
  const nextM = out.m;
  const next = out.variable;
  if (attrs.flavour === 'bert') {
    const weightDecay = f(attrs.weightDecay);
    const learningRate = f(attrs.learningRate);
    for (let i = 0; i < variable.length; i++) {
      const g = grad[i] as number;
      const p = variable[i] as number;
      const mi = f(f((m[i] as number) * b1) + f(g * oneMinusB1));
      const vi = f(f((v[i] as number) * b2) + f(f(g * g) * oneMinusB2));
      const denominator = f(f(f(Math.sqrt(vi)) / correction2) + epsilon);
      let update = f(mi / denominator);
      if (decays) update = f(update + f(p * weightDecay));
      next[i] = p - f(update * learningRate);
      nextM[i] = mi;
      nextV[i] = vi;
    }
  } else {
    const keep = f(1 - attrs.learningRate * attrs.weightDecay);
    const stepSize = f(attrs.learningRate / attrs.correction1);
    for (let i = 0; i < variable.length; i++) {
      const g = grad[i] as number;
      const p = variable[i] as number;
      const mi = f(f((m[i] as number) * b1) + f(g * oneMinusB1));
      const vi = f(f((v[i] as number) * b2) + f(f(g * g) * oneMinusB2));
      const denominator = f(f(f(Math.sqrt(vi)) / correction2) + epsilon);
      const decayed = decays ? f(p * keep) : p;
      next[i] = decayed - f(f(mi / denominator) * stepSize);
      nextM[i] = mi;
      nextV[i] = vi;
    }
  }
}

function fusedAdamWConfig(backendName: string): KernelConfig {
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
      fusedAdamWUpdate(...arrays, attrs as unknown as FusedAdamWAttrs, out);
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
