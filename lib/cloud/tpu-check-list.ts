import { isGcsPath } from '../fs/gcs-path.js';
import { TF_FULL_ATTENTION_MAX_LENGTH } from '../model/bigbird.js';
import { trainFlagProblems } from '../train/train-flags.js';
import { checkpointWarmStart, type TpuPlanInputs, tpuPlanProblems } from './tpu-checks.js';
import { runtimeTensorflowVersion, tpuAccelerator } from './tpu-settings.js';

/** One of the checks `kbb tpu plan` makes, with what it compared in this run and what it found. */
export interface TpuPlanCheck {
  /** The check, in a few words. */
  readonly check: string;
  /** What must hold for the reference trainer to run as asked. */
  readonly rule: string;
  /** This run's values, as the check saw them. */
  readonly values: string;
  /** `skipped`: there was nothing to look at (no init checkpoint, full attention, no estimate asked). */
  readonly status: 'ok' | 'fails' | 'skipped';
  /** `tpuPlanProblems`' lines that this check owns. */
  readonly problems: readonly string[];
}

/** What a check shows, and how it recognises its lines among `tpuPlanProblems`'. */
interface CheckDefinition {
  readonly check: string;
  readonly rule: string;
  readonly values: string;
  /** Whether there was anything to check. */
  readonly applies: boolean;
  /** Lines that are this check's by their wording. */
  readonly pattern?: RegExp;
  /** Lines that are this check's because it made them (the read errors, the flag checks, the warm start). */
  readonly lines?: readonly string[];
}

const list = (values: readonly (number | undefined)[]): string => values.map((v) => (v === undefined ? '?' : v.toLocaleString('en-US'))).join(', ');

