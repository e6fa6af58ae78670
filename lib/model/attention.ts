import * as tf from '@tensorflow/tfjs-core';
import { gatherRows } from '../autodiff/gather-rows.js';
import { recomputed } from '../autodiff/recompute.js';
import { type AttentionType, type BigBirdConfig, headSize } from './bigbird-config.js';
import { dense, softmaxDropout } from './nn.js';
import type { BigBirdWeights } from './weights.js';

/** HF's additive penalty for masked keys in block-sparse attention (`attn_mask_penalty`); softmax turns it into an exact 0. */
export const BLOCK_SPARSE_MASK_PENALTY = -10000;
/** HF ≥ 4.3x masks keys in full attention with `torch.finfo(float32).min` instead. */
export const FULL_ATTENTION_MASK_PENALTY = -3.4028234663852886e38;
/** KoBigBird's TF full attention (BERT's) adds −10000 where `from_mask ⊗ to_mask` is 0. */
export const TF_FULL_ATTENTION_MASK_PENALTY = -10000;

/** What one forward pass shares across layers: the (padded) geometry and the attention mask on the host. */
export interface AttentionInputs {
  readonly batchSize: number;
  readonly seqLength: number;
  /** [B, S] 0/1, row-major: 1 for a real token, 0 for padding. */
  readonly mask: Int32Array;
  /** Dropout on the attention probabilities (original_full only, as in HF; 0 in eval). */
  readonly probsDropout: number;
  /**
   * Full attention masks `from_mask ⊗ to_mask` with −10000, as KoBigBird's TF model does (a padded
   * query row is masked on every key), instead of HF's keys-only mask with `finfo.min`.
   */
  readonly maskQueries?: boolean;
  /** The seed of the next dropout site (see nn.ts `dropoutSeeds`); undefined draws unseeded. */
  readonly nextDropoutSeed?: () => number | undefined;
  /**
   * Whether the attention core is rebuilt in the backward pass instead of keeping its scores,
   * probabilities and gathered blocks (default true). The gradients are the same bits either way.
   */
  readonly recompute?: boolean;
}

/** [B, S, hidden] → [B, heads, S, headSize]. */
function splitHeads(x: tf.Tensor, batch: number, seq: number, heads: number, size: number): tf.Tensor4D {
  return tf.transpose(tf.reshape(x, [batch, seq, heads, size]), [0, 2, 1, 3]);
}

/** [B, heads, S, headSize] → [B, S, hidden]. */
function mergeHeads(x: tf.Tensor, batch: number, seq: number, hidden: number): tf.Tensor3D {
  return tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [batch, seq, hidden]);
}

/**
 * BigBird self-attention of one layer: the query/key/value projections, then full or block-sparse
 * attention. Returns the per-token context [B, S, hidden] (the output dense and residual are the
 * encoder's). `layerPlan` (block-sparse only) is this layer's random key blocks, `[heads][nb-2][r]`.
 */
