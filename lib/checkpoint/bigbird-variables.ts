import { readFile } from 'node:fs/promises';
import { CheckpointError } from './checkpoint-error.js';
import { type BigBirdShapeConfig, bigBirdTfVariables } from './hf-bigbird-names.js';
import type { TargetVariable } from './warm-start.js';

/** The sizes that fix BigBird's variables, and the σ fresh ones start with. */
export interface BigBirdInitConfig extends BigBirdShapeConfig {
  readonly initializer_range: number;
}

const FIELDS = ['vocab_size', 'hidden_size', 'num_hidden_layers', 'intermediate_size', 'max_position_embeddings', 'type_vocab_size', 'initializer_range'] as const;

/** Reads the shape fields from either config file, naming the file and any field that is missing. */
export async function readBigBirdShapeConfig(path: string): Promise<BigBirdInitConfig> {
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
  return config as unknown as BigBirdInitConfig;
}

/** Every trainable variable of KoBigBird's TF model (spec §3.7), in name order as a checkpoint index holds them. */
export function bigBirdVariables(config: BigBirdShapeConfig): TargetVariable[] {
  return bigBirdTfVariables(config).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
