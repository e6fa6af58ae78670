import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bigBirdRandomPlan,
  blockSparseAttention,
  blockSparseKeySlots,
  blockSparseLayout,
  blockSparseScoreEntries,
  LAYOUT_CELL,
  LAYOUT_CELL_KINDS,
  type RandomPlan,
  type RandomPlanOptions,
  randomBlockAt,
} from '../../lib/model/index.js';
import { useTestBackend } from '../helpers/tf-backend.js';

const plan = (options: Partial<RandomPlanOptions> & Pick<RandomPlanOptions, 'sequenceLength' | 'blockSize'>): RandomPlan =>
  bigBirdRandomPlan({
    numRandomBlocks: 3,
    numHeads: 2,
    numLayers: 2,
    maxPositionEmbeddings: options.sequenceLength,
    mode: 'train',
    reference: 'tf',
    ...options,
  });

/**
 * How many times the model's block-sparse attention gathers each key block for each query block, read
 * from the model itself: with q = 0 every score is equal, so each query's context is the mean of the
 * values of its gathered keys; with v a one-hot of the key's block, that mean is visits / slots.
 */
function visitsFromModel(p: RandomPlan, layer: number, head: number, blockSize: number): number[][] {
  const nb = p.numBlocks;
  const seq = nb * blockSize;
  const heads = p.numHeads;
  return tf.tidy(() => {
    const q = tf.zeros([1, heads, seq, nb]) as tf.Tensor4D;
    const blockOf = tf.tensor1d(
      Array.from({ length: seq }, (_, t) => Math.floor(t / blockSize)),
      'int32',
    );
    const oneHot = tf.cast(tf.oneHot(blockOf, nb), 'float32');
    const v = tf.tile(tf.reshape(oneHot, [1, 1, seq, nb]), [1, heads, 1, 1]) as tf.Tensor4D;
    const mask = new Int32Array(seq).fill(1);
    const context = blockSparseAttention(q, v, v, mask, p.layers[layer], { blockSize, numRandomBlocks: p.numRandomBlocks });
    const values = context.dataSync();
    const rows: number[][] = [];
    for (let qb = 0; qb < nb; qb++) {
      // Any query of the block has the same context; its slots: nb for a global row, else from the key list.
      const at = (head * seq + qb * blockSize) * nb;
      const mean = Array.from(values.subarray(at, at + nb));
      const slots = qb === 0 || qb === nb - 1 ? nb : blockSparseKeySlots(nb, qb, new Array(p.numRandomBlocks).fill(0)).length;
      rows.push(mean.map((m) => Math.round(m * slots)));
    }
    return rows;
  });
}

describe('blockSparseLayout', () => {
  beforeAll(async () => {
    await useTestBackend();
  });

  const cases: { name: string; plan: RandomPlan; blockSize: number }[] = [
    { name: 'TF old plan at 1024 / 16 (64 blocks; random blocks may repeat the window)', plan: plan({ sequenceLength: 1024, blockSize: 16 }), blockSize: 16 },
    { name: 'HF segment plan at 512 / 16', plan: plan({ sequenceLength: 512, blockSize: 16, reference: 'hf' }), blockSize: 16 },
    {
      name: 'HF eval plan at 256 / 16 (every random slot is block 0)',
      plan: plan({ sequenceLength: 256, blockSize: 16, reference: 'hf', mode: 'eval' }),
      blockSize: 16,
    },
    { name: '8 blocks, r = 1', plan: plan({ sequenceLength: 64, blockSize: 8, numRandomBlocks: 1, reference: 'hf' }), blockSize: 8 },
  ];

  for (const { name, plan: p, blockSize } of cases) {
    it(`counts the key blocks the model gathers: ${name}`, () => {
      for (const [layer, head] of [
        [0, 0],
        [1, 1],
      ]) {
        const layout = blockSparseLayout(p, layer, head);
        expect(layout.visits).toEqual(visitsFromModel(p, layer, head, blockSize));
      }
    });
  }

  it('names each cell by its role: global rows and columns, the window of three, the plan’s random blocks', () => {
    for (const { plan: p } of cases) {
      const nb = p.numBlocks;
      for (let head = 0; head < p.numHeads; head++) {
        const layout = blockSparseLayout(p, 1, head);
        for (let qb = 0; qb < nb; qb++) {
          const random = qb === 0 || qb === nb - 1 ? [] : Array.from({ length: p.numRandomBlocks }, (_, k) => randomBlockAt(p, 1, head, qb - 1, k));
          for (let kb = 0; kb < nb; kb++) {
            const expected =
              qb === 0 || qb === nb - 1 || kb === 0 || kb === nb - 1 ? 'global' : Math.abs(qb - kb) <= 1 ? 'window' : random.includes(kb) ? 'random' : 'none';
            expect(LAYOUT_CELL_KINDS[layout.cells[qb][kb]], `query block ${qb}, key block ${kb}`).toBe(expected);
            expect(layout.cells[qb][kb] === LAYOUT_CELL.none, `visits of ${qb}, ${kb}`).toBe(layout.visits[qb][kb] === 0);
          }
        }
        const total = Object.values(layout.counts).reduce((a, b) => a + b, 0);
        expect(total).toBe(nb * nb);
        expect(layout.coveredFraction).toBeCloseTo((nb * nb - layout.counts.none) / (nb * nb), 12);
      }
    }
  });

  it('reports duplicates: the HF eval plan points every random slot at block 0', () => {
    const p = cases[2].plan;
    const layout = blockSparseLayout(p, 0, 0);
    expect(layout.counts.random).toBe(0);
    expect(layout.duplicateSlots).toBe((p.numBlocks - 2) * p.numRandomBlocks);
    expect(layout.visits[5][0]).toBe(1 + p.numRandomBlocks);
  });

  it('computes as many scores as blockSparseScoreEntries says, a share that falls as the sequence grows', () => {
    let previous = Number.POSITIVE_INFINITY;
    for (const seq of [448, 896, 1792, 3584]) {
      const p = plan({ sequenceLength: seq, blockSize: 32, reference: 'hf' });
      const layout = blockSparseLayout(p, 0, 1);
      const slots = layout.visits.flat().reduce((a, b) => a + b, 0);
      expect(slots * 32 * 32).toBe(blockSparseScoreEntries(seq, 32, 3));
      expect(layout.computedFraction).toBeCloseTo(blockSparseScoreEntries(seq, 32, 3) / (seq * seq), 12);
      expect(layout.computedFraction).toBeLessThan(previous);
      previous = layout.computedFraction;
    }
  });

  it('refuses geometries block-sparse attention refuses', () => {
    expect(() => blockSparseKeySlots(4, 1, [])).toThrow(RangeError);
    expect(() => blockSparseKeySlots(8, 8, [])).toThrow(RangeError);
    expect(() => blockSparseScoreEntries(100, 16, 3)).toThrow(RangeError);
    expect(() => blockSparseScoreEntries(64, 16, 3)).toThrow(RangeError);
  });
});