export function selfAttention(
  x: tf.Tensor3D,
  weights: BigBirdWeights,
  config: BigBirdConfig,
  layer: number,
  attentionType: AttentionType,
  inputs: AttentionInputs,
  layerPlan: Int32Array | undefined,
): tf.Tensor3D {
  const prefix = `bert/encoder/layer_${layer}/attention/self`;
  const heads = config.num_attention_heads;
  const size = headSize(config);
  const { batchSize: batch, seqLength: seq } = inputs;
  const project = (name: string): tf.Tensor4D =>
    splitHeads(
      dense(x, weights.get(`${prefix}/${name}/kernel`) as tf.Tensor2D, weights.maybe(`${prefix}/${name}/bias`) as tf.Tensor1D | undefined),
      batch,
      seq,
      heads,
      size,
    );
  const q = project('query');
  const k = project('key');
  const v = project('value');
  // The attention core (q, k, v → context) is one recomputed op (lib/autodiff/recompute.ts) unless
  // `inputs.recompute` is false: its scores, probabilities and gathered key/value blocks are rebuilt
  // in the backward pass instead of being kept, so a training step holds q, k and v per layer rather
  // than a dozen tensors of the scores' size.
  const core = inputs.recompute === false ? <T>(f: T): T => f : recomputed;
  let context: tf.Tensor4D;
  if (attentionType === 'original_full') {
    // Heads are independent, so full attention runs a few heads at a time, each group its own
    // recomputed op: the backward pass of a group holds that group's [S × S] scores and probabilities,
    // not all heads' at once (at 2048 tokens one head's are 16 MiB, all twelve 192 MiB per tensor).
    // Dropout comes in as a seed, not a mask, so the recomputation draws the same mask again and no
    // [S × S] mask is kept between the forward and the backward pass.
    const group = headsPerFullAttentionGroup(batch, heads, seq);
    const parts: tf.Tensor4D[] = [];
    for (let first = 0; first < heads; first += group) {
      const count = Math.min(group, heads - first);
      const slice = (t: tf.Tensor4D): tf.Tensor4D => (count === heads ? t : tf.slice(t, [0, first, 0, 0], [batch, count, seq, size]));
      const seed = inputs.probsDropout > 0 ? (inputs.nextDropoutSeed?.() ?? Math.floor(Math.random() * 2 ** 31)) : undefined;
      parts.push(
        core((...xs: tf.Tensor[]) => fullAttention(xs[0] as tf.Tensor4D, xs[1] as tf.Tensor4D, xs[2] as tf.Tensor4D, inputs, seed))(
          slice(q),
          slice(k),
          slice(v),
        ) as tf.Tensor4D,
      );
    }
    context = parts.length === 1 ? parts[0] : (tf.concat(parts, 1) as tf.Tensor4D);
  } else {
    const plan = requirePlan(layerPlan, layer);
    const geometry = { blockSize: config.block_size, numRandomBlocks: config.num_random_blocks };
    context = core((...xs: tf.Tensor[]) => blockSparseAttention(xs[0] as tf.Tensor4D, xs[1] as tf.Tensor4D, xs[2] as tf.Tensor4D, inputs.mask, plan, geometry))(
      q,
      k,
      v,
    ) as tf.Tensor4D;
  }
  return mergeHeads(context, batch, seq, config.hidden_size);
}

function requirePlan(plan: Int32Array | undefined, layer: number): Int32Array {
  if (!plan) throw new Error(`block-sparse attention of layer ${layer} needs a random plan`);
  return plan;
}

/** Scores of at most this many bytes per group of heads in full attention (one head is always allowed); tests lower it. */
export const fullAttentionGroup = { bytes: 64 * 2 ** 20 };

function headsPerFullAttentionGroup(batch: number, heads: number, seq: number): number {
  const perHead = batch * seq * seq * 4;
  return Math.max(1, Math.min(heads, Math.floor(fullAttentionGroup.bytes / perHead)));
}

/**
 * `original_full`: softmax(q·kᵀ/√d + (1−m_key)·finfo.min) · v over all S keys (with `maskQueries`,
 * TF's (1 − m_query·m_key)·(−10000)), dropout on the probabilities in training. Pad queries are not
 * zeroed (neither HF nor TF does). This is the only place an [S × S] tensor exists, and only in full mode.
 *
 * The softmax and its dropout are nn.ts `softmaxDropout`; with `dropoutSeed`, the same draw on a
 * second call. With no pad token every penalty is 0 and none is added (x + 0 is x).
 */
export function fullAttention(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, inputs: AttentionInputs, dropoutSeed?: number): tf.Tensor4D {
  const size = q.shape[3];
  const exactScale = exactQueryScale(size);
  const products = exactScale === undefined ? tf.div(tf.matMul(q, k, false, true), Math.sqrt(size)) : tf.matMul(tf.mul(q, exactScale), k, false, true);
  const penalty = fullAttentionPenalty(inputs);
  const probabilities = softmaxDropout(penalty === undefined ? products : tf.add(products, penalty), inputs.probsDropout, dropoutSeed);
  return tf.matMul(probabilities, v) as tf.Tensor4D;
}

/**
 * 1/√d where it is a power of two (d = 64 gives 1/8), else undefined. A power-of-two factor multiplies
 * exactly, so (q·s)·kᵀ is (q·kᵀ)·s, and (q·kᵀ)/√d, bit for bit (short of underflow), in the forward
 * pass and in the gradient: the attention scales the [S × d] query instead of the [S × keys] scores.
 */
