import { SAMPLE_BUILD_SETTINGS } from '../pretraining/build-defaults.js';
import type { SpecialTokenKey } from '../tokenizer/load-tokenizer.js';

/**
 * `kbb train`'s settings: the flags of KoBigBird's `run_pretraining.py` and `kobigbird/flags.py`,
 * with their names and defaults (spec §3.1), and kbb's own. They are written, with the tokenizer's
 * ids, to `pretrain_config.json`.
 */
export interface TrainFlags {
  /** The folder of `pretrain_data.tfrecord*` files. */
  readonly data_dir: string;
  /** Checkpoints, event files, `pretrain_config.json` and `tokenizer/` go here; a checkpoint already here is resumed. */
  readonly output_dir: string;
  /** A BERT TF v1 checkpoint to warm-start from (spec §3.6), or a BigBird one to start from whole. */
  readonly init_checkpoint: string | null;
  /** The tokenizer folder; its vocabulary size and special-token ids go into the config. */
  readonly tokenizer_dir: string;
  /** Tokens per example (S); every record must have this many. */
  readonly max_encoder_length: number;
  /** Prediction slots per example (P); every record must have this many. */
  readonly max_predictions_per_seq: number;
  /** Recorded only (the masking was done when the data was built). */
  readonly masked_lm_prob: number;
  readonly do_train: boolean;
  /** Evaluate after training on `max_eval_steps` batches, written to `eval_results.txt`. */
  readonly do_eval: boolean;
  /** Examples per batch (the reference's per-core batch). */
  readonly train_batch_size: number;
  readonly eval_batch_size: number;
  /** Only `AdamWeightDecay`, the reference's default. */
  readonly optimizer: string;
  /** The peak learning rate, after warm-up. */
  readonly learning_rate: number;
  readonly num_train_steps: number;
  readonly num_warmup_steps: number;
  /** A checkpoint every this many steps (and at the last step). */
  readonly save_checkpoints_steps: number;
  readonly max_eval_steps: number;
  /** Add the next-sentence loss (the builder writes a dummy label 0). */
  readonly use_nsp: boolean;
  /** How many checkpoints the `checkpoint` file keeps; older ones are deleted. */
  readonly keep_checkpoint_max: number;
  /** With a BERT `init_checkpoint`: a fresh position table instead of BERT's 512 rows. */
  readonly random_pos_emb: boolean;
  /** Seeds the data order, the fresh weights and every dropout mask. */
  readonly seed: number;

  readonly attention_probs_dropout_prob: number;
  /** Only `gelu`, which in KoBigBird's TF code is the tanh form (Hugging Face's `gelu_new`). */
  readonly hidden_act: string;
  readonly hidden_dropout_prob: number;
  readonly hidden_size: number;
  readonly initializer_range: number;
  readonly intermediate_size: number;
  readonly max_position_embeddings: number;
  readonly num_attention_heads: number;
  readonly num_hidden_layers: number;
  /** Only true: the model always adds token-type embeddings. */
  readonly use_token_type: boolean;
  readonly type_vocab_size: number;
  readonly use_bias: boolean;
  readonly rescale_embedding: boolean;
  /** Recorded only: kbb always recomputes attention and gelu in the backward pass. */
  readonly use_gradient_checkpointing: boolean;
  /** Only `bert`, the variable scope the checkpoints use. */
  readonly scope: string;
  /** `block_sparse` or `original_full` (full attention anyway at `max_encoder_length` ≤ 512). */
  readonly attention_type: string;
  /** Only `postnorm`. */
  readonly norm_type: string;
  readonly block_size: number;
  readonly num_rand_blocks: number;
  readonly weight_decay_rate: number;
  readonly optimizer_beta1: number;
  readonly optimizer_beta2: number;
  readonly optimizer_epsilon: number;

  /** TPU flags: recorded, not used locally. */
  readonly use_tpu: boolean;
  readonly tpu_name: string | null;
  readonly tpu_zone: string | null;
  readonly tpu_job_name: string | null;
  readonly gcp_project: string | null;
  readonly master: string | null;
  readonly num_tpu_cores: number;
  readonly iterations_per_loop: number;

  /**
   * kbb's own: batches whose gradients are averaged into one update, as the reference's TPU cores'
   * are, so one machine reaches its global batch of 32 (4 × 8 cores) without holding 32 examples.
   */
  readonly gradient_accumulation_steps: number;
  /**
   * kbb's own: start afresh, removing an earlier run's checkpoints, kbb state, event files and results
   * from `output_dir` (without it a checkpoint there is resumed). Other files are left alone.
   */
  readonly overwrite: boolean;
}

