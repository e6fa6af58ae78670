import * as tf from '@tensorflow/tfjs-core';
import { peakDataBytes } from '../autodiff/memory-meter.js';
import { type AttentionInputs, blockSparseAttention, fullAttention } from './attention.js';
import { blockSparseScoreEntries } from './attention-layout.js';
import type { AttentionType } from './bigbird-config.js';
import { bigBirdRandomPlan } from './random-plans.js';

/** The attention cores to time, and at which sizes (see `measureAttentionCost`). */
export interface AttentionCostOptions {
  /** Sequence lengths, each a multiple of `blockSize` with at least 5 blocks. */
  readonly lengths: readonly number[];
  readonly blockSize: number;
  readonly numRandomBlocks: number;
  readonly numHeads: number;
  readonly headSize: number;
  /** Default 1. */
  readonly batchSize?: number;
  /** Timed passes per length and attention; the fastest counts (default 1). One untimed warm-up pass comes first. */
  readonly repeats?: number;
  /** Seed of the random q, k and v (default 0). */
  readonly seed?: number;
  /** Called after each measurement, e.g. for a progress bar. */
  readonly onMeasured?: (cost: AttentionCost) => void;
}

/** One attention core at one length. */
export interface AttentionCost {
  readonly length: number;
  readonly attention: AttentionType;
  /** Wall time of one forward pass, read back to the host. */
  readonly milliseconds: number;
  /** The most tensor data the pass added at any moment (`peakDataBytes`): scores, probabilities, gathered blocks. */
  readonly peakBytes: number;
  /** Attention scores computed, all heads and examples: B·H·S² for full attention, B·H·`blockSparseScoreEntries` for block-sparse. */
  readonly scoreEntries: number;
}

/**
 * Times the model's own attention cores, `fullAttention` and `blockSparseAttention` (attention.ts), on
 * random q, k, v at each length, with no mask and HF's training random plan: one forward pass each on the
 * active backend after a warm-up, with its peak tensor memory. Only the attention core (q, k, v →
 * context) is measured: the projections and the feed-forward layers cost the same in both.
 */
export function measureAttentionCost(options: AttentionCostOptions): AttentionCost[] {
  const { blockSize, numRandomBlocks, numHeads, headSize } = options;
  const batch = options.batchSize ?? 1;
  const repeats = options.repeats ?? 1;
  if (!Number.isInteger(repeats) || repeats < 1) throw new RangeError(`measureAttentionCost: repeats must be a positive integer, got ${repeats}`);
  const costs: AttentionCost[] = [];
  for (const length of options.lengths) {
    // Also checks that the length is a whole number of at least 5 blocks.
    const sparseEntries = blockSparseScoreEntries(length, blockSize, numRandomBlocks);
    const plan = bigBirdRandomPlan({
      sequenceLength: length,
      blockSize,
      numRandomBlocks,
      numHeads,
      numLayers: 1,
      maxPositionEmbeddings: length,
      mode: 'train',
      reference: 'hf',
    }).layers[0];
    const mask = new Int32Array(batch * length).fill(1);
    const inputs: AttentionInputs = { batchSize: batch, seqLength: length, mask, probsDropout: 0 };
    const seed = (options.seed ?? 0) + length;
    const [q, k, v] = [0, 1, 2].map((i) => tf.randomNormal([batch, numHeads, length, headSize], 0, 1, 'float32', seed + i) as tf.Tensor4D);
    const cores: Record<AttentionType, () => tf.Tensor> = {
      block_sparse: () => blockSparseAttention(q, k, v, mask, plan, { blockSize, numRandomBlocks }),
      original_full: () => fullAttention(q, k, v, inputs),
    };
    try {
      for (const attention of ['block_sparse', 'original_full'] as const) {
        const pass = (): void => {
          const context = tf.tidy(cores[attention]);
          // Reading the result back waits for the backend to finish.
          context.dataSync();
          context.dispose();
        };
        pass();
        let milliseconds = Number.POSITIVE_INFINITY;
        let peakBytes = 0;
        for (let i = 0; i < repeats; i++) {
          const started = performance.now();
          const { peakOverStartBytes } = peakDataBytes(pass);
          milliseconds = Math.min(milliseconds, performance.now() - started);
          peakBytes = Math.max(peakBytes, peakOverStartBytes);
        }
        const cost: AttentionCost = {
          length,
          attention,
          milliseconds,
          peakBytes,
          scoreEntries: batch * numHeads * (attention === 'block_sparse' ? sparseEntries : length * length),
        };
        costs.push(cost);
        options.onMeasured?.(cost);
      }
    } finally {
      tf.dispose([q, k, v]);
    }
  }
  return costs;
}
