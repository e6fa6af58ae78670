import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { peakDataBytes } from '../../lib/autodiff/index.js';
import { type BigBirdConfig, BigBirdModel, BigBirdWeights, bigBirdModelVariables, hfConfigFromJson, initialBigBirdValues } from '../../lib/model/index.js';
import { elementCount } from '../../lib/tensor/index.js';
import { AdamW, estimateTrainingMemory, type TrainingShape } from '../../lib/train/index.js';
import { useTestBackend } from '../helpers/tf-backend.js';

/**
 * `kbb train` refuses up front what will not fit, from `estimateTrainingMemory`. The estimate must be
 * an upper bound of a real training step's peak of tensor data (weights, then the step: moments,
 * gradients, activations), and not so loose that it refuses what fits.
 */

beforeAll(async () => {
  await useTestBackend();
});

function measuredPeak(config: BigBirdConfig, shape: TrainingShape): number {
  const weights = BigBirdWeights.fromArrays(config, 'pretraining', initialBigBirdValues(config, 'pretraining', 1));
  const model = new BigBirdModel({ config, weights, mode: 'train', semantics: 'tf' });
  const optimizer = new AdamW(weights.variables, { flavour: 'bert', learningRate: 1e-3 });
  const { batchSize: b, seqLength: s, predictions: p } = shape;
  const batch = {
    inputIds: Int32Array.from({ length: b * s }, (_, i) => 5 + (i % (config.vocab_size - 5))),
    shape: [b, s] as const,
    maskedLm: {
      positions: Int32Array.from({ length: b * p }, (_, i) => (i * 7) % s),
      ids: Int32Array.from({ length: b * p }, (_, i) => 5 + i),
      weights: new Float32Array(b * p).fill(1),
      perExample: p,
    },
    dropoutSeed: 1,
  };
  const resting = bigBirdModelVariables(config, 'pretraining').reduce((n, v) => n + elementCount(v.shape), 0) * 4;
  const { peakOverStartBytes } = peakDataBytes(() => {
    const { loss, grads } = model.lossAndGrads(batch);
    optimizer.applyGradients(grads);
    loss.dispose();
    tf.dispose([...grads.values()]);
  });
  optimizer.dispose();
  model.dispose();
  return resting + peakOverStartBytes;
}

const config = (more: Record<string, unknown>): BigBirdConfig =>
  hfConfigFromJson({
    model_type: 'big_bird',
    vocab_size: 3000,
    hidden_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 128,
    max_position_embeddings: 1024,
    block_size: 16,
    num_random_blocks: 3,
    ...more,
  });

describe('estimateTrainingMemory', () => {
  const cases: [string, BigBirdConfig, TrainingShape][] = [
    ['full attention, 128 tokens, batch 8', config({}), { batchSize: 8, seqLength: 128, predictions: 20, attention: 'original_full' }],
    ['block-sparse, 1024 tokens, batch 2', config({}), { batchSize: 2, seqLength: 1024, predictions: 160, attention: 'block_sparse' }],
    [
      'block-sparse, a wide vocabulary head, 512 slots',
      config({ vocab_size: 20000, num_hidden_layers: 1 }),
      { batchSize: 1, seqLength: 1024, predictions: 512, attention: 'block_sparse' },
    ],
  ];
  for (const [name, cfg, shape] of cases) {
    it(`bounds a measured training step from above, within 3×: ${name}`, () => {
      const measured = measuredPeak(cfg, shape);
      const { total } = estimateTrainingMemory(cfg, shape);
      expect(total, `estimate ${(total / 2 ** 20).toFixed(1)} MiB, measured ${(measured / 2 ** 20).toFixed(1)} MiB`).toBeGreaterThanOrEqual(measured);
      expect(total).toBeLessThan(3 * measured);
    }, 120_000);
  }

  it("puts KoBigBird's base model at 4096 tokens far beyond wasm's heap, and 2 base-width layers within it", () => {
    const base = config({
      vocab_size: 32500,
      hidden_size: 768,
      num_hidden_layers: 12,
      num_attention_heads: 12,
      intermediate_size: 3072,
      max_position_embeddings: 4096,
      block_size: 64,
    });
    const shape: TrainingShape = { batchSize: 1, seqLength: 4096, predictions: 640, attention: 'block_sparse' };
    expect(estimateTrainingMemory(base, shape).total).toBeGreaterThan(4 * 2 ** 30);
    const twoLayers = { ...base, num_hidden_layers: 2 };
    expect(estimateTrainingMemory(twoLayers, shape).total).toBeLessThan((4 * 2 ** 30) / 1.45);
  });
});
