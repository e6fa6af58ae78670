import { CheckpointError } from '../checkpoint/checkpoint-error.js';
import { CHECKPOINT_STATE_FILE, checkpointName, refuseExistingCheckpoint } from '../checkpoint/checkpoint-files.js';
import { writeCheckpointState } from '../checkpoint/checkpoint-state.js';
import type { DType } from '../checkpoint/dtypes.js';
import { type TensorToWrite, writeCheckpoint } from '../checkpoint/tensor-bundle-writer.js';
import { copyFile } from '../fs/copy-file.js';
import { pathExists, readTextFile, writeFileAt } from '../fs/file-system-for.js';
import { joinPath } from '../fs/paths.js';
import type { BigBirdConfig } from '../model/bigbird-config.js';
import { formatTfConfigJson, PRETRAIN_CONFIG_FILE, readBigBirdConfig, tfActivationNote, tfConfigFromHf } from '../model/config-files.js';
import type { SkippedVariable } from '../model/variables.js';
import { sameShape, shapeText } from '../tensor/shape.js';
import { byCodePoints } from '../text/compare-code-points.js';
import { bigBirdHfParameters, HF_BIGBIRD_TIED_PARAMETERS, hfToTfName, transposeBytes2d } from './hf-names.js';
import { openSafetensors, SAFETENSORS_DTYPE_BYTES, type SafetensorsDtype, type SafetensorsFile } from './safetensors.js';

/** One HF parameter and the TF variable it becomes. */
export interface HfImportRow {
  readonly hfName: string;
  readonly tfName: string;
  readonly dtype: SafetensorsDtype;
  readonly hfShape: readonly number[];
  readonly tfShape: readonly number[];
  readonly transpose: boolean;
  /** The safetensors file holding it (sharded folders have several). */
  readonly file: string;
}

/** An HF tensor that is not imported, and why. */
export type HfImportSkip = SkippedVariable;

export interface HfImportPlan {
  /** In TF name order, the order of the checkpoint's index. */
  readonly rows: readonly HfImportRow[];
  readonly skipped: readonly HfImportSkip[];
  /** TF variables of the full pretraining model that the folder has no values for (a MaskedLM model has no NSP head). */
  readonly absent: readonly string[];
}

const SAFETENSORS_TO_TF: Partial<Record<SafetensorsDtype, DType>> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64' };
const NON_PERSISTENT_BUFFERS = new Set(['bert.embeddings.position_ids']);

/** Tensor name → the open file that holds it, for `model.safetensors` or a sharded folder's index. */
export interface HfWeights {
  readonly tensors: ReadonlyMap<string, SafetensorsFile>;
  close(): Promise<void>;
}

/**
 * Opens a Hugging Face folder's weights: `model.safetensors`, or the shards that
 * `model.safetensors.index.json` lists. `pytorch_model.bin` alone is refused with a way out, since
 * reading pickles is code execution in the general case.
 */
export async function openHfWeights(hfDir: string): Promise<HfWeights> {
  const single = joinPath(hfDir, 'model.safetensors');
  const indexFile = joinPath(hfDir, 'model.safetensors.index.json');
  let shardNames: string[];
  let weightMap: Record<string, string> | undefined;
  if (await pathExists(single)) shardNames = ['model.safetensors'];
  else if (await pathExists(indexFile)) {
    let index: { weight_map?: Record<string, string> };
    try {
      index = JSON.parse(await readTextFile(indexFile)) as typeof index;
    } catch (error) {
      throw new CheckpointError(`${indexFile}: not valid JSON (${(error as Error).message})`);
    }
    if (!index.weight_map || typeof index.weight_map !== 'object') throw new CheckpointError(`${indexFile}: no "weight_map"`);
    weightMap = index.weight_map;
    shardNames = [...new Set(Object.values(weightMap))];
  } else if (await pathExists(joinPath(hfDir, 'pytorch_model.bin'))) {
    throw new CheckpointError(
      `${hfDir}: only pytorch_model.bin, no model.safetensors; save it with safe_serialization=True (the default since transformers 4.35) and import that`,
    );
  } else throw new CheckpointError(`${hfDir}: no model.safetensors or model.safetensors.index.json`);
  const files: SafetensorsFile[] = [];
  try {
    for (const name of shardNames) files.push(await openSafetensors(joinPath(hfDir, name)));
  } catch (error) {
    await Promise.all(files.map((f) => f.close()));
    throw error;
  }
  const tensors = new Map<string, SafetensorsFile>();
  for (const file of files) {
    for (const name of file.tensors.keys()) {
      if (tensors.has(name)) throw new CheckpointError(`${file.path}: tensor ${name} is also in ${tensors.get(name)!.path}`);
      if (weightMap && weightMap[name] !== undefined && joinPath(hfDir, weightMap[name]) !== file.path)
        throw new CheckpointError(`${indexFile}: says ${name} is in ${weightMap[name]}, but it is in ${file.path}`);
      tensors.set(name, file);
    }
  }
  return { tensors, close: async () => void (await Promise.all(files.map((f) => f.close()))) };
}

