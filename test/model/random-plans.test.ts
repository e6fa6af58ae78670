import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bigBirdRandomPlan, type RandomPlan, type RandomPlanOptions, randomAttentionSegments, randomBlockAt } from '../../lib/model/index.js';
import { NumpyLegacyRandom } from '../../lib/random/index.js';
import { fixture, GOLDEN_BIGBIRD_CASES, hasFixtures } from '../helpers/fixtures.js';
import { readNpy } from '../helpers/npy.js';
import { hasPythonNumpy, runPython, SKIP_NO_PYTHON } from '../helpers/python.js';

const KOBIGBIRD: Omit<RandomPlanOptions, 'sequenceLength' | 'mode' | 'reference'> = {
  blockSize: 64,
  numRandomBlocks: 3,
  numHeads: 12,
  numLayers: 12,
  maxPositionEmbeddings: 4096,
};

/** The plan as one flat [layers][heads][rows][r] array, the layout of rand_attn.npy. */
const stacked = (plan: RandomPlan): number[] => plan.layers.flatMap((layer) => Array.from(layer));

/** Indices where two equal-length arrays differ (at most a few), so a failure names the slots. */
function firstDifferences(actual: readonly number[], expected: ArrayLike<number>): string[] {
  const out: string[] = [];
  for (let i = 0; i < expected.length && out.length < 5; i++) if (actual[i] !== expected[i]) out.push(`[${i}] ${actual[i]} != ${expected[i]}`);
  return out;
}

/**
 * What every plan must satisfy whatever the draws: ids are key blocks; within a row they are distinct; they avoid
 * block 0 (global) and the query block's own window. `avoidsLastBlock` adds the last global block, which the
 * old plan at 1024 does not avoid (its window exclusion is computed for 4096 and then truncated).
 */
function expectStructurallyValid(plan: RandomPlan, options: { readonly maxBlock: number; readonly avoidsLastBlock: boolean }): void {
  const violations: string[] = [];
  for (let layer = 0; layer < plan.numLayers; layer++) {
    for (let head = 0; head < plan.numHeads; head++) {
      for (let row = 0; row < plan.numRows; row++) {
        const queryBlock = row + 1;
        const blocks = Array.from({ length: plan.numRandomBlocks }, (_, k) => randomBlockAt(plan, layer, head, row, k));
        const broken =
          new Set(blocks).size !== blocks.length ||
          blocks.some(
            (block) => block < 1 || block > options.maxBlock || Math.abs(block - queryBlock) <= 1 || (options.avoidsLastBlock && block === plan.numBlocks - 1),
          );
        if (broken) violations.push(`layer ${layer} head ${head} query block ${queryBlock}: [${blocks.join(', ')}]`);
      }
    }
  }
  expect(violations.slice(0, 5)).toEqual([]);
}

describe('NumpyLegacyRandom, without fixtures', () => {
  it('interval(max) stays in 0..max and reaches both ends', () => {
    const rng = new NumpyLegacyRandom(3);
    for (const max of [1, 2, 5, 8, 13, 64]) {
      const seen = new Set<number>();
      for (let i = 0; i < 400; i++) {
        const v = rng.interval(max);
        expect(v >= 0 && v <= max).toBe(true);
        seen.add(v);
      }
      expect(seen.size).toBe(max + 1);
    }
    expect(rng.interval(0)).toBe(0);
  });

  it('permutation keeps the multiset, does not touch its input, and permutation(n) permutes arange(n)', () => {
    const source = Int32Array.from([5, 6, 7, 8, 9, 10, 11]);
    const permuted = new NumpyLegacyRandom(11).permutation(source);
    expect(Array.from(source)).toEqual([5, 6, 7, 8, 9, 10, 11]);
    expect(Array.from(permuted).sort((a, b) => a - b)).toEqual([5, 6, 7, 8, 9, 10, 11]);
    expect(Array.from(new NumpyLegacyRandom(11).permutation(7)).map((i) => source[i])).toEqual(Array.from(permuted));
  });

  it('rejects seeds numpy rejects', () => {
    expect(() => new NumpyLegacyRandom(-1)).toThrow(RangeError);
    expect(() => new NumpyLegacyRandom(2 ** 32)).toThrow(RangeError);
    expect(() => new NumpyLegacyRandom(1.5)).toThrow(RangeError);
  });
});

