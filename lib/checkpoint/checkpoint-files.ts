import { pathExists } from '../fs/file-system-for.js';
import { CheckpointError } from './checkpoint-error.js';

/** The text file naming a folder's checkpoints, newest first, as TensorFlow keeps it. */
export const CHECKPOINT_STATE_FILE = 'checkpoint';

/** The name a trainer gives the checkpoint of `step`, relative to its folder: `model.ckpt-STEP`. */
export const checkpointName = (step: number): string => `model.ckpt-${step}`;

/** The step a checkpoint's name or path ends in (`…-STEP`), as TensorFlow names them; undefined when it has none. */
export function checkpointStep(nameOrPath: string): number | undefined {
  const match = /-(\d+)$/.exec(nameOrPath);
  return match ? Number(match[1]) : undefined;
}

/** Refuses to replace the checkpoint at `prefix`, local or `gs://` (its `.index` exists), unless `overwrite`. */
export async function refuseExistingCheckpoint(prefix: string, overwrite: boolean): Promise<void> {
  if (!overwrite && (await pathExists(`${prefix}.index`))) throw new CheckpointError(`${prefix}.index exists; pass --overwrite to replace it`);
}
