import * as tf from '@tensorflow/tfjs-core';
import {
  type AttentionInputs,
  BLOCK_SPARSE_MASK_PENALTY,
  type BlockSparseGeometry,
  FULL_ATTENTION_MASK_PENALTY,
  TF_FULL_ATTENTION_MASK_PENALTY,
} from './attention.js';
import { blockSparseKeySlots } from './attention-layout.js';
import type { BigBirdBatch, BigBirdModel } from './bigbird.js';
import { type AttentionType, headSize } from './bigbird-config.js';
import { dense } from './nn.js';
import type { RandomPlan } from './random-plans.js';

/**
 * The attention probabilities the model's attention puts on each key, for looking at: the model itself
 * never builds them whole (block-sparse attention has no [S × S] tensor). They are computed as
 * `attention.ts` computes its scores (same key lists, scale, mask penalties, softmax), and
 * probabilities × values is that file's attention output (the tests check it).
 */

/**
 * Block-sparse attention's probabilities, [B, H, S, S] dense: for each query, the softmax weight of each
 * key over the key blocks `blockSparseAttention` gathers for its block, 0 on keys it never sees. A key
 * block gathered twice (a random block that repeats another slot) gets both its shares. Each row sums to
 * 1, pad queries included; the model zeroes the context of pad queries afterwards, so
 * `probabilities · v`, times the query mask, is `blockSparseAttention(q, k, v, mask, layerPlan, geometry)`.
 * Dense S × S per head: for inspection at moderate lengths, not for training.
 */
export function blockSparseAttentionProbabilities(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  mask: Int32Array,
  layerPlan: Int32Array,
  geometry: BlockSparseGeometry,
): tf.Tensor4D {
  const [batch, heads, seq, size] = q.shape;
  const { blockSize: bs, numRandomBlocks: r } = geometry;
  if (seq % bs !== 0) throw new RangeError(`blockSparseAttentionProbabilities: sequence length ${seq} is not a multiple of block_size ${bs}`);
  const nb = seq / bs;
  if (layerPlan.length !== heads * (nb - 2) * r) {
    throw new RangeError(
      `blockSparseAttentionProbabilities: the random plan has ${layerPlan.length} entries, [${heads}][${nb - 2}][${r}] needs ${heads * (nb - 2) * r}`,
    );
  }
  if (mask.length !== batch * seq) throw new RangeError(`blockSparseAttentionProbabilities: mask has ${mask.length} entries for [${batch}, ${seq}]`);
  const out = new Float32Array(batch * heads * seq * seq);
  const scale = 1 / Math.sqrt(size);
  tf.tidy(() => {
    const queryBlocks = tf.reshape(q, [batch, heads, nb, bs, size]);
    const keyBlocks = tf.reshape(k, [batch, heads, nb, bs, size]);
    for (let h = 0; h < heads; h++) {
      for (let qb = 0; qb < nb; qb++) {
        const random = qb === 0 || qb === nb - 1 ? [] : Array.from(layerPlan.subarray((h * (nb - 2) + qb - 1) * r, (h * (nb - 2) + qb) * r));
        const slots = blockSparseKeySlots(nb, qb, random);
        // attention.ts masks the middle band's window and every random slot by query and key, the rest by key only.
        const middle = qb >= 2 && qb <= nb - 3;
        const local = slots.map((s) => s.kind === 'random' || (s.kind === 'window' && middle));
        const width = slots.length * bs;
        const penalty = new Float32Array(batch * bs * width);
        for (let b = 0; b < batch; b++) {
          for (let i = 0; i < bs; i++) {
            const queryReal = mask[b * seq + qb * bs + i] === 1;
            for (let slot = 0; slot < slots.length; slot++) {
              for (let t = 0; t < bs; t++) {
                const keyReal = mask[b * seq + slots[slot].block * bs + t] === 1;
                const masked = !keyReal || (local[slot] && !queryReal);
                penalty[(b * bs + i) * width + slot * bs + t] = masked ? BLOCK_SPARSE_MASK_PENALTY : 0;
              }
            }
          }
        }
        const keys = tf.reshape(
          tf.concat(
            slots.map((s) => tf.slice(keyBlocks, [0, h, s.block, 0, 0], [batch, 1, 1, bs, size])),
            2,
          ),
          [batch, width, size],
        );
        const query = tf.reshape(tf.slice(queryBlocks, [0, h, qb, 0, 0], [batch, 1, 1, bs, size]), [batch, bs, size]);
        const scores = tf.add(tf.mul(tf.matMul(query, keys, false, true), scale), tf.tensor3d(penalty, [batch, bs, width]));
        const probs = tf.softmax(scores).dataSync();
        for (let b = 0; b < batch; b++) {
          for (let i = 0; i < bs; i++) {
            const row = ((b * heads + h) * seq + qb * bs + i) * seq;
            const from = (b * bs + i) * width;
            for (let slot = 0; slot < slots.length; slot++) {
              const key = row + slots[slot].block * bs;
              for (let t = 0; t < bs; t++) out[key + t] += probs[from + slot * bs + t];
            }
          }
        }
      }
    }
  });
  return tf.tensor4d(out, [batch, heads, seq, seq]);
}