/** The checks in the order `tpuPlanProblems` makes them. */
function definitions(inputs: TpuPlanInputs): CheckDefinition[] {
  const { flags, tpu, data, tokenizer, checkpoint } = inputs;
  const paths = (['data_dir', 'output_dir', 'tokenizer_dir', 'init_checkpoint'] as const).map((key) => flags[key]).filter((p) => p !== null);
  const manifest = data?.manifest;
  const rows = checkpoint?.variables.find((v) => v.name === 'bert/embeddings/word_embeddings')?.shape[0];
  const blockSparse = flags.attention_type === 'block_sparse' && flags.max_encoder_length > TF_FULL_ATTENTION_MAX_LENGTH;
  const accelerator = tpuAccelerator(tpu.accelerator_type);
  const tf = runtimeTensorflowVersion(tpu.runtime_version);
  const estimates = [
    ...(tpu.steps_per_sec === undefined ? [] : [`${tpu.steps_per_sec} steps/s`]),
    ...(tpu.price_per_hour === undefined ? [] : [`${tpu.price_per_hour} per hour`]),
  ];
  const warm = checkpointWarmStart(inputs);
  const count = (action: string): number => warm.plan?.rows.filter((r) => r.action === action).length ?? 0;
  return [
    {
      check: 'inputs read',
      rule: 'the data folder, the tokenizer and the init checkpoint can be read',
      values: [
        `data ${data ? 'read' : 'not read'}`,
        `tokenizer ${tokenizer ? 'read' : 'not read'}`,
        ...(flags.init_checkpoint === null ? [] : [`checkpoint ${checkpoint ? 'read' : 'not read'}`]),
      ].join(', '),
      applies: true,
      lines: inputs.readErrors,
    },
    {
      check: 'trainer flags',
      rule: 'sizes are positive integers, max_encoder_length ≤ max_position_embeddings, settings the model has',
      values: `max_encoder_length ${flags.max_encoder_length}, max_position_embeddings ${flags.max_position_embeddings}`,
      applies: true,
      lines: trainFlagProblems(flags),
    },
    {
      check: 'paths in a bucket',
      rule: 'data_dir, output_dir, tokenizer_dir and init_checkpoint are gs:// paths the TPU VM can read',
      values: `${paths.filter(isGcsPath).length} of ${paths.length} in gs://`,
      applies: true,
      pattern: / is not in a bucket: /,
    },
    {
      check: 'TPU VM named',
      rule: 'tpu_name, tpu_zone and gcp_project are given',
      values: `${flags.tpu_name ?? '?'} in ${flags.tpu_zone ?? '?'}, project ${flags.gcp_project ?? '?'}`,
      applies: true,
      pattern: /^--(tpu_name|tpu_zone|gcp_project) is required: /,
    },
    {
      check: "the reference's flags",
      rule: "no flag of kbb train's own (gradient_accumulation_steps, overwrite)",
      values: `gradient_accumulation_steps ${flags.gradient_accumulation_steps}, overwrite ${flags.overwrite}`,
      applies: true,
      pattern: / is kbb train's own; /,
    },
    {
      check: 'training files',
      rule: 'data_dir holds pretrain_data.tfrecord* files',
      values: data ? `${data.files.length} files` : 'not read',
      applies: data !== undefined,
      pattern: /: no pretrain_data\.tfrecord\* files /,
    },
    {
      check: 'tokens per record',
      rule: 'the records (first of the first and last file) and the build have max_encoder_length tokens',
      values: `records ${list(data?.records.map((r) => r.length) ?? [])}; build ${list([manifest?.maxSeqLength])}; flag ${flags.max_encoder_length}`,
      applies: data !== undefined,
      pattern: / tokens, but --max_encoder_length is |: built with --max_seq_length /,
    },
    {
      check: 'prediction slots',
      rule: 'the records and the build have max_predictions_per_seq slots',
      values: `records ${list(data?.records.map((r) => r.slots) ?? [])}; build ${list([manifest?.maxPredictionsPerSeq])}; flag ${flags.max_predictions_per_seq}`,
      applies: data !== undefined,
      pattern: / prediction slots, but --max_predictions_per_seq is |: built with --max_predictions_per_seq /,
    },
    {
      check: 'vocabulary',
      rule: "the build's tokenizer, tokenizer_dir and the checkpoint's word embeddings have as many tokens",
      values: `build ${list([manifest?.vocabSize])}; tokenizer ${list([tokenizer?.vocabSize])}; checkpoint ${checkpoint ? list([rows]) : '–'}`,
      applies: tokenizer !== undefined,
      pattern: /: built with a tokenizer of \d+ tokens, |^--tokenizer_dir .* tokens, but bert\/embeddings\/word_embeddings /,
    },
    {
      check: 'block size',
      rule: `block_size divides max_encoder_length (block-sparse attention, above ${TF_FULL_ATTENTION_MAX_LENGTH} tokens)`,
      values: blockSparse
        ? `${flags.max_encoder_length} / ${flags.block_size} = ${+(flags.max_encoder_length / flags.block_size).toFixed(2)} blocks`
        : `${flags.max_encoder_length} tokens: full attention, no blocks`,
      applies: blockSparse,
      pattern: / is not a multiple of --block_size /,
    },
    {
      check: 'TPU cores',
      rule: 'num_tpu_cores is the cores of the accelerator type, on one VM',
      values: `${tpu.accelerator_type}: ${accelerator ? `${accelerator.cores} cores, ${accelerator.hosts} VM${accelerator.hosts === 1 ? '' : 's'}` : 'unknown'}; num_tpu_cores ${flags.num_tpu_cores}`,
      applies: true,
      pattern: /^--accelerator_type |^--num_tpu_cores \d+, but --accelerator_type /,
    },
    {
      check: 'TensorFlow runtime',
      rule: 'a TPU VM runtime whose TensorFlow still has tf.estimator (≤ 2.15)',
      values: `${tpu.runtime_version}: ${tf ? `TensorFlow ${tf.join('.')}` : 'no TensorFlow'}`,
      applies: true,
      pattern: /^--runtime_version /,
    },
    {
      check: 'estimate figures',
      rule: 'steps_per_sec and price_per_hour, where given, are positive',
      values: estimates.length > 0 ? estimates.join(', ') : 'none given',
      applies: estimates.length > 0,
      pattern: /^--(steps_per_sec|price_per_hour) must be /,
    },
    {
      check: 'warm start',
      rule: "the init checkpoint is a BERT the trainer warm-starts from: BERT's names, shapes that fit the model",
      values: checkpoint
        ? warm.plan
          ? `${count('copy')} copied, ${count('rename')} renamed, ${count('fresh')} fresh`
          : `${checkpoint.variables.length} variables`
        : flags.init_checkpoint === null
          ? 'no init_checkpoint: every weight starts fresh'
          : 'not read',
      applies: checkpoint !== undefined,
      lines: warm.problems,
    },
  ];
}

/**
 * `tpuPlanProblems` as the checks it makes: one row per check with the rule, this run's values and
 * its status, each problem line under the check that made it. A line no check recognises (a check
 * added to `tpuPlanProblems` and not here) is kept in a last `other` row, so none is lost.
 */
export function tpuPlanChecks(inputs: TpuPlanInputs): TpuPlanCheck[] {
  const checks = definitions(inputs);
  const owned: string[][] = checks.map(() => []);
  const other: string[] = [];
  // Lines a check made itself are matched as they are, before any wording: a read error may name a file whose path reads like another check's.
  const made = checks.map((c) => [...(c.lines ?? [])]);
  for (const line of tpuPlanProblems(inputs)) {
    let index = made.findIndex((lines) => lines.includes(line));
    if (index >= 0) made[index].splice(made[index].indexOf(line), 1);
    else index = checks.findIndex((c) => c.pattern?.test(line));
    if (index >= 0) owned[index].push(line);
    else other.push(line);
  }
  const rows: TpuPlanCheck[] = checks.map((c, i) => ({
    check: c.check,
    rule: c.rule,
    values: c.values,
    status: owned[i].length > 0 ? 'fails' : c.applies ? 'ok' : 'skipped',
    problems: owned[i],
  }));
  if (other.length > 0) rows.push({ check: 'other', rule: 'a check this list does not know', values: '', status: 'fails', problems: other });
  return rows;
}
