import { NumpyLegacyRandom } from '../random/numpy-legacy-random.js';
import type { BigBirdConfig } from './bigbird-config.js';

/** Whose plan to reproduce: Hugging Face `modeling_big_bird.py` (4.30+), or the TF reference KoBigBird trained with. */
export type RandomPlanReference = 'hf' | 'tf';

export type RandomPlanMode = 'train' | 'eval';

/** Which generator produced a plan, for logs and for tests that must know the path taken. */
export type RandomPlanKind = 'old-paper-plan' | 'segment-plan' | 'eval-zero' | 'explicit';

export interface RandomPlanOptions {
  /** The length attention sees: already padded to a multiple of `blockSize`. */
  readonly sequenceLength: number;
  readonly blockSize: number;
  readonly numRandomBlocks: number;
  readonly numHeads: number;
  readonly numLayers: number;
  /** HF's `max_position_embeddings` (TF: the layer's `max_seq_length`); the old plan is drawn for this length. */
  readonly maxPositionEmbeddings: number;
  readonly mode: RandomPlanMode;
  readonly reference: RandomPlanReference;
  /**
   * A plan to use as is instead of generating one: per layer, `[head][row][k]` in C order (see `RandomPlan`).
   * It is validated against the geometry above; `mode` and `reference` are then irrelevant.
   */
  readonly explicitLayers?: readonly ArrayLike<number>[];
}

/**
 * Random key blocks for every layer, head and middle query block.
 * `layers[l]` holds `[numHeads][numRows][numRandomBlocks]` in C order, where row `r` belongs to query block
 * `r + 1` (query blocks 0 and numBlocks-1 are global and have no random blocks): the layout of HF's
 * `rand_attn` for one layer, so the layers stacked are exactly a `rand_attn.npy` tensor.
 */
export interface RandomPlan {
  readonly kind: RandomPlanKind;
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numBlocks: number;
  readonly numRows: number;
  readonly numRandomBlocks: number;
  readonly layers: readonly Int32Array[];
}

/** The key block of random slot `k` for query block `row + 1` of `head` in `layer`. */
export function randomBlockAt(plan: RandomPlan, layer: number, head: number, row: number, k: number): number {
  const inside = (value: number, size: number): boolean => Number.isInteger(value) && value >= 0 && value < size;
  if (!inside(layer, plan.numLayers) || !inside(head, plan.numHeads) || !inside(row, plan.numRows) || !inside(k, plan.numRandomBlocks)) {
    throw new RangeError(
      `randomBlockAt: (${layer}, ${head}, ${row}, ${k}) is outside [${plan.numLayers}, ${plan.numHeads}, ${plan.numRows}, ${plan.numRandomBlocks}]`,
    );
  }
  return plan.layers[layer][(head * plan.numRows + row) * plan.numRandomBlocks + k];
}

/** The padded lengths at which each reference draws the paper's "old plan" instead of the segment plan. */
export const OLD_PLAN_LENGTHS: Readonly<Record<RandomPlanReference, readonly number[]>> = {
  hf: [1024, 3072, 4096],
  tf: [1024, 2048, 3072, 4096],
};

/**
 * The random attention plan BigBird uses, reproduced draw for draw:
 * - an explicit plan, validated, when `explicitLayers` is given;
 * - HF in eval mode: all zeros (HF ≥ 4.30 stops drawing; every random slot points at block 0);
 * - otherwise per layer `l`, numpy's legacy generator seeded with `l`, then the old paper plan at the
 *   reference's old-plan lengths, else the segment plan of `_get_rand_attn_plan`.
 * TF builds its plan once at graph construction and has no eval special case, so `mode` does not matter for it.
 */
