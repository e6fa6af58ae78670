import * as tf from '@tensorflow/tfjs-core';
import { type BackendPreference, type BackendSelection, selectBackend } from '../backend/select-backend.js';
import { CHECKPOINT_STATE_FILE } from '../checkpoint/checkpoint-files.js';
import { latestCheckpoint } from '../checkpoint/checkpoint-state.js';
import { CheckpointReader } from '../checkpoint/tensor-bundle-reader.js';
import { bigBirdVariables, planWarmStart, warmStartTensors } from '../checkpoint/warm-start.js';
import { copyFile } from '../fs/copy-file.js';
import { fileSystemFor, pathExists, writeFileAt } from '../fs/file-system-for.js';
import { joinPath } from '../fs/paths.js';
import { BigBirdModel, tfAttentionType } from '../model/bigbird.js';
import type { BigBirdConfig } from '../model/bigbird-config.js';
import { formatTfConfigJson, hfConfigFromTf, PRETRAIN_CONFIG_FILE } from '../model/config-files.js';
import { initialBigBirdValues } from '../model/initial-values.js';
import { bigBirdModelVariables } from '../model/variables.js';
import { BigBirdWeights, type NamedArray } from '../model/weights.js';
import { mixSeeds } from '../random/mix-seeds.js';
import { EventFileWriter } from '../tensorboard/event-file-writer.js';
import { loadSpecialTokens, loadTokenizer } from '../tokenizer/load-tokenizer.js';
import { AdamW, adamSlotNames, referenceLearningRate } from './adamw.js';
import { type EvalResults, formatEvalResults } from './eval-results.js';
import { estimateTrainingMemory, trainingMemoryLimit } from './memory-estimate.js';
import { type PretrainingBatch, PretrainingInput, type PretrainingInputState } from './pretraining-input.js';
import { type RunOutputSnapshot, restoreRunOutput, snapshotRunOutput } from './run-output.js';
import { readTrainingCheckpoint, removeStaleTemporaries, removeTrainingOutput, saveTrainingCheckpoint } from './train-checkpoints.js';
import { pretrainConfig, TOKENIZER_ID_KEYS, TPU_FLAGS, TRAIN_DEFAULTS, type TrainFlags, trainFlagProblems } from './train-flags.js';

/*
 * `kbb train`: KoBigBird's run_pretraining.py, one step after another (spec §3). Read top to bottom:
 * settings → tokenizer and config → the starting weights (a checkpoint to resume, a warm start, or
 * fresh) → the loop (batches, loss and gradients, AdamWeightDecay, summaries, checkpoints) → evaluation.
 */

export interface TrainOptions {
  /** The flags; what is left out takes `TRAIN_DEFAULTS`. */
  readonly flags: Partial<TrainFlags>;
  /** The backend to start from (default: the best installed, as `selectBackend` chooses). */
  readonly backend?: BackendPreference;
  /** Stops training after the current step, with a checkpoint at that step (Ctrl-C, SIGTERM). */
  readonly signal?: AbortSignal;
  /** After every step. */
  readonly onProgress?: (progress: TrainProgress) => void;
  /** What the run decided that a user should know (resume, warm start, unused TPU flags). */
  readonly onNote?: (note: string) => void;
}

export interface TrainProgress {
  /** The global step after this update, of `totalSteps`. */
  readonly step: number;
  readonly totalSteps: number;
  /** The step where this run started (0, or the resumed checkpoint's). */
  readonly startStep: number;
  /** The loss of this step's batches (their mean with accumulation), before the update. */
  readonly loss: number;
  readonly maskedLmAccuracy: number;
  /** The rate this update used (taken at the step before it). */
  readonly learningRate: number;
  readonly stepsPerSecond: number;
  readonly examplesPerSecond: number;
  readonly tokensPerSecond: number;
}