/**
 * Full attention's probabilities, [B, H, S, S]: softmax(q·kᵀ/√d + penalty) with `fullAttention`'s
 * masks (HF: keys only, `finfo.min`; `maskQueries`: TF's query ⊗ key with −10000). Without dropout:
 * these are what an eval pass (or the expectation of a training pass) uses.
 */
export function fullAttentionProbabilities(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  inputs: Pick<AttentionInputs, 'batchSize' | 'seqLength' | 'mask' | 'maskQueries'>,
): tf.Tensor4D {
  const { batchSize: batch, seqLength: seq, mask } = inputs;
  if (mask.length !== batch * seq) throw new RangeError(`fullAttentionProbabilities: mask has ${mask.length} entries for [${batch}, ${seq}]`);
  const bias = new Float32Array(batch * seq * seq);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < seq; i++) {
      const queryReal = mask[b * seq + i] === 1;
      for (let j = 0; j < seq; j++) {
        const keyReal = mask[b * seq + j] === 1;
        if (inputs.maskQueries) bias[(b * seq + i) * seq + j] = queryReal && keyReal ? 0 : TF_FULL_ATTENTION_MASK_PENALTY;
        else bias[(b * seq + i) * seq + j] = keyReal ? 0 : FULL_ATTENTION_MASK_PENALTY;
      }
    }
  }
  return tf.tidy(() => {
    const scores = tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(q.shape[3])), tf.tensor4d(bias, [batch, 1, seq, seq]));
    return tf.softmax(scores) as tf.Tensor4D;
  });
}

/** One layer's attention probabilities on a real input (see `layerAttentionProbabilities`). */
export interface LayerAttentionProbabilities {
  readonly layer: number;
  /** The attention that ran: the config's, or full attention after a short-input fallback. */
  readonly attentionType: AttentionType;
  /** The length attention saw: block-sparse pads the input to a multiple of the block size. */
  readonly seqLength: number;
  /** [B, seqLength] 0/1 row-major: the input's attention mask with the block padding as 0. */
  readonly mask: Int32Array;
  /** [B, H, seqLength, seqLength]; the caller disposes it. */
  readonly probabilities: tf.Tensor4D;
  /** The random plan block-sparse attention used. */
  readonly randomPlan?: RandomPlan;
}

/**
 * The attention probabilities of encoder layer `layer` when `model` runs `batch`: the model's forward
 * pass gives the layer's input (its hidden state at the padded length), the layer's own query and key
 * projections give q and k, and the probabilities follow the attention that pass ran (block-sparse with
 * its random plan, or full). No dropout is applied, whatever the model's mode.
 */
