import { fileURLToPath } from 'node:url';
import { hasPythonNumpy, runPython, SKIP_NO_PYTHON } from './python.js';

/**
 * test/helpers/bigbird_tf_replay.py: an independent float64 NumPy replay of KoBigBird's TF
 * pretraining steps (original_full attention, dropout off, MLM loss, BERT AdamWeightDecay) with a
 * hand-written backward pass (`--check` verifies it against finite differences).
 */
export const TF_REPLAY_SCRIPT = fileURLToPath(new URL('./bigbird_tf_replay.py', import.meta.url));

/** Tests that need the replay skip with this message when python3 with numpy is absent. */
export { hasPythonNumpy, SKIP_NO_PYTHON };
export const SKIP_NO_TF_REPLAY = SKIP_NO_PYTHON;

export interface TfReplayConfig {
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  /** Default 1e-12. */
  layer_norm_eps?: number;
  /** Default 0. */
  pad_token_id?: number;
}

/** One variable in TF layout (dense kernels [in, out]); values flat, row-major. */
export interface TfReplayTensor {
  shape: number[];
  values: number[];
}

/** One step's batch: [B][S] token fields, [B][P] prediction slots (padding slots: position 0, id 0, weight 0). */
export interface TfReplayBatch {
  input_ids: number[][];
  segment_ids: number[][];
  masked_lm_positions: number[][];
  masked_lm_ids: number[][];
  masked_lm_weights: number[][];
}

export interface TfReplayOptimizer {
  learning_rate: number;
  num_warmup_steps: number;
  num_train_steps: number;
  weight_decay_rate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

export interface TfReplayInput {
  config: TfReplayConfig;
  /** Keyed by TF variable name (spec §3.7). Variables the loss does not reach (pooler, NSP) pass through untouched. */
  weights: Record<string, TfReplayTensor>;
  batches: TfReplayBatch[];
  optimizer: TfReplayOptimizer;
  /** Global step before the first update (default 0). */
  start_step?: number;
  /** Consecutive batches whose gradients are averaged into one update (default 1); batches.length must be a multiple. */
  accumulate?: number;
}

export interface TfReplayOutput {
  /** Per batch, with the weights before that batch's update. */
  losses: number[];
  /** Per batch: Σ w·[argmax = label] / Σ w (0 when Σ w = 0). */
  accuracies: number[];
  /** Per update. */
  learning_rates: number[];
  /** Every input variable after all updates, flat. */
  weights: Record<string, number[]>;
  /** `<name>/AdamWeightDecayOptimizer` (m) and `<name>/AdamWeightDecayOptimizer_1` (v), only for variables that got gradients. */
  slots: Record<string, number[]>;
  global_step: number;
}

/** Runs the float64 replay on `input` (python3 with numpy required: check `hasPythonNumpy` first). */
export async function runTfReplay(input: TfReplayInput): Promise<TfReplayOutput> {
  const stdout = runPython([TF_REPLAY_SCRIPT], Buffer.from(JSON.stringify(input)));
  return JSON.parse(stdout) as TfReplayOutput;
}
