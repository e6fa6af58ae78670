import * as tf from '@tensorflow/tfjs-core';
import { leanVariableGrads } from '../autodiff/lean-gradients.js';
import { activationBudgetBytes } from '../backend/activation-budget.js';
import type { AttentionInputs } from './attention.js';
import { keptAttentionBytes } from './attention-layout.js';
import { type AttentionType, type BigBirdConfig, checkModelConfig, maxTokensForFullAttention } from './bigbird-config.js';
import { embed } from './embeddings.js';
import { encoderLayer } from './encoder.js';
import { crossEntropy, type MaskedLmTargets, mlmLogits, mlmLoss, nspLogits, pooler, referenceMlmLoss } from './heads.js';
import { dropoutSeeds } from './nn.js';
import { type RandomPlan, type RandomPlanMode, type RandomPlanReference, randomPlanForConfig } from './random-plans.js';
import type { BigBirdHead } from './variables.js';
import type { BigBirdWeights } from './weights.js';

/**
 * One batch. Token arrays are [B, S] int32, given as tensors or as row-major host arrays with `shape`
 * (the model reads them on the host anyway: masks and label positions are built there).
 */
export interface BigBirdBatch {
  readonly inputIds: tf.Tensor2D | Int32Array;
  /** [B, S] 0/1; default all ones (HF's default). For TF numerics pass `inputIds != pad`. */
  readonly attentionMask?: tf.Tensor2D | Int32Array;
  /** [B, S]; default all zeros. */
  readonly tokenTypeIds?: tf.Tensor2D | Int32Array;
  /** [B, S] MLM targets, −100 where nothing is predicted. */
  readonly labels?: tf.Tensor2D | Int32Array;
  /**
   * The reference trainer's MLM targets instead of `labels`: positions, original ids and weights, [B, P]
   * each, as the TFRecords hold them. The loss is then the reference's Σ w·(−log p) / (Σ w + 1e-5).
   */
  readonly maskedLm?: MaskedLmTargets;
  /** [B] NSP targets (PreTraining only; added to the loss only together with `labels`, as in HF). */
  readonly nextSentenceLabel?: tf.Tensor1D | Int32Array;
  /** [B, S], required when the arrays above are host arrays. */
  readonly shape?: readonly [number, number];
  /**
   * The random plan to use (block-sparse only), `[layers][heads][nb-2][r]` for the *padded* length, e.g.
   * `bigBirdRandomPlan({ ..., explicitLayers })`. Default: the model's own, HF's all-zero plan in eval
   * mode and the seeded training plan in train mode.
   */
  readonly randomPlan?: RandomPlan;
  /**
   * Seed of this pass's dropout masks in train mode: the same seed draws the same masks, which a
   * resumed training run needs. Default: unseeded.
   */
  readonly dropoutSeed?: number;
}

export interface ForwardOptions {
  /** Compute the MLM logits of every position (default true). The loss never needs them. */
  readonly logits?: boolean;
  /** Keep the output of the embeddings and of every layer (default true). */
  readonly hiddenStates?: boolean;
}

export interface BigBirdOutput {
  /** [B, S, H] sliced back to the input length. */
  readonly lastHiddenState: tf.Tensor3D;
  /** Embeddings output and each layer's output, [B, S', H] at the encoder's (block-padded) length S', as HF returns them. */
  readonly hiddenStates?: tf.Tensor3D[];
  /** MLM logits [B, S, V] (HF's `logits` / `prediction_logits`). */
  readonly logits?: tf.Tensor3D;
  /** PreTraining: tanh(Dense(h[:, 0])) [B, H]. */
  readonly poolerOutput?: tf.Tensor2D;
  /** PreTraining: NSP logits [B, 2]. */
  readonly seqRelationshipLogits?: tf.Tensor2D;
  /** MLM loss (+ NSP loss), when labels or masked-LM targets are given. */
  readonly loss?: tf.Scalar;
  /** The attention that actually ran. */
  readonly attentionType: AttentionType;
  /** The random plan block-sparse attention used (undefined in full attention). */
  readonly randomPlan?: RandomPlan;
}

export interface LossAndGrads {
  readonly loss: tf.Scalar;
  /** d loss / d variable, by TF variable name, for every variable the loss depends on (others have none, as HF's grad None). */
  readonly grads: Map<string, tf.Tensor>;
  /** With masked-LM targets: Σ w·[argmax = label] / Σ w, the reference's `masked_lm_accuracy`. */
  readonly maskedLmAccuracy?: number;
}