export interface TrainResult {
  readonly outputDir: string;
  readonly backend: BackendSelection;
  readonly config: BigBirdConfig;
  readonly startStep: number;
  readonly finalStep: number;
  /** Stopped by the signal before `num_train_steps`. */
  readonly stopped: boolean;
  /** The losses of the first and the last step this run trained (undefined without training). */
  readonly firstLoss?: number;
  readonly lastLoss?: number;
  /** The checkpoint prefixes this run wrote. */
  readonly checkpoints: readonly string[];
  readonly evalResults?: EvalResults;
}

/** What `kbb train` saves beside each checkpoint. */
interface TrainState {
  readonly input: PretrainingInputState;
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  const flags: TrainFlags = { ...TRAIN_DEFAULTS, ...options.flags };
  const note = options.onNote ?? (() => {});
  const problems = trainFlagProblems(flags);
  if (problems.length > 0) throw new Error(`kbb train: ${problems.join('; ')}`);
  const unusedTpuFlags = TPU_FLAGS.filter((key) => flags[key] !== TRAIN_DEFAULTS[key]);
  if (unusedTpuFlags.length > 0) note(`not used locally: ${unusedTpuFlags.map((key) => `--${key}=${String(flags[key])}`).join(' ')}`);

  // The tokenizer fixes the vocabulary size and the special ids; the flags and those ids are the config.
  const tokenizer = await loadTokenizer(flags.tokenizer_dir);
  const specials = await loadSpecialTokens(flags.tokenizer_dir);
  const ids = Object.fromEntries(
    Object.entries(TOKENIZER_ID_KEYS).map(([key, special]) => [key, specials[special] === undefined ? null : (tokenizer.tokenToId(specials[special]) ?? null)]),
  );
  const tfConfig = pretrainConfig(flags, { vocabSize: tokenizer.vocabSize, ids });
  const config = hfConfigFromTf(tfConfig, {}, `${flags.tokenizer_dir} and the flags`);
  const padId = config.pad_token_id ?? 0;

  const backend = await selectBackend(options.backend === undefined ? {} : { prefer: options.backend });
  const estimate = estimateTrainingMemory(config, {
    batchSize: Math.max(flags.train_batch_size, flags.do_eval ? flags.eval_batch_size : 0),
    seqLength: flags.max_encoder_length,
    predictions: flags.max_predictions_per_seq,
    attention: tfAttentionType(config, flags.max_encoder_length),
    accumulation: flags.gradient_accumulation_steps,
  });
  const limit = trainingMemoryLimit(backend.backend);
  if (limit !== undefined && estimate.total > limit.bytes) {
    throw new Error(
      `kbb train: this configuration needs about ${gib(estimate.total)} GiB of tensor data (weights ${gib(estimate.weights)}, optimizer ${gib(estimate.optimizer)}, ` +
        `gradients ${gib(estimate.gradients)}, activations ${gib(estimate.activations)}); the ${backend.backend} backend holds about ${gib(limit.bytes)} GiB (${limit.why}). ` +
        'Use fewer layers, a shorter --max_encoder_length or a smaller --train_batch_size, or install @tensorflow/tfjs-node(-gpu).',
    );
  }

