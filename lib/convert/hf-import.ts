import { CheckpointError } from '../checkpoint/checkpoint-error.js';
import { CHECKPOINT_STATE_FILE, checkpointName, refuseExistingCheckpoint } from '../checkpoint/checkpoint-files.js';
import { writeCheckpointState } from '../checkpoint/checkpoint-state.js';
import type { DType } from '../checkpoint/dtypes.js';
import { type TensorToWrite, writeCheckpoint } from '../checkpoint/tensor-bundle-writer.js';
import { copyFile } from '../fs/copy-file.js';
import { fileSystemFor, pathExists, readTextFile, writeFileAt } from '../fs/file-system-for.js';
import { InputError } from '../fs/input-error.js';
import { pathInside } from '../fs/path-inside.js';
import { baseName, joinPath, parentPath } from '../fs/paths.js';
import { stageOutput } from '../fs/staged-output.js';
import type { BigBirdConfig } from '../model/bigbird-config.js';
import { formatTfConfigJson, PRETRAIN_CONFIG_FILE, readBigBirdConfig, tfActivationNote, tfConfigFromHf } from '../model/config-files.js';
import type { SkippedVariable } from '../model/variables.js';
import { sameShape, shapeText } from '../tensor/shape.js';
import { byCodePoints } from '../text/compare-code-points.js';
import { loadTokenizer } from '../tokenizer/load-tokenizer.js';
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

/** Largest `model.safetensors.index.json` read: a 500B-parameter model's is well under 1 MB. */
const MAX_INDEX_BYTES = 16 << 20;

/**
 * Folders a link in `hfDir` may lead into besides `hfDir` itself: a Hugging Face hub cache snapshot
 * (`…/models--org--name/snapshots/REV`) is made of links into the repository's `blobs` folder.
 */
function hubCacheBlobs(hfDir: string): string[] {
  const parent = parentPath(hfDir);
  return baseName(parent) === 'snapshots' ? [joinPath(parentPath(parent), 'blobs')] : [];
}

/**
 * The path of a file of a Hugging Face folder, named by kbb or by a file in the folder (`from`):
 * refused, before anything is read, if the name or a link on its way leads outside the folder.
 */
export const hfFolderFile = (hfDir: string, name: unknown, from?: { readonly file: string; readonly what: string }): Promise<string> =>
  pathInside(hfDir, name, { file: from?.file, what: from?.what ?? 'file', alsoInside: hubCacheBlobs(hfDir) });

/** The shard names of `model.safetensors.index.json`, checked: tensor name → shard path inside `hfDir`. */
async function readShardIndex(hfDir: string, indexFile: string): Promise<Map<string, string>> {
  const info = await fileSystemFor(indexFile).stat(indexFile);
  if (info && info.size > MAX_INDEX_BYTES)
    throw new CheckpointError(`${indexFile}: ${info.size} bytes, over the ${MAX_INDEX_BYTES}-byte limit for a shard index`, indexFile);
  let index: unknown;
  try {
    index = JSON.parse(await readTextFile(indexFile));
  } catch (error) {
    throw new CheckpointError(`${indexFile}: not valid JSON (${(error as Error).message})`, indexFile, { cause: error });
  }
  const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!isObject(index)) throw new CheckpointError(`${indexFile}: expected a JSON object with a "weight_map"`, indexFile);
  const weightMap = index.weight_map;
  if (!isObject(weightMap))
    throw new CheckpointError(
      `${indexFile}: "weight_map" is ${JSON.stringify(weightMap) ?? 'missing'}, expected an object of tensor name → shard file name`,
      indexFile,
    );
  if (Object.keys(weightMap).length === 0)
    throw new CheckpointError(`${indexFile}: "weight_map" is empty, expected an object of tensor name → shard file name`, indexFile);
  const shardPaths = new Map<string, string>();
  const byTensor = new Map<string, string>();
  for (const [tensor, shard] of Object.entries(weightMap)) {
    const what = `weight_map[${JSON.stringify(tensor)}]`;
    if (typeof shard !== 'string') throw new CheckpointError(`${indexFile}: ${what} is ${JSON.stringify(shard)}, expected a shard file name`, indexFile);
    let path = shardPaths.get(shard);
    if (path === undefined) {
      path = await hfFolderFile(hfDir, shard, { file: indexFile, what });
      const info = await fileSystemFor(path).stat(path);
      if (!info || info.isDirectory)
        throw new CheckpointError(
          `${indexFile}: ${what} names ${path}, which is not there${info ? ' (a folder)' : ''}; expected a safetensors shard`,
          indexFile,
        );
      shardPaths.set(shard, path);
    }
    byTensor.set(tensor, path);
  }
  return byTensor;
}

/**
 * Opens a Hugging Face folder's weights: `model.safetensors`, or the shards that
 * `model.safetensors.index.json` lists. Every shard name is checked to stay inside the folder
 * (no `..`, no absolute path, no link leading out) before any shard is opened, and the index must
 * agree with the shards' own headers. `pytorch_model.bin` alone is refused with a way out, since
 * reading pickles is code execution in the general case.
 */
