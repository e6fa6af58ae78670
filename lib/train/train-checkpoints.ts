import type * as tf from '@tensorflow/tfjs-core';
import { CHECKPOINT_STATE_FILE, checkpointName, checkpointStep } from '../checkpoint/checkpoint-files.js';
import { parseCheckpointState, writeCheckpointState } from '../checkpoint/checkpoint-state.js';
import { CheckpointReader, dataFileName } from '../checkpoint/tensor-bundle-reader.js';
import { removeStaleTemporaries as removeStaleWriterTemporaries, type TensorToWrite, writeCheckpoint } from '../checkpoint/tensor-bundle-writer.js';
import { fileSystemFor, readOptionalText, writeFileAt } from '../fs/file-system-for.js';
import { isAbsolutePath, joinPath, relativePath } from '../fs/paths.js';
import type { NamedArray } from '../model/weights.js';

/*
 * The trainer's checkpoints, in the TensorFlow trainer's format (spec §3.5, §3.7): the model's
 * variables, each trained variable's two AdamWeightDecay slots, and `global_step`, in
 * `model.ckpt-STEP`; the `checkpoint` file names the newest ones. Beside each, kbb keeps
 * `model.ckpt-STEP.kbb-train.json`, where its input pipeline and seeds stood, so that a resumed run
 * repeats what an uninterrupted one would have done; the TF trainer ignores it.
 */

/** kbb's file beside a checkpoint, relative to the checkpoint's prefix. */
export const TRAIN_STATE_SUFFIX = '.kbb-train.json';

export interface SaveCheckpointOptions {
  readonly outputDir: string;
  /** The global step after the last update. */
  readonly step: number;
  /** The model's variables and the optimizer's slots, by TF name. */
  readonly variables: ReadonlyMap<string, tf.Variable>;
  /** JSON-safe state saved beside the checkpoint (the input's position). */
  readonly state: unknown;
  /** Checkpoints the `checkpoint` file keeps; the files of older ones are deleted. */
  readonly keep: number;
}

/**
 * Writes `model.ckpt-STEP` and its kbb state, then the `checkpoint` file naming it (the last write: until
 * then the previous checkpoint is the latest), then deletes checkpoints beyond `keep`, oldest first.
 * A crash at any moment leaves the newest complete checkpoint usable.
 */
export async function saveTrainingCheckpoint(options: SaveCheckpointOptions): Promise<string> {
  const name = checkpointName(options.step);
  const prefix = joinPath(options.outputDir, name);
  const tensors: TensorToWrite[] = [...options.variables].map(([variable, value]) => ({
    name: variable,
    dtype: 'float32',
    shape: value.shape,
    data: async () => {
      const values = (await value.data()) as Float32Array;
      return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    },
  }));
  const step = new Uint8Array(8);
  new DataView(step.buffer).setBigInt64(0, BigInt(options.step), true);
  tensors.push({ name: 'global_step', dtype: 'int64', shape: [], data: step });
  await writeCheckpoint(prefix, tensors);
  await writeFileAt(`${prefix}${TRAIN_STATE_SUFFIX}`, `${JSON.stringify(options.state)}\n`);

  const earlier = (await listedCheckpoints(options.outputDir)).filter((n) => n !== name);
  const kept = [...earlier, name].slice(-options.keep);
  await writeCheckpointState(options.outputDir, { modelCheckpointPath: name, allModelCheckpointPaths: kept });
  // TensorFlow may have named them by full path (a `gs://` one, say) rather than relative to the folder;
  // only those inside this run's folder are removed: a `checkpoint` file must not make kbb delete elsewhere.
  for (const old of earlier.filter((n) => !kept.includes(n))) {
    const prefix = isAbsolutePath(old) ? old : joinPath(options.outputDir, old);
    const inside = relativePath(options.outputDir, prefix);
    if (!isAbsolutePath(inside) && inside !== '..' && !inside.startsWith('../')) await removeCheckpoint(prefix);
  }
  return prefix;
}

/**
 * Removes the temporary files a killed run left in the folder (hidden `.NAME.tmp-PID-N` files of
 * checkpoints, kbb state, the `checkpoint` file, the config and results, and of the tokenizer copy,
 * whose process is gone), so that kill -9 does not leave litter that grows with every interrupted
 * run. Only local folders have them: an unfinished Cloud Storage upload never becomes an object.
 */
export async function removeStaleTemporaries(outputDir: string): Promise<string[]> {
  const removed = await removeStaleWriterTemporaries(outputDir, isTrainingOutput);
  removed.push(...(await removeStaleWriterTemporaries(joinPath(outputDir, 'tokenizer'), () => true)).map((name) => `tokenizer/${name}`));
  removed.push(...(await removeUnlistedCheckpointFiles(outputDir)));
  return removed;
}

/**
 * The files of checkpoints a killed run was writing or pruning, which the `checkpoint` file does not
 * list: any without its `.index` (a save cut short: data written, index not), and complete ones older
 * than the newest listed (a save whose pruning was cut short). A complete checkpoint newer than the
 * newest listed stays: the run will save that step again, the same bytes.
 */