function exactQueryScale(size: number): number | undefined {
  const scale = 1 / Math.sqrt(size);
  return Number.isInteger(Math.log2(scale)) ? scale : undefined;
}

/** Whether the batch has pad tokens. Without any every mask penalty is 0, and x + 0 is x: no add is needed. */
function hasPadding(mask: Int32Array): boolean {
  return mask.some((m) => m !== 1);
}

/**
 * The additive mask of full attention's scores: [B, 1, 1, S] on keys (HF), or [B, 1, S, S] on query and
 * key (TF); undefined where nothing is masked.
 */
function fullAttentionPenalty(inputs: AttentionInputs): tf.Tensor4D | undefined {
  const { batchSize: batch, seqLength: seq, mask } = inputs;
  if (!hasPadding(mask)) return undefined;
  if (!inputs.maskQueries) {
    const bias = new Float32Array(batch * seq);
    for (let i = 0; i < bias.length; i++) bias[i] = mask[i] === 1 ? 0 : FULL_ATTENTION_MASK_PENALTY;
    return tf.tensor4d(bias, [batch, 1, 1, seq]);
  }
  const bias = new Float32Array(batch * seq * seq);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < seq; i++) {
      const row = (b * seq + i) * seq;
      const query = mask[b * seq + i];
      for (let j = 0; j < seq; j++) bias[row + j] = query === 1 && mask[b * seq + j] === 1 ? 0 : TF_FULL_ATTENTION_MASK_PENALTY;
    }
  }
  return tf.tensor4d(bias, [batch, 1, seq, seq]);
}

export interface BlockSparseGeometry {
  readonly blockSize: number;
  readonly numRandomBlocks: number;
}

/**
 * One group of query blocks that attends to a gathered list of key blocks: which query blocks, and for
 * each (head, query block) the key blocks in softmax order. `local[j]` says whether key slot j is
 * masked by query and key (window and random slots) or by the key alone (global slots).
 */
interface KeyBlockGroup {
  readonly queryBlocks: readonly number[];
  readonly keyBlocks: (head: number, queryBlock: number) => readonly number[];
  readonly local: readonly boolean[];
}

/**
 * Block-sparse ("ITC") attention exactly as HF's `bigbird_block_sparse_attention`, for q/k/v
 * [B, H, S, d] with S a multiple of the block size and nb = S / block ≥ 5 blocks. Query block qb
 * attends to (duplicates are kept, as in HF: one softmax over the concatenated list):
 *
 *   part 1, qb = 0       all keys                                   (global row)
 *   part 2, qb = 1       blocks 0, 1, 2, nb-1, then R[0]
 *   part 3, 2..nb-3      blocks 0, qb-1, qb, qb+1, then R[qb-1], then nb-1   (the middle band)
 *   part 4, qb = nb-2    blocks 0, nb-3, nb-2, nb-1, then R[nb-3]
 *   part 5, qb = nb-1    all keys                                   (global row)
 *
 * where R[row] are the plan's r random blocks for query block row+1 of that head. Masking (HF's, with
 * penalty −10000): score += (1 − m)·(−10000) with m = to_mask[key] for global slots (blocks 0 and nb-1
 * in every row, every key of rows 0 and nb-1, and the fixed window blocks of rows 1 and nb-2), and
 * m = from_mask[query]·to_mask[key] for the window of the middle band and every random key. Finally the
 * context of pad queries is multiplied by 0.
 *
 * Parts 1 and 5 (same key set) run as one batched product, and so do parts 2 and 4 (same layout);
 * part 3 is one batched product over all middle blocks. Key/value blocks are gathered from a
 * [B·H·nb, block, d] view, so no [S × S] tensor is ever built: the largest tensors are the middle
 * band's scores [B, H, nb-4, block, (5+r)·block].
 */