export async function openHfWeights(hfDir: string): Promise<HfWeights> {
  const single = await hfFolderFile(hfDir, 'model.safetensors');
  const indexFile = await hfFolderFile(hfDir, 'model.safetensors.index.json');
  let shardPaths: string[];
  let weightMap: Map<string, string> | undefined;
  if (await pathExists(single)) shardPaths = [single];
  else if (await pathExists(indexFile)) {
    weightMap = await readShardIndex(hfDir, indexFile);
    shardPaths = [...new Set(weightMap.values())];
  } else if (await pathExists(joinPath(hfDir, 'pytorch_model.bin'))) {
    throw new CheckpointError(
      `${hfDir}: only pytorch_model.bin, no model.safetensors; save it with safe_serialization=True (the default since transformers 4.35) and import that`,
    );
  } else throw new CheckpointError(`${hfDir}: no model.safetensors or model.safetensors.index.json`);
  const files: SafetensorsFile[] = [];
  const closeAll = async (): Promise<void> => void (await Promise.all(files.map((f) => f.close())));
  try {
    for (const path of shardPaths) files.push(await openSafetensors(path));
    const tensors = new Map<string, SafetensorsFile>();
    for (const file of files) {
      for (const name of file.tensors.keys()) {
        if (tensors.has(name)) throw new CheckpointError(`${file.path}: tensor ${name} is also in ${tensors.get(name)!.path}`, file.path);
        const listed = weightMap?.get(name);
        if (weightMap && listed !== file.path)
          throw new CheckpointError(
            `${indexFile}: ${listed === undefined ? `does not list ${name}` : `says ${name} is in ${listed}`}, but it is in ${file.path}`,
            indexFile,
          );
        tensors.set(name, file);
      }
    }
    for (const [name, path] of weightMap ?? []) {
      if (!tensors.has(name)) throw new CheckpointError(`${indexFile}: says ${name} is in ${path}, but that shard has no such tensor`, indexFile);
    }
    return { tensors, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
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
 * `gs://`. Every input is read and checked (the config, shard names and headers, shapes, tied
 * weights, the tokenizer) before anything is written; the files are written aside and moved into
 * place together (stageOutput), so a failure leaves `outputDir` as it was, and the `checkpoint` state
 * file comes last, once everything it points to is complete.
 */
export async function importFromHuggingFace(options: HfImportOptions): Promise<HfImportResult> {
  const step = options.step ?? HF_IMPORT_DEFAULTS.step;
  if (!Number.isSafeInteger(step) || step < 0) throw new InputError(undefined, `--step must be a non-negative integer, got ${step}`);
  const { hfDir, outputDir } = options;
  // Every input is read and checked before the first byte is written.
  const configFile = await hfFolderFile(hfDir, 'config.json');
  if (!(await pathExists(configFile))) throw new CheckpointError(`${configFile}: missing (a Hugging Face model folder has one)`, configFile);
  const config = await readBigBirdConfig(configFile);
  const tfConfig = tfConfigFromHf(config);
  const notes = [tfActivationNote(config)].filter((n): n is string => n !== undefined);
  const name = checkpointName(step);
  await refuseExistingCheckpoint(joinPath(outputDir, name), options.overwrite ?? false);
  const tokenizerFiles: string[] = [];
  for (const f of TOKENIZER_FILES) {
    const path = await hfFolderFile(hfDir, f);
    const info = await fileSystemFor(path).stat(path);
    if (info?.isDirectory) throw new InputError(path, `${path}: is a folder, expected a tokenizer file`);
    if (info) tokenizerFiles.push(f);
  }
  if (tokenizerFiles.includes('vocab.txt') || tokenizerFiles.includes('tokenizer.json')) {
    const tokenizer = await loadTokenizer(hfDir);
    if (tokenizer.vocabSize > config.vocab_size)
      throw new InputError(
        hfDir,
        `${hfDir}: the tokenizer has ${tokenizer.vocabSize} tokens, more than the model's ${config.vocab_size} word embeddings (${configFile} vocab_size); ids past ${config.vocab_size - 1} would have no embedding`,
      );
    if (tokenizer.vocabSize < config.vocab_size)
      notes.push(`the tokenizer has ${tokenizer.vocabSize} tokens, the model ${config.vocab_size} word embeddings; kbb export will want them equal`);
  }

  const weights = await openHfWeights(hfDir);
  try {
    const plan = planHfImport(weights, config, hfDir);
    // A file may carry the tied aliases (older torch.save state dicts do); TF has one variable for
    // both, so they must really be the same values.
    for (const { name: alias } of plan.skipped.filter((s) => Object.hasOwn(HF_BIGBIRD_TIED_PARAMETERS, s.name))) {
      const target = HF_BIGBIRD_TIED_PARAMETERS[alias];
      const [aliasBytes, tied] = await Promise.all([weights.tensors.get(alias)!.read(alias), weights.tensors.get(target)?.read(target)]);
      if (!tied || !Buffer.from(aliasBytes).equals(Buffer.from(tied)))
        throw new CheckpointError(`${hfDir}: ${alias} differs from ${target}, to which BigBird ties it; TF has one variable for both`);
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

    // The data first, the index after it, the state file that names the checkpoint last.
    const outputs = [
      `${name}.data-00000-of-00001`,
      `${name}.index`,
      PRETRAIN_CONFIG_FILE,
      ...tokenizerFiles.map((f) => `tokenizer/${f}`),
      CHECKPOINT_STATE_FILE,
    ];
    const staged = await stageOutput(outputDir, outputs);
    try {
      await writeCheckpoint(joinPath(staged.dir, name), tensors);
      await writeFileAt(joinPath(staged.dir, PRETRAIN_CONFIG_FILE), formatTfConfigJson(tfConfig));
      for (const f of tokenizerFiles) await copyFile(joinPath(hfDir, f), joinPath(staged.dir, 'tokenizer', f));
      await writeCheckpointState(staged.dir, { modelCheckpointPath: name, allModelCheckpointPaths: [name] });
      const files = await staged.publish(outputs);
      return { checkpointPrefix: joinPath(outputDir, name), plan, files, notes };
    } catch (error) {
      await staged.discard();
      throw error;
    }
  } finally {
    await weights.close();
  }
}
