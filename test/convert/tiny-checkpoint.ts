import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeCheckpoint, writeCheckpointState } from '../../lib/checkpoint/index.js';
import { bigBirdTfVariables, hfConfigFromTf } from '../../lib/model/index.js';
import { elementCount } from '../../lib/tensor/index.js';

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
const TINY_VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '<s>', '</s>', '안녕', '##하세요', 'hello'];

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

/** The tiny checkpoint's tokenizer folder: its vocabulary, special tokens and config, as the trainer copies them. */
export function writeTinyTokenizer(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'vocab.txt'), `${TINY_VOCAB.join('\n')}\n`);
  writeFileSync(
    join(dir, 'special_tokens_map.json'),
    JSON.stringify({
      bos_token: '<s>',
      eos_token: '</s>',
      unk_token: '[UNK]',
      sep_token: '[SEP]',
      pad_token: '[PAD]',
      cls_token: '[CLS]',
      mask_token: '[MASK]',
    }),
  );
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: false, model_max_length: 512, tokenizer_class: 'BertTokenizer' }));
}

/** What `writeTinyCheckpoint` wrote: the folder and each model variable's values. */
export interface TinyCheckpointFolder {
  readonly dir: string;
  readonly prefix: string;
  readonly tensors: ReadonlyMap<string, { readonly shape: readonly number[]; readonly values: Float32Array }>;
}

/**
 * A KoBigBird-shaped TF checkpoint folder, as training leaves it: every model variable of the tiny
 * config with distinct values, `global_step`, the `checkpoint` state file, `pretrain_config.json` and
 * `tokenizer/` (leave it out with `tokenizer: false`).
 */
export async function writeTinyCheckpoint(dir: string, options: { readonly step?: number; readonly tokenizer?: boolean } = {}): Promise<TinyCheckpointFolder> {
  mkdirSync(dir, { recursive: true });
  const tensors = new Map(
    bigBirdTfVariables(hfConfigFromTf(TINY_TF_CONFIG)).map((v) => [v.name, { shape: v.shape, values: values(v.name, elementCount(v.shape)) }] as const),
  );
  const step = options.step ?? 1000;
  const stepBytes = new Uint8Array(8);
  new DataView(stepBytes.buffer).setBigInt64(0, BigInt(step), true);
  const prefix = join(dir, `model.ckpt-${step}`);
  await writeCheckpoint(prefix, [
    ...[...tensors].map(([name, { shape, values: data }]) => ({ name, dtype: 'float32' as const, shape, data: new Uint8Array(data.buffer) })),
    { name: 'global_step', dtype: 'int64' as const, shape: [], data: stepBytes },
  ]);
  await writeCheckpointState(dir, { modelCheckpointPath: `model.ckpt-${step}`, allModelCheckpointPaths: [`model.ckpt-${step}`] });
  writeFileSync(join(dir, 'pretrain_config.json'), JSON.stringify(TINY_TF_CONFIG, null, 4));
  if (options.tokenizer !== false) writeTinyTokenizer(join(dir, 'tokenizer'));
  return { dir, prefix, tensors };
}