/**
 * Whose BigBird to compute where KoBigBird's TensorFlow model and Hugging Face's differ:
 * - `hf`: block-sparse falls back to full attention (for good) at ≤ (5 + 2r)·block tokens; full
 *   attention masks keys only, with `finfo.min`; HF's random plan (all zeros in eval mode).
 * - `tf`: full attention at ≤ 512 tokens (KoBigBird forces it when `max_encoder_length ≤ 512`); full
 *   attention masks `from ⊗ to` with −10000, so padded queries are masked too; the TF random plan,
 *   fixed in eval as in training. What `kbb train` runs, so its checkpoints mean what the TF trainer's do.
 */
export type BigBirdSemantics = 'hf' | 'tf';

/** The length at or below which KoBigBird's TF model runs `original_full` whatever `attention_type` says. */
export const TF_FULL_ATTENTION_MAX_LENGTH = 512;

/** The attention KoBigBird's TF model runs at `seqLength` tokens: `original_full` at ≤ 512, else the config's. */
export function tfAttentionType(config: BigBirdConfig, seqLength: number): AttentionType {
  return seqLength <= TF_FULL_ATTENTION_MAX_LENGTH ? 'original_full' : config.attention_type;
}

export interface BigBirdModelOptions {
  readonly config: BigBirdConfig;
  readonly weights: BigBirdWeights;
  /** Default: the head the weights were loaded for. */
  readonly head?: BigBirdHead;
  /** 'eval' (default, HF's `eval()`: no dropout, all-zero random plan) or 'train'. */
  readonly mode?: RandomPlanMode;
  /** Whose model to compute where TF and HF differ (default 'hf'); see `BigBirdSemantics`. */
  readonly semantics?: BigBirdSemantics;
  /** Whose training plan to draw: HF's or the TF reference's (they differ at length 2048); default the `semantics`'. */
  readonly planReference?: RandomPlanReference;
  /** Dropout rates in train mode; default the config's `hidden_dropout_prob` / `attention_probs_dropout_prob`. */
  readonly hiddenDropout?: number;
  readonly attentionDropout?: number;
  /** Where the one-time fallback notice goes (default console.warn). */
  readonly warn?: (message: string) => void;
  /**
   * Rebuild each layer's attention in the backward pass instead of keeping its scores (the gradients
   * are the same bits). Default: only when all layers' kept attention would exceed the backend's
   * `activationBudgetBytes()` (lib/backend/activation-budget.ts).
   */
  readonly recomputeAttention?: boolean;
}

interface HostBatch {
  readonly batch: number;
  readonly seq: number;
  readonly inputIds: Int32Array;
  readonly attentionMask: Int32Array;
  readonly tokenTypeIds: Int32Array;
  readonly labels?: Int32Array;
  readonly maskedLm?: MaskedLmTargets;
  readonly nextSentenceLabel?: Int32Array;
  readonly dropoutSeed?: number;
}

/**
 * HF's `BigBirdForMaskedLM` / `BigBirdForPreTraining` in TensorFlow.js: embeddings, post-norm
 * encoder layers with block-sparse or full attention, pooler, MLM and NSP heads, loss.
 *
 * Like HF, a block-sparse model whose input is at most (5 + 2r)·block tokens switches itself to full
 * attention, and stays switched for later calls (`attentionType` shows it). Block-sparse inputs whose
 * length is not a multiple of the block size are padded (pad id, mask 0, token type 0, positions
 * continuing) and the outputs sliced back; `hiddenStates` keep the padded length, as HF's do.
 */
export class BigBirdModel {
  readonly config: BigBirdConfig;
  readonly weights: BigBirdWeights;
  readonly head: BigBirdHead;
  mode: RandomPlanMode;
  readonly semantics: BigBirdSemantics;
  private effectiveAttention: AttentionType;
  private readonly planReference: RandomPlanReference;
  private readonly warn: (message: string) => void;
  private readonly hiddenDropout: number;
  private readonly attentionDropout: number;
  private readonly recomputeAttention: boolean | undefined;
  private readonly plans = new Map<string, RandomPlan>();

