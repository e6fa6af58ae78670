import * as tf from '@tensorflow/tfjs-core';
import { gatherRows } from '../autodiff/gather-rows.js';
import type { Activation, BigBirdConfig } from './bigbird-config.js';
import { activation, dense, layerNorm } from './nn.js';
import type { BigBirdWeights } from './weights.js';

/** HF's `ignore_index`: labels with this value are not predicted. */
export const IGNORE_LABEL = -100;

/** Pooler: tanh(Dense(h[:, 0])), the [CLS] summary the NSP head reads. [B, S, H] → [B, H]. */
export function pooler(sequence: tf.Tensor3D, weights: BigBirdWeights): tf.Tensor2D {
  const [batch, , hidden] = sequence.shape;
  const first = tf.reshape(tf.slice(sequence, [0, 0, 0], [batch, 1, hidden]), [batch, hidden]);
  return tf.tanh(dense(first, weights.get('bert/pooler/dense/kernel') as tf.Tensor2D, weights.get('bert/pooler/dense/bias') as tf.Tensor1D)) as tf.Tensor2D;
}

/**
 * The MLM head on hidden states [..., H] → logits [..., V]: Dense → act → LayerNorm → the tied decoder
 * (`h · E_wordᵀ`, the word-embedding table itself, so its gradient adds to the embedding's) + output bias.
 */
export function mlmLogits(hidden: tf.Tensor, weights: BigBirdWeights, config: BigBirdConfig): tf.Tensor {
  const t = 'cls/predictions/transform';
  const transformed = activation(config.hidden_act as Activation)(
    dense(hidden, weights.get(`${t}/dense/kernel`) as tf.Tensor2D, weights.get(`${t}/dense/bias`) as tf.Tensor1D),
  );
  const normed = layerNorm(
    transformed,
    weights.get(`${t}/LayerNorm/gamma`) as tf.Tensor1D,
    weights.get(`${t}/LayerNorm/beta`) as tf.Tensor1D,
    config.layer_norm_eps,
  );
  const leading = normed.shape.slice(0, -1);
  const flat = tf.reshape(normed, [-1, config.hidden_size]) as tf.Tensor2D;
  const logits = tf.add(
    tf.matMul(flat, weights.get('bert/embeddings/word_embeddings') as tf.Tensor2D, false, true),
    weights.get('cls/predictions/output_bias'),
  );
  return tf.reshape(logits, [...leading, config.vocab_size]);
}

/** NSP logits [B, 2] from the pooled output: `pooled · output_weightsᵀ + output_bias` (TF stores the weights [2, H]). */
export function nspLogits(pooled: tf.Tensor2D, weights: BigBirdWeights): tf.Tensor2D {
  return tf.add(
    tf.matMul(pooled, weights.get('cls/seq_relationship/output_weights') as tf.Tensor2D, false, true),
    weights.get('cls/seq_relationship/output_bias'),
  ) as tf.Tensor2D;
}

/**
 * Mean cross-entropy of logits [N, C] against class ids, torch's `CrossEntropyLoss()`: −mean log p(label).
 * The label's log-probability is picked with `gatherRows` on the flattened [N·C] table, so the
 * backward pass is one scatter rather than an [N, C] one-hot.
 */
export function crossEntropy(logits: tf.Tensor2D, labels: Int32Array): tf.Scalar {
  const [n, classes] = logits.shape;
  if (labels.length !== n) throw new RangeError(`crossEntropy: ${labels.length} labels for ${n} rows of logits`);
  const picks = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (!(labels[i] >= 0 && labels[i] < classes)) throw new RangeError(`crossEntropy: label ${labels[i]} of row ${i} is outside 0..${classes - 1}`);
    picks[i] = i * classes + labels[i];
  }
  const logProbs = tf.reshape(tf.logSoftmax(logits), [n * classes]);
  return tf.neg(tf.mean(gatherRows(logProbs, picks))) as tf.Scalar;
}

/** The flat positions (b·S + s) with a label other than −100, and those labels. */
export function labelledPositions(labels: Int32Array): { positions: Int32Array; targets: Int32Array } {
  let count = 0;
  for (const label of labels) if (label !== IGNORE_LABEL) count++;
  const positions = new Int32Array(count);
  const targets = new Int32Array(count);
  for (let i = 0, j = 0; i < labels.length; i++) {
    if (labels[i] === IGNORE_LABEL) continue;
    positions[j] = i;
    targets[j++] = labels[i];
  }
  return { positions, targets };
}

