/* A tiny KoBigBird checkpoint's pieces, shared by the export tests on disk and on gs://. */

/** A tiny KoBigBird `pretrain_config.json` (TF flag names), as the TF trainer writes it. */
export const TINY_TF_CONFIG = {
  attention_probs_dropout_prob: 0.1,
  attention_type: 'block_sparse',
  block_size: 4,
  bos_token_id: 5,
  eos_token_id: 6,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  hidden_size: 8,
  initializer_range: 0.02,
  intermediate_size: 12,
  max_position_embeddings: 32,
  num_attention_heads: 2,
  num_hidden_layers: 2,
  num_rand_blocks: 2,
  pad_token_id: 0,
  rescale_embedding: false,
  sep_token_id: 3,
  type_vocab_size: 2,
  use_bias: true,
  use_gradient_checkpointing: false,
  vocab_size: 10,
};
export const TINY_VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '<s>', '</s>', '안녕', '##하세요', 'hello'];

/** Distinct, exactly representable values per variable, so any misplaced element shows. */
export function values(name: string, count: number): Float32Array {
  let seed = [...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    out[i] = ((seed >>> 8) % 65536) / 1024 - 32;
  }
  return out;
}
