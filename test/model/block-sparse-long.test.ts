import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { hfConfigFromJson } from '../../lib/model/config-files.js';
import { type BigBirdConfig, BigBirdModel, BigBirdWeights, bigBirdModelVariables, type NamedArray } from '../../lib/model/index.js';
import { useTestBackend } from '../helpers/tf-backend.js';
import { denseReferenceForward } from './dense-reference.js';

/**
 * Block-sparse attention at a length the golden fixtures do not cover (1024 tokens, block 16, 64
 * blocks, a training-mode random plan from the paper's old plan): against an independent float64
 * re-computation of the ITC semantics, and with every tensor any kernel reads or writes, forward and
 * backward, checked for an [S × S] shape.
 */

const SEQ = 1024;
const BATCH = 2;
const REAL_TOKENS = [SEQ, 700];

function tinyConfig(attentionType: 'block_sparse' | 'original_full'): BigBirdConfig {
  return hfConfigFromJson({
    model_type: 'big_bird',
    vocab_size: 101,
    hidden_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 64,
    hidden_act: 'gelu_new',
    max_position_embeddings: SEQ,
    type_vocab_size: 2,
    block_size: 16,
    num_random_blocks: 2,
    attention_type: attentionType,
    hidden_dropout_prob: 0,
    attention_probs_dropout_prob: 0,
  });
}

