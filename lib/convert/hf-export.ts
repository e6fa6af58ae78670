import { CheckpointError } from '../checkpoint/checkpoint-error.js';
import { CHECKPOINT_STATE_FILE, checkpointStep } from '../checkpoint/checkpoint-files.js';
import { latestCheckpoint, parseCheckpointState } from '../checkpoint/checkpoint-state.js';
import type { DType } from '../checkpoint/dtypes.js';
import { CheckpointReader, type CheckpointVariable, dataFileName } from '../checkpoint/tensor-bundle-reader.js';
import { fileSystemFor, pathExists, readTextFile, writeFileAt } from '../fs/file-system-for.js';
import { InputError } from '../fs/input-error.js';
import { isAbsolutePath, joinPath } from '../fs/paths.js';
import { stageOutput } from '../fs/staged-output.js';
import type { BigBirdConfig, BigBirdShapeConfig } from '../model/bigbird-config.js';
import { PRETRAIN_CONFIG_FILE, readBigBirdConfig } from '../model/config-files.js';
import type { SkippedVariable } from '../model/variables.js';
import { bigBirdTfVariables } from '../model/variables.js';
import { sameShape, shapeText } from '../tensor/shape.js';
import { byCodePoints } from '../text/compare-code-points.js';
import { loadTokenizer } from '../tokenizer/load-tokenizer.js';
import { saveTokenizerFolder } from '../tokenizer/save-tokenizer-folder.js';
import { formatHfConfigJson } from './hf-config-json.js';
import { HF_BIGBIRD_TIED_PARAMETERS, tfToHfName, transposeBytes2d } from './hf-names.js';
import { type PytorchTensorSource, writePytorchBin } from './pytorch-bin.js';
import { SAFETENSORS_DTYPE_BYTES, type SafetensorsDtype, type SafetensorsTensorSource, writeSafetensors } from './safetensors.js';

/** One TF variable and the HF parameter it becomes. */
export interface HfExportRow {
  readonly tfName: string;
  readonly hfName: string;
  readonly dtype: SafetensorsDtype;
  readonly tfShape: readonly number[];
  readonly hfShape: readonly number[];
  readonly transpose: boolean;
  readonly byteLength: number;
}

/** A checkpoint variable that is not exported, and why. */
export type HfExportSkip = SkippedVariable;

export interface HfExportPlan {
  /** In HF name order, the order of `model.safetensors`. */
  readonly rows: readonly HfExportRow[];
  readonly skipped: readonly HfExportSkip[];
  /** `BigBirdForPreTraining` when the checkpoint has the NSP head, else `BigBirdForMaskedLM`. */
  readonly architecture: 'BigBirdForPreTraining' | 'BigBirdForMaskedLM';
  /** HF's `torch_dtype`: the word embeddings' type. */
  readonly torchDtype: string;
  readonly totalBytes: number;
}

const TF_TO_SAFETENSORS: Partial<Record<DType, SafetensorsDtype>> = { float32: 'F32', float16: 'F16', bfloat16: 'BF16', float64: 'F64' };
const TORCH_DTYPE: Readonly<Record<string, string>> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16', F64: 'float64' };
/** Path elements of the variables HF's `load_tf_weights_in_big_bird` skips (spec §4). */
const OPTIMIZER_ELEMENTS = new Set(['adam_v', 'adam_m', 'AdamWeightDecayOptimizer', 'AdamWeightDecayOptimizer_1']);
const NSP_HEAD = ['cls/seq_relationship/output_bias', 'cls/seq_relationship/output_weights'];

/**
 * What exporting these checkpoint variables to Hugging Face does, variable by variable, checked
 * against the config before anything is written. The reference converter builds the HF model from
 * the config and silently keeps random values for any parameter the checkpoint lacks; here a
 * missing parameter, a shape that disagrees with the config, or an unknown `bert/…` or `cls/…`
 * variable (a different architecture) is an error. Only the NSP head may be absent as a whole: such
 * a checkpoint exports as `BigBirdForMaskedLM`.
 */
