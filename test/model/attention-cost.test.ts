import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AttentionCost, blockSparseScoreEntries, measureAttentionCost } from '../../lib/model/index.js';
import { useTestBackend } from '../helpers/tf-backend.js';

describe('measureAttentionCost', () => {
  beforeAll(async () => {
    await useTestBackend();
  });

  it('times both attention cores at each length, with the memory full attention’s S × S scores need', () => {
    const lengths = [320, 1280];
    const heads = 2;
    const seen: AttentionCost[] = [];
    const before = tf.memory().numTensors;
    const costs = measureAttentionCost({ lengths, blockSize: 32, numRandomBlocks: 2, numHeads: heads, headSize: 8, onMeasured: (c) => seen.push(c) });
    // Nothing is left behind: q, k, v and every context are disposed.
    expect(tf.memory().numTensors).toBe(before);
    expect(seen).toEqual(costs);
    expect(costs.map((c) => [c.length, c.attention])).toEqual(
      lengths.flatMap((length) => [
        [length, 'block_sparse'],
        [length, 'original_full'],
      ]),
    );
    for (const cost of costs) {
      expect(cost.milliseconds).toBeGreaterThan(0);
      expect(Number.isFinite(cost.milliseconds)).toBe(true);
      const scores = cost.attention === 'original_full' ? heads * cost.length * cost.length : heads * blockSparseScoreEntries(cost.length, 32, 2);
      expect(cost.scoreEntries).toBe(scores);
      // Full attention holds its float32 S × S scores at once; both hold the context [H, S, 8].
      expect(cost.peakBytes).toBeGreaterThanOrEqual(4 * (cost.attention === 'original_full' ? scores : heads * cost.length * 8));
    }
    const at = (length: number, attention: string): AttentionCost => costs.find((c) => c.length === length && c.attention === attention)!;
    // Full attention's memory grows with S², block-sparse's with S: at 1280 tokens (40 blocks) full needs several times more.
    expect(at(1280, 'original_full').peakBytes).toBeGreaterThan(3 * at(1280, 'block_sparse').peakBytes);
    expect(at(1280, 'original_full').peakBytes / at(320, 'original_full').peakBytes).toBeGreaterThan(10);
    expect(at(1280, 'block_sparse').peakBytes / at(320, 'block_sparse').peakBytes).toBeLessThan(8);
  });

  it('refuses lengths block-sparse attention cannot run', () => {
    expect(() => measureAttentionCost({ lengths: [100], blockSize: 32, numRandomBlocks: 2, numHeads: 1, headSize: 8 })).toThrow(RangeError);
    expect(() => measureAttentionCost({ lengths: [256], blockSize: 32, numRandomBlocks: 2, numHeads: 1, headSize: 8, repeats: 0 })).toThrow(RangeError);
  });
});
