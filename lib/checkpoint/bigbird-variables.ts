import { readBigBirdConfig } from './hf-bigbird-config.js';
import { type BigBirdShapeConfig, bigBirdTfVariables } from './hf-bigbird-names.js';
import type { TargetVariable } from './warm-start.js';

/** The sizes that fix BigBird's variables, and the σ fresh ones start with. */
export interface BigBirdInitConfig extends BigBirdShapeConfig {
  readonly initializer_range: number;
}

/** Reads either config file (Hugging Face `config.json` or the reference's `pretrain_config.json`), with HF's defaults. */
export async function readBigBirdShapeConfig(path: string): Promise<BigBirdInitConfig> {
  return readBigBirdConfig(path);
}

/** Every trainable variable of KoBigBird's TF model (spec §3.7), in name order as a checkpoint index holds them. */
export function bigBirdVariables(config: BigBirdShapeConfig): TargetVariable[] {
  return bigBirdTfVariables(config).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
