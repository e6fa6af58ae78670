import type { AttentionType } from './bigbird-config.js';
import { type RandomPlan, randomBlockAt } from './random-plans.js';

/**
 * What a (query block, key block) cell of the block-sparse layout is, as a number for a heatmap:
 * `none` (not computed), `global` (block 0 or the last block, as query or as key), `window` (the
 * query block and its two neighbours), `random` (one of the plan's r random key blocks).
 */
export const LAYOUT_CELL = Object.freeze({ none: 0, global: 1, window: 2, random: 3 } as const);
export type LayoutCellKind = keyof typeof LAYOUT_CELL;
/** The kinds in code order: `LAYOUT_CELL_KINDS[code]` names a code. */
export const LAYOUT_CELL_KINDS: readonly LayoutCellKind[] = Object.freeze(['none', 'global', 'window', 'random'] as const);

/** One slot of a query block's key list: the key block and why it is there. */
export interface KeySlot {
  readonly block: number;
  readonly kind: Exclude<LayoutCellKind, 'none'>;
}

/**
 * The key blocks query block `queryBlock` gathers, in the order of its one softmax, as
 * `blockSparseAttention` (attention.ts) concatenates them, duplicates kept:
 *
 *   0 and nb-1          every block (global rows)
 *   1                   0, 1, 2, nb-1, then the random blocks
 *   2..nb-3             0, qb-1, qb, qb+1, then the random blocks, then nb-1
 *   nb-2                0, nb-3, nb-2, nb-1, then the random blocks
 *
 * `randomBlocks` are the plan's blocks for this query block (none for a global row). A fixed block that
 * is both global and in the window (block 0 for row 1, nb-1 for row nb-2) is `global`.
 */
export function blockSparseKeySlots(numBlocks: number, queryBlock: number, randomBlocks: readonly number[]): KeySlot[] {
  const nb = numBlocks;
  if (!Number.isInteger(nb) || nb < 5) throw new RangeError(`blockSparseKeySlots: block-sparse attention needs at least 5 blocks, got ${nb}`);
  if (!Number.isInteger(queryBlock) || queryBlock < 0 || queryBlock >= nb)
    throw new RangeError(`blockSparseKeySlots: query block ${queryBlock} is not in 0..${nb - 1}`);
  if (queryBlock === 0 || queryBlock === nb - 1) return Array.from({ length: nb }, (_, block) => ({ block, kind: 'global' as const }));
  const random = randomBlocks.map((block) => ({ block, kind: 'random' as const }));
  const global = (block: number): KeySlot => ({ block, kind: 'global' });
  const window = (block: number): KeySlot => ({ block, kind: 'window' });
  if (queryBlock === 1) return [global(0), window(1), window(2), global(nb - 1), ...random];
  if (queryBlock === nb - 2) return [global(0), window(nb - 3), window(nb - 2), global(nb - 1), ...random];
  return [global(0), window(queryBlock - 1), window(queryBlock), window(queryBlock + 1), ...random, global(nb - 1)];
}

/** The random key blocks of one (layer, head, query block) of a plan; none for the global rows 0 and nb-1. */
export function planRandomBlocks(plan: RandomPlan, layer: number, head: number, queryBlock: number): number[] {
  if (queryBlock === 0 || queryBlock === plan.numBlocks - 1) return [];
  return Array.from({ length: plan.numRandomBlocks }, (_, k) => randomBlockAt(plan, layer, head, queryBlock - 1, k));
}

/** Which key blocks each query block attends to, for one layer and head: a matrix to draw. */
export interface BlockSparseLayout {
  readonly numBlocks: number;
  /** `cells[queryBlock][keyBlock]`: a `LAYOUT_CELL` code; where a block fills several slots, global wins over window over random. */
  readonly cells: number[][];
  /** `visits[queryBlock][keyBlock]`: how many slots of the query block's softmax hold that key block (2 or more: a duplicate). */
  readonly visits: number[][];
  /** Cells of each kind (a cell counts once, under its code). */
  readonly counts: Readonly<Record<LayoutCellKind, number>>;
  /** Slots that repeat a key block already in the row: their scores are computed, and softmax weighs the block twice. */
  readonly duplicateSlots: number;
  /** The share of the full [S × S] score matrix the model computes, duplicates included: Σ visits / nb². */
  readonly computedFraction: number;
  /** The share of (query block, key block) pairs attended at all: cells not `none` / nb². */
  readonly coveredFraction: number;
}

/** The layout of one layer and head of `plan`, built from `blockSparseKeySlots`, the model's own key lists. */
export function blockSparseLayout(plan: RandomPlan, layer: number, head: number): BlockSparseLayout {
  const nb = plan.numBlocks;
  const rank = { none: 0, random: 1, window: 2, global: 3 } as const;
  const cells = Array.from({ length: nb }, () => new Array<number>(nb).fill(LAYOUT_CELL.none));
  const visits = Array.from({ length: nb }, () => new Array<number>(nb).fill(0));
  let slots = 0;
  for (let qb = 0; qb < nb; qb++) {
    for (const { block, kind } of blockSparseKeySlots(nb, qb, planRandomBlocks(plan, layer, head, qb))) {
      visits[qb][block]++;
      slots++;
      if (rank[kind] > rank[LAYOUT_CELL_KINDS[cells[qb][block]]]) cells[qb][block] = LAYOUT_CELL[kind];
    }
  }
  const counts: Record<LayoutCellKind, number> = { none: 0, global: 0, window: 0, random: 0 };
  for (const row of cells) for (const code of row) counts[LAYOUT_CELL_KINDS[code]]++;
  const covered = nb * nb - counts.none;
  return { numBlocks: nb, cells, visits, counts, duplicateSlots: slots - covered, computedFraction: slots / (nb * nb), coveredFraction: covered / (nb * nb) };
}

/**
 * Score entries one head of block-sparse attention computes at `seqLength` tokens, duplicates
 * included: (2·nb + 2·(4 + r) + (nb − 4)·(5 + r)) · block². About (7 + r)·nb·block² = (7 + r)·block·S,
 * linear in S, where full attention computes S².
 */
export function blockSparseScoreEntries(seqLength: number, blockSize: number, numRandomBlocks: number): number {
  if (!Number.isInteger(seqLength) || !Number.isInteger(blockSize) || blockSize < 1 || seqLength % blockSize !== 0) {
    throw new RangeError(`blockSparseScoreEntries: ${seqLength} tokens is not a whole number of blocks of ${blockSize}`);
  }
  const nb = seqLength / blockSize;
  if (nb < 5) throw new RangeError(`blockSparseScoreEntries: block-sparse attention needs at least 5 blocks, got ${nb}`);
  const r = numRandomBlocks;
  return (2 * nb + 2 * (4 + r) + (nb - 4) * (5 + r)) * blockSize * blockSize;
}

/**
 * About how many bytes one layer's attention keeps for the backward pass when it is not recomputed:
 * each score three times over (the probabilities, and the dropped-out probabilities or the gathered
 * key and value blocks, which at head size = block size hold twice the scores' count), 4 bytes each.
 */
export function keptAttentionBytes(
  attentionType: AttentionType,
  batch: number,
  heads: number,
  seqLength: number,
  blockSize: number,
  numRandomBlocks: number,
): number {
  const entries = attentionType === 'original_full' ? seqLength * seqLength : blockSparseScoreEntries(seqLength, blockSize, numRandomBlocks);
  return 3 * batch * heads * entries * 4;
}