export function bigBirdRandomPlan(options: RandomPlanOptions): RandomPlan {
  const { sequenceLength, blockSize, numRandomBlocks, numHeads, numLayers, maxPositionEmbeddings } = options;
  const sizes = { sequenceLength, blockSize, numRandomBlocks, numHeads, numLayers, maxPositionEmbeddings };
  for (const [name, value] of Object.entries(sizes)) {
    const mayBeZero = name === 'numRandomBlocks' || name === 'numLayers';
    if (!Number.isInteger(value) || value < (mayBeZero ? 0 : 1)) {
      throw new RangeError(`bigBirdRandomPlan: ${name} must be a ${mayBeZero ? 'non-negative' : 'positive'} integer, got ${value}`);
    }
  }
  if (sequenceLength % blockSize !== 0) {
    throw new RangeError(`bigBirdRandomPlan: sequenceLength ${sequenceLength} is not a multiple of blockSize ${blockSize}; pad it first`);
  }
  const numBlocks = sequenceLength / blockSize;
  if (numBlocks < 3) throw new RangeError(`bigBirdRandomPlan: ${numBlocks} blocks leave no middle query block to plan for`);
  const numRows = numBlocks - 2;
  const geometry: PlanGeometry = { numLayers, numHeads, numBlocks, numRows, numRandomBlocks };

  if (options.explicitLayers !== undefined) return validatedExplicitPlan(options.explicitLayers, geometry);

  if (options.reference === 'hf' && options.mode === 'eval') {
    const layerSize = numHeads * numRows * numRandomBlocks;
    return { kind: 'eval-zero', ...geometry, layers: Array.from({ length: numLayers }, () => new Int32Array(layerSize)) };
  }

  const useOldPlan = OLD_PLAN_LENGTHS[options.reference].includes(sequenceLength);
  const layers: Int32Array[] = [];
  for (let layer = 0; layer < numLayers; layer++) {
    const rng = new NumpyLegacyRandom(layer);
    layers.push(
      useOldPlan
        ? oldPaperPlan(rng, { sequenceLength, blockSize, numRandomBlocks, numHeads, maxPositionEmbeddings })
        : segmentPlan(rng, { sequenceLength, blockSize, numRandomBlocks, numHeads }),
    );
  }
  return { kind: useOldPlan ? 'old-paper-plan' : 'segment-plan', ...geometry, layers };
}

/** The config fields a random plan depends on. */
export type RandomPlanConfig = Pick<
  BigBirdConfig,
  'block_size' | 'num_random_blocks' | 'num_attention_heads' | 'num_hidden_layers' | 'max_position_embeddings'
>;

/** The plan a model with `config` draws at `sequenceLength` (padded) tokens: what the model, `kbb attention` and the notebooks use. */
export function randomPlanForConfig(config: RandomPlanConfig, sequenceLength: number, mode: RandomPlanMode, reference: RandomPlanReference): RandomPlan {
  return bigBirdRandomPlan({
    sequenceLength,
    blockSize: config.block_size,
    numRandomBlocks: config.num_random_blocks,
    numHeads: config.num_attention_heads,
    numLayers: config.num_hidden_layers,
    maxPositionEmbeddings: config.max_position_embeddings,
    mode,
    reference,
  });
}

interface PlanGeometry {
  readonly numLayers: number;
  readonly numHeads: number;
  readonly numBlocks: number;
  readonly numRows: number;
  readonly numRandomBlocks: number;
}

function validatedExplicitPlan(explicitLayers: readonly ArrayLike<number>[], geometry: PlanGeometry): RandomPlan {
  const { numLayers, numHeads, numBlocks, numRows, numRandomBlocks } = geometry;
  if (explicitLayers.length !== numLayers) {
    throw new RangeError(`bigBirdRandomPlan: the explicit plan has ${explicitLayers.length} layers, the model ${numLayers}`);
  }
  const layerSize = numHeads * numRows * numRandomBlocks;
  const layers = explicitLayers.map((given, layer) => {
    if (given.length !== layerSize) {
      throw new RangeError(
        `bigBirdRandomPlan: explicit layer ${layer} has ${given.length} entries, expected [${numHeads}][${numRows}][${numRandomBlocks}] = ${layerSize}`,
      );
    }
    const copy = new Int32Array(layerSize);
    for (let i = 0; i < layerSize; i++) {
      const block = given[i];
      // Attention gathers key blocks by these ids, so anything outside 0..numBlocks-1 would read past the sequence.
      if (!Number.isInteger(block) || block < 0 || block >= numBlocks) {
        const k = i % numRandomBlocks;
        const row = Math.floor(i / numRandomBlocks) % numRows;
        const head = Math.floor(i / (numRandomBlocks * numRows));
        throw new RangeError(`bigBirdRandomPlan: explicit plan [${layer}][${head}][${row}][${k}] = ${block} is not a key block in 0..${numBlocks - 1}`);
      }
      copy[i] = block;
    }
    return copy;
  });
  return { kind: 'explicit', ...geometry, layers };
}

/**
 * numpy's `arr[a:a+count] = values`: equal lengths copy, a single value broadcasts, anything else is the
 * ValueError numpy raises (possible when a tiny geometry leaves fewer legal candidates than random slots).
 */