  // Everything is read and checked before the first byte is written: the starting weights (a
  // checkpoint to resume, or --init_checkpoint) and the training data's first records.
  const outputDir = flags.output_dir;
  const names = bigBirdModelVariables(config, 'pretraining').map((v) => v.name);
  // --overwrite starts afresh: a checkpoint already in the folder is about to be removed, not resumed.
  const start = await startingPoint(flags, config, names, note, !(flags.do_train && flags.overwrite));
  const training = flags.do_train && start.step < flags.num_train_steps;
  const input = training
    ? await PretrainingInput.open({
        dataDir: flags.data_dir,
        seqLength: flags.max_encoder_length,
        predictions: flags.max_predictions_per_seq,
        batchSize: flags.train_batch_size,
        padId,
        seed: flags.seed,
        ...(start.inputState ? { state: start.inputState } : {}),
      })
    : undefined;
  // A run that fails before it saves a checkpoint past its start leaves the folder as it found it.
  let before: RunOutputSnapshot | undefined;
  let progressed = false;
  try {
    if (flags.do_train) {
      before = await snapshotRunOutput(outputDir);
      await fileSystemFor(outputDir).mkdir(outputDir);
      if (flags.overwrite) {
        const removed = await removeTrainingOutput(outputDir);
        if (removed.length > 0) note(`--overwrite: removed ${removed.length} file(s) of an earlier run from ${outputDir}`);
      }
      const litter = await removeStaleTemporaries(outputDir);
      if (litter.length > 0) note(`removed ${litter.length} temporary file(s) an interrupted save left`);
      await writeFileAt(joinPath(outputDir, PRETRAIN_CONFIG_FILE), formatTfConfigJson(tfConfig));
      await copyTokenizer(flags.tokenizer_dir, joinPath(outputDir, 'tokenizer'), flags.overwrite);
    }
    return await trainFrom(start, input, { options, flags, config, padId, backend, outputDir, onProgressed: () => (progressed = true) });
  } catch (error) {
    if (before && !progressed) await restoreRunOutput(outputDir, before);
    throw error;
  } finally {
    await input?.close();
  }
}

interface RunContext {
  readonly options: TrainOptions;
  readonly flags: TrainFlags;
  readonly config: BigBirdConfig;
  readonly padId: number;
  readonly backend: BackendSelection;
  readonly outputDir: string;
  /** Called once a checkpoint past the starting step is saved: from then on a failure keeps the run's output. */
  readonly onProgressed: () => void;
}

