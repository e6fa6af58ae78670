import { CheckpointError } from '../checkpoint/checkpoint-error.js';
import type { CheckpointVariable } from '../checkpoint/tensor-bundle-reader.js';
import { bigBirdVariables, planWarmStart, type WarmStartPlan } from '../checkpoint/warm-start.js';
import { isGcsPath } from '../fs/gcs-path.js';
import { blockSizeProblem, TRAIN_DEFAULTS, type TrainFlags, trainFlagProblems } from '../train/train-flags.js';
import { runtimeTensorflowVersion, TF_WITHOUT_ESTIMATOR, type TpuSettings, tpuAccelerator } from './tpu-settings.js';

/** The shapes of one record, as the trainer parses them (`FixedLenFeature`s). */
export interface RecordShape {
  readonly file: string;
  /** The record's number in its file. */
  readonly index: number;
  /** `input_ids` values: the tokens of the example, padding included. */
  readonly length: number;
  /** `masked_lm_positions` values: the prediction slots, padding included. */
  readonly slots: number;
}

/** What `kbb tpu plan` read of the data folder. */
export interface DataSummary {
  readonly dir: string;
  /** The `pretrain_data.tfrecord*` files the trainer's glob finds. */
  readonly files: readonly string[];
  /** The first record of the first and the last file. */
  readonly records: readonly RecordShape[];
  /** What `build_manifest.json` says, where there is one. */
  readonly manifest?: {
    readonly maxSeqLength?: number;
    readonly maxPredictionsPerSeq?: number;
    readonly vocabSize?: number;
    readonly examples?: number;
  };
}

/** Everything the checks look at: the flags and what was read from the data, tokenizer and init checkpoint. */
export interface TpuPlanInputs {
  /** The trainer's flags, defaults filled in. */
  readonly flags: TrainFlags;
  readonly tpu: TpuSettings;
  readonly data?: DataSummary;
  readonly tokenizer?: { readonly dir: string; readonly vocabSize: number };
  readonly checkpoint?: { readonly prefix: string; readonly variables: readonly Pick<CheckpointVariable, 'name' | 'shape'>[] };
  /** One line per piece that could not be read at all. */
  readonly readErrors: readonly string[];
}

const WORD_EMBEDDINGS = 'bert/embeddings/word_embeddings';
/** run_pretraining.py reads these two by name (utils.py `get_estimator`) and stops with a KeyError without them. */
const BERT_EMBEDDING_NORM = ['bert/embeddings/LayerNorm/beta', 'bert/embeddings/LayerNorm/gamma'];
/** kbb's own flags, which the reference trainer does not have. */
const KBB_ONLY_FLAGS = ['gradient_accumulation_steps', 'overwrite'] as const;

/** The warm start the reference trainer would do from the init checkpoint, or the lines of what stops it. */
export function checkpointWarmStart(inputs: TpuPlanInputs): { readonly plan?: WarmStartPlan; readonly problems: string[] } {
  const { checkpoint, flags } = inputs;
  if (!checkpoint) return { problems: [] };
  const { prefix, variables } = checkpoint;
  const problems: string[] = [];
  const names = new Set(variables.map((v) => v.name));
  const missingNorm = BERT_EMBEDDING_NORM.filter((name) => !names.has(name));
  if (missingNorm.length > 0) {
    const bigBird = names.has('bert/encoder/LayerNorm/gamma')
      ? ' (a BigBird checkpoint: to continue it, copy it into --output_dir, where the trainer resumes)'
      : '';
    problems.push(
      `--init_checkpoint ${prefix} has no ${missingNorm.join(' or ')}: run_pretraining.py warm-starts bert/encoder/LayerNorm from BERT's embedding LayerNorm and stops with a KeyError without it${bigBird}`,
    );
  }
  // The vocabulary is compared on its own (against the tokenizer); here the checkpoint's own rows
  // stand in, so that one difference is one line.
  const rows =
    variables.find((v) => v.name === WORD_EMBEDDINGS)?.shape[0] ??
    variables.find((v) => v.name === 'cls/predictions/output_bias')?.shape[0] ??
    inputs.tokenizer?.vocabSize ??
    1;
  const shape = {
    vocab_size: rows,
    hidden_size: flags.hidden_size,
    num_hidden_layers: flags.num_hidden_layers,
    intermediate_size: flags.intermediate_size,
    max_position_embeddings: flags.max_position_embeddings,
    type_vocab_size: flags.type_vocab_size,
  };
  let targets: ReturnType<typeof bigBirdVariables>;
  try {
    targets = bigBirdVariables(shape);
  } catch (error) {
    // A model size the flags get wrong (a hidden_size of 0): nothing to compare the checkpoint against.
    if (error instanceof RangeError) return { problems: [...problems, error.message] };
    throw error;
  }
  try {
    const plan = planWarmStart(variables as CheckpointVariable[], targets, { randomPositionEmbeddings: flags.random_pos_emb });
    // Copied by name: the embedding LayerNorm's rename alone would leave the whole model fresh.
    if (!plan.rows.some((row) => row.action === 'copy'))
      problems.push(
        `--init_checkpoint ${prefix}: none of its ${variables.length} variables is one the trainer warm-starts by name (BERT names such as ${WORD_EMBEDDINGS})`,
      );
    return { plan, problems };
  } catch (error) {
    if (!(error instanceof CheckpointError)) throw error;
    // planWarmStart names one variable per line after its summary line.
    const lines = error.message.split('\n').slice(1);
    problems.push(...lines.map((line) => `--init_checkpoint ${prefix}: ${line.trim()}`));
    return { problems };
  }
}