function assignSlots(target: Int32Array, offset: number, count: number, values: ArrayLike<number>, where: string): void {
  if (values.length === count) {
    for (let k = 0; k < count; k++) target[offset + k] = values[k];
  } else if (values.length === 1) {
    target.fill(values[0], offset, offset + count);
  } else {
    throw new RangeError(`bigBirdRandomPlan: ${where}: ${values.length} candidate blocks for ${count} random slots (numpy cannot broadcast this either)`);
  }
}

/** Python's `seq[start:stop]` for non-negative bounds: both clamp to the length, and a reversed range is empty. */
function pySlice(values: Int32Array, start: number, stop: number): Int32Array {
  const from = Math.min(Math.max(start, 0), values.length);
  const to = Math.min(Math.max(stop, from), values.length);
  return values.subarray(from, to);
}

interface OldPlanGeometry {
  readonly sequenceLength: number;
  readonly blockSize: number;
  readonly numRandomBlocks: number;
  readonly numHeads: number;
  readonly maxPositionEmbeddings: number;
}

/**
 * `_bigbird_block_rand_mask(maxPos, maxPos, wb, wb, r, last_idx=1024)[:nb-2]` once per head, heads in order on one
 * stream. The plan is drawn for the full `maxPos` length and then truncated, so rows past `nb-2` still consume
 * draws: the truncation cannot be skipped. `last_idx=1024` confines the candidates to the first 1024 tokens, and
 * the missing window exclusions of the last two rows ("Missing -3/-4") are kept as the reference has them.
 */
function oldPaperPlan(rng: NumpyLegacyRandom, geometry: OldPlanGeometry): Int32Array {
  const { sequenceLength, blockSize, numRandomBlocks: r, numHeads, maxPositionEmbeddings } = geometry;
  const lastIdx = 1024;
  const numRows = sequenceLength / blockSize - 2;
  const fullBlocks = Math.floor(maxPositionEmbeddings / blockSize);
  const fullRows = fullBlocks - 2;
  if (numRows > fullRows) {
    throw new RangeError(
      `bigBirdRandomPlan: the old plan is drawn for maxPositionEmbeddings ${maxPositionEmbeddings}, shorter than sequenceLength ${sequenceLength}`,
    );
  }
  const middle = new Int32Array(fullRows);
  for (let b = 0; b < fullRows; b++) middle[b] = b + 1;
  const last = lastIdx > 2 * blockSize ? Math.floor(lastIdx / blockSize) - 1 : fullBlocks - 1;

  const plan = new Int32Array(numHeads * numRows * r);
  const headRows = new Int32Array(fullRows * r);
  for (let head = 0; head < numHeads; head++) {
    for (let i = 1; i <= fullRows; i++) {
      let candidates: Int32Array;
      if (i === 1) candidates = pySlice(middle, 2, last);
      else if (i === 2) candidates = pySlice(middle, 3, last);
      else if (i === fullBlocks - 3 || i === fullBlocks - 2) candidates = pySlice(middle, 0, last);
      else if (i - 2 > last) candidates = pySlice(middle, 0, last);
      else if (i + 1 === last) candidates = pySlice(middle, 0, i - 2);
      else {
        const before = pySlice(middle, 0, i - 2);
        const after = pySlice(middle, i + 1, last);
        candidates = new Int32Array(before.length + after.length);
        candidates.set(before, 0);
        candidates.set(after, before.length);
      }
      const chosen = rng.permutation(candidates).subarray(0, r);
      assignSlots(headRows, (i - 1) * r, r, chosen, `old plan head ${head} row ${i - 1}`);
    }
    plan.set(headRows.subarray(0, numRows * r), head * numRows * r);
  }
  return plan;
}

/** `_get_rand_attn_plan`: where each segment of query blocks ends (in tokens), and how many random blocks it draws. */
export function randomAttentionSegments(
  sequenceLength: number,
  blockSize: number,
  numRandomBlocks: number,
): { readonly ends: readonly number[]; readonly counts: readonly number[] } {
  const r = numRandomBlocks;
  const numBlocks = Math.floor(sequenceLength / blockSize);
  if (2 * r + 5 < numBlocks) return { ends: [(2 * r + 5) * blockSize, sequenceLength], counts: [r, 0] };
  if (r + 5 < numBlocks) return { ends: [(r + 5) * blockSize, sequenceLength], counts: [Math.floor(r / 2), r - Math.floor(r / 2)] };
  return { ends: [sequenceLength], counts: [r] };
}