  constructor(options: BigBirdModelOptions) {
    checkModelConfig(options.config);
    this.config = options.config;
    this.weights = options.weights;
    this.head = options.head ?? options.weights.head;
    if (this.head === 'pretraining' && options.weights.head !== 'pretraining') {
      throw new Error(
        `${options.weights.source}: weights loaded for a ${options.weights.head} model cannot run the pretraining head (no NSP parameters were required)`,
      );
    }
    this.mode = options.mode ?? 'eval';
    this.effectiveAttention = options.config.attention_type;
    this.semantics = options.semantics ?? 'hf';
    this.planReference = options.planReference ?? this.semantics;
    this.warn = options.warn ?? ((message) => console.warn(message));
    this.hiddenDropout = options.hiddenDropout ?? options.config.hidden_dropout_prob;
    this.attentionDropout = options.attentionDropout ?? options.config.attention_probs_dropout_prob;
    this.recomputeAttention = options.recomputeAttention;
    for (const [name, rate] of [
      ['hiddenDropout', this.hiddenDropout],
      ['attentionDropout', this.attentionDropout],
    ] as const) {
      if (!(rate >= 0 && rate < 1)) throw new RangeError(`BigBirdModel: ${name} must be in [0, 1), got ${rate}`);
    }
  }

  /** The attention the next forward pass uses: the config's, or `original_full` after the short-input fallback. */
  get attentionType(): AttentionType {
    return this.effectiveAttention;
  }

  train(): this {
    this.mode = 'train';
    return this;
  }

  eval(): this {
    this.mode = 'eval';
    return this;
  }

  /**
   * The model's own random plan at a (padded) length: HF's all-zero plan in eval mode, the seeded
   * per-layer plan in train mode (the same at every step, as HF's `np.random.seed(layer)`).
   */
  randomPlan(paddedLength: number): RandomPlan {
    const key = `${this.mode}/${paddedLength}`;
    let plan = this.plans.get(key);
    if (!plan) {
      plan = randomPlanForConfig(this.config, paddedLength, this.mode, this.planReference);
      this.plans.set(key, plan);
    }
    return plan;
  }

  /** Outputs as HF's model returns them (see `BigBirdOutput`); the caller disposes the tensors. */
  forward(batch: BigBirdBatch, options: ForwardOptions = {}): BigBirdOutput {
    const host = readBatch(batch, this.config);
    const attentionType = this.attentionFor(host.seq);
    const padded = this.paddedLength(host.seq, attentionType);
    const plan = this.planFor(padded, attentionType, batch.randomPlan);
    const tensors = tf.tidy(() => {
      const states = this.encode(host, padded, attentionType, plan);
      const sequence = states[states.length - 1];
      const lastHiddenState = padded === host.seq ? sequence : tf.slice(sequence, [0, 0, 0], [host.batch, host.seq, this.config.hidden_size]);
      const out: Record<string, tf.Tensor | tf.Tensor[]> = { lastHiddenState };
      if (options.hiddenStates ?? true) out.hiddenStates = states;
      if (options.logits ?? true) out.logits = mlmLogits(lastHiddenState, this.weights, this.config);
      let nsp: tf.Tensor2D | undefined;
      if (this.head === 'pretraining') {
        const pooled = pooler(sequence, this.weights);
        nsp = nspLogits(pooled, this.weights);
        out.poolerOutput = pooled;
        out.seqRelationshipLogits = nsp;
      }
      if (host.labels || host.maskedLm) out.loss = this.lossFrom(host.maskedLm ? sequence : lastHiddenState, host, nsp);
      return out;
    }) as unknown as Omit<BigBirdOutput, 'attentionType' | 'randomPlan'>;
    return { ...tensors, attentionType, ...(plan ? { randomPlan: plan } : {}) };
  }

  /**
   * The loss alone: MLM cross-entropy (HF's mean over `labels`, or the reference's over `maskedLm`),
   * plus NSP when NSP labels are given too. `onAccuracy` receives the masked-LM accuracy (`maskedLm` only).
   */
  loss(batch: BigBirdBatch, onAccuracy?: (accuracy: number) => void): tf.Scalar {
    const host = readBatch(batch, this.config);
    if (!host.labels && !host.maskedLm) throw new Error('BigBirdModel.loss: the batch has no labels');
    const attentionType = this.attentionFor(host.seq);
    const padded = this.paddedLength(host.seq, attentionType);
    const plan = this.planFor(padded, attentionType, batch.randomPlan);
    return tf.tidy(() => {
      const states = this.encode(host, padded, attentionType, plan);
      const sequence = states[states.length - 1];
      const nsp = this.head === 'pretraining' && host.nextSentenceLabel ? nspLogits(pooler(sequence, this.weights), this.weights) : undefined;
      // The reference's targets are positions, which the padded sequence has at the same rows.
      const sliced = host.maskedLm || padded === host.seq ? sequence : tf.slice(sequence, [0, 0, 0], [host.batch, host.seq, this.config.hidden_size]);
      return this.lossFrom(sliced, host, nsp, onAccuracy);
    });
  }