/** mulberry32 and Box–Muller: a small seeded normal generator, so the weights are the same on every run. */
function normals(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** Weights in the spirit of the fixtures': LayerNorm γ 1+0.1·N, biases 0.1·N, embeddings 0.3·N, kernels 0.2·N (so attention is far from uniform). */
function randomArrays(config: BigBirdConfig): Map<string, NamedArray> {
  const next = normals(20240601);
  const arrays = new Map<string, NamedArray>();
  for (const { name, shape } of bigBirdModelVariables(config, 'pretraining')) {
    const size = shape.reduce((x, y) => x * y, 1);
    const [offset, scale] = name.endsWith('/gamma')
      ? [1, 0.1]
      : name.endsWith('bias') || name.endsWith('/beta')
        ? [0, 0.1]
        : name.includes('embeddings')
          ? [0, 0.3]
          : [0, 0.2];
    arrays.set(name, { shape, values: Float32Array.from({ length: size }, () => offset + scale * next()) });
  }
  return arrays;
}

function batchInputs(): { inputIds: Int32Array; attentionMask: Int32Array; tokenTypeIds: Int32Array; labels: Int32Array } {
  const next = normals(7);
  const inputIds = new Int32Array(BATCH * SEQ);
  const attentionMask = new Int32Array(BATCH * SEQ);
  const tokenTypeIds = new Int32Array(BATCH * SEQ);
  const labels = new Int32Array(BATCH * SEQ).fill(-100);
  for (let b = 0; b < BATCH; b++) {
    for (let s = 0; s < REAL_TOKENS[b]; s++) {
      const i = b * SEQ + s;
      inputIds[i] = 5 + (Math.floor(Math.abs(next()) * 1000) % 96);
      attentionMask[i] = 1;
      tokenTypeIds[i] = s < REAL_TOKENS[b] / 2 ? 0 : 1;
      if (s % 7 === 3) labels[i] = inputIds[i];
    }
  }
  return { inputIds, attentionMask, tokenTypeIds, labels };
}

/** Every shape a kernel read or wrote with two sequence-long axes, or more elements than a quarter of B·heads·S². */
function quadraticShapes(kernels: readonly { name: string; inputShapes: number[][]; outputShapes: number[][] }[], heads: number): string[] {
  const limit = (BATCH * heads * SEQ * SEQ) / 4;
  const found: string[] = [];
  for (const kernel of kernels) {
    for (const shape of [...kernel.inputShapes, ...kernel.outputShapes]) {
      if (!shape) continue;
      const longAxes = shape.filter((d) => d >= SEQ).length;
      const size = shape.reduce((x, y) => x * y, 1);
      if (longAxes >= 2 || size > limit) found.push(`${kernel.name} [${shape.join(', ')}]`);
    }
  }
  return found;
}

describe('block-sparse attention at 1024 tokens (block 16, 64 blocks)', () => {
  const config = tinyConfig('block_sparse');
  const arrays = randomArrays(config);
  const inputs = batchInputs();
  const batch = { ...inputs, shape: [BATCH, SEQ] as const };
  let model: BigBirdModel;

  beforeAll(async () => {
    await useTestBackend();
    model = new BigBirdModel({ config, weights: BigBirdWeights.fromArrays(config, 'masked-lm', arrays), mode: 'train' });
  });

  it('agrees with a dense float64 re-computation of the ITC semantics, and builds no [S × S] tensor', async () => {
    let hidden: Float32Array | undefined;
    let logits: Float32Array | undefined;
    const profile = await tf.profile(() => {
      const out = model.forward(batch, { hiddenStates: false });
      expect(out.attentionType).toBe('block_sparse');
      expect(out.randomPlan!.kind).toBe('old-paper-plan');
      hidden = out.lastHiddenState.dataSync() as Float32Array;
      logits = out.logits!.dataSync() as Float32Array;
      tf.dispose([out.lastHiddenState, out.logits!, out.loss!]);
    });
    expect(profile.kernels.length).toBeGreaterThan(50);
    expect(quadraticShapes(profile.kernels, config.num_attention_heads)).toEqual([]);

    const params = new Map([...arrays].map(([name, a]) => [name, Float64Array.from(a.values)]));
    const reference = denseReferenceForward(config, params, { batch: BATCH, seq: SEQ, ...inputs, plan: model.randomPlan(SEQ).layers });
    let worstHidden = 0;
    let worstLogits = 0;
    const H = config.hidden_size;
    const V = config.vocab_size;
    for (let row = 0; row < BATCH * SEQ; row++) {
      if (inputs.attentionMask[row] !== 1) continue;
      for (let i = 0; i < H; i++) worstHidden = Math.max(worstHidden, Math.abs(hidden![row * H + i] - reference.lastHiddenState[row * H + i]));
      for (let w = 0; w < V; w++) worstLogits = Math.max(worstLogits, Math.abs(logits![row * V + w] - reference.logits[row * V + w]));
    }
    console.log(`[long] seq ${SEQ}: max abs error vs float64 reference: hidden ${worstHidden.toExponential(2)}, logits ${worstLogits.toExponential(2)}`);
    expect(worstHidden).toBeLessThanOrEqual(1e-4);
    expect(worstLogits).toBeLessThanOrEqual(1e-4);
  });

  it('the backward pass (lossAndGrads) builds no [S × S] tensor either, and gives every used parameter a finite gradient', async () => {
    let names: string[] = [];
    let finite = true;
    const before = tf.memory().numTensors;
    const profile = await tf.profile(() => {
      const { loss, grads } = model.lossAndGrads(batch);
      names = [...grads.keys()];
      finite = Number.isFinite(loss.dataSync()[0]) && [...grads.values()].every((g) => g.dataSync().every(Number.isFinite));
      tf.dispose([loss, ...grads.values()]);
    });
    expect(quadraticShapes(profile.kernels, config.num_attention_heads)).toEqual([]);
    expect(finite).toBe(true);
    // A MaskedLM loss reaches everything but the pooler and the NSP head (loaded here, but unused).
    expect(names.sort()).toEqual(
      [...model.weights.variables.keys()].filter((n) => !n.startsWith('bert/pooler/') && !n.startsWith('cls/seq_relationship/')).sort(),
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the shape check is real: full attention at the same length is caught', async () => {
    const full = new BigBirdModel({
      config: tinyConfig('original_full'),
      weights: BigBirdWeights.fromArrays(tinyConfig('original_full'), 'masked-lm', arrays),
    });
    const profile = await tf.profile(() => {
      const out = full.forward(batch, { hiddenStates: false, logits: false });
      tf.dispose([out.lastHiddenState, out.loss!]);
    });
    expect(quadraticShapes(profile.kernels, config.num_attention_heads)).toContain(`BatchMatMul [${BATCH}, ${config.num_attention_heads}, ${SEQ}, ${SEQ}]`);
    full.dispose();
  });
});
