import { isGcsPath } from '../fs/gcs-path.js';
import { TF_FULL_ATTENTION_MAX_LENGTH } from '../model/bigbird.js';
import { checkpointWarmStart, type TpuPlanCheckId, type TpuPlanInputs, tpuPlanFindings } from './tpu-checks.js';
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
  /** The check of `tpuPlanFindings` whose lines are this row's. */
  readonly id: TpuPlanCheckId;
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
      id: 'inputs',
      check: 'inputs read',
      rule: 'the data folder, the tokenizer and the init checkpoint can be read',
      values: [
        `data ${data ? 'read' : 'not read'}`,
        `tokenizer ${tokenizer ? 'read' : 'not read'}`,
        ...(flags.init_checkpoint === null ? [] : [`checkpoint ${checkpoint ? 'read' : 'not read'}`]),
      ].join(', '),
      applies: true,
    },
    {
      id: 'flags',
      check: 'trainer flags',
      rule: 'sizes are positive integers, max_encoder_length ≤ max_position_embeddings, settings the model has',
      values: `max_encoder_length ${flags.max_encoder_length}, max_position_embeddings ${flags.max_position_embeddings}`,
      applies: true,
    },
    {
      id: 'paths',
      check: 'paths in a bucket',
      rule: 'data_dir, output_dir, tokenizer_dir and init_checkpoint are gs:// paths the TPU VM can read',
      values: `${paths.filter(isGcsPath).length} of ${paths.length} in gs://`,
      applies: true,
    },
    {
      id: 'tpu-vm',
      check: 'TPU VM named',
      rule: 'tpu_name, tpu_zone and gcp_project are given',
      values: `${flags.tpu_name ?? '?'} in ${flags.tpu_zone ?? '?'}, project ${flags.gcp_project ?? '?'}`,
      applies: true,
    },
    {
      id: 'kbb-only',
      check: "the reference's flags",
      rule: "no flag of kbb train's own (gradient_accumulation_steps, overwrite)",
      values: `gradient_accumulation_steps ${flags.gradient_accumulation_steps}, overwrite ${flags.overwrite}`,
      applies: true,
    },
    {
      id: 'files',
      check: 'training files',
      rule: 'data_dir holds pretrain_data.tfrecord* files',
      values: data ? `${data.files.length} files` : 'not read',
      applies: data !== undefined,
    },
    {
      id: 'tokens',
      check: 'tokens per record',
      rule: 'the records (first of the first and last file) and the build have max_encoder_length tokens',
      values: `records ${list(data?.records.map((r) => r.length) ?? [])}; build ${list([manifest?.maxSeqLength])}; flag ${flags.max_encoder_length}`,
      applies: data !== undefined,
    },
    {
      id: 'slots',
      check: 'prediction slots',
      rule: 'the records and the build have max_predictions_per_seq slots',
      values: `records ${list(data?.records.map((r) => r.slots) ?? [])}; build ${list([manifest?.maxPredictionsPerSeq])}; flag ${flags.max_predictions_per_seq}`,
      applies: data !== undefined,
    },
    {
      id: 'vocabulary',
      check: 'vocabulary',
      rule: "the build's tokenizer, tokenizer_dir and the checkpoint's word embeddings have as many tokens",
      values: `build ${list([manifest?.vocabSize])}; tokenizer ${list([tokenizer?.vocabSize])}; checkpoint ${checkpoint ? list([rows]) : '–'}`,
      applies: tokenizer !== undefined,
    },
    {
      id: 'block-size',
      check: 'block size',
      rule: `block_size divides max_encoder_length (block-sparse attention, above ${TF_FULL_ATTENTION_MAX_LENGTH} tokens)`,
      values: blockSparse
        ? `${flags.max_encoder_length} / ${flags.block_size} = ${+(flags.max_encoder_length / flags.block_size).toFixed(2)} blocks`
        : `${flags.max_encoder_length} tokens: full attention, no blocks`,
      applies: blockSparse,
    },
    {
      id: 'cores',
      check: 'TPU cores',
      rule: 'num_tpu_cores is the cores of the accelerator type, on one VM',
      values: `${tpu.accelerator_type}: ${accelerator ? `${accelerator.cores} cores, ${accelerator.hosts} VM${accelerator.hosts === 1 ? '' : 's'}` : 'unknown'}; num_tpu_cores ${flags.num_tpu_cores}`,
      applies: true,
    },
    {
      id: 'runtime',
      check: 'TensorFlow runtime',
      rule: 'a TPU VM runtime whose TensorFlow still has tf.estimator (≤ 2.15)',
      values: `${tpu.runtime_version}: ${tf ? `TensorFlow ${tf.join('.')}` : 'no TensorFlow'}`,
      applies: true,
    },
    {
      id: 'estimates',
      check: 'estimate figures',
      rule: 'steps_per_sec and price_per_hour, where given, are positive',
      values: estimates.length > 0 ? estimates.join(', ') : 'none given',
      applies: estimates.length > 0,
    },
    {
      id: 'warm-start',
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
    },
  ];
}

/**
 * `tpuPlanFindings` as the checks it makes: one row per check with the rule, this run's values and
 * its status, each problem line under the check that found it.
 */
export function tpuPlanChecks(inputs: TpuPlanInputs): TpuPlanCheck[] {
  const findings = tpuPlanFindings(inputs);
  return definitions(inputs).map((c) => {
    const problems = findings.filter((f) => f.check === c.id).map((f) => f.line);
    return { check: c.check, rule: c.rule, values: c.values, status: problems.length > 0 ? 'fails' : c.applies ? 'ok' : 'skipped', problems };
  });
}
