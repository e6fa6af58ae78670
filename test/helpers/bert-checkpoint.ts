import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bigBirdVariables, type TensorToWrite, writeCheckpoint } from '../../lib/checkpoint/index.js';
import { elementCount } from '../../lib/tensor/index.js';

/** A small BigBird config (Hugging Face `config.json`) with the sample tokenizer's 3000 tokens, for tests that write a few MB. */
export const SMALL_BIGBIRD_CONFIG = Object.freeze({
  model_type: 'big_bird',
  vocab_size: 3000,
  hidden_size: 64,
  num_hidden_layers: 2,
  intermediate_size: 128,
  max_position_embeddings: 256,
  type_vocab_size: 2,
  num_attention_heads: 2,
  pad_token_id: 0,
});

/**
 * Writes `dir/config.json` (SMALL_BIGBIRD_CONFIG) and a BERT checkpoint of its sizes at
 * `dir/bert/bert_model.ckpt` (BERT's LayerNorm name, a 128-row position table, Adam slots and
 * global_step, as a BERT's checkpoint holds them); returns both paths.
 */
export async function writeBertCheckpoint(dir: string): Promise<{ readonly configFile: string; readonly initCheckpoint: string }> {
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(SMALL_BIGBIRD_CONFIG));
  const initCheckpoint = join(dir, 'bert', 'bert_model.ckpt');
  const tensors: TensorToWrite[] = bigBirdVariables({ ...SMALL_BIGBIRD_CONFIG, max_position_embeddings: 128 }).flatMap((v) => {
    const name = v.name.replace('bert/encoder/LayerNorm', 'bert/embeddings/LayerNorm');
    const data = new Uint8Array(Float32Array.from({ length: elementCount(v.shape) }, (_, i) => Math.sin(i + name.length) / 10).buffer);
    return ['', '/adam_m', '/adam_v'].map((slot) => ({ name: `${name}${slot}`, dtype: 'float32' as const, shape: v.shape, data }));
  });
  tensors.push({ name: 'global_step', dtype: 'int64', shape: [], data: new Uint8Array(8) });
  await writeCheckpoint(
    initCheckpoint,
    tensors.sort((a, b) => (a.name < b.name ? -1 : 1)),
  );
  return { configFile, initCheckpoint };
}
