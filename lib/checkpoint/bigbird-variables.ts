import { readFile } from 'node:fs/promises';
import { CheckpointError } from './checkpoint-error.js';
import type { TargetVariable } from './warm-start.js';

/** The sizes that fix BigBird's variables; Hugging Face `config.json` and the reference's `pretrain_config.json` name them alike. */
export interface BigBirdShapeConfig {
  readonly vocab_size: number;
  readonly hidden_size: number;
  readonly num_hidden_layers: number;
  readonly intermediate_size: number;
  readonly max_position_embeddings: number;
  readonly type_vocab_size: number;
  readonly initializer_range: number;
}

const FIELDS = ['vocab_size', 'hidden_size', 'num_hidden_layers', 'intermediate_size', 'max_position_embeddings', 'type_vocab_size', 'initializer_range'] as const;

/** Reads the shape fields from either config file, naming the file and any field that is missing. */
export async function readBigBirdShapeConfig(path: string): Promise<BigBirdShapeConfig> {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new CheckpointError(`${path}: cannot read the config (${(error as Error).message})`);
  }
  const config: Record<string, number> = {};
  for (const field of FIELDS) {
    const value = json[field] ?? (field === 'initializer_range' ? 0.02 : field === 'type_vocab_size' ? 2 : undefined);
    if (typeof value !== 'number') throw new CheckpointError(`${path}: "${field}" must be a number (got ${JSON.stringify(value)})`);
    config[field] = value;
  }
  return config as unknown as BigBirdShapeConfig;
}

/** Every trainable variable of KoBigBird's TF model, named as spec §3.7, in name order. */
export function bigBirdVariables(config: BigBirdShapeConfig): TargetVariable[] {
  const h = config.hidden_size;
  const out: TargetVariable[] = [
    { name: 'bert/embeddings/word_embeddings', shape: [config.vocab_size, h] },
    { name: 'bert/embeddings/token_type_embeddings', shape: [config.type_vocab_size, h] },
    { name: 'bert/embeddings/position_embeddings', shape: [config.max_position_embeddings, h] },
    { name: 'bert/encoder/LayerNorm/beta', shape: [h] },
    { name: 'bert/encoder/LayerNorm/gamma', shape: [h] },
  ];
  for (let layer = 0; layer < config.num_hidden_layers; layer++) {
    const at = `bert/encoder/layer_${layer}`;
    for (const part of ['query', 'key', 'value']) out.push({ name: `${at}/attention/self/${part}/kernel`, shape: [h, h] }, { name: `${at}/attention/self/${part}/bias`, shape: [h] });
    out.push(
      { name: `${at}/attention/output/dense/kernel`, shape: [h, h] },
      { name: `${at}/attention/output/dense/bias`, shape: [h] },
      { name: `${at}/attention/output/LayerNorm/beta`, shape: [h] },
      { name: `${at}/attention/output/LayerNorm/gamma`, shape: [h] },
      { name: `${at}/intermediate/dense/kernel`, shape: [h, config.intermediate_size] },
      { name: `${at}/intermediate/dense/bias`, shape: [config.intermediate_size] },
      { name: `${at}/output/dense/kernel`, shape: [config.intermediate_size, h] },
      { name: `${at}/output/dense/bias`, shape: [h] },
      { name: `${at}/output/LayerNorm/beta`, shape: [h] },
      { name: `${at}/output/LayerNorm/gamma`, shape: [h] },
    );
  }
  out.push(
    { name: 'bert/pooler/dense/kernel', shape: [h, h] },
    { name: 'bert/pooler/dense/bias', shape: [h] },
    { name: 'cls/predictions/transform/dense/kernel', shape: [h, h] },
    { name: 'cls/predictions/transform/dense/bias', shape: [h] },
    { name: 'cls/predictions/transform/LayerNorm/beta', shape: [h] },
    { name: 'cls/predictions/transform/LayerNorm/gamma', shape: [h] },
    { name: 'cls/predictions/output_bias', shape: [config.vocab_size] },
    { name: 'cls/seq_relationship/output_weights', shape: [2, h] },
    { name: 'cls/seq_relationship/output_bias', shape: [2] },
  );
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
