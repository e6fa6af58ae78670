import type { HfBigBirdConfig } from '../checkpoint/hf-bigbird-config.js';

/**
 * The model reads its settings straight from Hugging Face's `BigBirdConfig` field names
 * (`readBigBirdConfig` turns an HF `config.json` or KoBigBird's `pretrain_config.json` into one), so
 * there is one config type across checkpoint conversion and the model.
 */
export type BigBirdConfig = HfBigBirdConfig;

export type AttentionType = HfBigBirdConfig['attention_type'];

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
export const maxTokensForFullAttention = (config: BigBirdConfig): number => (5 + 2 * config.num_random_blocks) * config.block_size;

/** Refuses settings the model does not implement, naming the field, before any weight is read. */
export function checkModelConfig(config: BigBirdConfig, where = 'BigBird config'): void {
  const positive = ['vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'max_position_embeddings', 'type_vocab_size', 'block_size'] as const;
  for (const key of positive) {
    const value = config[key];
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${where}: ${key} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  if (!Number.isSafeInteger(config.num_random_blocks) || config.num_random_blocks < 0) {
    throw new RangeError(`${where}: num_random_blocks must be a non-negative integer, got ${JSON.stringify(config.num_random_blocks)}`);
  }
  if (config.hidden_size % config.num_attention_heads !== 0) {
    throw new RangeError(`${where}: hidden_size ${config.hidden_size} is not a multiple of num_attention_heads ${config.num_attention_heads}`);
  }
  if (config.attention_type !== 'block_sparse' && config.attention_type !== 'original_full') {
    throw new RangeError(`${where}: attention_type ${JSON.stringify(config.attention_type)} is not block_sparse or original_full`);
  }
  if (!(SUPPORTED_ACTIVATIONS as readonly string[]).includes(config.hidden_act)) {
    throw new RangeError(`${where}: hidden_act ${JSON.stringify(config.hidden_act)} is not one of ${SUPPORTED_ACTIVATIONS.join(', ')}`);
  }
  if (config.position_embedding_type !== 'absolute') {
    throw new RangeError(`${where}: position_embedding_type ${JSON.stringify(config.position_embedding_type)} is not supported (only "absolute", what BigBird uses)`);
  }
  for (const key of ['hidden_dropout_prob', 'attention_probs_dropout_prob'] as const) {
    const value = config[key];
    if (!(value >= 0 && value < 1)) throw new RangeError(`${where}: ${key} must be in [0, 1), got ${JSON.stringify(value)}`);
  }
  if (!(config.layer_norm_eps > 0)) throw new RangeError(`${where}: layer_norm_eps must be positive, got ${JSON.stringify(config.layer_norm_eps)}`);
  if (config.pad_token_id !== null && (!Number.isSafeInteger(config.pad_token_id) || config.pad_token_id < 0 || config.pad_token_id >= config.vocab_size)) {
    throw new RangeError(`${where}: pad_token_id ${config.pad_token_id} is not a token id below vocab_size ${config.vocab_size}`);
  }
}