/** The reference's defaults (spec §3.1), and kbb's for its own flag. */
export const TRAIN_DEFAULTS: TrainFlags = Object.freeze({
  data_dir: 'pretrain_tfrecords',
  output_dir: '/tmp/bigb',
  init_checkpoint: null,
  tokenizer_dir: 'tokenizer',
  max_encoder_length: 4096,
  max_predictions_per_seq: 640,
  masked_lm_prob: 0.15,
  do_train: true,
  do_eval: false,
  train_batch_size: 4,
  eval_batch_size: 4,
  optimizer: 'AdamWeightDecay',
  learning_rate: 1e-4,
  num_train_steps: 100000,
  num_warmup_steps: 10000,
  save_checkpoints_steps: 1000,
  max_eval_steps: 100,
  use_nsp: false,
  keep_checkpoint_max: 5,
  random_pos_emb: true,
  seed: 42,

  attention_probs_dropout_prob: 0.1,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  hidden_size: 768,
  initializer_range: 0.02,
  intermediate_size: 3072,
  max_position_embeddings: 4096,
  num_attention_heads: 12,
  num_hidden_layers: 12,
  use_token_type: true,
  type_vocab_size: 2,
  use_bias: true,
  rescale_embedding: false,
  use_gradient_checkpointing: false,
  scope: 'bert',
  attention_type: 'block_sparse',
  norm_type: 'postnorm',
  block_size: 16,
  num_rand_blocks: 3,
  weight_decay_rate: 0.01,
  optimizer_beta1: 0.9,
  optimizer_beta2: 0.999,
  optimizer_epsilon: 1e-6,

  use_tpu: false,
  tpu_name: null,
  tpu_zone: null,
  tpu_job_name: null,
  gcp_project: null,
  master: null,
  num_tpu_cores: 8,
  iterations_per_loop: 200,

  gradient_accumulation_steps: 1,
  overwrite: false,
});

/**
 * A tiny BigBird that learns on the sample data in seconds (its loss falls from ln(vocabulary) by
 * about 15% in 120 steps on two cores): what `npm start` and the training notebook train. The lengths
 * are those of `SAMPLE_BUILD_SETTINGS`.
 */
export const SAMPLE_TRAIN_FLAGS: Partial<TrainFlags> = Object.freeze({
  max_encoder_length: SAMPLE_BUILD_SETTINGS.maxSeqLength,
  max_predictions_per_seq: SAMPLE_BUILD_SETTINGS.maxPredictionsPerSeq,
  max_position_embeddings: SAMPLE_BUILD_SETTINGS.maxSeqLength,
  hidden_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  intermediate_size: 64,
  train_batch_size: 8,
  num_train_steps: 120,
  num_warmup_steps: 12,
  learning_rate: 5e-3,
  save_checkpoints_steps: 60,
});

/** The TPU flags: accepted so the reference's command lines paste unchanged, but nothing here uses them. */
export const TPU_FLAGS = ['use_tpu', 'tpu_name', 'tpu_zone', 'tpu_job_name', 'gcp_project', 'master', 'num_tpu_cores', 'iterations_per_loop'] as const;

/** Flags that are run settings, not model or training settings: the reference leaves them out of `pretrain_config.json`. */
const NOT_IN_CONFIG: readonly (keyof TrainFlags)[] = ['data_dir', 'output_dir', 'init_checkpoint', 'save_checkpoints_steps', 'overwrite'];

/** The ids `pretrain_config.json` takes from the tokenizer, by the key it writes. */
export const TOKENIZER_ID_KEYS: Readonly<Record<string, SpecialTokenKey>> = {
  pad_token_id: 'pad_token',
  unk_token_id: 'unk_token',
  cls_token_id: 'cls_token',
  sep_token_id: 'sep_token',
  mask_token_id: 'mask_token',
  bos_token_id: 'bos_token',
  eos_token_id: 'eos_token',
};

/**
 * The `pretrain_config.json` object (spec §3.1): every flag but the run's paths and checkpoint
 * interval, plus the tokenizer's vocabulary size and special-token ids (null for one it lacks).
 * `formatTfConfigJson` writes it with keys sorted and an indent of 4, as the reference does.
 */
export function pretrainConfig(
  flags: TrainFlags,
  tokenizer: { readonly vocabSize: number; readonly ids: Readonly<Record<string, number | null>> },
): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flags)) if (!NOT_IN_CONFIG.includes(key as keyof TrainFlags)) config[key] = value;
  config.vocab_size = tokenizer.vocabSize;
  for (const key of Object.keys(TOKENIZER_ID_KEYS)) config[key] = tokenizer.ids[key] ?? null;
  return config;
}

/**
 * What the flags ask that kbb cannot do, as one message per problem, each naming its flag; empty when
 * all is well: counts are integers in range, lengths fit the position table and the attention
 * blocks, probabilities lie in [0, 1], rates are positive, and only what kbb implements is asked.
 */
