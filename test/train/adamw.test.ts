import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdamW, adamSlotNames, referenceLearningRate } from '../../lib/train/adamw.js';
import { hasPythonNumpy, runPython, SKIP_NO_PYTHON } from '../helpers/python.js';
import { useTestBackend } from '../helpers/tf-backend.js';

beforeAll(async () => {
  await useTestBackend();
});

const created: tf.Variable[] = [];
afterEach(() => {
  for (const v of created.splice(0)) v.dispose();
});

/** A deterministic pseudo-random sequence (no Math.random: the numpy check replays the same values). */
function values(count: number, seed: number): number[] {
  let state = seed >>> 0;
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

const variable = (data: number[], shape: number[]): tf.Variable => {
  const v = tf.variable(tf.tensor(data, shape));
  created.push(v);
  return v;
};

describe('AdamW', () => {
  it('takes a first PyTorch step of lr·g/(|g| + ε) after decaying by lr·wd, as the bias corrections cancel', () => {
    const start = [0.5, -1.25, 2, 0.01];
    const grads = [0.3, -0.02, 4, 0];
    const w = variable(start, [4]);
    const optimizer = new AdamW(new Map([['w', w]]), { flavour: 'pytorch', learningRate: 1e-2, weightDecay: 0.1, epsilon: 1e-8 });
    optimizer.applyGradients(new Map([['w', tf.tensor(grads)]]));
    const expected = start.map((p, i) => p * (1 - 1e-2 * 0.1) - (1e-2 * grads[i]) / (Math.abs(grads[i]) + 1e-8));
    const got = Array.from(w.dataSync());
    got.forEach((g, i) => {
      expect(g).toBeCloseTo(expected[i], 6);
    });
    optimizer.dispose();
  });

  it('takes a first BERT step of lr·(0.1g/(√0.001|g| + ε) + wd·θ), decaying kernels but not LayerNorm or bias', () => {
    const kernel = variable([1, -2], [2]);
    const bias = variable([1, -2], [2]);
    const gamma = variable([1, -2], [2]);
    const vars = new Map([
      ['bert/encoder/layer_0/output/dense/kernel', kernel],
      ['bert/encoder/layer_0/output/dense/bias', bias],
      ['bert/encoder/layer_0/output/LayerNorm/gamma', gamma],
    ]);
    const optimizer = new AdamW(vars, { flavour: 'bert', learningRate: 1e-3 });
    const g = [0.5, -0.25];
    optimizer.applyGradients(new Map([...vars.keys()].map((name) => [name, tf.tensor(g)])));
    const step = (p: number, gi: number, decay: boolean): number => p - 1e-3 * ((0.1 * gi) / (Math.sqrt(0.001) * Math.abs(gi) + 1e-6) + (decay ? 0.01 * p : 0));
    expect(Array.from(kernel.dataSync())[0]).toBeCloseTo(step(1, 0.5, true), 6); // float32: one ulp at 2 is 2.4e-7
    expect(Array.from(kernel.dataSync())[1]).toBeCloseTo(step(-2, -0.25, true), 6); // float32: one ulp at 2 is 2.4e-7
    for (const v of [bias, gamma]) {
      expect(Array.from(v.dataSync())[0]).toBeCloseTo(step(1, 0.5, false), 6); // float32: one ulp at 2 is 2.4e-7
      expect(Array.from(v.dataSync())[1]).toBeCloseTo(step(-2, -0.25, false), 6); // float32: one ulp at 2 is 2.4e-7
    }
    expect([...optimizer.slotVariables().keys()]).toContain(adamSlotNames('bert/encoder/layer_0/output/dense/kernel').v);
    expect(adamSlotNames('x')).toEqual({ m: 'x/AdamWeightDecayOptimizer', v: 'x/AdamWeightDecayOptimizer_1' });
    optimizer.dispose();
  });

  it('leaves a variable that gets no gradient untouched (no decay, no moments)', () => {
    const trained = variable([1, 2], [2]);
    const pooler = variable([3, 4], [2]);
    const optimizer = new AdamW(
      new Map([
        ['a', trained],
        ['bert/pooler/dense/kernel', pooler],
      ]),
      { flavour: 'pytorch', learningRate: 0.1, weightDecay: 0.5 },
    );
    optimizer.applyGradients(new Map([['a', tf.tensor([1, 1])]]));
    expect(Array.from(pooler.dataSync())).toEqual([3, 4]);
    expect(optimizer.slotVariables().size).toBe(2);
    optimizer.dispose();
  });

  it('refuses a gradient of the wrong shape or for an unknown variable, naming it', () => {
    const optimizer = new AdamW(new Map([['a', variable([1, 2], [2])]]), { flavour: 'bert', learningRate: 0.1 });
    expect(() => optimizer.applyGradients(new Map([['a', tf.tensor([1, 2, 3])]]))).toThrow(/gradient of a has shape \[3\], the variable \[2\]/);
    expect(() => optimizer.applyGradients(new Map([['b', tf.tensor([1])]]))).toThrow(/for b, which is not a trained variable/);
  });

  it.skipIf(!hasPythonNumpy)('follows a float64 NumPy transcription of both algorithms over five steps with changing rates', () => {
    const n = 64;
    const start = values(n, 1);
    const gradients = Array.from({ length: 5 }, (_, s) => values(n, 100 + s).map((x) => x * (s + 1)));
    const rates = [1e-3, 5e-4, 2e-3, 1e-3, 3e-4];
    const script = `
import json, sys, numpy as np
d = json.load(sys.stdin)
out = {}
for flavour in ('pytorch', 'bert'):
    p = np.array(d['start'], dtype=np.float64); m = np.zeros_like(p); v = np.zeros_like(p)
    b1, b2, wd = 0.9, 0.999, 0.01
    eps = 1e-8 if flavour == 'pytorch' else 1e-6
    for t, (g, lr) in enumerate(zip(d['grads'], d['rates']), start=1):
        g = np.array(g, dtype=np.float64)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        if flavour == 'pytorch':
            p = p * (1 - lr * wd)
            p = p - (lr / (1 - b1 ** t)) * m / (np.sqrt(v) / np.sqrt(1 - b2 ** t) + eps)
        else:
            p = p - lr * (m / (np.sqrt(v) + eps) + wd * p)
    out[flavour] = p.tolist()
print(json.dumps(out))
`;
    const expected = JSON.parse(runPython(['-c', script], Buffer.from(JSON.stringify({ start, grads: gradients, rates })))) as Record<string, number[]>;
    for (const flavour of ['pytorch', 'bert'] as const) {
      const w = variable(start, [8, 8]);
      // A name the bert flavour decays, so both flavours exercise the decay term.
      const optimizer = new AdamW(new Map([['w/kernel', w]]), { flavour, learningRate: 1 });
      gradients.forEach((g, s) => {
        optimizer.applyGradients(new Map([['w/kernel', tf.tensor(g, [8, 8])]]), rates[s]);
      });
      const got = Array.from(w.dataSync());
      const worst = Math.max(...got.map((x, i) => Math.abs(x - expected[flavour][i])));
      expect(worst, flavour).toBeLessThan(1e-6);
      optimizer.dispose();
    }
  });
  if (!hasPythonNumpy) it.skip(SKIP_NO_PYTHON, () => {});
});

describe('the reference learning-rate schedule (spec §3.5)', () => {
  it('warms up linearly from 0, then decays linearly from step 0 to 0 at the last step', () => {
    const at = (step: number): number => referenceLearningRate(step, 1e-4, 20_000, 2_000_000);
    expect(at(0)).toBe(0);
    expect(at(10_000)).toBeCloseTo(5e-5, 12);
    expect(at(19_999)).toBeCloseTo((1e-4 * 19_999) / 20_000, 12);
    expect(at(20_000)).toBeCloseTo(1e-4 * 0.99, 12);
    expect(at(20_001)).toBeCloseTo(1e-4 * (1 - 20_001 / 2_000_000), 12);
    expect(at(1_000_000)).toBeCloseTo(5e-5, 12);
    expect(at(2_000_000)).toBe(0);
    expect(at(3_000_000)).toBe(0);
  });
});