describe.skipIf(!hasPythonNumpy)('NumpyLegacyRandom against numpy.random.RandomState (python3)', () => {
  it('raw draws, shuffles and permutations for several seeds and lengths, including ones that refill the state', () => {
    const seeds = [0, 1, 2, 11, 12345, 4294967295];
    const lengths = [0, 1, 2, 3, 13, 15, 62, 1000, 5000];
    const script = `
import json, sys
import numpy as np
seeds, lengths = json.loads(sys.stdin.read())
out = {}
for s in seeds:
    rs = np.random.RandomState(s)
    # A full-range uint32 randint is the raw generator output in the legacy stream.
    raw = rs.randint(0, 2**32, size=8, dtype=np.uint32).tolist()
    rs = np.random.RandomState(s)
    perms = [rs.permutation(np.arange(3, 3 + n, dtype=np.int32)).tolist() for n in lengths]
    ints = [rs.permutation(n).tolist() for n in (4, 9)]
    out[str(s)] = {"raw": raw, "perms": perms, "ints": ints}
print(json.dumps(out))
`;
    const expected = JSON.parse(runPython(['-c', script], new TextEncoder().encode(JSON.stringify([seeds, lengths])))) as Record<
      string,
      { raw: number[]; perms: number[][]; ints: number[][] }
    >;
    for (const seed of seeds) {
      const fresh = new NumpyLegacyRandom(seed);
      expect(
        Array.from({ length: 8 }, () => fresh.uint32()),
        `seed ${seed}`,
      ).toEqual(expected[String(seed)].raw);
      const rng = new NumpyLegacyRandom(seed);
      const perms = lengths.map((n) => Array.from(rng.permutation(Int32Array.from({ length: n }, (_, i) => 3 + i))));
      const ints = [4, 9].map((n) => Array.from(rng.permutation(n)));
      expect(perms, `seed ${seed}`).toEqual(expected[String(seed)].perms);
      expect(ints, `seed ${seed}`).toEqual(expected[String(seed)].ints);
    }
  });
});