/** The checks `kbb tpu plan` makes, in the order it makes them; every problem line belongs to one. */
export const TPU_PLAN_CHECK_IDS = [
  'inputs',
  'flags',
  'paths',
  'tpu-vm',
  'kbb-only',
  'files',
  'tokens',
  'slots',
  'vocabulary',
  'block-size',
  'cores',
  'runtime',
  'estimates',
  'warm-start',
] as const;
export type TpuPlanCheckId = (typeof TPU_PLAN_CHECK_IDS)[number];

/** One problem line and the check that found it. */
export interface TpuPlanFinding {
  readonly check: TpuPlanCheckId;
  readonly line: string;
}

/**
 * Everything that would stop the reference trainer on the TPU, or make it train something else than
 * asked, as one line each with both values, tagged with the check that found it; empty when the
 * pieces fit. Pure: `readTpuPlanInputs` reads what it looks at.
 */
export function tpuPlanFindings(inputs: TpuPlanInputs): TpuPlanFinding[] {
  const { flags, tpu, data, tokenizer, checkpoint } = inputs;
  const findings: TpuPlanFinding[] = [];
  const found = (check: TpuPlanCheckId, ...lines: string[]): void => {
    for (const line of lines) findings.push({ check, line });
  };
  found('inputs', ...inputs.readErrors);
  // The block size is a check of its own here (its row in `--checks`), not one of the flag problems.
  const blocks = blockSizeProblem(flags);
  found('flags', ...trainFlagProblems(flags).filter((problem) => problem !== blocks));

  // Where the TPU VM finds things: every path must be in a bucket, not on this machine.
  for (const key of ['data_dir', 'output_dir', 'tokenizer_dir', 'init_checkpoint'] as const) {
    const path = flags[key];
    if (path !== null && !isGcsPath(path)) found('paths', `--${key} ${path} is not in a bucket: the TPU VM reads gs:// paths only (kbb stage uploads it)`);
  }
  for (const key of ['tpu_name', 'tpu_zone', 'gcp_project'] as const) {
    if (!flags[key]) found('tpu-vm', `--${key} is required: the TPU VM's ${key === 'tpu_name' ? 'name' : key === 'tpu_zone' ? 'zone' : 'project'}`);
  }
  for (const key of KBB_ONLY_FLAGS) {
    if (flags[key] !== TRAIN_DEFAULTS[key])
      found(
        'kbb-only',
        `--${key}=${String(flags[key])} is kbb train's own; run_pretraining.py has no such flag (on a TPU the global batch is --train_batch_size × --num_tpu_cores)`,
      );
  }

  // The records: the trainer parses exactly max_encoder_length tokens and max_predictions_per_seq slots.
  if (data) {
    if (data.files.length === 0) found('files', `--data_dir ${data.dir}: no pretrain_data.tfrecord* files (the trainer's input)`);
    for (const record of data.records) {
      if (record.length !== flags.max_encoder_length)
        found('tokens', `${record.file} record ${record.index}: ${record.length} tokens, but --max_encoder_length is ${flags.max_encoder_length}`);
      if (record.slots !== flags.max_predictions_per_seq)
        found(
          'slots',
          `${record.file} record ${record.index}: ${record.slots} prediction slots, but --max_predictions_per_seq is ${flags.max_predictions_per_seq}`,
        );
    }
    const manifest = data.manifest;
    if (manifest?.maxSeqLength !== undefined && manifest.maxSeqLength !== flags.max_encoder_length)
      found('tokens', `${data.dir}: built with --max_seq_length ${manifest.maxSeqLength}, but --max_encoder_length is ${flags.max_encoder_length}`);
    if (manifest?.maxPredictionsPerSeq !== undefined && manifest.maxPredictionsPerSeq !== flags.max_predictions_per_seq)
      found(
        'slots',
        `${data.dir}: built with --max_predictions_per_seq ${manifest.maxPredictionsPerSeq}, but --max_predictions_per_seq is ${flags.max_predictions_per_seq}`,
      );
    if (manifest?.vocabSize !== undefined && tokenizer && manifest.vocabSize !== tokenizer.vocabSize)
      found(
        'vocabulary',
        `${data.dir}: built with a tokenizer of ${manifest.vocabSize} tokens, but --tokenizer_dir ${tokenizer.dir} has ${tokenizer.vocabSize}`,
      );
  }

  // The vocabulary: the tokenizer's size is the model's, so the checkpoint's table must have as many rows.
  const rows = checkpoint?.variables.find((v) => v.name === WORD_EMBEDDINGS)?.shape[0];
  if (tokenizer && checkpoint && rows !== undefined && rows !== tokenizer.vocabSize)
    found('vocabulary', `--tokenizer_dir ${tokenizer.dir} has ${tokenizer.vocabSize} tokens, but ${WORD_EMBEDDINGS} of ${checkpoint.prefix} has ${rows} rows`);

  // Block-sparse attention cuts the sequence into blocks (KoBigBird's TF model runs full attention at ≤ 512 tokens).
  if (blocks !== undefined) found('block-size', blocks);

  // The batch: the trainer's per-core batch is split over the slice's cores.
  const accelerator = tpuAccelerator(tpu.accelerator_type);
  if (!accelerator)
    found('cores', `--accelerator_type ${tpu.accelerator_type} is not a TPU type with a TensorFlow runtime (v2-8, v3-8, v4-8, v5p-8, v5litepod-8…)`);
  else {
    if (accelerator.hosts > 1)
      found(
        'cores',
        `--accelerator_type ${tpu.accelerator_type} spans ${accelerator.hosts} VMs, but the plan runs the trainer on one; use a single-host type (v3-8)`,
      );
    else if (flags.num_tpu_cores !== accelerator.cores)
      found('cores', `--num_tpu_cores ${flags.num_tpu_cores}, but --accelerator_type ${tpu.accelerator_type} has ${accelerator.cores} TPU cores`);
  }
  const tf = runtimeTensorflowVersion(tpu.runtime_version);
  if (!tf) found('runtime', `--runtime_version ${tpu.runtime_version} is not a TensorFlow TPU VM runtime (tpu-vm-tf-…), which run_pretraining.py needs`);
  else if (tf[0] > TF_WITHOUT_ESTIMATOR[0] || (tf[0] === TF_WITHOUT_ESTIMATOR[0] && tf[1] >= TF_WITHOUT_ESTIMATOR[1]))
    found(
      'runtime',
      `--runtime_version ${tpu.runtime_version} has TensorFlow ${tf.join('.')}, but tf.estimator, which run_pretraining.py needs, was removed in ${TF_WITHOUT_ESTIMATOR.join('.')} (use tpu-vm-tf-2.15.1-se)`,
    );
  for (const key of ['steps_per_sec', 'price_per_hour'] as const) {
    const value = tpu[key];
    if (value !== undefined && !(value > 0)) found('estimates', `--${key} must be a positive number, got ${value}`);
  }
  found('warm-start', ...checkpointWarmStart(inputs).problems);
  return findings;
}

/** `tpuPlanFindings`' lines alone: what `kbb tpu plan` prints, one per problem. */
export const tpuPlanProblems = (inputs: TpuPlanInputs): string[] => tpuPlanFindings(inputs).map((f) => f.line);