export function blockSparseAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  mask: Int32Array,
  layerPlan: Int32Array,
  geometry: BlockSparseGeometry,
): tf.Tensor4D {
  const [batch, heads, seq, size] = q.shape;
  const { blockSize: bs, numRandomBlocks: r } = geometry;
  if (seq % bs !== 0) throw new RangeError(`block-sparse attention: sequence length ${seq} is not a multiple of block_size ${bs}`);
  const nb = seq / bs;
  if (nb < 5) throw new RangeError(`block-sparse attention needs at least 5 blocks, got ${nb} (sequence ${seq}, block ${bs})`);
  const planRows = nb - 2;
  if (layerPlan.length !== heads * planRows * r) {
    throw new RangeError(
      `block-sparse attention: the random plan has ${layerPlan.length} entries, [${heads} heads][${planRows} rows][${r}] needs ${heads * planRows * r}`,
    );
  }
  if (mask.length !== batch * seq) throw new RangeError(`block-sparse attention: mask has ${mask.length} entries for [${batch}, ${seq}]`);
  const scale = 1 / Math.sqrt(size);
  const exactScale = exactQueryScale(size);
  const padded = hasPadding(mask);
  /** q·kᵀ·(1/√d) plus the mask penalty where there is padding. */
  const scores = (query: tf.Tensor, keys: tf.Tensor, penalty: () => tf.Tensor): tf.Tensor => {
    const products = exactScale === undefined ? tf.mul(tf.matMul(query, keys, false, true), scale) : tf.matMul(query, keys, false, true);
    return padded ? tf.add(products, penalty()) : products;
  };
  const randomBlocks = (head: number, queryBlock: number): number[] => {
    const start = (head * planRows + (queryBlock - 1)) * r;
    return Array.from(layerPlan.subarray(start, start + r));
  };

  // Blocks are sliced and joined on a 4-D [B·H, nb, block, d] view: rank 4 is what every backend
  // slices and joins on its fast path (lib/backend/README.md).
  const blockedQuery = tf.reshape(exactScale === undefined ? q : tf.mul(q, exactScale), [batch * heads, nb, bs, size]);
  const queryRows = (blocks: readonly number[]): tf.Tensor => {
    const contiguous = blocks.every((b, i) => b === blocks[0] + i);
    const rows = contiguous
      ? tf.slice(blockedQuery, [0, blocks[0], 0, 0], [batch * heads, blocks.length, bs, size])
      : tf.concat(
          blocks.map((b) => tf.slice(blockedQuery, [0, b, 0, 0], [batch * heads, 1, bs, size])),
          1,
        );
    return tf.reshape(rows, [batch, heads, blocks.length, bs, size]);
  };
  // Key and value blocks as rows of [B·H·nb, block, d], for gathering any block of any (batch, head).
  const keyBlocks = tf.reshape(k, [batch * heads * nb, bs, size]);
  const valueBlocks = tf.reshape(v, [batch * heads * nb, bs, size]);

  // Parts 1 and 5: the global query blocks 0 and nb-1 see every key, masked by the key only.
  const toPenalty = (): tf.Tensor => {
    const penalty = new Float32Array(batch * seq);
    for (let i = 0; i < penalty.length; i++) penalty[i] = (1 - mask[i]) * BLOCK_SPARSE_MASK_PENALTY;
    return tf.tensor4d(penalty, [batch, 1, 1, seq]);
  };
  const globalQuery = tf.reshape(queryRows([0, nb - 1]), [batch, heads, 2 * bs, size]);
  const globalScores = scores(globalQuery, k, toPenalty);
  const globalContext = tf.reshape(tf.matMul(tf.softmax(globalScores), v), [batch, heads, 2, bs, size]);

  // The gathered groups. Parts 2 and 4: four fixed blocks (masked by key only) then the random ones.
  const edge: KeyBlockGroup = {
    queryBlocks: [1, nb - 2],
    keyBlocks: (head, qb) => (qb === 1 ? [0, 1, 2, nb - 1] : [0, nb - 3, nb - 2, nb - 1]).concat(randomBlocks(head, qb)),
    local: [false, false, false, false, ...new Array<boolean>(r).fill(true)],
  };
  // Part 3: first global block, the sliding window of three, the random blocks, the last global block.
  const middleBlocks = Array.from({ length: nb - 4 }, (_, i) => i + 2);
  const middle: KeyBlockGroup = {
    queryBlocks: middleBlocks,
    keyBlocks: (head, qb) => [0, qb - 1, qb, qb + 1, ...randomBlocks(head, qb), nb - 1],
    local: [false, true, true, true, ...new Array<boolean>(r).fill(true), false],
  };
  const attendGroup = (group: KeyBlockGroup): tf.Tensor => {
    const rows = group.queryBlocks.length;
    const slots = group.local.length;
    const rowIndices = gatherRowIndices(group, { batch, heads, nb });
    const keys = tf.reshape(gatherRows(keyBlocks, rowIndices), [batch, heads, rows, slots * bs, size]);
    const values = tf.reshape(gatherRows(valueBlocks, rowIndices), [batch, heads, rows, slots * bs, size]);
    const penalty = () => tf.tensor5d(gatherPenalty(group, { batch, heads, nb, bs, mask }), [batch, heads, rows, bs, slots * bs]);
    return tf.matMul(tf.softmax(scores(queryRows(group.queryBlocks), keys, penalty)), values); // [B, H, rows, block, d]
  };
  const edgeContext = attendGroup(edge);
  const middleContext = attendGroup(middle);

  // Blocks back in order 0, 1, 2..nb-3, nb-2, nb-1; then pad queries get a zero context.
  const as4d = (t: tf.Tensor): tf.Tensor4D => tf.reshape(t, [batch * heads, -1, bs, size]);
  const pick = (t: tf.Tensor, i: number): tf.Tensor => tf.slice(as4d(t), [0, i, 0, 0], [batch * heads, 1, bs, size]);
  const context = tf.reshape(tf.concat([pick(globalContext, 0), pick(edgeContext, 0), as4d(middleContext), pick(edgeContext, 1), pick(globalContext, 1)], 1), [
    batch,
    heads,
    seq,
    size,
  ]);
  if (!padded) return context as tf.Tensor4D;
  const fromMask = tf.tensor4d(Float32Array.from(mask), [batch, 1, seq, 1]);
  return tf.mul(context, fromMask) as tf.Tensor4D;
}

