import { fileSystemFor, readOptionalText } from '../fs/file-system-for.js';
import { joinPath } from '../fs/paths.js';
import type { BigBirdShapeConfig } from '../model/bigbird-config.js';
import { readBigBirdConfig } from '../model/config-files.js';
import type { SkippedVariable } from '../model/variables.js';
import { bigBirdTfVariables } from '../model/variables.js';
import { PyRandom } from '../random/py-random.js';
import { elementCount, sameShape } from '../tensor/shape.js';
import { byCodePoints } from '../text/compare-code-points.js';
import { CheckpointError } from './checkpoint-error.js';
import { CHECKPOINT_STATE_FILE, checkpointName, refuseExistingCheckpoint } from './checkpoint-files.js';
import { parseCheckpointState, writeCheckpointState } from './checkpoint-state.js';
import { CheckpointReader, type CheckpointVariable } from './tensor-bundle-reader.js';
import { removeStaleTemporaries, type TensorToWrite, writeCheckpoint } from './tensor-bundle-writer.js';

/** `kbb warm-start`'s defaults. */
export const WARM_START_DEFAULTS = Object.freeze({
  /** Seed of the freshly initialised variables. */
  seed: 12345,
  /** KoBigBird's `random_pos_emb`: a fresh position table for all positions. */
  randomPositionEmbeddings: true,
});

/** The checkpoint a warm start writes, relative to its output folder. */
export const WARM_START_CHECKPOINT = checkpointName(0);

/** A variable of the model being started: its TF name and shape. */
export interface TargetVariable {
  readonly name: string;
  readonly shape: readonly number[];
}

export type WarmStartAction = 'copy' | 'rename' | 'fresh';

export interface WarmStartRow {
  readonly target: string;
  readonly shape: readonly number[];
  readonly action: WarmStartAction;
  /** Where the value comes from (copy and rename). */
  readonly source?: string;
  readonly reason: string;
}

/** A variable of the BERT checkpoint that the warm start does not use, and why. */
export type UnusedSource = SkippedVariable;

export interface WarmStartPlan {
  readonly rows: readonly WarmStartRow[];
  readonly unused: readonly UnusedSource[];
}

export interface WarmStartOptions {
  /** KoBigBird's `random_pos_emb` (default true): the 4096-position table starts fresh, BERT's 512 rows are not used. */
  readonly randomPositionEmbeddings?: boolean;
}

/** Every trainable variable of KoBigBird's TF model (spec §3.7), in name order as a checkpoint index holds them: what a warm start writes. */
export function bigBirdVariables(config: BigBirdShapeConfig): TargetVariable[] {
  return bigBirdTfVariables(config).sort(byCodePoints((v) => v.name));
}

/** kobigbird/utils.py `get_estimator`: checkpoint variables that are never warm-started from. */
const OPTIMIZER_OR_STEP = /Adam|Adafactor|global_step|adam_m|adam_v|AdamWeightDecayOptimizer|AdamWeightDecayOptimizer_1/;
/** The one explicit rename: BERT's embedding LayerNorm is BigBird's `bert/encoder/LayerNorm`. */
const RENAMES: ReadonlyMap<string, string> = new Map([
  ['bert/encoder/LayerNorm/beta', 'bert/embeddings/LayerNorm/beta'],
  ['bert/encoder/LayerNorm/gamma', 'bert/embeddings/LayerNorm/gamma'],
]);

/**
 * What warm-starting `target` from a BERT checkpoint does to every variable, by the reference's rules
 * (spec §3.6): optimizer state and the step counter are dropped; with random position embeddings
 * every `embeddings/position_embeddings` is dropped; BERT's embedding LayerNorm feeds BigBird's
 * `bert/encoder/LayerNorm`; everything else loads by identical name. The reference selects by regex
 * prefix (`re.match`); with full variable names as patterns that is an exact match for every name
 * a BERT or BigBird checkpoint holds. A shape that differs is an error, naming every such variable.
 */
