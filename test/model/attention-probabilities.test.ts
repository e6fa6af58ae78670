import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { hfConfigFromJson } from '../../lib/model/config-files.js';
import {
  type AttentionInputs,
  type BigBirdConfig,
  BigBirdModel,
  type BigBirdSemantics,
  BigBirdWeights,
  bigBirdRandomPlan,
  blockAttentionMass,
  blockSparseAttention,
  blockSparseAttentionProbabilities,
  blockSparseLayout,
  fullAttention,
  fullAttentionProbabilities,
  initialBigBirdValues,
  LAYOUT_CELL,
  layerAttentionProbabilities,
  type RandomPlan,
  selfAttention,
} from '../../lib/model/index.js';
import { useTestBackend } from '../helpers/tf-backend.js';

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

/** [B, S] mask: example b has `real[b]` real tokens, then padding. */
function maskOf(seq: number, real: readonly number[]): Int32Array {
  const mask = new Int32Array(real.length * seq);
  real.forEach((n, b) => {
    mask.fill(1, b * seq, b * seq + n);
  });
  return mask;
}

/** The largest distance of a row sum from 1, over all rows. */
const rowSumError = (probabilities: tf.Tensor4D): number => tf.tidy(() => tf.max(tf.abs(tf.sub(tf.sum(probabilities, -1), 1))).dataSync()[0]);