interface SegmentPlanGeometry {
  readonly sequenceLength: number;
  readonly blockSize: number;
  readonly numRandomBlocks: number;
  readonly numHeads: number;
}

/**
 * `_bigbird_block_rand_mask_with_head` with the plan of `randomAttentionSegments`, for one layer: per plan segment,
 * rows outer and heads inner, one `_get_single_block_row_attention` draw per (row, head). Row numBlocks-1 is global,
 * yet the reference draws for it before dropping it; with two drawing segments later draws depend on that.
 */
function segmentPlan(rng: NumpyLegacyRandom, geometry: SegmentPlanGeometry): Int32Array {
  const { sequenceLength, blockSize, numRandomBlocks, numHeads } = geometry;
  const { ends, counts } = randomAttentionSegments(sequenceLength, blockSize, numRandomBlocks);
  const numBlocks = sequenceLength / blockSize;
  const maxPlanIdx = ends.indexOf(sequenceLength);
  const segmentEnds = ends.map((end) => Math.floor(end / blockSize));
  const countBefore = (idx: number): number => counts.slice(0, idx).reduce((a, b) => a + b, 0);
  const width = countBefore(maxPlanIdx + 1);
  const globalTop = 1;

  // Full-height per-head tables [numBlocks][width], as the reference fills them before dropping the global rows.
  const tables = Array.from({ length: numHeads }, () => new Int32Array(numBlocks * width));
  const drawRow = (row: number, segment: number, toStart: number): void => {
    const from = countBefore(segment);
    const to = countBefore(segment + 1);
    for (let head = 0; head < numHeads; head++) {
      const chosen = singleBlockRowAttention(rng, row, toStart, segmentEnds[segment], counts[segment]);
      assignSlots(tables[head], row * width + from, to - from, chosen, `segment plan head ${head} row ${row - 1}`);
    }
  };

  for (let planIdx = 0; planIdx <= maxPlanIdx; planIdx++) {
    if (planIdx > 0) {
      // Rows of earlier segments also draw from this segment's key blocks...
      if (counts[planIdx] > 0) {
        for (let row = globalTop; row < segmentEnds[planIdx - 1]; row++) drawRow(row, planIdx, segmentEnds[planIdx - 1]);
      }
      // ...and this segment's rows draw from every earlier segment's key blocks.
      for (let earlier = 0; earlier < planIdx; earlier++) {
        if (counts[earlier] === 0) continue;
        const toStart = earlier > 0 ? segmentEnds[earlier - 1] : 0;
        for (let row = segmentEnds[planIdx - 1]; row < segmentEnds[planIdx]; row++) drawRow(row, earlier, toStart);
      }
    }
    if (counts[planIdx] === 0) continue;
    const rowStart = planIdx > 0 ? segmentEnds[planIdx - 1] : globalTop;
    const toStart = planIdx > 0 ? segmentEnds[planIdx - 1] : 0;
    for (let row = rowStart; row < segmentEnds[planIdx]; row++) drawRow(row, planIdx, toStart);
  }

  const numRows = numBlocks - 2;
  const plan = new Int32Array(numHeads * numRows * width);
  tables.forEach((table, head) => {
    plan.set(table.subarray(globalTop * width, (numBlocks - 1) * width), head * numRows * width);
  });
  return plan;
}

/**
 * `_get_single_block_row_attention` with a window of one block each side and one global block at each end:
 * permute key blocks toStart..toEnd-1 and keep the first `count` that are neither in the row's window nor global,
 * nor block toEnd-2 for row 1, nor block 1 for row toEnd-2.
 */
function singleBlockRowAttention(rng: NumpyLegacyRandom, row: number, toStart: number, toEnd: number, count: number): Int32Array {
  const candidates = new Int32Array(Math.max(toEnd - toStart, 0));
  for (let i = 0; i < candidates.length; i++) candidates[i] = toStart + i;
  const permuted = rng.permutation(candidates);
  const illegal = (block: number): boolean =>
    (block >= row - 1 && block <= row + 1) || block === 0 || block === toEnd - 1 || (row === 1 && block === toEnd - 2) || (row === toEnd - 2 && block === 1);
  const chosen: number[] = [];
  for (let i = 0; i < permuted.length; i++) {
    if (!illegal(permuted[i])) chosen.push(permuted[i]);
    if (chosen.length === count) break;
  }
  return Int32Array.from(chosen);
}