/**
 * What importing an HF BigBird's weights as a KoBigBird TF checkpoint does, tensor by tensor:
 * every parameter renamed (and kernels transposed back) by the exact inverse of the export's
 * mapping, tied aliases and buffers skipped. Shapes are checked against the config; a parameter of
 * another architecture under `bert.`/`cls.` is an error, other heads (a fine-tuned classifier) are
 * skipped with their reason.
 */
export function planHfImport(weights: HfWeights, config: BigBirdConfig, where = 'model.safetensors'): HfImportPlan {
  const expected = new Map(bigBirdHfParameters(config).map((p) => [p.name, p.shape]));
  const rows: HfImportRow[] = [];
  const skipped: HfImportSkip[] = [];
  const problems: string[] = [];
  for (const [name, file] of weights.tensors) {
    const info = file.tensors.get(name)!;
    if (Object.hasOwn(HF_BIGBIRD_TIED_PARAMETERS, name)) {
      skipped.push({ name, shape: info.shape, reason: `tied to ${HF_BIGBIRD_TIED_PARAMETERS[name]}` });
      continue;
    }
    if (NON_PERSISTENT_BUFFERS.has(name)) {
      skipped.push({ name, shape: info.shape, reason: 'buffer (arange), not a weight' });
      continue;
    }
    const mapped = hfToTfName(name);
    if (!mapped) {
      if (/^(bert|cls)\./.test(name)) problems.push(`${name} ${shapeText(info.shape)}: not a parameter of KoBigBird's BigBird (different architecture?)`);
      else skipped.push({ name, shape: info.shape, reason: 'not part of the pretraining model (a task head?)' });
      continue;
    }
    const want = expected.get(name)!;
    if (!sameShape(info.shape, want)) {
      problems.push(`${name}: file has ${shapeText(info.shape)}, the config needs ${shapeText(want)}`);
      continue;
    }
    if (!SAFETENSORS_TO_TF[info.dtype]) {
      problems.push(`${name}: dtype ${info.dtype} is not a floating-point weight type`);
      continue;
    }
    rows.push({
      hfName: name,
      tfName: mapped.tfName,
      dtype: info.dtype,
      hfShape: info.shape,
      tfShape: mapped.transpose ? [...info.shape].reverse() : info.shape,
      transpose: mapped.transpose,
      file: file.path,
    });
  }
  const present = new Set(rows.map((r) => r.hfName));
  const absent: string[] = [];
  for (const [name, shape] of expected) {
    if (present.has(name) || problems.some((p) => p.startsWith(`${name}:`))) continue;
    if (name.startsWith('cls.seq_relationship.')) absent.push(hfToTfName(name)!.tfName);
    else problems.push(`${name} ${shapeText(shape)}: missing`);
  }
  if (problems.length > 0) throw new CheckpointError(`${where}: cannot import as a TF checkpoint, ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  rows.sort(byCodePoints((row) => row.tfName));
  return { rows, skipped, absent };
}

/** `kbb import-hf`'s defaults. */
export const HF_IMPORT_DEFAULTS = Object.freeze({
  /** The global step the written checkpoint gets. */
  step: 0,
});

export interface HfImportOptions {
  /** A Hugging Face BigBird folder, local or `gs://`: config.json and model.safetensors (or sharded safetensors). */
  readonly hfDir: string;
  /** The TF checkpoint folder to write, local or `gs://`. */
  readonly outputDir: string;
  /** The global step the checkpoint gets (its name `model.ckpt-STEP` and `global_step`); default 0. */
  readonly step?: number;
  /** Replace a checkpoint of that step already in `outputDir` (default false: refuse). */
  readonly overwrite?: boolean;
  readonly onProgress?: (doneBytes: number, totalBytes: number) => void;
}

export interface HfImportResult {
  readonly checkpointPrefix: string;
  readonly plan: HfImportPlan;
  readonly files: readonly string[];
  /** Things the user should know (an activation the TF code only approximates). */
  readonly notes: readonly string[];
}

/** Tokenizer files an HF folder may have; copied so `kbb export` finds them at the default place. */
const TOKENIZER_FILES = ['vocab.txt', 'tokenizer_config.json', 'special_tokens_map.json', 'tokenizer.json', 'added_tokens.json'];

/**
 * A Hugging Face BigBird folder as a KoBigBird TF checkpoint folder, to continue pretraining a
 * published model: `model.ckpt-STEP` (+ `global_step`), the `checkpoint` state file, a
 * `pretrain_config.json` in the TF trainer's terms, and the tokenizer files under `tokenizer/`,
 * where `kbb export` looks for them by default. Tensors stream one at a time. Either folder may be
 * `gs://`; the `checkpoint` state file is written last, once everything it points to is complete.
 */
export async function importFromHuggingFace(options: HfImportOptions): Promise<HfImportResult> {
  const step = options.step ?? HF_IMPORT_DEFAULTS.step;
  if (!Number.isSafeInteger(step) || step < 0) throw new RangeError(`step must be a non-negative integer, got ${step}`);
  const configFile = joinPath(options.hfDir, 'config.json');
  if (!(await pathExists(configFile))) throw new CheckpointError(`${configFile}: missing (a Hugging Face model folder has one)`);
  const config = await readBigBirdConfig(configFile);
  const tfConfig = tfConfigFromHf(config);
  const notes = [tfActivationNote(config)].filter((n): n is string => n !== undefined);
  const prefix = joinPath(options.outputDir, checkpointName(step));
  await refuseExistingCheckpoint(prefix, options.overwrite ?? false);

  const weights = await openHfWeights(options.hfDir);
  try {
    const plan = planHfImport(weights, config, options.hfDir);
    // A file may carry the tied aliases (older torch.save state dicts do); TF has one variable for
    // both, so they must really be the same values.
    for (const { name } of plan.skipped.filter((s) => Object.hasOwn(HF_BIGBIRD_TIED_PARAMETERS, s.name))) {
      const target = HF_BIGBIRD_TIED_PARAMETERS[name];
      const [alias, tied] = await Promise.all([weights.tensors.get(name)!.read(name), weights.tensors.get(target)?.read(target)]);
      if (!tied || !Buffer.from(alias).equals(Buffer.from(tied)))
        throw new CheckpointError(`${options.hfDir}: ${name} differs from ${target}, to which BigBird ties it; TF has one variable for both`);
    }
    const total = plan.rows.reduce((n, r) => n + weights.tensors.get(r.hfName)!.tensors.get(r.hfName)!.byteLength, 0);
    let done = 0;
    const tensors: TensorToWrite[] = plan.rows.map((row) => ({
      name: row.tfName,
      dtype: SAFETENSORS_TO_TF[row.dtype]!,
      shape: row.tfShape,
      data: async () => {
        const bytes = await weights.tensors.get(row.hfName)!.read(row.hfName);
        done += bytes.byteLength;
        options.onProgress?.(done, total);
        return row.transpose ? transposeBytes2d(bytes, row.hfShape[0], row.hfShape[1], SAFETENSORS_DTYPE_BYTES[row.dtype]) : bytes;
      },
    }));
    const globalStep = new Uint8Array(8);
    new DataView(globalStep.buffer).setBigInt64(0, BigInt(step), true);
    tensors.push({ name: 'global_step', dtype: 'int64', shape: [], data: globalStep });
    await writeCheckpoint(prefix, tensors);
    const files = [`${prefix}.index`, `${prefix}.data-00000-of-00001`];

    const configOut = joinPath(options.outputDir, PRETRAIN_CONFIG_FILE);
    await writeFileAt(configOut, formatTfConfigJson(tfConfig));
    files.push(configOut);
    const tokenizerDir = joinPath(options.outputDir, 'tokenizer');
    for (const f of TOKENIZER_FILES) {
      if (!(await pathExists(joinPath(options.hfDir, f)))) continue;
      await copyFile(joinPath(options.hfDir, f), joinPath(tokenizerDir, f));
      files.push(joinPath(tokenizerDir, f));
    }
    // Last: the state file names the checkpoint, which is complete by now.
    await writeCheckpointState(options.outputDir, { modelCheckpointPath: checkpointName(step), allModelCheckpointPaths: [checkpointName(step)] });
    files.push(joinPath(options.outputDir, CHECKPOINT_STATE_FILE));
    return { checkpointPrefix: prefix, plan, files, notes };
  } finally {
    await weights.close();
  }
}