describe('bigBirdRandomPlan, without fixtures', () => {
  it('the segment plan (HF train, seq 2048) and the old plan (TF/HF train, seq 4096) are structurally valid', () => {
    const hf2048 = bigBirdRandomPlan({ ...KOBIGBIRD, sequenceLength: 2048, mode: 'train', reference: 'hf' });
    expect(hf2048.kind).toBe('segment-plan');
    // _get_rand_attn_plan: the first 2r+5 = 11 blocks carry all random blocks, so candidates stop at block 9.
    expect(randomAttentionSegments(2048, 64, 3)).toEqual({ ends: [704, 2048], counts: [3, 0] });
    expectStructurallyValid(hf2048, { maxBlock: 9, avoidsLastBlock: true });

    const tf4096 = bigBirdRandomPlan({ ...KOBIGBIRD, sequenceLength: 4096, mode: 'eval', reference: 'tf' });
    expect(tf4096.kind).toBe('old-paper-plan');
    expectStructurallyValid(tf4096, { maxBlock: 15, avoidsLastBlock: true });

    const tiny = bigBirdRandomPlan({
      sequenceLength: 64,
      blockSize: 4,
      numRandomBlocks: 2,
      numHeads: 2,
      numLayers: 2,
      maxPositionEmbeddings: 256,
      mode: 'train',
      reference: 'hf',
    });
    expect(tiny.kind).toBe('segment-plan');
    expectStructurallyValid(tiny, { maxBlock: 7, avoidsLastBlock: true });
  });

  it('at 2048 TF uses the old plan and HF the segment plan; at 1024 both use the old plan', () => {
    const tf2048 = bigBirdRandomPlan({ ...KOBIGBIRD, sequenceLength: 2048, mode: 'train', reference: 'tf' });
    expect(tf2048.kind).toBe('old-paper-plan');
    expectStructurallyValid(tf2048, { maxBlock: 15, avoidsLastBlock: true });
    const hf1024 = bigBirdRandomPlan({ ...KOBIGBIRD, sequenceLength: 1024, mode: 'train', reference: 'hf' });
    const tf1024 = bigBirdRandomPlan({ ...KOBIGBIRD, sequenceLength: 1024, mode: 'train', reference: 'tf' });
    expect(hf1024.kind).toBe('old-paper-plan');
    expect(stacked(hf1024)).toEqual(stacked(tf1024));
    expectStructurallyValid(hf1024, { maxBlock: 15, avoidsLastBlock: false });
    // The old plan is drawn at full length and truncated: its leading rows equal the 4096 plan's.
    const hf4096 = bigBirdRandomPlan({ ...KOBIGBIRD, sequenceLength: 4096, mode: 'train', reference: 'hf' });
    expect(Array.from(hf1024.layers[5].subarray(0, 14 * 3))).toEqual(Array.from(hf4096.layers[5].subarray(0, 14 * 3)));
  });

  it('is the same on every call: each layer reseeds with its index', () => {
    const options: RandomPlanOptions = {
      sequenceLength: 128,
      blockSize: 8,
      numRandomBlocks: 2,
      numHeads: 3,
      numLayers: 4,
      maxPositionEmbeddings: 512,
      mode: 'train',
      reference: 'hf',
    };
    expect(stacked(bigBirdRandomPlan(options))).toEqual(stacked(bigBirdRandomPlan(options)));
    const layers = bigBirdRandomPlan(options).layers;
    expect(Array.from(layers[0])).not.toEqual(Array.from(layers[1]));
  });

  it('HF eval mode is all zeros; TF ignores the mode', () => {
    const zero = bigBirdRandomPlan({ ...KOBIGBIRD, sequenceLength: 2048, mode: 'eval', reference: 'hf' });
    expect(zero.kind).toBe('eval-zero');
    expect(zero.layers.length).toBe(12);
    expect(zero.layers.every((layer) => layer.length === 12 * 30 * 3 && layer.every((b) => b === 0))).toBe(true);
    const tfTrain = bigBirdRandomPlan({ ...KOBIGBIRD, sequenceLength: 4096, mode: 'train', reference: 'tf' });
    const tfEval = bigBirdRandomPlan({ ...KOBIGBIRD, sequenceLength: 4096, mode: 'eval', reference: 'tf' });
    expect(stacked(tfEval)).toEqual(stacked(tfTrain));
  });

  it('an explicit plan is copied after its shape and block range are checked', () => {
    const geometry = {
      sequenceLength: 32,
      blockSize: 4,
      numRandomBlocks: 2,
      numHeads: 1,
      numLayers: 2,
      maxPositionEmbeddings: 64,
      mode: 'train',
      reference: 'hf',
    } as const;
    const layer = Array.from({ length: 6 * 2 }, (_, i) => i % 8);
    const plan = bigBirdRandomPlan({ ...geometry, explicitLayers: [layer, layer.slice().reverse()] });
    expect(plan.kind).toBe('explicit');
    expect(randomBlockAt(plan, 1, 0, 0, 0)).toBe(layer[layer.length - 1]);
    expect(() => bigBirdRandomPlan({ ...geometry, explicitLayers: [layer] })).toThrow(/2 layers|1 layers/);
    expect(() => bigBirdRandomPlan({ ...geometry, explicitLayers: [layer, layer.slice(1)] })).toThrow(/expected \[1\]\[6\]\[2\]/);
    expect(() => bigBirdRandomPlan({ ...geometry, explicitLayers: [layer, [...layer.slice(1), 8]] })).toThrow(/\[1\]\[0\]\[5\]\[1\] = 8/);
    expect(() => bigBirdRandomPlan({ ...geometry, explicitLayers: [layer, [...layer.slice(1), -1]] })).toThrow(RangeError);
  });

  it('rejects unpadded lengths, an old plan longer than max_position_embeddings, and out-of-range accessors', () => {
    expect(() => bigBirdRandomPlan({ ...KOBIGBIRD, sequenceLength: 4000, mode: 'train', reference: 'hf' })).toThrow(/not a multiple/);
    // The old plan is drawn at max_position_embeddings and truncated, so it cannot serve a longer input.
    expect(() => bigBirdRandomPlan({ ...KOBIGBIRD, maxPositionEmbeddings: 2048, sequenceLength: 4096, mode: 'train', reference: 'hf' })).toThrow(
      /shorter than sequenceLength/,
    );
    const plan = bigBirdRandomPlan({ ...KOBIGBIRD, sequenceLength: 2048, mode: 'eval', reference: 'hf' });
    expect(() => randomBlockAt(plan, 0, 0, 30, 0)).toThrow(RangeError);
  });
});