  /**
   * The loss and its gradient with respect to every trainable variable, by TF variable name: what a
   * training step needs. The gradient of `bert/embeddings/word_embeddings` includes the tied decoder's.
   * Variables the loss does not reach (the pooler and NSP head without NSP labels) get no entry.
   */
  lossAndGrads(batch: BigBirdBatch): LossAndGrads {
    const names = new Map<string, string>();
    const list: tf.Variable[] = [];
    for (const [tfName, variable] of this.weights.variables) {
      names.set(variable.name, tfName);
      list.push(variable);
    }
    let maskedLmAccuracy: number | undefined;
    const { value, grads } = leanVariableGrads(
      () =>
        this.loss(batch, (accuracy) => {
          maskedLmAccuracy = accuracy;
        }),
      list,
    );
    const byTfName = new Map<string, tf.Tensor>();
    for (const [variableName, grad] of Object.entries(grads)) byTfName.set(names.get(variableName)!, grad);
    return { loss: value, grads: byTfName, ...(maskedLmAccuracy === undefined ? {} : { maskedLmAccuracy }) };
  }

  dispose(): void {
    this.weights.dispose();
  }

  /** The attention a pass at this (unpadded) length runs: TF's rule or HF's sticky fallback. */
  private attentionFor(seq: number): AttentionType {
    if (this.semantics === 'tf') return tfAttentionType(this.config, seq);
    return this.switchIfShort(seq);
  }

  /** HF's sticky fallback: block-sparse at a short length turns this model into a full-attention one for good. */
  private switchIfShort(seq: number): AttentionType {
    const limit = maxTokensForFullAttention(this.config);
    if (this.effectiveAttention === 'block_sparse' && seq <= limit) {
      this.warn(
        `BigBird: block_sparse attention needs more than (5 + 2·num_random_blocks)·block_size = ${limit} tokens, got ${seq}; ` +
          'switching this model to original_full (for this and later calls), as Hugging Face does',
      );
      this.effectiveAttention = 'original_full';
    }
    return this.effectiveAttention;
  }

  /** Block-sparse attention runs on a multiple of the block size; full attention on the length as given. */
  private paddedLength(seq: number, attentionType: AttentionType): number {
    const bs = this.config.block_size;
    return attentionType === 'block_sparse' ? Math.ceil(seq / bs) * bs : seq;
  }

  /** The random plan of a block-sparse pass (given, or the model's own), checked against the geometry. */
  private planFor(padded: number, attentionType: AttentionType, explicitPlan: RandomPlan | undefined): RandomPlan | undefined {
    if (attentionType !== 'block_sparse') return undefined;
    const { config } = this;
    const plan = explicitPlan ?? this.randomPlan(padded);
    const expected = [config.num_hidden_layers, config.num_attention_heads, padded / config.block_size, config.num_random_blocks];
    const got = [plan.numLayers, plan.numHeads, plan.numBlocks, plan.numRandomBlocks];
    if (got.some((v, i) => v !== expected[i])) {
      throw new RangeError(
        `BigBirdModel: the random plan is for [layers ${got[0]}, heads ${got[1]}, blocks ${got[2]}, r ${got[3]}], the model needs [${expected.join(', ')}] at padded length ${padded}`,
      );
    }
    return plan;
  }

  /** Whether keeping every layer's attention for the backward pass would exceed the backend's activation budget. */
  private attentionExceedsBudget(batch: number, padded: number, attentionType: AttentionType): boolean {
    const { config } = this;
    const perLayer = keptAttentionBytes(attentionType, batch, config.num_attention_heads, padded, config.block_size, config.num_random_blocks);
    return perLayer * config.num_hidden_layers > activationBudgetBytes();
  }