export function planWarmStart(source: readonly CheckpointVariable[], target: readonly TargetVariable[], options: WarmStartOptions = {}): WarmStartPlan {
  const randomPositions = options.randomPositionEmbeddings ?? WARM_START_DEFAULTS.randomPositionEmbeddings;
  const usable = new Map<string, CheckpointVariable>();
  const unused: UnusedSource[] = [];
  for (const v of source) {
    if (OPTIMIZER_OR_STEP.test(v.name))
      unused.push({ name: v.name, shape: v.shape, reason: v.name === 'global_step' ? 'step counter: the BigBird run starts at step 0' : 'optimizer state' });
    else if (randomPositions && v.name.includes('embeddings/position_embeddings'))
      unused.push({ name: v.name, shape: v.shape, reason: `random_pos_emb: BERT's ${v.shape[0]}-row position table is not reused` });
    else usable.set(v.name, v);
  }
  const used = new Set<string>();
  const mismatches: string[] = [];
  // Only position tables not fitting means BERT's table was kept (random_pos_emb off) for another length.
  let positionMismatches = 0;
  const rows = target.map((t): WarmStartRow => {
    const renamed = RENAMES.get(t.name);
    const from = usable.get(t.name) ?? (renamed ? usable.get(renamed) : undefined);
    if (!from) {
      const why =
        t.name.includes('embeddings/position_embeddings') && randomPositions ? 'random_pos_emb: a fresh table for all positions' : 'not in the BERT checkpoint';
      return { target: t.name, shape: t.shape, action: 'fresh', reason: `${why}; truncated normal, σ = initializer_range` };
    }
    used.add(from.name);
    if (!sameShape(from.shape, t.shape)) {
      if (t.name.includes('embeddings/position_embeddings')) positionMismatches++;
      mismatches.push(`${t.name}: checkpoint ${from.name} is ${JSON.stringify(from.shape)}, the BigBird config needs ${JSON.stringify(t.shape)}`);
    }
    return from.name === t.name
      ? { target: t.name, shape: t.shape, action: 'copy', source: from.name, reason: 'same name and shape' }
      : { target: t.name, shape: t.shape, action: 'rename', source: from.name, reason: "BERT's embedding LayerNorm; BigBird calls it bert/encoder/LayerNorm" };
  });
  if (mismatches.length > 0) {
    const hint =
      positionMismatches === mismatches.length
        ? "with random_pos_emb off, BERT's position table is kept: is max_position_embeddings the BERT's?"
        : "is vocab_size / hidden_size the BERT's?";
    throw new CheckpointError(`warm start: ${mismatches.length} shape mismatch(es) (${hint}):\n  ${mismatches.join('\n  ')}`);
  }
  for (const v of usable.values()) if (!used.has(v.name)) unused.push({ name: v.name, shape: v.shape, reason: 'no BigBird variable of that name' });
  return { rows, unused };
}

/** How many variables each action covers, and how many source variables go unused: `43 copied, 2 renamed, 1 fresh; 94 source variables unused`. */
export function warmStartSummary(plan: WarmStartPlan): string {
  const count = (action: WarmStartAction): number => plan.rows.filter((r) => r.action === action).length;
  return `${count('copy')} copied, ${count('rename')} renamed, ${count('fresh')} fresh; ${plan.unused.length} source variables unused`;
}

export interface MaterialiseOptions {
  /** Seed of the fresh variables (default `WARM_START_DEFAULTS.seed`). */
  readonly seed?: number;
  /** σ of the truncated normal for fresh variables (the config's initializer_range). */
  readonly initializerRange: number;
  /** Replace a warm start already in the output folder (refused without it). */
  readonly overwrite?: boolean;
}

/**
 * The warm-started BigBird's variables, in name order, each fetched when read: copied variables byte
 * for byte from the source, fresh ones from a seeded truncated normal (values beyond 2σ redrawn, as
 * `tf.truncated_normal_initializer`), drawn in name order from one generator. No `global_step` and no
 * optimizer slots: the trainer creates them.
 */
export function warmStartTensors(plan: WarmStartPlan, source: CheckpointReader, options: Omit<MaterialiseOptions, 'overwrite'>): TensorToWrite[] {
  const rng = new PyRandom(options.seed ?? WARM_START_DEFAULTS.seed);
  const rows = [...plan.rows].sort(byCodePoints((row) => row.target));
  return rows.map((row) => ({
    name: row.target,
    dtype: row.source ? (source.variable(row.source).dtype as TensorToWrite['dtype']) : 'float32',
    shape: row.shape,
    data: async () =>
      row.source ? source.readBytes(row.source) : new Uint8Array(rng.truncatedNormal(elementCount(row.shape), options.initializerRange).buffer),
  }));
}

/**
 * Writes the warm-started BigBird (`warmStartTensors`) as `DIR/model.ckpt-0` with `global_step` = 0,
 * then the `checkpoint` state file. Optimizer slots are left to the trainer, which creates them at zero.
 */
export async function materialiseWarmStart(plan: WarmStartPlan, source: CheckpointReader, outputDir: string, options: MaterialiseOptions): Promise<string> {
  const prefix = joinPath(outputDir, WARM_START_CHECKPOINT);
  await refuseExistingCheckpoint(prefix, options.overwrite ?? false);
  // What a killed warm start left: its temporaries (whose process is gone).
  await removeStaleTemporaries(outputDir, (name) => name === CHECKPOINT_STATE_FILE || name.startsWith(`${WARM_START_CHECKPOINT}.`));
  const tensors = warmStartTensors(plan, source, options);
  tensors.push({ name: 'global_step', dtype: 'int64', shape: [], data: new Uint8Array(8) });
  await writeCheckpoint(prefix, tensors, {
    // Replacing an earlier warm start: the state file that names it goes before its index does, so
    // that no `checkpoint` file ever names a model.ckpt-0 that is half replaced.
    beforeCommit: () => retractStateFile(outputDir),
  });
  await writeCheckpointState(outputDir, { modelCheckpointPath: WARM_START_CHECKPOINT, allModelCheckpointPaths: [WARM_START_CHECKPOINT] });
  return prefix;
}