describe.skipIf(!hasFixtures)('bigBirdRandomPlan against the plans Hugging Face 4.44.2 and the TF reference produced', () => {
  it('golden-bigbird/plans/*.npy (HF train mode at 1024, 2048, 4096) element for element; plans.json says eval is all zero', () => {
    const manifest = JSON.parse(readFileSync(fixture('golden-bigbird', 'plans', 'plans.json'), 'utf8')) as Record<
      string,
      { shape: number[]; eval_mode_plan_all_zero: boolean; path: string }
    >;
    const names = Object.keys(manifest);
    expect(names.length).toBe(3);
    for (const name of names) {
      const match = /^rand_attn_train_seq(\d+)_block(\d+)_r(\d+)_heads(\d+)_layers(\d+)_maxpos(\d+)\.npy$/.exec(name);
      expect(match, name).not.toBeNull();
      const [sequenceLength, blockSize, numRandomBlocks, numHeads, numLayers, maxPositionEmbeddings] = match!.slice(1).map(Number);
      const geometry = { sequenceLength, blockSize, numRandomBlocks, numHeads, numLayers, maxPositionEmbeddings } as const;
      const expected = readNpy(fixture('golden-bigbird', 'plans', name));
      expect(expected.dtype).toBe('<i4');
      expect(expected.shape, name).toEqual(manifest[name].shape);

      const plan = bigBirdRandomPlan({ ...geometry, mode: 'train', reference: 'hf' });
      expect([plan.numLayers, plan.numHeads, plan.numRows, plan.numRandomBlocks], name).toEqual(expected.shape);
      expect(plan.kind, name).toBe(manifest[name].path.startsWith('old paper plan') ? 'old-paper-plan' : 'segment-plan');
      const actual = stacked(plan);
      expect(firstDifferences(actual, expected.data), name).toEqual([]);
      expect(actual, name).toEqual(Array.from(expected.data));

      expect(manifest[name].eval_mode_plan_all_zero, name).toBe(true);
      expect(
        stacked(bigBirdRandomPlan({ ...geometry, mode: 'eval', reference: 'hf' })).every((b) => b === 0),
        name,
      ).toBe(true);
    }
  });

  it('rand_attn.npy of every block-sparse golden case (the train case draws a segment plan; the eval cases are all zero)', () => {
    let compared = 0;
    for (const name of GOLDEN_BIGBIRD_CASES) {
      const meta = JSON.parse(readFileSync(fixture('golden-bigbird', name, 'case.json'), 'utf8')) as {
        mode: 'train' | 'eval';
        effective_attention_type: string;
        seq_len: number;
        rand_attn_all_zero?: boolean;
      };
      if (meta.effective_attention_type !== 'block_sparse') continue;
      const config = JSON.parse(readFileSync(fixture('golden-bigbird', name, 'config.json'), 'utf8')) as Record<string, number>;
      const blockSize = config.block_size;
      const plan = bigBirdRandomPlan({
        // HF pads the input up to a multiple of block_size before planning (the s61 case).
        sequenceLength: Math.ceil(meta.seq_len / blockSize) * blockSize,
        blockSize,
        numRandomBlocks: config.num_random_blocks,
        numHeads: config.num_attention_heads,
        numLayers: config.num_hidden_layers,
        maxPositionEmbeddings: config.max_position_embeddings,
        mode: meta.mode,
        reference: 'hf',
      });
      const expected = readNpy(fixture('golden-bigbird', name, 'rand_attn.npy'));
      expect([plan.numLayers, plan.numHeads, plan.numRows, plan.numRandomBlocks], name).toEqual(expected.shape);
      const actual = stacked(plan);
      expect(firstDifferences(actual, expected.data), name).toEqual([]);
      expect(actual, name).toEqual(Array.from(expected.data));
      expect(
        actual.every((b) => b === 0),
        name,
      ).toBe(meta.rand_attn_all_zero);
      expect(plan.kind, name).toBe(meta.mode === 'train' ? 'segment-plan' : 'eval-zero');
      compared++;
    }
    // mlm_block_sparse_eval_s64, mlm_block_sparse_train_s64, mlm_block_sparse_eval_s61_autopad, pretraining_block_sparse_eval_s64
    expect(compared).toBe(4);
  });

  it('golden-builder/rng/kobigbird_rand_attn_4096.json: the TF pattern KoBigBird trained with, all 12 layers', () => {
    const golden = JSON.parse(readFileSync(fixture('golden-builder', 'rng', 'kobigbird_rand_attn_4096.json'), 'utf8')) as {
      rand_attn: Record<string, number[][][]>;
    };
    const plan = bigBirdRandomPlan({ ...KOBIGBIRD, sequenceLength: 4096, mode: 'train', reference: 'tf' });
    expect(Object.keys(golden.rand_attn).length).toBe(12);
    for (let layer = 0; layer < 12; layer++) {
      const expected = golden.rand_attn[`layer_${layer}`];
      expect([expected.length, expected[0].length, expected[0][0].length]).toEqual([12, 62, 3]);
      expect(Array.from(plan.layers[layer]), `layer ${layer}`).toEqual(expected.flat(2));
    }
    // HF at 4096 takes the same old-plan path, so its training plan equals TF's.
    expect(stacked(bigBirdRandomPlan({ ...KOBIGBIRD, sequenceLength: 4096, mode: 'train', reference: 'hf' }))).toEqual(stacked(plan));
  });

  it('golden-builder/rng/rng_vectors.json: numpy MT19937 seed 0, first raw draws', () => {
    const vectors = JSON.parse(readFileSync(fixture('golden-builder', 'rng', 'rng_vectors.json'), 'utf8')) as { np_seed0_first10_uint32: number[] };
    const rng = new NumpyLegacyRandom(0);
    expect(vectors.np_seed0_first10_uint32.map(() => rng.uint32())).toEqual(vectors.np_seed0_first10_uint32);
  });
});

if (!hasPythonNumpy) console.warn(`[kbb tests] random-plans: ${SKIP_NO_PYTHON}`);
