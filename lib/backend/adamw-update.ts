/**
 * The arithmetic of one AdamW update over arrays, bit for bit the TensorFlow.js op chain of
 * lib/train/adamw.ts: each intermediate is rounded to float32 (`Math.fround`) where an op would store
 * it, and every op is an IEEE operation (+ − × ÷ √), which float64 arithmetic rounded once to float32
 * gives exactly. adamw-simd.wat is the same arithmetic four lanes at a time; this is the reference it
 * is tested against, and the path where WebAssembly has no SIMD.
 */

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
  // One loop per flavour, the moment lines repeated: a branch per element would cost more than the copy.
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