/**
 * HF's MLM loss (mean cross-entropy over labels ≠ −100) from the last hidden state [B, S, H] and
 * labels [B, S]. The head runs on the labelled positions only: every position's logits depend on that
 * position alone, so this is HF's loss without the [B, S, V] logits (at 4096 tokens and a 32,500-word
 * vocabulary those would be 2 GB for a batch of 4).
 */
export function mlmLoss(sequence: tf.Tensor3D, labels: Int32Array, weights: BigBirdWeights, config: BigBirdConfig): tf.Scalar {
  const [batch, seq, hidden] = sequence.shape;
  if (labels.length !== batch * seq) throw new RangeError(`MLM loss: ${labels.length} labels for a [${batch}, ${seq}] batch`);
  const { positions, targets } = labelledPositions(labels);
  if (positions.length === 0) throw new RangeError('MLM loss: every label is -100, nothing to predict (HF would return NaN)');
  const picked = gatherRows(tf.reshape(sequence, [batch * seq, hidden]), positions);
  return crossEntropy(mlmLogits(picked, weights, config) as tf.Tensor2D, targets);
}

/** The reference trainer's masked-LM targets of a batch, [B, P] each, as the TFRecords hold them. */
export interface MaskedLmTargets {
  /** Position of each prediction in its example (0 in padding slots). */
  readonly positions: Int32Array;
  /** The original token at each position (0 in padding slots). */
  readonly ids: Int32Array;
  /** 1 for a prediction, 0 for a padding slot. */
  readonly weights: Float32Array;
  /** P, the slots per example (`max_predictions_per_seq`). */
  readonly perExample: number;
}

/**
 * KoBigBird's MLM loss (spec §3.4): Σ w·(−log p(label)) / (Σ w + 1e-5) over every slot of the batch,
 * from the hidden states [B, S, H] gathered at the positions. A slot of weight 0 adds exactly nothing
 * to either sum, so only the weighted ones are computed (all of them when none is weighted: the loss is
 * then 0, as the reference's). `onAccuracy` receives Σ w·[argmax = label] / Σ w, the reference's
 * `masked_lm_accuracy`.
 */
export function referenceMlmLoss(
  sequence: tf.Tensor3D,
  targets: MaskedLmTargets,
  weights: BigBirdWeights,
  config: BigBirdConfig,
  onAccuracy?: (accuracy: number) => void,
): tf.Scalar {
  const [batch, seq, hidden] = sequence.shape;
  const slots = batch * targets.perExample;
  for (const [name, values] of [
    ['positions', targets.positions],
    ['ids', targets.ids],
    ['weights', targets.weights],
  ] as const) {
    if (values.length !== slots)
      throw new RangeError(`masked-LM targets: ${name} has ${values.length} values, [${batch}, ${targets.perExample}] needs ${slots}`);
  }
  const weighted: number[] = [];
  for (let k = 0; k < slots; k++) if (targets.weights[k] !== 0) weighted.push(k);
  const used = weighted.length > 0 ? weighted : Array.from({ length: slots }, (_, k) => k);
  const rows = new Int32Array(used.length);
  const picks = new Int32Array(used.length);
  const slotWeights = new Float32Array(used.length);
  used.forEach((k, i) => {
    const example = Math.floor(k / targets.perExample);
    const position = targets.positions[k];
    const id = targets.ids[k];
    if (!(position >= 0 && position < seq)) throw new RangeError(`masked-LM targets: position ${position} of example ${example} is outside 0..${seq - 1}`);
    if (!(id >= 0 && id < config.vocab_size))
      throw new RangeError(`masked-LM targets: label ${id} of example ${example} is outside 0..${config.vocab_size - 1}`);
    rows[i] = example * seq + position;
    picks[i] = i * config.vocab_size + id;
    slotWeights[i] = targets.weights[k];
  });
  const picked = gatherRows(tf.reshape(sequence, [batch * seq, hidden]), rows);
  const logits = mlmLogits(picked, weights, config) as tf.Tensor2D;
  if (onAccuracy) {
    const predicted = tf.argMax(logits, 1).dataSync();
    let correct = 0;
    let total = 0;
    for (let i = 0; i < used.length; i++) {
      total += slotWeights[i];
      if (predicted[i] === targets.ids[used[i]]) correct += slotWeights[i];
    }
    onAccuracy(total > 0 ? correct / total : 0);
  }
  const nll = tf.neg(gatherRows(tf.reshape(tf.logSoftmax(logits), [used.length * config.vocab_size]), picks));
  const w = tf.tensor1d(slotWeights);
  return tf.div(tf.sum(tf.mul(nll, w)), tf.add(tf.sum(w), 1e-5)) as tf.Scalar;
}
