import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { FUSED_ADAMW } from '../../lib/backend/fused-adamw.js';
import { selectBackend } from '../../lib/backend/select-backend.js';
import { AdamW, type AdamWFlavour } from '../../lib/train/adamw.js';
import { seededUniform } from './backend-parity.js';

/**
 * The one-pass AdamW update (lib/backend/fused-adamw.ts) against the op chain it replaces, run on the
 * wasm backend (which has no fused kernel): three steps of both flavours, with decayed and excluded
 * variables, moments and gradients spanning magnitudes from 1e-30 to 1e3. The results must be the same
 * bits, not merely close.
 */

const SHAPES: Record<string, number[]> = {
  // More than one SIMD chunk (adamw-simd.ts), with a last chunk that is not a multiple of four.
  'bert/embeddings/word_embeddings': [1031, 301],
  'bert/encoder/layer_0/attention/self/query/kernel': [48, 40],
  'bert/encoder/layer_0/attention/self/query/bias': [40],
  'bert/encoder/layer_0/output/LayerNorm/gamma': [40],
};

function randomArray(length: number, seed: number): Float32Array {
  const next = seededUniform(seed);
  // Signs, and magnitudes spread over 10^-30 … 10^3, with a few exact zeros.
  return Float32Array.from({ length }, (_, i) => (i % 97 === 0 ? 0 : (next() < 0.5 ? -1 : 1) * 10 ** (-30 + 33 * next())));
}

async function run(backend: 'native' | 'wasm' | 'cpu', flavour: AdamWFlavour): Promise<Map<string, Float32Array>> {
  expect((await selectBackend({ prefer: backend })).backend).toBe(backend);
  const variables = new Map<string, tf.Variable>();
  let seed = 1;
  for (const [name, shape] of Object.entries(SHAPES))
    variables.set(
      name,
      tf.variable(
        tf.tensor(
          randomArray(
            shape.reduce((a, b) => a * b),
            seed++,
          ),
          shape,
        ),
        true,
        name + backend + flavour,
      ),
    );
  const optimizer = new AdamW(variables, { flavour, learningRate: 3e-3 });
  for (let step = 0; step < 3; step++) {
    const grads = new Map([...variables].map(([name, v], i) => [name, tf.tensor(randomArray(v.size, 100 * step + i), v.shape)] as const));
    optimizer.applyGradients(grads, 3e-3 * (step + 1));
    tf.dispose([...grads.values()]);
  }
  const out = new Map<string, Float32Array>();
  for (const [name, v] of [...variables, ...optimizer.slotVariables()]) out.set(name, Float32Array.from(v.dataSync() as Float32Array));
  optimizer.dispose();
  for (const v of variables.values()) v.dispose();
  return out;
}

describe('fused AdamW', () => {
  test.each(['bert', 'pytorch'] as const)('%s: the same bits as the op chain, for variables and both moments', async (flavour) => {
    const chain = await run('wasm', flavour);
    expect(tf.getKernel(FUSED_ADAMW, 'wasm')).toBeUndefined();
    for (const backend of ['cpu', 'native'] as const) {
      const fused = await run(backend, flavour);
      expect(tf.getKernel(FUSED_ADAMW, tf.getBackend())).toBeDefined();
      expect([...fused.keys()].sort()).toEqual([...chain.keys()].sort());
      for (const [name, values] of chain) expect(fused.get(name), `${backend} ${name}`).toEqual(values);
    }
  });
});