async function removeUnlistedCheckpointFiles(outputDir: string): Promise<string[]> {
  const fs = fileSystemFor(outputDir);
  const listed = new Set((await listedCheckpoints(outputDir)).map((name) => checkpointStep(name)));
  const newest = Math.max(-1, ...[...listed].filter((step) => step !== undefined));
  const files = (await fs.list(outputDir)).filter((e) => !e.isDirectory).map((e) => e.name);
  const CHECKPOINT_FILE = /^model\.ckpt-(\d+)\.(index|data-\d+-of-\d+|kbb-train\.json)$/;
  const indexed = new Set(files.flatMap((name) => /^model\.ckpt-(\d+)\.index$/.exec(name)?.[1] ?? []).map(Number));
  const removed: string[] = [];
  for (const name of files) {
    const match = CHECKPOINT_FILE.exec(name);
    if (!match) continue;
    const step = Number(match[1]);
    if (listed.has(step) || (indexed.has(step) && step > newest)) continue;
    await fs.remove(joinPath(outputDir, name));
    removed.push(name);
  }
  return removed;
}

/** Files a training run writes in its output folder, and nothing else: what `overwrite` removes. */
const TRAINING_OUTPUT =
  /^(\.?model\.ckpt-\d+\..+|\.?checkpoint(\.tmp-.*)?|\.?events\.out\.tfevents\..+|\.?eval_results\.txt(\.tmp-.*)?|\.?pretrain_config\.json(\.tmp-.*)?)$/;

/** Whether `name` is a file a training run writes in its output folder (or a temporary of one). */
export const isTrainingOutput = (name: string): boolean => TRAINING_OUTPUT.test(name);

/** Removes an earlier run's checkpoints, kbb state, event files, results and config from `outputDir`; other files stay. */
export async function removeTrainingOutput(outputDir: string): Promise<string[]> {
  const fs = fileSystemFor(outputDir);
  const removed: string[] = [];
  for (const { name, isDirectory } of await fs.list(outputDir)) {
    if (isDirectory || !TRAINING_OUTPUT.test(name)) continue;
    await fs.remove(joinPath(outputDir, name));
    removed.push(name);
  }
  return removed;
}

/** The checkpoints the folder's `checkpoint` file lists, oldest first; none when there is no file. */
export async function listedCheckpoints(outputDir: string): Promise<string[]> {
  const file = joinPath(outputDir, CHECKPOINT_STATE_FILE);
  const text = await readOptionalText(file);
  if (text === undefined) return [];
  const state = parseCheckpointState(text, file);
  const all = state.allModelCheckpointPaths.length > 0 ? [...state.allModelCheckpointPaths] : [state.modelCheckpointPath];
  return all.includes(state.modelCheckpointPath) ? all : [...all, state.modelCheckpointPath];
}

async function removeCheckpoint(prefix: string): Promise<void> {
  let shards = 1;
  try {
    const reader = await CheckpointReader.open(prefix);
    shards = reader.header.numShards;
    await reader.close();
  } catch {
    // Already gone or unreadable: remove what the usual names find.
  }
  const files = [`${prefix}.index`, `${prefix}${TRAIN_STATE_SUFFIX}`, ...Array.from({ length: shards }, (_, i) => dataFileName(prefix, i, shards))];
  const fs = fileSystemFor(prefix);
  await Promise.all(files.map((file) => fs.remove(file)));
}

/** What a training checkpoint holds, read back. */
export interface TrainingCheckpoint {
  readonly prefix: string;
  readonly step: number;
  /** The model's variables (of those `names` asks for, the ones present). */
  readonly variables: Map<string, NamedArray>;
  /** Optimizer slots present, by slot name. */
  readonly slots: Map<string, NamedArray>;
  /** kbb's state beside it, if this checkpoint has one (a TF trainer's does not). */
  readonly state?: unknown;
}

/**
 * Reads the model variables named in `names`, the slots named in `slotNames`, `global_step` and the kbb
 * state of a checkpoint. Variables that are not float32 are an error naming them.
 */
export async function readTrainingCheckpoint(prefix: string, names: readonly string[], slotNames: readonly string[]): Promise<TrainingCheckpoint> {
  const reader = await CheckpointReader.open(prefix);
  try {
    const read = async (wanted: readonly string[]): Promise<Map<string, NamedArray>> => {
      const out = new Map<string, NamedArray>();
      for (const name of wanted) {
        if (!reader.has(name)) continue;
        const variable = reader.variable(name);
        const tensor = await reader.read(name);
        if (!(tensor.values instanceof Float32Array)) throw new Error(`${prefix}: variable ${name} is ${variable.dtype}, not float32`);
        out.set(name, { shape: variable.shape, values: tensor.values });
      }
      return out;
    };
    const variables = await read(names);
    const slots = await read(slotNames);
    let step = 0;
    if (reader.has('global_step')) {
      const values = (await reader.read('global_step')).values;
      step = Number(values[0]);
    }
    const stateText = await readOptionalText(`${prefix}${TRAIN_STATE_SUFFIX}`);
    const state = stateText === undefined ? undefined : (JSON.parse(stateText) as unknown);
    return { prefix, step, variables, slots, ...(state === undefined ? {} : { state }) };
  } finally {
    await reader.close();
  }
}