export function trainFlagProblems(flags: TrainFlags): string[] {
  const problems: string[] = [];
  const got = (value: unknown): string => `got ${JSON.stringify(value) ?? String(value)}`;
  const positive = (key: keyof TrainFlags, allowZero = false): void => {
    const value = flags[key];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < (allowZero ? 0 : 1)) {
      problems.push(`--${key} must be a ${allowZero ? 'non-negative' : 'positive'} integer, ${got(value)}`);
    }
  };
  /** A finite number that `ok` accepts; `what` says which. */
  const inRange = (key: keyof TrainFlags, what: string, ok: (value: number) => boolean): void => {
    const value = flags[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) problems.push(`--${key} must be ${what}, ${got(value)}`);
  };
  for (const key of [
    'max_encoder_length',
    'max_predictions_per_seq',
    'train_batch_size',
    'eval_batch_size',
    'save_checkpoints_steps',
    'keep_checkpoint_max',
    'gradient_accumulation_steps',
    'hidden_size',
    'num_hidden_layers',
    'num_attention_heads',
    'intermediate_size',
    'max_position_embeddings',
    'type_vocab_size',
    'block_size',
  ] as const)
    positive(key);
  for (const key of ['num_train_steps', 'num_warmup_steps', 'max_eval_steps', 'num_rand_blocks', 'seed'] as const) positive(key, true);
  // Do the lengths fit together? Only among values that are fine on their own, so one bad value gives one message.
  const valid = (...keys: (keyof TrainFlags)[]): boolean => keys.every((key) => !problems.some((p) => p.startsWith(`--${key} must`)));
  const length = flags.max_encoder_length;
  if (valid('max_encoder_length', 'max_position_embeddings') && length > flags.max_position_embeddings)
    problems.push(`--max_encoder_length ${length} is more than --max_position_embeddings ${flags.max_position_embeddings}`);
  // [CLS] and [SEP] are never predicted.
  if (valid('max_encoder_length', 'max_predictions_per_seq') && flags.max_predictions_per_seq > length - 2)
    problems.push(
      `--max_predictions_per_seq ${flags.max_predictions_per_seq} does not fit --max_encoder_length ${length}: at most ${length - 2} tokens can be masked`,
    );
  if (valid('hidden_size', 'num_attention_heads') && flags.hidden_size % flags.num_attention_heads !== 0)
    problems.push(`--hidden_size ${flags.hidden_size} is not a multiple of --num_attention_heads ${flags.num_attention_heads}`);
  const blocks = valid('max_encoder_length', 'block_size') ? blockSizeProblem(flags) : undefined;
  if (blocks !== undefined) problems.push(blocks);
  inRange('masked_lm_prob', 'a probability in [0, 1]', (p) => p >= 0 && p <= 1);
  for (const key of ['hidden_dropout_prob', 'attention_probs_dropout_prob'] as const) inRange(key, 'a probability in [0, 1)', (p) => p >= 0 && p < 1);
  inRange('learning_rate', 'greater than 0', (x) => x > 0);
  for (const key of ['optimizer_beta1', 'optimizer_beta2'] as const) inRange(key, 'in [0, 1)', (x) => x >= 0 && x < 1);
  inRange('optimizer_epsilon', 'greater than 0', (x) => x > 0);
  inRange('weight_decay_rate', '0 or more', (x) => x >= 0);
  inRange('initializer_range', 'greater than 0', (x) => x > 0);
  const only = (key: keyof TrainFlags, allowed: readonly unknown[], why: string): void => {
    if (!allowed.includes(flags[key])) problems.push(`--${key}=${String(flags[key])} is not supported (${why})`);
  };
  only('optimizer', ['AdamWeightDecay'], 'kbb trains with AdamWeightDecay, the reference default');
  only('hidden_act', ['gelu'], "the model's activation is KoBigBird's tanh gelu");
  only('norm_type', ['postnorm'], 'KoBigBird trains post-norm layers');
  only('scope', ['bert'], 'checkpoints use the bert/ variable scope');
  only('use_token_type', [true], 'the model always adds token-type embeddings');
  only('attention_type', ['block_sparse', 'original_full'], 'TF simulated_sparse has no kbb model');
  return problems;
}

/** At or below this many tokens KoBigBird's TF model runs full attention whatever `attention_type` says. */
const TF_FULL_ATTENTION_MAX_LENGTH = 512;
/** Block-sparse attention's global, window and random blocks need at least this many blocks. */
const MIN_SPARSE_BLOCKS = 5;

/**
 * Whether the sequence cuts into blocks: KoBigBird's TF model runs block-sparse attention above 512
 * tokens, in whole blocks, at least 5 of them. One message, or undefined when it fits (or full
 * attention runs). `kbb tpu plan` reports it as a check of its own.
 */
export function blockSizeProblem(flags: Pick<TrainFlags, 'attention_type' | 'max_encoder_length' | 'block_size'>): string | undefined {
  const length = flags.max_encoder_length;
  if (flags.attention_type !== 'block_sparse' || length <= TF_FULL_ATTENTION_MAX_LENGTH || !(flags.block_size > 0)) return undefined;
  if (length % flags.block_size !== 0)
    return `--max_encoder_length ${length} is not a multiple of --block_size ${flags.block_size} (block-sparse attention works in whole blocks)`;
  if (length / flags.block_size < MIN_SPARSE_BLOCKS)
    return `--max_encoder_length ${length} is only ${length / flags.block_size} blocks of --block_size ${flags.block_size}: block-sparse attention needs at least ${MIN_SPARSE_BLOCKS}`;
  return undefined;
}
