import * as tf from '@tensorflow/tfjs-core';
import { FUSED_ADAMW, type FusedAdamWAttrs, registerFusedAdamW } from '../backend/fused-adamw.js';

/**
 * Which AdamW. `bert` is KoBigBird's AdamWeightDecayOptimizer (spec §3.5): no bias correction,
 * epsilon added to √v, decay skipped for LayerNorm and bias variables. `pytorch` is
 * `torch.optim.AdamW` with one parameter group: bias-corrected, epsilon added to √v̂, every
 * parameter that has a gradient decayed (how the golden Hugging Face run was trained).
 */
export type AdamWFlavour = 'bert' | 'pytorch';

export interface AdamWOptions {
  readonly flavour: AdamWFlavour;
  readonly learningRate: number;
  readonly beta1?: number;
  readonly beta2?: number;
  /** Default 1e-6 (the reference's flag) for `bert`, 1e-8 (torch's default) for `pytorch`. */
  readonly epsilon?: number;
  readonly weightDecay?: number;
  /** Variables not decayed; default: `bert` excludes names containing LayerNorm, layer_norm or bias, `pytorch` none. */
  readonly excludeFromWeightDecay?: (name: string) => boolean;
}

/** The reference's exclusion: a regex search for any of these in the variable name. */
export const BERT_NO_DECAY = /LayerNorm|layer_norm|bias/;

/** TF slot names of the reference's optimizer: `<var>/AdamWeightDecayOptimizer` (m) and `…_1` (v). */
export const adamSlotNames = (variable: string): { readonly m: string; readonly v: string } => ({
  m: `${variable}/AdamWeightDecayOptimizer`,
  v: `${variable}/AdamWeightDecayOptimizer_1`,
});

/**
 * AdamW over named variables. Moments are created on a variable's first gradient, so variables
 * that never get one (the pooler under an MLM-only loss) are never touched, as in both references.
 */
export class AdamW {
  readonly options: Required<Omit<AdamWOptions, 'excludeFromWeightDecay'>> & Pick<AdamWOptions, 'excludeFromWeightDecay'>;
  private readonly moments = new Map<string, { readonly m: tf.Variable; readonly v: tf.Variable }>();
  /** Updates applied so far (torch's `step`; the reference keeps `global_step` outside). */
  steps = 0;

  constructor(
    private readonly variables: ReadonlyMap<string, tf.Variable>,
    options: AdamWOptions,
  ) {
    this.options = {
      beta1: 0.9,
      beta2: 0.999,
      epsilon: options.flavour === 'bert' ? 1e-6 : 1e-8,
      weightDecay: 0.01,
      ...options,
    };
  }

  private decays(name: string): boolean {
    if (this.options.weightDecay === 0) return false;
    const exclude = this.options.excludeFromWeightDecay ?? (this.options.flavour === 'bert' ? (n: string) => BERT_NO_DECAY.test(n) : () => false);
    return !exclude(name);
  }