/** The loop and the evaluation, from `start`; `input` is open when there is training to do. */
async function trainFrom(start: StartingPoint, input: PretrainingInput | undefined, context: RunContext): Promise<TrainResult> {
  const { options, flags, config, padId, backend, outputDir } = context;
  const note = options.onNote ?? (() => {});
  const weights = BigBirdWeights.fromArrays(config, 'pretraining', start.values, start.source);
  const model = new BigBirdModel({ config, weights, mode: 'train', semantics: 'tf', warn: note });
  const optimizer = new AdamW(weights.variables, {
    flavour: 'bert',
    learningRate: flags.learning_rate,
    beta1: flags.optimizer_beta1,
    beta2: flags.optimizer_beta2,
    epsilon: flags.optimizer_epsilon,
    weightDecay: flags.weight_decay_rate,
  });
  if (start.slots.size > 0) tf.tidy(() => optimizer.loadSlots(new Map([...start.slots].map(([name, a]) => [name, tf.tensor(a.values, [...a.shape])]))));

  const checkpoints: string[] = [];
  let step = start.step;
  let firstLoss: number | undefined;
  let lastLoss: number | undefined;
  let stopped = false;
  try {
    if (input) {
      const events = await EventFileWriter.open(outputDir);
      const save = async (): Promise<void> => {
        const variables = new Map<string, tf.Variable>([...weights.variables, ...optimizer.slotVariables()]);
        const state: TrainState = { input: input.state() };
        checkpoints.push(await saveTrainingCheckpoint({ outputDir, step, variables, state, keep: flags.keep_checkpoint_max }));
        if (step > start.step) context.onProgressed();
        await events.flush();
      };
      try {
        // As the TF Estimator does, a run that starts without a checkpoint saves one at its first step.
        if (!start.resumed) await save();
        const examplesPerStep = flags.train_batch_size * flags.gradient_accumulation_steps;
        while (step < flags.num_train_steps && !options.signal?.aborted) {
          const started = performance.now();
          const learningRate = referenceLearningRate(step, flags.learning_rate, flags.num_warmup_steps, flags.num_train_steps);
          const { loss, accuracy } = await trainStep(model, optimizer, input, flags, step, learningRate);
          step++;
          firstLoss ??= loss;
          lastLoss = loss;
          const seconds = (performance.now() - started) / 1000;
          const progress: TrainProgress = {
            step,
            totalSteps: flags.num_train_steps,
            startStep: start.step,
            loss,
            maskedLmAccuracy: accuracy,
            learningRate,
            stepsPerSecond: 1 / seconds,
            examplesPerSecond: examplesPerStep / seconds,
            tokensPerSecond: (examplesPerStep * flags.max_encoder_length) / seconds,
          };
          events.scalars(step, {
            loss,
            learning_rate: learningRate,
            masked_lm_accuracy: accuracy,
            'global_step/sec': progress.stepsPerSecond,
            'examples/sec': progress.examplesPerSecond,
          });
          options.onProgress?.(progress);
          if (step % flags.save_checkpoints_steps === 0 || step === flags.num_train_steps) await save();
          else if (step % SUMMARY_FLUSH_STEPS === 0) await events.flushIfDue();
        }
        if (step < flags.num_train_steps) {
          stopped = true;
          if (checkpoints.at(-1)?.endsWith(`-${step}`) !== true) await save();
        }
      } finally {
        await events.close();
      }
    }
    const evalResults = flags.do_eval ? await evaluate(model, flags, padId, step, outputDir) : undefined;
    return { outputDir, backend, config, startStep: start.step, finalStep: step, stopped, firstLoss, lastLoss, checkpoints, evalResults };
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

/**
 * Events are flushed at every checkpoint, and every this many steps when due: always on a local disk,
 * where a flush is one append; on Cloud Storage, where each flush uploads the whole event file again,
 * at most every `REMOTE_FLUSH_SECONDS` (see `EventFileWriter.flushIfDue`).
 */
const SUMMARY_FLUSH_STEPS = 10;

/**
 * One update: `gradient_accumulation_steps` batches, each with its own loss normalised by its own
 * weights and its own dropout seed, their gradients averaged (as the reference's TPU cores are by
 * CrossShardOptimizer), then AdamWeightDecay at this step's rate.
 */
async function trainStep(
  model: BigBirdModel,
  optimizer: AdamW,
  input: PretrainingInput,
  flags: TrainFlags,
  step: number,
  learningRate: number,
): Promise<{ loss: number; accuracy: number }> {
  const accumulation = flags.gradient_accumulation_steps;
  let summed: Map<string, tf.Tensor> | undefined;
  let lossSum = 0;
  let accuracySum = 0;
  for (let k = 0; k < accumulation; k++) {
    const batch = (await input.nextBatch())!;
    const { loss, grads, maskedLmAccuracy } = model.lossAndGrads(modelBatch(batch, flags.use_nsp, mixSeeds(mixSeeds(flags.seed, step), k)));
    lossSum += (await loss.data())[0];
    loss.dispose();
    accuracySum += maskedLmAccuracy ?? 0;
    if (!summed) summed = grads;
    else {
      for (const [name, grad] of grads) {
        const previous = summed.get(name);
        summed.set(name, previous ? tf.add(previous, grad) : grad);
        if (previous) {
          previous.dispose();
          grad.dispose();
        }
      }
    }
  }
  const grads = summed!;
  if (accumulation > 1) {
    for (const [name, grad] of grads) {
      grads.set(name, tf.div(grad, accumulation));
      grad.dispose();
    }
  }
  try {
    optimizer.applyGradients(grads, learningRate);
  } finally {
    for (const grad of grads.values()) grad.dispose();
  }
  return { loss: lossSum / accumulation, accuracy: accuracySum / accumulation };
}

function modelBatch(batch: PretrainingBatch, useNsp: boolean, dropoutSeed: number) {
  return {
    inputIds: batch.inputIds,
    attentionMask: batch.inputMask,
    tokenTypeIds: batch.segmentIds,
    shape: [batch.size, batch.seqLength] as const,
    maskedLm: { positions: batch.maskedLmPositions, ids: batch.maskedLmIds, weights: batch.maskedLmWeights, perExample: batch.predictions },
    ...(useNsp ? { nextSentenceLabel: batch.nextSentenceLabels } : {}),
    dropoutSeed,
  };
}

interface StartingPoint {
  readonly values: Map<string, NamedArray>;
  readonly slots: Map<string, NamedArray>;
  readonly step: number;
  readonly source: string;
  readonly resumed: boolean;
  readonly inputState?: PretrainingInputState;
}

/**
 * Where training starts: the newest checkpoint in `output_dir` (weights, slots, step and, from kbb's
 * state file, the input's position); else `init_checkpoint`, a BigBird checkpoint loaded whole or a
 * BERT one warm-started by the reference's rules (spec §3.6), at step 0; else fresh weights.
 */
async function startingPoint(
  flags: TrainFlags,
  config: BigBirdConfig,
  names: readonly string[],
  note: (message: string) => void,
  resume: boolean,
): Promise<StartingPoint> {
  if (resume && (await pathExists(joinPath(flags.output_dir, CHECKPOINT_STATE_FILE)))) {
    const prefix = await latestCheckpoint(flags.output_dir);
    const slotNames = names.flatMap((name) => Object.values(adamSlotNames(name)));
    const saved = await readTrainingCheckpoint(prefix, names, slotNames);
    const state = saved.state as TrainState | undefined;
    note(`resuming from ${prefix} at step ${saved.step}${state ? '' : ' (a checkpoint without kbb state: the input starts over from the seed)'}`);
    const values = fillMissing(saved.variables, config, flags.seed, prefix, note);
    return { values, slots: saved.slots, step: saved.step, source: prefix, resumed: true, ...(state ? { inputState: state.input } : {}) };
  }
  if (flags.init_checkpoint) {
    const reader = await CheckpointReader.open(flags.init_checkpoint);
    try {
      if (reader.has('bert/encoder/LayerNorm/gamma')) {
        const loaded = await readTrainingCheckpoint(flags.init_checkpoint, names, []);
        note(`starting from the BigBird checkpoint ${flags.init_checkpoint} (every variable, position table included; the step starts at 0)`);
        return {
          values: fillMissing(loaded.variables, config, flags.seed, flags.init_checkpoint, note),
          slots: new Map(),
          step: 0,
          source: flags.init_checkpoint,
          resumed: false,
        };
      }
      const plan = planWarmStart(reader.variables, bigBirdVariables(config), { randomPositionEmbeddings: flags.random_pos_emb });
      const values = new Map<string, NamedArray>();
      for (const tensor of warmStartTensors(plan, reader, { seed: flags.seed, initializerRange: config.initializer_range })) {
        const bytes = (typeof tensor.data === 'function' ? await tensor.data() : tensor.data) as Uint8Array;
        if (tensor.dtype !== 'float32') throw new Error(`${flags.init_checkpoint}: variable ${tensor.name} is ${tensor.dtype}, not float32`);
        values.set(tensor.name, { shape: tensor.shape, values: new Float32Array(bytes.slice().buffer) });
      }
      const count = (action: string): number => plan.rows.filter((r) => r.action === action).length;
      note(`warm start from ${flags.init_checkpoint}: ${count('copy')} copied, ${count('rename')} renamed, ${count('fresh')} fresh`);
      return { values, slots: new Map(), step: 0, source: flags.init_checkpoint, resumed: false };
    } finally {
      await reader.close();
    }
  }
  return { values: initialBigBirdValues(config, 'pretraining', flags.seed), slots: new Map(), step: 0, source: 'fresh weights', resumed: false };
}

/** A checkpoint without the NSP head (imported from a MaskedLM model): its variables start fresh, as the TF trainer would. */
function fillMissing(
  values: Map<string, NamedArray>,
  config: BigBirdConfig,
  seed: number,
  source: string,
  note: (message: string) => void,
): Map<string, NamedArray> {
  const missing = bigBirdModelVariables(config, 'pretraining')
    .map((v) => v.name)
    .filter((name) => !values.has(name));
  if (missing.length === 0) return values;
  const optional = new Set(
    bigBirdModelVariables(config, 'masked-lm')
      .filter((v) => !v.required)
      .map((v) => v.name),
  );
  const required = missing.filter((name) => !optional.has(name));
  if (required.length > 0)
    throw new Error(
      `${source}: no variable ${required.slice(0, 3).join(', ')}${required.length > 3 ? ', …' : ''} (is it a BigBird checkpoint of this config?)`,
    );
  note(`${source} has no ${missing.join(', ')}: initialised fresh`);
  // Drawn as a fresh model would draw them, so the values do not depend on what else is missing.
  const fresh = initialBigBirdValues(config, 'pretraining', seed);
  for (const name of missing) values.set(name, fresh.get(name)!);
  return values;
}

/**
 * Copies the tokenizer's files once, as the reference does (again with `overwrite`); either folder may
 * be local or `gs://`. Each file appears whole or not at all, and a file missing from an earlier copy
 * (a run killed halfway through it) is copied now.
 */
async function copyTokenizer(from: string, to: string, again: boolean): Promise<void> {
  const target = fileSystemFor(to);
  const present = again ? new Set<string>() : new Set((await target.list(to)).filter((e) => !e.isDirectory).map((e) => e.name));
  await target.mkdir(to);
  for (const { name, isDirectory } of await fileSystemFor(from).list(from)) {
    if (!isDirectory && !present.has(name)) await copyFile(joinPath(from, name), joinPath(to, name));
  }
}

/**
 * The reference's evaluation: `max_eval_steps` batches of `eval_batch_size` from the data in name
 * order, no dropout; `masked_lm_accuracy` and `masked_lm_loss` weighted by the slots' weights, `loss`
 * the mean of the batches' losses. Written to `eval_results.txt` as the reference writes it.
 */
async function evaluate(model: BigBirdModel, flags: TrainFlags, padId: number, step: number, outputDir: string): Promise<EvalResults> {
  const input = await PretrainingInput.open({
    dataDir: flags.data_dir,
    seqLength: flags.max_encoder_length,
    predictions: flags.max_predictions_per_seq,
    batchSize: flags.eval_batch_size,
    padId,
    seed: flags.seed,
    mode: 'eval',
  });
  model.eval();
  let batches = 0;
  let lossSum = 0;
  let weighted = 0;
  let weightedLoss = 0;
  let weightedCorrect = 0;
  try {
    while (batches < flags.max_eval_steps) {
      const batch = await input.nextBatch();
      if (!batch) break;
      let accuracy = 0;
      const lossTensor = model.loss(modelBatch(batch, flags.use_nsp, 0), (a) => {
        accuracy = a;
      });
      const loss = (await lossTensor.data())[0];
      lossTensor.dispose();
      const weights = batch.maskedLmWeights.reduce((a, b) => a + b, 0);
      lossSum += loss;
      weighted += weights;
      weightedLoss += loss * (weights + 1e-5);
      weightedCorrect += accuracy * weights;
      batches++;
    }
  } finally {
    model.train();
    await input.close();
  }
  const results: EvalResults = {
    global_step: step,
    loss: batches > 0 ? lossSum / batches : 0,
    masked_lm_accuracy: weighted > 0 ? weightedCorrect / weighted : 0,
    masked_lm_loss: weighted > 0 ? weightedLoss / weighted : 0,
  };
  await writeFileAt(joinPath(outputDir, 'eval_results.txt'), formatEvalResults(results));
  return results;
}

const gib = (bytes: number): string => (bytes / 2 ** 30).toFixed(2);
