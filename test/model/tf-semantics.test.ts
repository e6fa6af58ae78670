import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BigBirdConfig, BigBirdModel, BigBirdWeights, hfConfigFromJson, initialBigBirdValues } from '../../lib/model/index.js';
import { useTestBackend } from '../helpers/tf-backend.js';

/**
 * Where KoBigBird's TF model and Hugging Face's differ, `semantics: 'tf'` computes TF's: full attention
 * at ≤ 512 tokens (HF keeps block-sparse above (5 + 2r)·block), and full attention masking
 * `from ⊗ to` (a padded query sees every key, each −10000: its softmax is the unmasked one) where HF
 * masks keys only. Real positions get the same outputs either way.
 */

const config = (attention: 'block_sparse' | 'original_full'): BigBirdConfig =>
  hfConfigFromJson({
    model_type: 'big_bird',
    vocab_size: 50,
    hidden_size: 16,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    intermediate_size: 32,
    max_position_embeddings: 64,
    attention_type: attention,
    block_size: 4,
    num_random_blocks: 1,
    // Large weights make attention peaked, so which keys a query may see shows in its output.
    initializer_range: 0.5,
  });

function model(cfg: BigBirdConfig, semantics: 'hf' | 'tf'): BigBirdModel {
  return new BigBirdModel({
    config: cfg,
    weights: BigBirdWeights.fromArrays(cfg, 'pretraining', initialBigBirdValues(cfg, 'pretraining', 9)),
    semantics,
    warn: () => {},
  });
}

beforeAll(async () => {
  await useTestBackend();
});

describe("the model's TF semantics", () => {
  it('full attention at ≤ 512 tokens whatever attention_type says; HF runs block-sparse above its own threshold', () => {
    const cfg = config('block_sparse');
    const batch = { inputIds: Int32Array.from({ length: 64 }, (_, i) => 5 + (i % 40)), shape: [1, 64] as const };
    const tfModel = model(cfg, 'tf');
    const hfModel = model(cfg, 'hf');
    const a = tfModel.forward(batch, { hiddenStates: false, logits: false });
    const b = hfModel.forward(batch, { hiddenStates: false, logits: false });
    expect(a.attentionType).toBe('original_full');
    expect(b.attentionType).toBe('block_sparse');
    tf.dispose([a.lastHiddenState, a.poolerOutput!, a.seqRelationshipLogits!, b.lastHiddenState, b.poolerOutput!, b.seqRelationshipLogits!]);
    tfModel.dispose();
    hfModel.dispose();
  });

  it('masks padded queries too (from ⊗ to): real positions as HF, padded ones attend to every key', () => {
    const cfg = config('original_full');
    const seq = 12;
    const inputIds = Int32Array.from({ length: seq }, (_, i) => (i < 8 ? 5 + i : 0));
    const mask = Int32Array.from(inputIds, (id) => (id === 0 ? 0 : 1));
    const tfModel = model(cfg, 'tf');
    const hfModel = model(cfg, 'hf');
    const states = (m: BigBirdModel, attentionMask: Int32Array): Float32Array => {
      const out = m.forward({ inputIds, attentionMask, shape: [1, seq] }, { hiddenStates: false, logits: false });
      const values = out.lastHiddenState.dataSync() as Float32Array;
      tf.dispose([out.lastHiddenState, out.poolerOutput!, out.seqRelationshipLogits!]);
      return values;
    };
    const tfStates = states(tfModel, mask);
    const hfStates = states(hfModel, mask);
    const unmasked = states(hfModel, new Int32Array(seq).fill(1));
    const width = cfg.hidden_size;
    // Real positions: −10000 and finfo.min both give the masked keys an exact 0.
    expect(Array.from(tfStates.subarray(0, 8 * width))).toEqual(Array.from(hfStates.subarray(0, 8 * width)));
    // Padded positions: TF's equals attention over every key (up to the float32 cost of the −10000 shift); HF's does not.
    const worst = (x: Float32Array, y: Float32Array): number => Math.max(...Array.from(x.subarray(8 * width), (v, i) => Math.abs(v - y[8 * width + i])));
    expect(worst(tfStates, unmasked)).toBeLessThan(5e-3);
    expect(worst(hfStates, unmasked)).toBeGreaterThan(5e-2);
    tfModel.dispose();
    hfModel.dispose();
  });
});