interface GatherGeometry {
  readonly batch: number;
  readonly heads: number;
  readonly nb: number;
}

/** Which key/value blocks each (batch, head, query block) gathers, as rows of the [B·H·nb] view. */
function gatherRowIndices(group: KeyBlockGroup, g: GatherGeometry): Int32Array {
  const { batch, heads, nb } = g;
  const rows = group.queryBlocks.length;
  const slots = group.local.length;
  const rowIndices = new Int32Array(batch * heads * rows * slots);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let row = 0; row < rows; row++) {
        const blocks = group.keyBlocks(h, group.queryBlocks[row] as number);
        for (let slot = 0; slot < slots; slot++) rowIndices[((b * heads + h) * rows + row) * slots + slot] = (b * heads + h) * nb + (blocks[slot] as number);
      }
    }
  }
  return rowIndices;
}

/**
 * The additive mask penalty of a group's scores, [B, H, rows, block, slots·block]: (1 − m)·(−10000)
 * with m = to_mask[key] on global slots and from_mask[query]·to_mask[key] on local ones. It depends
 * only on the mask and the plan, so it is built here on the host, with no tensor op.
 */
function gatherPenalty(group: KeyBlockGroup, g: GatherGeometry & { readonly bs: number; readonly mask: Int32Array }): Float32Array {
  const { batch, heads, nb, bs, mask } = g;
  const seq = nb * bs;
  const rows = group.queryBlocks.length;
  const slots = group.local.length;
  const width = slots * bs;
  const penalty = new Float32Array(batch * heads * rows * bs * width);
  const keyMasked = new Uint8Array(width);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let row = 0; row < rows; row++) {
        const qb = group.queryBlocks[row] as number;
        const blocks = group.keyBlocks(h, qb);
        for (let slot = 0; slot < slots; slot++) {
          const block = blocks[slot] as number;
          for (let t = 0; t < bs; t++) keyMasked[slot * bs + t] = mask[b * seq + block * bs + t] === 1 ? 0 : 1;
        }
        const base = ((b * heads + h) * rows + row) * bs * width;
        for (let i = 0; i < bs; i++) {
          const queryMasked = mask[b * seq + qb * bs + i] !== 1;
          const at = base + i * width;
          for (let j = 0; j < width; j++) {
            const masked = keyMasked[j] === 1 || (queryMasked && group.local[(j / bs) | 0]);
            penalty[at + j] = masked ? BLOCK_SPARSE_MASK_PENALTY : 0;
          }
        }
      }
    }
  }
  return penalty;
}
