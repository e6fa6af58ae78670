import { InputError } from '../fs/input-error.js';

/**
 * BigBird's settings, under Hugging Face's `BigBirdConfig` field names: the one config type of the
 * model, warm start, training and conversion. `readBigBirdConfig` (config-files.ts) makes one from an
 * HF `config.json` or KoBigBird's `pretrain_config.json`.
 */

/** The config fields that decide parameter shapes. */
export interface BigBirdShapeConfig {
  readonly vocab_size: number;
  readonly hidden_size: number;
  readonly num_hidden_layers: number;
  readonly intermediate_size: number;
  readonly max_position_embeddings: number;
  readonly type_vocab_size: number;
}

/**
 * A BigBird config as an HF `config.json` holds it: the fields KoBigBird's published config has
 * (spec §4). Fields a file may lack are optional here only where HF has no default.
 */
export interface BigBirdConfig extends BigBirdShapeConfig {
  readonly architectures?: readonly string[];
  readonly attention_probs_dropout_prob: number;
  readonly attention_type: AttentionType;
  readonly block_size: number;
  readonly bos_token_id: number | null;
  readonly classifier_dropout: number | null;
  readonly eos_token_id: number | null;
  readonly gradient_checkpointing?: boolean;
  readonly hidden_act: string;
  readonly hidden_dropout_prob: number;
  readonly initializer_range: number;
  readonly layer_norm_eps: number;
  readonly model_type: 'big_bird';
  readonly num_attention_heads: number;
  readonly num_random_blocks: number;
  readonly pad_token_id: number | null;
  readonly position_embedding_type: string;
  readonly rescale_embeddings: boolean;
  readonly sep_token_id: number | null;
  readonly tokenizer_class?: string;
  readonly torch_dtype?: string;
  readonly transformers_version?: string;
  readonly use_bias: boolean;
  readonly use_cache: boolean;
}

export type AttentionType = 'block_sparse' | 'original_full';

/** HF `BigBirdConfig` defaults (spec §7.1), for fields a `config.json` leaves out. */
export const HF_BIGBIRD_DEFAULTS = Object.freeze({
  vocab_size: 50358,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: 'gelu_new',
  hidden_dropout_prob: 0.1,
  attention_probs_dropout_prob: 0.1,
  max_position_embeddings: 4096,
  type_vocab_size: 2,
  initializer_range: 0.02,
  layer_norm_eps: 1e-12,
  use_cache: true,
  pad_token_id: 0,
  bos_token_id: 1,
  eos_token_id: 2,
  sep_token_id: 66,
  attention_type: 'block_sparse',
  use_bias: true,
  rescale_embeddings: false,
  block_size: 64,
  num_random_blocks: 3,
  classifier_dropout: null,
  // Not a BigBirdConfig argument: the model reads it with getattr and this default.
  position_embedding_type: 'absolute',
} as const);

/** The activations `hidden_act` may name: HF's `gelu_new` (tanh form, what KoBigBird trains with) and exact `gelu`. */
export const SUPPORTED_ACTIVATIONS = ['gelu_new', 'gelu'] as const;
export type Activation = (typeof SUPPORTED_ACTIVATIONS)[number];

/** Size of one attention head. */
export const headSize = (config: BigBirdConfig): number => config.hidden_size / config.num_attention_heads;

/**
 * HF's threshold for block-sparse attention: below global (2 blocks) + window (3) + random (r) plus a
 * buffer of r more blocks, block-sparse attention has nothing sparse left, and HF falls back to full
 * attention when the unpadded length is at most this many tokens.
 */
export const maxTokensForFullAttention = (config: Pick<BigBirdConfig, 'num_random_blocks' | 'block_size'>): number =>
  (5 + 2 * config.num_random_blocks) * config.block_size;

/** Refuses settings the model does not implement, naming the field, before any weight is read: an `InputError` (the config is the input at fault; `where` is its file). */
export function checkModelConfig(config: BigBirdConfig, where = 'BigBird config'): void {
  const positive = [
    'vocab_size',
    'hidden_size',
    'num_hidden_layers',
    'num_attention_heads',
    'intermediate_size',
    'max_position_embeddings',
    'type_vocab_size',
    'block_size',
  ] as const;
  for (const key of positive) {
    const value = config[key];
    if (!Number.isSafeInteger(value) || value < 1) throw new InputError(where, `${where}: ${key} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  if (!Number.isSafeInteger(config.num_random_blocks) || config.num_random_blocks < 0) {
    throw new InputError(where, `${where}: num_random_blocks must be a non-negative integer, got ${JSON.stringify(config.num_random_blocks)}`);
  }
  if (config.hidden_size % config.num_attention_heads !== 0) {
    throw new InputError(where, `${where}: hidden_size ${config.hidden_size} is not a multiple of num_attention_heads ${config.num_attention_heads}`);
  }
  if (config.attention_type !== 'block_sparse' && config.attention_type !== 'original_full') {
    throw new InputError(where, `${where}: attention_type ${JSON.stringify(config.attention_type)} is not block_sparse or original_full`);
  }
  if (!(SUPPORTED_ACTIVATIONS as readonly string[]).includes(config.hidden_act)) {
    throw new InputError(where, `${where}: hidden_act ${JSON.stringify(config.hidden_act)} is not one of ${SUPPORTED_ACTIVATIONS.join(', ')}`);
  }
  if (config.position_embedding_type !== 'absolute') {
    throw new InputError(
      where,
      `${where}: position_embedding_type ${JSON.stringify(config.position_embedding_type)} is not supported (only "absolute", what BigBird uses)`,
    );
  }
  for (const key of ['hidden_dropout_prob', 'attention_probs_dropout_prob'] as const) {
    const value = config[key];
    if (!(value >= 0 && value < 1)) throw new InputError(where, `${where}: ${key} must be in [0, 1), got ${JSON.stringify(value)}`);
  }
  if (!(config.layer_norm_eps > 0)) throw new InputError(where, `${where}: layer_norm_eps must be positive, got ${JSON.stringify(config.layer_norm_eps)}`);
  if (config.pad_token_id !== null && (!Number.isSafeInteger(config.pad_token_id) || config.pad_token_id < 0 || config.pad_token_id >= config.vocab_size)) {
    throw new InputError(where, `${where}: pad_token_id ${config.pad_token_id} is not a token id below vocab_size ${config.vocab_size}`);
  }
}