  /** One update from `grads` (by variable name) at `learningRate` (default: the options' rate). */
  applyGradients(grads: ReadonlyMap<string, tf.Tensor>, learningRate = this.options.learningRate): void {
    const { beta1, beta2, epsilon, weightDecay, flavour } = this.options;
    this.steps++;
    const correction1 = flavour === 'pytorch' ? 1 - beta1 ** this.steps : 1;
    const correction2 = flavour === 'pytorch' ? Math.sqrt(1 - beta2 ** this.steps) : 1;
    for (const [name, grad] of grads) {
      const variable = this.variables.get(name);
      if (!variable) throw new Error(`AdamW: a gradient for ${name}, which is not a trained variable`);
      if (grad.shape.join() !== variable.shape.join())
        throw new Error(`AdamW: the gradient of ${name} has shape [${grad.shape}], the variable [${variable.shape}]`);
      let slots = this.moments.get(name);
      if (!slots) {
        // tf.variable shares its initial value's data: the zeros are disposed once the variable holds them
        // (left alone, they would keep every first-step moment buffer alive after the first assign).
        const zeros = (): tf.Variable => tf.tidy(() => tf.variable(tf.zerosLike(variable), false));
        slots = { m: zeros(), v: zeros() };
        this.moments.set(name, slots);
      }
      const { m, v } = slots;
      if (fusedAdamWRuns() && grad.dtype === 'float32') {
        const attrs: FusedAdamWAttrs = {
          flavour,
          beta1,
          beta2,
          epsilon,
          learningRate,
          weightDecay: this.decays(name) ? weightDecay : 0,
          correction1,
          correction2,
        };
        const [next, nextM, nextV] = tf.engine().runKernel(FUSED_ADAMW, { variable, grad, m, v }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
        // A variable takes the new value's data (one more reference); the tensors themselves go.
        m.assign(nextM as tf.Tensor);
        v.assign(nextV as tf.Tensor);
        variable.assign(next as tf.Tensor);
        tf.dispose([next, nextM, nextV] as tf.Tensor[]);
        continue;
      }
      // One op at a time, each intermediate disposed as soon as the next op has read it: for the
      // 32,500 × 768 word embeddings every intermediate is 95 MiB, and a tidy would hold all 15 of them
      // at once. The ops and their order are the tidy version's, so the numbers are the same.
      const step = new Chain();
      let next: tf.Tensor;
      const nextM = step.keep(step.add(step.mul(m, beta1), step.mul(grad, 1 - beta1)));
      const nextV = step.keep(step.add(step.mul(v, beta2), step.mul(step.square(grad), 1 - beta2)));
      const denominator = step.add(step.div(step.sqrt(nextV), correction2), epsilon);
      if (flavour === 'pytorch') {
        // torch decays first (θ·(1 − lr·wd)), then steps by lr/bc1 · m / (√v/√bc2 + ε).
        const decayed = this.decays(name) ? step.mul(variable, 1 - learningRate * weightDecay) : variable;
        next = step.sub(decayed, step.mul(step.div(nextM, denominator), learningRate / correction1));
      } else {
        let update = step.div(nextM, denominator);
        if (this.decays(name)) update = step.add(update, step.mul(variable, weightDecay));
        next = step.sub(variable, step.mul(update, learningRate));
      }
      try {
        m.assign(nextM);
        v.assign(nextV);
        variable.assign(next);
      } finally {
        step.dispose();
      }
    }
  }

  /** The moments under the reference's TF slot names, for checkpoints. */
  slotVariables(): Map<string, tf.Variable> {
    const slots = new Map<string, tf.Variable>();
    for (const [name, { m, v }] of this.moments) {
      const names = adamSlotNames(name);
      slots.set(names.m, m);
      slots.set(names.v, v);
    }
    return slots;
  }

  /** Restores moments (from a checkpoint's slot variables); missing ones start at zero. */
  loadSlots(values: ReadonlyMap<string, tf.Tensor>): void {
    for (const name of this.variables.keys()) {
      const names = adamSlotNames(name);
      const m = values.get(names.m);
      const v = values.get(names.v);
      if (!m && !v) continue;
      if (!m || !v) throw new Error(`AdamW: ${name} has only one of its two moments (${m ? names.m : names.v})`);
      this.moments.get(name)?.m.dispose();
      this.moments.get(name)?.v.dispose();
      this.moments.set(name, { m: tf.variable(m, false), v: tf.variable(v, false) });
    }
  }

  dispose(): void {
    for (const { m, v } of this.moments.values()) {
      m.dispose();
      v.dispose();
    }
    this.moments.clear();
  }
}

/**
 * The reference's learning rate at `step` (the global step before the update): linear warm-up to
 * `peak` over `warmupSteps`, else linear decay to 0 at `totalSteps` measured from step 0 — so the
 * first update has rate 0 and the rate drops slightly at the end of warm-up, as in KoBigBird.
 */
export function referenceLearningRate(step: number, peak: number, warmupSteps: number, totalSteps: number): number {
  if (step < warmupSteps) return (peak * step) / warmupSteps;
  return peak * (1 - Math.min(step, totalSteps) / totalSteps);
}

/** Whether the active backend has the one-pass update (backend/fused-adamw.ts), which gives the same bits. */
function fusedAdamWRuns(): boolean {
  registerFusedAdamW();
  return tf.getKernel(FUSED_ADAMW, tf.getBackend()) !== undefined;
}

/**
 * Elementwise ops where each result disposes the operands this chain made, right after use (the
 * operands it did not make, variables and gradients, are left alone), unless `keep` marked them;
 * `dispose` frees what is left. Scalars are passed as numbers, as `tf.mul(x, 0.9)` takes them (each op
 * runs in a tidy, which frees the scalar tensor made from the number).
 */
class Chain {
  private readonly made = new Set<tf.Tensor>();
  private readonly kept = new Set<tf.Tensor>();

  keep(t: tf.Tensor): tf.Tensor {
    this.kept.add(t);
    return t;
  }

  private run(op: () => tf.Tensor, operands: readonly (tf.Tensor | number)[]): tf.Tensor {
    const out = tf.tidy(op);
    for (const x of operands) {
      if (typeof x === 'number' || !this.made.has(x) || this.kept.has(x) || x === out) continue;
      this.made.delete(x);
      x.dispose();
    }
    this.made.add(out);
    return out;
  }

  add(a: tf.Tensor, b: tf.Tensor | number): tf.Tensor {
    return this.run(() => tf.add(a, b), [a, b]);
  }

  sub(a: tf.Tensor, b: tf.Tensor | number): tf.Tensor {
    return this.run(() => tf.sub(a, b), [a, b]);
  }

  mul(a: tf.Tensor, b: tf.Tensor | number): tf.Tensor {
    return this.run(() => tf.mul(a, b), [a, b]);
  }

  div(a: tf.Tensor, b: tf.Tensor | number): tf.Tensor {
    return this.run(() => tf.div(a, b), [a, b]);
  }

  square(a: tf.Tensor): tf.Tensor {
    return this.run(() => tf.square(a), [a]);
  }

  sqrt(a: tf.Tensor): tf.Tensor {
    return this.run(() => tf.sqrt(a), [a]);
  }

  dispose(): void {
    for (const t of this.made) t.dispose();
    this.made.clear();
    this.kept.clear();
  }
}