describe('attention probabilities', () => {
  beforeAll(async () => {
    await useTestBackend();
  });

  const SEQ = 256;
  const BS = 16;
  const HEADS = 2;
  const R = 2;
  const plans: [string, RandomPlan][] = [
    [
      'HF training plan',
      bigBirdRandomPlan({
        sequenceLength: SEQ,
        blockSize: BS,
        numRandomBlocks: R,
        numHeads: HEADS,
        numLayers: 1,
        maxPositionEmbeddings: SEQ,
        mode: 'train',
        reference: 'hf',
      }),
    ],
    [
      'HF eval plan (duplicates of block 0)',
      bigBirdRandomPlan({
        sequenceLength: SEQ,
        blockSize: BS,
        numRandomBlocks: R,
        numHeads: HEADS,
        numLayers: 1,
        maxPositionEmbeddings: SEQ,
        mode: 'eval',
        reference: 'hf',
      }),
    ],
  ];

  for (const [name, plan] of plans) {
    it(`block-sparse: rows sum to 1, nothing off the layout, and probabilities · v is the model's attention (${name})`, () => {
      const mask = maskOf(SEQ, [SEQ, 150]);
      const [q, k, v] = [1, 2, 3].map((seed) => tf.randomNormal([2, HEADS, SEQ, 8], 0, 1.5, 'float32', seed) as tf.Tensor4D);
      const probabilities = blockSparseAttentionProbabilities(q, k, mask, plan.layers[0], { blockSize: BS, numRandomBlocks: R });
      expect(probabilities.shape).toEqual([2, HEADS, SEQ, SEQ]);
      expect(rowSumError(probabilities)).toBeLessThan(1e-5);

      const expected = blockSparseAttention(q, k, v, mask, plan.layers[0], { blockSize: BS, numRandomBlocks: R });
      const fromMask = tf.tensor4d(Float32Array.from(mask), [2, 1, SEQ, 1]);
      const reproduced = tf.mul(tf.matMul(probabilities, v), fromMask);
      expect(maxAbsDiff(reproduced, expected)).toBeLessThan(1e-4);
      // Not trivially so: the context is far from zero and differs between queries.
      expect(tf.tidy(() => tf.moments(expected).variance.dataSync()[0])).toBeGreaterThan(0.01);

      for (let head = 0; head < HEADS; head++) {
        const layout = blockSparseLayout(plan, 0, head);
        const mass = blockAttentionMass(probabilities, { head, blockSize: BS, batchIndex: 1, mask });
        mass.forEach((row, qb) => {
          // Example 1 has 150 real tokens: query blocks 10..15 are all padding.
          if (qb * BS >= 150) expect(row.every((m) => m === null)).toBe(true);
          else {
            expect(Math.abs((row as number[]).reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
            row.forEach((m, kb) => {
              if (layout.cells[qb][kb] === LAYOUT_CELL.none || kb * BS >= 150) expect(m, `${qb}, ${kb}`).toBe(0);
            });
          }
        });
      }
      tf.dispose([q, k, v, probabilities, expected, fromMask, reproduced]);
    });
  }

  it("block-sparse: a pad query keeps HF's masks, key-only on global and edge-row slots, query and key on the band and random slots", () => {
    const plan = plans[0][1];
    // Query blocks 1 and 5 are padding; every other token is real.
    const mask = new Int32Array(SEQ).fill(1);
    mask.fill(0, BS, 2 * BS);
    mask.fill(0, 5 * BS, 6 * BS);
    const [q, k] = [7, 8].map((seed) => tf.randomNormal([1, HEADS, SEQ, 8], 0, 1, 'float32', seed) as tf.Tensor4D);
    const probabilities = blockSparseAttentionProbabilities(q, k, mask, plan.layers[0], { blockSize: BS, numRandomBlocks: R });
    for (let head = 0; head < HEADS; head++) {
      const layout = blockSparseLayout(plan, 0, head);
      const mass = blockAttentionMass(probabilities, { head, blockSize: BS });
      const randomOnly = (qb: number): number[] => layout.cells[qb].flatMap((code, kb) => (code === LAYOUT_CELL.random && mask[kb * BS] === 1 ? [kb] : []));
      // Query block 1 (edge row): its fixed blocks 0, 2 and nb-1 are masked by key only, its random blocks by query too.
      expect(mass[1][0]! + mass[1][2]! + mass[1][SEQ / BS - 1]!).toBeGreaterThan(0.999);
      expect(mass[1][2]).toBeGreaterThan(0.01);
      for (const kb of randomOnly(1)) expect(mass[1][kb]).toBeLessThan(1e-6);
      // Query block 5 (middle band): only the global blocks 0 and nb-1 are left.
      expect(mass[5][0]! + mass[5][SEQ / BS - 1]!).toBeGreaterThan(0.999);
      expect(mass[5][4]! + mass[5][6]!).toBeLessThan(1e-6);
    }
    tf.dispose([q, k, probabilities]);
  });

  for (const maskQueries of [false, true]) {
    it(`full attention: probabilities · v is fullAttention's output (${maskQueries ? "TF's query ⊗ key mask" : "HF's key mask"})`, () => {
      const mask = maskOf(40, [40, 23]);
      const inputs: AttentionInputs = { batchSize: 2, seqLength: 40, mask, probsDropout: 0, maskQueries };
      const [q, k, v] = [4, 5, 6].map((seed) => tf.randomNormal([2, 3, 40, 8], 0, 1.5, 'float32', seed) as tf.Tensor4D);
      const probabilities = fullAttentionProbabilities(q, k, inputs);
      expect(rowSumError(probabilities)).toBeLessThan(1e-5);
      const expected = fullAttention(q, k, v, inputs);
      const reproduced = tf.matMul(probabilities, v);
      expect(maxAbsDiff(reproduced, expected)).toBeLessThan(1e-4);
      tf.dispose([q, k, v, probabilities, expected, reproduced]);
    });
  }
});

describe('layerAttentionProbabilities', () => {
  beforeAll(async () => {
    await useTestBackend();
  });

  const config: BigBirdConfig = hfConfigFromJson({
    model_type: 'big_bird',
    vocab_size: 120,
    hidden_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    intermediate_size: 64,
    max_position_embeddings: 256,
    block_size: 16,
    num_random_blocks: 2,
    attention_type: 'block_sparse',
    // A wide initialisation, so that attention is far from uniform and a wrong projection shows.
    initializer_range: 0.5,
  });
  const inputIds = (seq: number, real: readonly number[]): Int32Array => {
    const ids = new Int32Array(real.length * seq);
    real.forEach((n, b) => {
      for (let s = 0; s < n; s++) ids[b * seq + s] = 5 + ((s * 37 + b * 11) % 110);
    });
    return ids;
  };

  const cases: { name: string; semantics: BigBirdSemantics; seq: number; expected: string }[] = [
    { name: 'block-sparse, 250 tokens padded to 256 (HF)', semantics: 'hf', seq: 250, expected: 'block_sparse' },
    { name: 'full attention at 100 tokens (TF: query ⊗ key mask)', semantics: 'tf', seq: 100, expected: 'original_full' },
  ];
  for (const { name, semantics, seq, expected } of cases) {
    it(`reproduces the layer's attention output from the probabilities: ${name}`, () => {
      const weights = BigBirdWeights.fromArrays(config, 'masked-lm', initialBigBirdValues(config, 'masked-lm', 7));
      const model = new BigBirdModel({ config, weights, mode: 'train', semantics, hiddenDropout: 0, attentionDropout: 0 });
      const real = [seq, seq - 70];
      const batch = { inputIds: inputIds(seq, real), attentionMask: maskOf(seq, real), shape: [2, seq] as const };
      for (const layer of [0, 1]) {
        const result = layerAttentionProbabilities(model, batch, layer);
        expect(result.attentionType).toBe(expected);
        const padded = result.seqLength;
        expect(padded % (expected === 'block_sparse' ? 16 : 1)).toBe(0);
        expect(Array.from(result.mask.subarray(padded, padded + seq))).toEqual(Array.from(batch.attentionMask.subarray(seq, 2 * seq)));
        expect(rowSumError(result.probabilities)).toBeLessThan(1e-5);

        // The same layer, run by the model's own selfAttention on the same hidden state.
        const out = model.forward(batch, { logits: false });
        const x = out.hiddenStates![layer];
        const inputs: AttentionInputs = { batchSize: 2, seqLength: padded, mask: result.mask, probsDropout: 0, maskQueries: semantics === 'tf' };
        const context = selfAttention(x, weights, config, layer, result.attentionType, inputs, result.randomPlan?.layers[layer]);
        const prefix = `bert/encoder/layer_${layer}/attention/self`;
        const reproduced = tf.tidy(() => {
          const v = tf.transpose(
            tf.reshape(tf.add(tf.matMul(tf.reshape(x, [-1, 32]), weights.get(`${prefix}/value/kernel`)), weights.get(`${prefix}/value/bias`)), [
              2,
              padded,
              2,
              16,
            ]),
            [0, 2, 1, 3],
          );
          let c = tf.matMul(result.probabilities, v);
          if (result.attentionType === 'block_sparse') c = tf.mul(c, tf.tensor4d(Float32Array.from(result.mask), [2, 1, padded, 1]));
          return tf.reshape(tf.transpose(c, [0, 2, 1, 3]), [2, padded, 32]);
        });
        expect(maxAbsDiff(reproduced, context)).toBeLessThan(1e-4);
        // Far from uniform: some query puts more than half its weight on one key.
        expect(tf.tidy(() => tf.max(result.probabilities).dataSync()[0])).toBeGreaterThan(0.5);
        tf.dispose([result.probabilities, context, reproduced, out.lastHiddenState, ...out.hiddenStates!]);
      }
      model.dispose();
    });
  }

  it('refuses a layer the model does not have', () => {
    const weights = BigBirdWeights.fromArrays(config, 'masked-lm', initialBigBirdValues(config, 'masked-lm', 1));
    const model = new BigBirdModel({ config, weights });
    expect(() => layerAttentionProbabilities(model, { inputIds: new Int32Array(200).fill(5), shape: [1, 200] }, 2)).toThrow(RangeError);
    model.dispose();
  });
});
