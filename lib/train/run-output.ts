import { rmdir } from 'node:fs/promises';
import { fileSystemFor } from '../fs/file-system-for.js';
import { joinPath } from '../fs/paths.js';
import { PRETRAIN_CONFIG_FILE } from '../model/config-files.js';
import { isTrainingOutput } from './train-checkpoints.js';

/*
 * A training run that fails before it has saved a checkpoint past its start (a corrupt record at step
 * 3, a backend that runs out of memory) has nothing worth keeping: what it wrote (the config, the
 * tokenizer copy, an event file, its step-0 checkpoint) goes again, and the folder is left as the run
 * found it, so that the next run starts from the same place. A run that did save progress keeps it,
 * as after a kill: its checkpoints are complete and the next run resumes from the newest.
 */

/** What the output folder held before a run wrote to it. */
export interface RunOutputSnapshot {
  /** Whether the folder was there (always true on Cloud Storage, which has no folders). */
  readonly existed: boolean;
  /** Its top-level entries. */
  readonly names: ReadonlySet<string>;
  /** The bytes of `pretrain_config.json`, which a run rewrites, if there was one. */
  readonly config?: Uint8Array;
}

/** The tokenizer copy a run makes in its output folder. */
const TOKENIZER_FOLDER = 'tokenizer';

export async function snapshotRunOutput(outputDir: string): Promise<RunOutputSnapshot> {
  const fs = fileSystemFor(outputDir);
  const entries = await fs.list(outputDir);
  const existed = fs.kind !== 'local' || entries.length > 0 || (await fs.stat(outputDir)) !== undefined;
  const names = new Set(entries.map((e) => e.name));
  const config = names.has(PRETRAIN_CONFIG_FILE) ? await fs.readFile(joinPath(outputDir, PRETRAIN_CONFIG_FILE)) : undefined;
  return { existed, names, ...(config ? { config } : {}) };
}

/**
 * Removes what a run added to its folder since `before` (only files a run writes: checkpoints, the
 * state file, events, results, the config, their temporaries, and a tokenizer copy it made), puts
 * back the config it replaced, and removes the folder if the run created it. Best effort: a failure
 * here must not hide the error that made the run stop.
 */
export async function restoreRunOutput(outputDir: string, before: RunOutputSnapshot): Promise<void> {
  const fs = fileSystemFor(outputDir);
  try {
    for (const { name, isDirectory } of await fs.list(outputDir)) {
      if (before.names.has(name)) continue;
      const path = joinPath(outputDir, name);
      if (isDirectory && name === TOKENIZER_FOLDER) {
        for (const file of await fs.list(path)) if (!file.isDirectory) await fs.remove(joinPath(path, file.name));
        if (fs.kind === 'local') await rmdir(path).catch(() => undefined);
      } else if (!isDirectory && isTrainingOutput(name)) await fs.remove(path);
    }
    if (before.config) await fs.writeFile(joinPath(outputDir, PRETRAIN_CONFIG_FILE), before.config);
    if (!before.existed && fs.kind === 'local') await rmdir(outputDir).catch(() => undefined);
  } catch {
    // Left as it is: the run's own error is what the caller reports.
  }
}