  /** Embeddings and encoder: every hidden state at the padded length (pad id, mask 0, type 0 appended). Runs inside the caller's tidy. */
  private encode(host: HostBatch, padded: number, attentionType: AttentionType, plan: RandomPlan | undefined): tf.Tensor3D[] {
    const { config } = this;
    const ids = padTo(host.inputIds, host.batch, host.seq, padded, config.pad_token_id ?? 0);
    const types = padTo(host.tokenTypeIds, host.batch, host.seq, padded, 0);
    const mask = padTo(host.attentionMask, host.batch, host.seq, padded, 0);
    const training = this.mode === 'train';
    const hiddenDropout = training ? this.hiddenDropout : 0;
    const nextDropoutSeed = dropoutSeeds(training ? host.dropoutSeed : undefined);
    const inputs: AttentionInputs = {
      batchSize: host.batch,
      seqLength: padded,
      mask,
      probsDropout: training ? this.attentionDropout : 0,
      maskQueries: this.semantics === 'tf',
      nextDropoutSeed,
      recompute: this.recomputeAttention ?? this.attentionExceedsBudget(host.batch, padded, attentionType),
    };
    // One tidy per module: what a gradient needs is saved (kept) by the engine, so the tidies only free the
    // intermediates nothing will read again, layer by layer rather than all at the end of the pass.
    const states: tf.Tensor3D[] = [tf.tidy(() => embed(this.weights, config, ids, types, host.batch, padded, hiddenDropout, nextDropoutSeed()))];
    for (let layer = 0; layer < config.num_hidden_layers; layer++) {
      states.push(tf.tidy(() => encoderLayer(states[layer], this.weights, config, layer, attentionType, inputs, plan?.layers[layer], hiddenDropout)));
    }
    return states;
  }

  private lossFrom(sequence: tf.Tensor3D, host: HostBatch, nsp: tf.Tensor2D | undefined, onAccuracy?: (accuracy: number) => void): tf.Scalar {
    const mlm = host.maskedLm
      ? referenceMlmLoss(sequence, host.maskedLm, this.weights, this.config, onAccuracy)
      : mlmLoss(sequence, host.labels!, this.weights, this.config);
    if (!nsp || !host.nextSentenceLabel) return mlm;
    return tf.add(mlm, crossEntropy(nsp, host.nextSentenceLabel));
  }
}

/** `[B, S]` → `[B, S']` with `value` appended to every row. */
function padTo(values: Int32Array, batch: number, seq: number, padded: number, value: number): Int32Array {
  if (padded === seq) return values;
  const out = new Int32Array(batch * padded).fill(value);
  for (let b = 0; b < batch; b++) out.set(values.subarray(b * seq, (b + 1) * seq), b * padded);
  return out;
}

function readBatch(batch: BigBirdBatch, config: BigBirdConfig): HostBatch {
  const shape = batch.inputIds instanceof Int32Array ? batch.shape : (batch.inputIds.shape as [number, number]);
  if (!shape) throw new Error('BigBirdBatch: inputIds is a host array, so shape [batch, seq] is required');
  const [b, s] = shape;
  if (!(Number.isSafeInteger(b) && b > 0 && Number.isSafeInteger(s) && s > 0)) throw new RangeError(`BigBirdBatch: bad shape [${shape.join(', ')}]`);
  const read = (name: string, value: tf.Tensor | Int32Array | undefined, length: number): Int32Array | undefined => {
    if (value === undefined) return undefined;
    const data = value instanceof Int32Array ? value : value.dtype === 'int32' ? (value.dataSync() as Int32Array) : Int32Array.from(value.dataSync());
    if (data.length !== length) throw new RangeError(`BigBirdBatch: ${name} has ${data.length} values, expected ${length} for [${b}, ${s}]`);
    return data;
  };
  const inputIds = read('inputIds', batch.inputIds, b * s)!;
  const attentionMask = read('attentionMask', batch.attentionMask, b * s) ?? new Int32Array(b * s).fill(1);
  for (const m of attentionMask) if (m !== 0 && m !== 1) throw new RangeError(`BigBirdBatch: attentionMask must be 0/1, got ${m}`);
  const tokenTypeIds = read('tokenTypeIds', batch.tokenTypeIds, b * s) ?? new Int32Array(b * s);
  const labels = read('labels', batch.labels, b * s);
  if (labels)
    for (const l of labels)
      if (l !== -100 && !(l >= 0 && l < config.vocab_size))
        throw new RangeError(`BigBirdBatch: label ${l} is neither -100 nor a token id below ${config.vocab_size}`);
  const nextSentenceLabel = read('nextSentenceLabel', batch.nextSentenceLabel, b);
  return { batch: b, seq: s, inputIds, attentionMask, tokenTypeIds, labels, maskedLm: batch.maskedLm, nextSentenceLabel, dropoutSeed: batch.dropoutSeed };
}