export function layerAttentionProbabilities(model: BigBirdModel, batch: BigBirdBatch, layer: number): LayerAttentionProbabilities {
  const { config } = model;
  if (!Number.isInteger(layer) || layer < 0 || layer >= config.num_hidden_layers) {
    throw new RangeError(`layerAttentionProbabilities: layer ${layer} is not in 0..${config.num_hidden_layers - 1}`);
  }
  const output = model.forward(batch, { logits: false, hiddenStates: true });
  const states = output.hiddenStates!;
  const x = states[layer];
  const [batchSize, seqLength] = x.shape;
  const mask = paddedMask(batch, batchSize, seqLength);
  const prefix = `bert/encoder/layer_${layer}/attention/self`;
  const heads = config.num_attention_heads;
  const size = headSize(config);
  const project = (name: string): tf.Tensor4D =>
    tf.tidy(() => {
      const kernel = model.weights.get(`${prefix}/${name}/kernel`) as tf.Tensor2D;
      const bias = model.weights.maybe(`${prefix}/${name}/bias`) as tf.Tensor1D | undefined;
      return tf.transpose(tf.reshape(dense(x, kernel, bias), [batchSize, seqLength, heads, size]), [0, 2, 1, 3]) as tf.Tensor4D;
    });
  const q = project('query');
  const k = project('key');
  try {
    const probabilities =
      output.attentionType === 'block_sparse'
        ? blockSparseAttentionProbabilities(q, k, mask, output.randomPlan!.layers[layer], {
            blockSize: config.block_size,
            numRandomBlocks: config.num_random_blocks,
          })
        : fullAttentionProbabilities(q, k, { batchSize, seqLength, mask, maskQueries: model.semantics === 'tf' });
    return {
      layer,
      attentionType: output.attentionType,
      seqLength,
      mask,
      probabilities,
      ...(output.randomPlan ? { randomPlan: output.randomPlan } : {}),
    };
  } finally {
    tf.dispose(
      [q, k, output.lastHiddenState, ...states, output.logits, output.poolerOutput, output.seqRelationshipLogits, output.loss].filter((t) => t !== undefined),
    );
  }
}

/** The batch's attention mask (default all ones) on the host, with the block padding up to `padded` as 0. */
function paddedMask(batch: BigBirdBatch, batchSize: number, padded: number): Int32Array {
  const given = batch.attentionMask;
  const seq = batch.shape?.[1] ?? (batch.inputIds instanceof Int32Array ? batch.inputIds.length / batchSize : batch.inputIds.shape[1]);
  const values = given === undefined ? new Int32Array(batchSize * seq).fill(1) : given instanceof Int32Array ? given : Int32Array.from(given.dataSync());
  const out = new Int32Array(batchSize * padded);
  for (let b = 0; b < batchSize; b++) out.set(values.subarray(b * seq, (b + 1) * seq), b * padded);
  return out;
}

/** Which query rows `blockAttentionMass` averages over, and of which example and head. */
export interface BlockMassOptions {
  readonly head: number;
  readonly blockSize: number;
  /** Default 0. */
  readonly batchIndex?: number;
  /** [B, S] 0/1: average over real queries only (a block of pad queries gets null). Default: every query. */
  readonly mask?: Int32Array;
}

/**
 * Attention per (query block, key block) for one head: for each query of the block, the probability it
 * puts on the key block's tokens, summed, then averaged over the block's queries. Each row sums to 1.
 */
export function blockAttentionMass(probabilities: tf.Tensor4D, options: BlockMassOptions): (number | null)[][] {
  const [batch, heads, seq] = probabilities.shape;
  const { head, blockSize: bs } = options;
  const b = options.batchIndex ?? 0;
  if (!(b >= 0 && b < batch && head >= 0 && head < heads)) throw new RangeError(`blockAttentionMass: example ${b}, head ${head} outside [${batch}, ${heads}]`);
  if (seq % bs !== 0) throw new RangeError(`blockAttentionMass: ${seq} tokens is not a whole number of blocks of ${bs}`);
  const nb = seq / bs;
  const values = tf.tidy(() => tf.slice(probabilities, [b, head, 0, 0], [1, 1, seq, seq]).dataSync());
  const rows: (number | null)[][] = [];
  for (let qb = 0; qb < nb; qb++) {
    const sums = new Array<number>(nb).fill(0);
    let queries = 0;
    for (let i = qb * bs; i < (qb + 1) * bs; i++) {
      if (options.mask && options.mask[b * seq + i] !== 1) continue;
      queries++;
      for (let j = 0; j < seq; j++) sums[Math.floor(j / bs)] += values[i * seq + j];
    }
    rows.push(queries === 0 ? new Array<number | null>(nb).fill(null) : sums.map((s) => s / queries));
  }
  return rows;
}