/** Removes the folder's `checkpoint` file if it names `model.ckpt-0` as the newest checkpoint (an earlier warm start's). */
async function retractStateFile(outputDir: string): Promise<void> {
  const file = joinPath(outputDir, CHECKPOINT_STATE_FILE);
  const text = await readOptionalText(file);
  if (text === undefined) return;
  let latest: string | undefined;
  try {
    latest = parseCheckpointState(text, file).modelCheckpointPath;
  } catch {
    return; // not one kbb can read: left alone, and replaced when the warm start is complete
  }
  if (latest === WARM_START_CHECKPOINT || latest === joinPath(outputDir, WARM_START_CHECKPOINT)) await fileSystemFor(file).remove(file);
}

/**
 * Checks a warm start's settings before anything is read or written: the paths are given, the seed
 * is a non-negative integer. A problem is one CheckpointError line naming the flag.
 */
export function validateWarmStartRun(run: Pick<WarmStartRun, 'initCheckpoint' | 'configFile' | 'outputDir' | 'seed'>): void {
  const named = [
    ['init_checkpoint', run.initCheckpoint],
    ['config', run.configFile],
    ['output_dir', run.outputDir],
  ] as const;
  for (const [flag, value] of named)
    if (typeof value !== 'string' || value.trim() === '') throw new CheckpointError(`--${flag} must name a path, got ${JSON.stringify(value)}`);
  if (run.seed !== undefined && !(Number.isSafeInteger(run.seed) && run.seed >= 0))
    throw new CheckpointError(`--seed must be a non-negative integer, got ${JSON.stringify(run.seed) ?? String(run.seed)}`);
}

export interface WarmStartRun {
  /** The BERT checkpoint prefix (`path/bert_model.ckpt`, or `gs://bucket/…`). */
  readonly initCheckpoint: string;
  /** BigBird config: an HF `config.json` or the reference's `pretrain_config.json` (local or `gs://`). */
  readonly configFile: string;
  /** Where `model.ckpt-0` and the `checkpoint` file go: a folder or a `gs://` prefix. */
  readonly outputDir: string;
  /** Seed of the fresh variables (default `WARM_START_DEFAULTS.seed`). */
  readonly seed?: number;
  /** KoBigBird's `random_pos_emb` (default true). */
  readonly randomPositionEmbeddings?: boolean;
  /** Replace a warm start already in `outputDir`. */
  readonly overwrite?: boolean;
  /** Cancels the run before anything is written. */
  readonly signal?: AbortSignal;
  /** Sees the plan before anything is written (to show it). */
  readonly onPlan?: (plan: WarmStartPlan) => void;
}

/**
 * KoBigBird's warm start from end to end: refuses an output that holds one already (before reading
 * anything), reads the config and the BERT checkpoint, plans every variable, and writes
 * `model.ckpt-0` with the `checkpoint` file. Returns the plan and the written prefix.
 */
export async function warmStart(run: WarmStartRun): Promise<{ readonly plan: WarmStartPlan; readonly prefix: string }> {
  validateWarmStartRun(run);
  await refuseExistingCheckpoint(joinPath(run.outputDir, WARM_START_CHECKPOINT), run.overwrite ?? false);
  const config = await readBigBirdConfig(run.configFile);
  const reader = await CheckpointReader.open(run.initCheckpoint);
  try {
    const plan = planWarmStart(reader.variables, bigBirdVariables(config), { randomPositionEmbeddings: run.randomPositionEmbeddings });
    run.onPlan?.(plan);
    // A truncated or missing data file is found here, before the output folder is made.
    await reader.checkDataFiles();
    // Nothing is written before this point, so a cancel here leaves no output.
    run.signal?.throwIfAborted();
    const prefix = await materialiseWarmStart(plan, reader, run.outputDir, {
      seed: run.seed,
      initializerRange: config.initializer_range,
      overwrite: run.overwrite,
    });
    return { plan, prefix };
  } finally {
    await reader.close();
  }
}

/** What a warm start plans from: `WarmStartRun` without the output. */
export type WarmStartPlanRun = Pick<WarmStartRun, 'initCheckpoint' | 'configFile' | 'randomPositionEmbeddings'>;

/**
 * `warmStart`'s plan, writing nothing (`kbb warm-start --dry_run`): reads the config and the checkpoint's
 * index, no tensor, and plans every variable; a shape mismatch throws as it does in `warmStart`.
 */
export async function planWarmStartRun(run: WarmStartPlanRun): Promise<WarmStartPlan> {
  const config = await readBigBirdConfig(run.configFile);
  const reader = await CheckpointReader.open(run.initCheckpoint);
  try {
    return planWarmStart(reader.variables, bigBirdVariables(config), { randomPositionEmbeddings: run.randomPositionEmbeddings });
  } finally {
    await reader.close();
  }
}