export function planHfExport(variables: readonly CheckpointVariable[], config: BigBirdShapeConfig, where = 'checkpoint'): HfExportPlan {
  const expected = new Map(bigBirdTfVariables(config).map((v) => [v.name, v.shape]));
  const rows: HfExportRow[] = [];
  const skipped: HfExportSkip[] = [];
  const problems: string[] = [];
  for (const v of variables) {
    if (v.name === 'global_step') {
      skipped.push({ name: v.name, shape: v.shape, reason: 'training step counter' });
      continue;
    }
    if (v.name.split('/').some((element) => OPTIMIZER_ELEMENTS.has(element))) {
      skipped.push({ name: v.name, shape: v.shape, reason: 'optimizer slot' });
      continue;
    }
    const mapped = tfToHfName(v.name);
    if (!mapped) {
      if (/^(bert|cls)\//.test(v.name)) problems.push(`${v.name} ${shapeText(v.shape)}: not a variable of KoBigBird's BigBird (different architecture?)`);
      else skipped.push({ name: v.name, shape: v.shape, reason: 'not a BigBird model variable' });
      continue;
    }
    const want = expected.get(v.name)!;
    if (!sameShape(v.shape, want)) {
      problems.push(`${v.name}: checkpoint has ${shapeText(v.shape)}, the config needs ${shapeText(want)}`);
      continue;
    }
    const dtype = TF_TO_SAFETENSORS[v.dtype as DType];
    if (!dtype) {
      problems.push(`${v.name}: dtype ${v.dtype} is not a floating-point type Hugging Face weights use`);
      continue;
    }
    rows.push({
      tfName: v.name,
      hfName: mapped.hfName,
      dtype,
      tfShape: v.shape,
      hfShape: mapped.transpose ? [...v.shape].reverse() : v.shape,
      transpose: mapped.transpose,
      byteLength: v.byteLength,
    });
  }
  const present = new Set(rows.map((r) => r.tfName));
  const hasNsp = NSP_HEAD.some((name) => present.has(name));
  for (const [name, shape] of expected) {
    if (present.has(name) || (!hasNsp && NSP_HEAD.includes(name))) continue;
    if (!problems.some((p) => p.startsWith(`${name}:`)))
      problems.push(`${name} ${shapeText(shape)}: missing (the reference would leave it randomly initialised)`);
  }
  if (problems.length > 0) throw new CheckpointError(`${where}: cannot export to Hugging Face, ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  rows.sort(byCodePoints((row) => row.hfName));
  const embeddings = rows.find((r) => r.tfName === 'bert/embeddings/word_embeddings')!;
  return {
    rows,
    skipped,
    architecture: hasNsp ? 'BigBirdForPreTraining' : 'BigBirdForMaskedLM',
    torchDtype: TORCH_DTYPE[embeddings.dtype],
    totalBytes: rows.reduce((n, r) => n + r.byteLength, 0),
  };
}

/** `kbb export`'s defaults, the reference converter's. */
export const HF_EXPORT_DEFAULTS = Object.freeze({
  /** The config beside the checkpoints, relative to the checkpoint folder. */
  bigBirdConfigFile: PRETRAIN_CONFIG_FILE,
});

export interface HfExportOptions {
  /** A TF checkpoint folder, local or `gs://` (export straight from the bucket); its `checkpoint` state file names the checkpoint (the newest). */
  readonly checkpointDir: string;
  /** The Hugging Face folder to write, local or `gs://`. */
  readonly outputDir: string;
  /** Default `pretrain_config.json`; a relative path is resolved against `checkpointDir`, as the converter joins it. An HF `config.json` works too. */
  readonly bigBirdConfigFile?: string;
  /** Default `checkpointDir/tokenizer`; `null` writes no tokenizer files. */
  readonly tokenizerDir?: string | null;
  /** Appends `-{step/1000}k` to `outputDir`, as the converter's `--step_on_output`. */
  readonly stepOnOutput?: boolean;
  /** A checkpoint prefix to export instead of the newest in `checkpointDir`. */
  readonly checkpoint?: string;
  /** Also write `pytorch_model.bin` (torch's zip format, tied weights sharing storage). */
  readonly pytorchBin?: boolean;
  /** Replace model files already in `outputDir` (default false: refuse). */
  readonly overwrite?: boolean;
  /** Called after each tensor written, with bytes done and bytes in all. */
  readonly onProgress?: (doneBytes: number, totalBytes: number) => void;
}

export interface HfExportResult {
  readonly outputDir: string;
  readonly checkpointPrefix: string;
  readonly plan: HfExportPlan;
  readonly config: BigBirdConfig;
  /** Files written, in the order written. */
  readonly files: readonly string[];
  /** Things the user should know (no tokenizer folder, stale files left alone). */
  readonly notes: readonly string[];
}

/**
 * The output folder of `--step_on_output`. The converter cuts the last four characters off the
 * text after the last `-` of the state file's first line (the closing quote and three digits), so
 * `model.ckpt-600000` gives `-600k`, but a step that is not whole thousands is truncated (1500 →
 * `-1k`) and one below 1000 is an error. The same names come out for whole thousands; any other
 * step is written out in full (`-1500`) instead of truncated.
 */
export async function outputDirWithStep(outputDir: string, checkpointDir: string): Promise<string> {
  const file = joinPath(checkpointDir, CHECKPOINT_STATE_FILE);
  let text: string;
  try {
    text = await readTextFile(file);
  } catch (error) {
    throw new CheckpointError(`${file}: cannot read the checkpoint state file (${(error as Error).message})`);
  }
  const state = parseCheckpointState(text, file);
  const step = checkpointStep(state.modelCheckpointPath);
  if (step === undefined) throw new CheckpointError(`${file}: model_checkpoint_path ${JSON.stringify(state.modelCheckpointPath)} does not end in -STEP`);
  return `${outputDir}${step > 0 && step % 1000 === 0 ? `-${step / 1000}k` : `-${step}`}`;
}

/** Files of an HF model folder that a stale copy of would be loaded in place of, or beside, ours. */
const MODEL_FILES = ['config.json', 'model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin', 'pytorch_model.bin.index.json', 'tf_model.h5'];

/**
 * `convert_bigbird_tf_to_pt.py` without Python: a KoBigBird TF checkpoint folder becomes a Hugging
 * Face folder (`model.safetensors`, optionally `pytorch_model.bin`, `config.json`, tokenizer files).
 * Tensors stream one at a time from the checkpoint to the file (kernels transposed on the way), so
 * memory stays near the largest tensor; from a `gs://` folder each tensor is one ranged read. Every
 * input is checked before anything is written (the checkpoint against the config and its data files,
 * the tokenizer folder loaded and its size against the word embeddings); the files are written aside
 * and moved into place together (stageOutput), so a failure leaves `outputDir` as it was, and
 * `config.json` goes last, so a folder with a config is a complete one.
 */
export async function exportToHuggingFace(options: HfExportOptions): Promise<HfExportResult> {
  const checkpointDir = options.checkpointDir;
  const outputDir = options.stepOnOutput ? await outputDirWithStep(options.outputDir, checkpointDir) : options.outputDir;
  const checkpointPrefix = options.checkpoint ?? (await latestCheckpoint(checkpointDir));
  const configName = options.bigBirdConfigFile ?? HF_EXPORT_DEFAULTS.bigBirdConfigFile;
  const configFile = isAbsolutePath(configName) ? configName : joinPath(checkpointDir, configName);
  if (!(await pathExists(configFile)))
    throw new CheckpointError(`${configFile}: no BigBird config (pass --big_bird_config_file: a pretrain_config.json or an HF config.json)`, configFile);
  const baseConfig = await readBigBirdConfig(configFile);
  const tokenizerDir = options.tokenizerDir === undefined ? joinPath(checkpointDir, 'tokenizer') : options.tokenizerDir;
  const notes: string[] = [];
  if (tokenizerDir !== null && !(await pathExists(joinPath(tokenizerDir, 'vocab.txt'))) && !(await pathExists(joinPath(tokenizerDir, 'tokenizer.json')))) {
    if (options.tokenizerDir !== undefined) throw new CheckpointError(`${tokenizerDir}: no vocab.txt or tokenizer.json in the tokenizer folder`, tokenizerDir);
    notes.push(`no tokenizer folder at ${tokenizerDir}: no tokenizer files written (pass --tokenizer_dir)`);
  }
  const withTokenizer = tokenizerDir !== null && notes.length === 0;

  const reader = await CheckpointReader.open(checkpointPrefix);
  try {
    // Every input is read and checked before the first byte is written: the checkpoint against the
    // config, its data files against its index, the tokenizer against the word embeddings.
    const plan = planHfExport(reader.variables, baseConfig, checkpointPrefix);
    await checkDataFiles(reader, plan);
    if (withTokenizer) await checkTokenizerFits(tokenizerDir!, plan, checkpointPrefix);
    const config = { ...baseConfig, architectures: [plan.architecture], torch_dtype: plan.torchDtype } as BigBirdConfig;

    const existing = new Set((await fileSystemFor(outputDir).list(outputDir)).map((entry) => entry.name));
    const clashing = MODEL_FILES.filter((f) => existing.has(f));
    if (clashing.length > 0 && !options.overwrite)
      throw new CheckpointError(`${outputDir}: already holds ${clashing.join(', ')}; pass --overwrite to replace the model there`, outputDir);

    // config.json last: a folder with a config is a complete one.
    const outputs = [
      'model.safetensors',
      ...(options.pytorchBin ? ['pytorch_model.bin'] : []),
      ...(withTokenizer ? TOKENIZER_OUTPUT_FILES : []),
      'config.json',
    ];
    const staged = await stageOutput(outputDir, outputs);
    let files: string[];
    try {
      // The tokenizer first: small, and the last of the inputs to be read whole.
      if (withTokenizer) await saveTokenizerFolder(tokenizerDir!, staged.dir, { modelMaxLength: config.max_position_embeddings });
      let done = 0;
      const total = plan.totalBytes * (options.pytorchBin ? 2 : 1);
      const fetch = (row: HfExportRow) => async (): Promise<Uint8Array> => {
        const bytes = await reader.readBytes(row.tfName);
        const out = row.transpose ? transposeBytes2d(bytes, row.tfShape[0], row.tfShape[1], SAFETENSORS_DTYPE_BYTES[row.dtype]) : bytes;
        done += out.byteLength;
        options.onProgress?.(done, total);
        return out;
      };
      const sources: SafetensorsTensorSource[] = plan.rows.map((row) => ({ name: row.hfName, dtype: row.dtype, shape: row.hfShape, data: fetch(row) }));
      await writeSafetensors(joinPath(staged.dir, 'model.safetensors'), sources);

      if (options.pytorchBin) {
        // torch.save(model.state_dict()) keeps the tied aliases as keys sharing their target's storage.
        const byName = new Map(plan.rows.map((row) => [row.hfName, row]));
        // Spec §3.7's order follows the modules' registration order, and so roughly `state_dict()`'s.
        const rank = new Map(bigBirdTfVariables(baseConfig).map((v, i) => [v.name, i]));
        const binSources: PytorchTensorSource[] = [...plan.rows]
          .sort((a, b) => rank.get(a.tfName)! - rank.get(b.tfName)!)
          .map((row) => ({ name: row.hfName, dtype: row.dtype, shape: row.hfShape, data: fetch(row) }));
        for (const [alias, target] of Object.entries(HF_BIGBIRD_TIED_PARAMETERS)) {
          const row = byName.get(target)!;
          binSources.push({ name: alias, dtype: row.dtype, shape: row.hfShape, tiedTo: target });
        }
        await writePytorchBin(joinPath(staged.dir, 'pytorch_model.bin'), binSources);
      }
      await writeFileAt(joinPath(staged.dir, 'config.json'), formatHfConfigJson(config));
      files = await staged.publish(outputs);
    } catch (error) {
      await staged.discard();
      throw error;
    }
    for (const stale of MODEL_FILES.filter((f) => existing.has(f) && !files.includes(joinPath(outputDir, f)))) {
      notes.push(`${joinPath(outputDir, stale)} was there before and is not from this export (left alone; Hugging Face may load it)`);
    }
    return { outputDir, checkpointPrefix, plan, config, files, notes };
  } finally {
    await reader.close();
  }
}

/** The files `saveTokenizerFolder` writes, in its order (added_tokens.json only when the source has one). */
const TOKENIZER_OUTPUT_FILES = ['vocab.txt', 'special_tokens_map.json', 'tokenizer_config.json', 'added_tokens.json', 'tokenizer.json'];

/** Refuses a checkpoint whose data files are missing or end before the bytes its index promises the exported variables. */
async function checkDataFiles(reader: CheckpointReader, plan: HfExportPlan): Promise<void> {
  const exported = new Set(plan.rows.map((row) => row.tfName));
  const needed = new Map<number, { end: number; name: string }>();
  for (const v of reader.variables) {
    if (!exported.has(v.name)) continue;
    const end = v.offset + v.byteLength;
    if (end > (needed.get(v.shardId)?.end ?? -1)) needed.set(v.shardId, { end, name: v.name });
  }
  for (const [shard, { end, name }] of needed) {
    const file = dataFileName(reader.prefix, shard, reader.header.numShards);
    const info = await fileSystemFor(file).stat(file);
    if (!info || info.isDirectory) throw new CheckpointError(`${file}: missing data shard (needed for variable ${name})`, file);
    if (info.size < end)
      throw new CheckpointError(
        `${file}: data shard is ${info.size} bytes, but the index puts variable ${name} at bytes ${end - reader.variable(name).byteLength}–${end} (truncated?)`,
        file,
      );
  }
}

/**
 * Refuses a tokenizer that does not fit the model: its ids index the word embeddings, so the two
 * sizes must be the same (a 32,500-token tokenizer for a 101-row embedding would give ids with no
 * embedding, a smaller one rows no id reaches).
 */
async function checkTokenizerFits(tokenizerDir: string, plan: HfExportPlan, checkpointPrefix: string): Promise<void> {
  const tokenizer = await loadTokenizer(tokenizerDir);
  const embeddings = plan.rows.find((row) => row.tfName === 'bert/embeddings/word_embeddings')!;
  const rows = embeddings.tfShape[0];
  if (tokenizer.vocabSize !== rows) {
    throw new InputError(
      tokenizerDir,
      `${tokenizerDir}: the tokenizer has ${tokenizer.vocabSize} tokens, but the model's word embeddings have ${rows} (${checkpointPrefix}: bert/embeddings/word_embeddings ${shapeText(embeddings.tfShape)}); pass the --tokenizer_dir the model was trained with`,
    );
  }
}
