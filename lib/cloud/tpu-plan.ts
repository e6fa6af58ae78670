import { TPU_FLAGS, TRAIN_DEFAULTS, type TrainFlags } from '../train/train-flags.js';
import { checkpointWarmStart, type TpuPlanInputs } from './tpu-checks.js';

/** The trainer the TPU runs: KoBigBird's own `run_pretraining.py`, at the snapshot kbb's specification follows. */
export const REFERENCE_TRAINER = Object.freeze({
  repository: 'https://github.com/monologg/KoBigBird.git',
  commit: '0d46da938def21fb8120b9a39a1aa52685353c5c',
  /** Where `run_pretraining.py` is in the repository. */
  directory: 'pretrain',
  /**
   * What the trainer needs beyond the runtime's TensorFlow: `transformers` for `AutoTokenizer`. Not
   * its requirements.txt, which pins TensorFlow 2.3.1 and transformers 4.11.3 (whose tokenizers 0.10
   * has no wheel for the VM's Python 3.10); 4.36 is the last line that supports TensorFlow 2.15's numpy.
   */
  pip: ['transformers==4.36.2'],
  /** On the VM: the clone, the tokenizer copy, the log. */
  workDir: '/opt/kbb',
  log: '/var/log/kbb-pretraining.log',
});

/**
 * The flags of KoBigBird's `scripts/base_size_tpu.sh` (spec §2.2), in its order: the plan's trainer
 * line gives each of them, with the user's values. `tpu_zone` is left out: on a TPU VM the trainer
 * finds its TPU as `--tpu_name=local`.
 */
export const BASE_SIZE_TPU_FLAGS: readonly (keyof TrainFlags)[] = [
  'data_dir',
  'output_dir',
  'attention_type',
  'max_encoder_length',
  'max_position_embeddings',
  'block_size',
  'num_attention_heads',
  'num_hidden_layers',
  'hidden_size',
  'intermediate_size',
  'do_train',
  'do_eval',
  'use_tpu',
  'tpu_name',
  'num_tpu_cores',
  'train_batch_size',
  'eval_batch_size',
  'num_train_steps',
  'num_warmup_steps',
  'save_checkpoints_steps',
  'learning_rate',
  'keep_checkpoint_max',
  'use_gradient_checkpointing',
  'use_nsp',
  'max_predictions_per_seq',
  'random_pos_emb',
  'iterations_per_loop',
  'seed',
];

/** Flags that are kbb's own or that the plan sets itself: never passed on as given. */
const NOT_PASSED: readonly (keyof TrainFlags)[] = ['gradient_accumulation_steps', 'overwrite', 'tokenizer_dir', 'init_checkpoint', ...TPU_FLAGS];

/** The size of a run, and what it costs where the user gave the figures. */
export interface TpuPlanFigures {
  /** Examples per step: the per-core batch × the cores. */
  readonly global_batch: number;
  /** Tokens per step: the global batch × max_encoder_length. */
  readonly tokens_per_step: number;
  readonly steps: number;
  /** Examples the run reads (steps × global batch). */
  readonly examples_read: number;
  /** Passes over the data, where the build manifest counts its examples. */
  readonly epochs?: number;
  /** From `--steps_per_sec`. */
  readonly hours?: number;
  /** From `--steps_per_sec` and `--price_per_hour`. */
  readonly cost?: number;
}

/** Everything `kbb tpu launch` and `kbb tpu delete` need, written as `plan.json` next to `launch.sh`. */
export interface TpuPlan {
  readonly kind: 'kbb-tpu-plan';
  readonly project: string;
  readonly zone: string;
  readonly tpu_name: string;
  readonly accelerator_type: string;
  readonly runtime_version: string;
  readonly queued_resource: boolean;
  readonly spot: boolean;
  /** The trainer's command line on the VM (run in `REFERENCE_TRAINER.directory` of the clone). */
  readonly trainer_argv: readonly string[];
  /** The tokenizer folder in the bucket, copied to the VM before training (the trainer lists it with `os.listdir`). */
  readonly tokenizer_dir: string;
  /** The trainer's `--output_dir`: what `kbb watch` follows and `kbb export --checkpoint_dir` reads. */
  readonly output_dir: string;
  /** The VM's startup script: fetches the trainer, copies the tokenizer, starts training. */
  readonly startup_script: string;
  readonly figures: TpuPlanFigures;
  /** Notes worth reading before paying (what the warm start leaves fresh, say). */
  readonly notes: readonly string[];
}

/** A flag's value as absl reads it, spelled as KoBigBird's scripts spell it (`True`, `1e-4` stays `0.0001`). */
const abslValue = (value: string | number | boolean): string => (typeof value === 'boolean' ? (value ? 'True' : 'False') : String(value));

/** The trainer's command line: base_size_tpu.sh's flags, then every other trainer flag the user changed, then the checkpoint and tokenizer. */
export function trainerArgv(flags: TrainFlags): string[] {
  const values: Partial<Record<keyof TrainFlags, string | number | boolean>> = {};
  for (const key of BASE_SIZE_TPU_FLAGS) {
    const value = flags[key];
    if (value !== null) values[key] = value;
  }
  values.use_tpu = true;
  values.tpu_name = 'local';
  for (const key of Object.keys(TRAIN_DEFAULTS) as (keyof TrainFlags)[]) {
    const value = flags[key];
    if (!(key in values) && !NOT_PASSED.includes(key) && value !== null && value !== TRAIN_DEFAULTS[key]) values[key] = value;
  }
  if (flags.init_checkpoint !== null) values.init_checkpoint = flags.init_checkpoint;
  values.tokenizer_dir = `${REFERENCE_TRAINER.workDir}/tokenizer`;
  return ['python3', 'run_pretraining.py', ...Object.entries(values).map(([key, value]) => `--${key}=${abslValue(value)}`)];
}

/** Bash's quoting of one word: as is where that is safe, else in single quotes. */
export const shellQuote = (word: string): string => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`);

/** A command for a script or the screen: the program and its words up to the first flag on one line, then a flag a line. */
function commandLines(argv: readonly string[], indent = '  '): string {
  const firstFlag = argv.findIndex((word) => word.startsWith('-'));
  const head = firstFlag < 0 ? argv : argv.slice(0, firstFlag);
  const flags = firstFlag < 0 ? [] : argv.slice(firstFlag);
  return [head.map(shellQuote).join(' '), ...flags.map(shellQuote)].join(` \\\n${indent}`);
}

/** The TPU VM's startup script (it runs as root at every boot; the trainer resumes from its last checkpoint). */
export function startupScript(plan: Pick<TpuPlan, 'trainer_argv' | 'tokenizer_dir'>): string {
  const t = REFERENCE_TRAINER;
  return `#!/bin/bash
# Written by kbb tpu plan: KoBigBird's run_pretraining.py on this TPU VM. It runs at every boot; the
# trainer resumes from the last checkpoint in its --output_dir.
set -euo pipefail
exec >> ${t.log} 2>&1
echo "kbb: starting at $(date -u +%FT%TZ)"
mkdir -p ${t.workDir} && cd ${t.workDir}
if [ ! -d KoBigBird ]; then
  git clone ${t.repository} KoBigBird
  git -C KoBigBird checkout --quiet ${t.commit}
fi
pip3 install --quiet ${t.pip.map(shellQuote).join(' ')}
# The trainer lists its tokenizer folder with os.listdir, so it must be on this disk.
python3 - ${shellQuote(plan.tokenizer_dir)} ${t.workDir}/tokenizer <<'KBB_COPY_TOKENIZER'
import sys
import tensorflow as tf
source, target = sys.argv[1].rstrip("/"), sys.argv[2]
tf.io.gfile.makedirs(target)
for name in tf.io.gfile.listdir(source):
    if not name.endswith("/"):
        tf.io.gfile.copy(source + "/" + name, target + "/" + name, overwrite=True)
KBB_COPY_TOKENIZER
cd KoBigBird/${t.directory}
nohup ${commandLines(plan.trainer_argv, '    ')} \\
  >> ${t.log} 2>&1 &
echo "kbb: run_pretraining.py started (pid $!)"
`;
}

/** The TPU VM's resource name, as the TPU API and `kbb tpu delete` name it. */
export const tpuNodeName = (plan: Pick<TpuPlan, 'project' | 'zone' | 'tpu_name'>): string =>
  `projects/${plan.project}/locations/${plan.zone}/nodes/${plan.tpu_name}`;

/**
 * The plan for the run the inputs describe. Call it once `tpuPlanProblems` has nothing to say: it
 * takes the flags as they are.
 */
export function makeTpuPlan(inputs: TpuPlanInputs): TpuPlan {
  const { flags, tpu } = inputs;
  const globalBatch = flags.train_batch_size * flags.num_tpu_cores;
  const steps = flags.num_train_steps;
  const examples = inputs.data?.manifest?.examples;
  const hours = tpu.steps_per_sec === undefined ? undefined : steps / tpu.steps_per_sec / 3600;
  const figures: TpuPlanFigures = {
    global_batch: globalBatch,
    tokens_per_step: globalBatch * flags.max_encoder_length,
    steps,
    examples_read: steps * globalBatch,
    ...(examples ? { epochs: (steps * globalBatch) / examples } : {}),
    ...(hours === undefined ? {} : { hours }),
    ...(hours !== undefined && tpu.price_per_hour !== undefined ? { cost: hours * tpu.price_per_hour } : {}),
  };
  const notes: string[] = [];
  const warm = checkpointWarmStart(inputs).plan;
  if (warm) {
    const count = (action: string): number => warm.rows.filter((r) => r.action === action).length;
    notes.push(`warm start from ${inputs.checkpoint!.prefix}: ${count('copy')} copied, ${count('rename')} renamed, ${count('fresh')} fresh`);
    const fresh = warm.rows.filter((r) => r.action === 'fresh' && !r.target.includes('position_embeddings')).map((r) => r.target);
    if (fresh.length > 0) notes.push(`not in the checkpoint, so trained from scratch: ${fresh.join(', ')}`);
  } else if (flags.init_checkpoint === null) notes.push('no --init_checkpoint: every weight starts fresh (KoBigBird warm-starts from a BERT)');
  const plan = {
    kind: 'kbb-tpu-plan' as const,
    project: flags.gcp_project ?? '',
    zone: flags.tpu_zone ?? '',
    tpu_name: flags.tpu_name ?? '',
    accelerator_type: tpu.accelerator_type,
    runtime_version: tpu.runtime_version,
    queued_resource: tpu.queued_resource,
    spot: tpu.spot,
    trainer_argv: trainerArgv(flags),
    tokenizer_dir: flags.tokenizer_dir,
    output_dir: flags.output_dir,
    figures,
    notes,
  };
  return { ...plan, startup_script: startupScript(plan) };
}

/** gcloud's command that creates the TPU VM (or queues it), with the startup script from a file. */
export function createCommand(plan: TpuPlan, startupScriptFile: string): string[] {
  const common = [
    `--zone=${plan.zone}`,
    `--project=${plan.project}`,
    `--accelerator-type=${plan.accelerator_type}`,
    ...(plan.spot ? ['--spot'] : []),
    `--metadata-from-file=startup-script=${startupScriptFile}`,
  ];
  return plan.queued_resource
    ? [
        'gcloud',
        'compute',
        'tpus',
        'queued-resources',
        'create',
        plan.tpu_name,
        `--node-id=${plan.tpu_name}`,
        `--runtime-version=${plan.runtime_version}`,
        ...common,
      ]
    : ['gcloud', 'compute', 'tpus', 'tpu-vm', 'create', plan.tpu_name, `--version=${plan.runtime_version}`, ...common];
}

/** gcloud's command that deletes what `createCommand` made. */
export function deleteCommand(plan: TpuPlan): string[] {
  return plan.queued_resource
    ? ['gcloud', 'compute', 'tpus', 'queued-resources', 'delete', plan.tpu_name, `--zone=${plan.zone}`, `--project=${plan.project}`, '--force']
    : ['gcloud', 'compute', 'tpus', 'tpu-vm', 'delete', plan.tpu_name, `--zone=${plan.zone}`, `--project=${plan.project}`];
}

const number = (n: number): string => n.toLocaleString('en-US');

/** The plan as a few lines to read: the VM, the trainer, the size and the estimates. */
export function formatTpuPlan(plan: TpuPlan): string {
  const f = plan.figures;
  const estimate =
    f.hours === undefined
      ? 'time      give --steps_per_sec (and --price_per_hour) for an estimate'
      : `time      ${f.hours.toFixed(1)} hours (${(f.hours / 24).toFixed(1)} days) at ${number(f.steps / (f.hours * 3600))} steps/s${f.cost === undefined ? '' : `, cost ${f.cost.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} at the given price per hour`}`;
  return [
    `TPU VM    ${plan.tpu_name}: ${plan.accelerator_type} in ${plan.zone}, project ${plan.project}, runtime ${plan.runtime_version}${plan.spot ? ', Spot' : ''}${plan.queued_resource ? ', queued resource' : ''}`,
    `trainer   KoBigBird run_pretraining.py @ ${REFERENCE_TRAINER.commit.slice(0, 7)}, output ${plan.output_dir}`,
    `batch     ${number(f.global_batch)} examples per step (global), ${number(f.tokens_per_step)} tokens per step`,
    `steps     ${number(f.steps)}: ${number(f.examples_read)} examples read${f.epochs === undefined ? '' : `, ${f.epochs.toFixed(2)} passes over the data`}`,
    estimate,
    ...plan.notes.map((note) => `note      ${note}`),
    '',
    `$ ${commandLines(createCommand(plan, 'startup.sh'))}`,
    '',
    `on the VM, in KoBigBird/${REFERENCE_TRAINER.directory}:`,
    `$ ${commandLines(plan.trainer_argv)}`,
  ].join('\n');
}

/** `launch.sh`: the plan as a script for Cloud Shell (or anywhere gcloud is logged in). */
export function launchScript(plan: TpuPlan): string {
  return `#!/usr/bin/env bash
# Written by kbb tpu plan. Run it in Cloud Shell: it creates the TPU VM, whose startup script clones
# KoBigBird and starts run_pretraining.py with the flags below. \`kbb tpu launch --plan plan.json\` does
# the same through the TPU API.
${formatTpuPlan(plan)
  .split('\n')
  .map((line) => `#   ${line}`.trimEnd())
  .join('\n')}
set -euo pipefail
STARTUP_SCRIPT="$(mktemp)"
trap 'rm -f "$STARTUP_SCRIPT"' EXIT
cat > "$STARTUP_SCRIPT" <<'KBB_STARTUP_SCRIPT'
${plan.startup_script}KBB_STARTUP_SCRIPT
${commandLines(createCommand(plan, 'STARTUP_SCRIPT_FILE')).replace('=STARTUP_SCRIPT_FILE', '="$STARTUP_SCRIPT"')}
echo "TPU VM ${plan.tpu_name} created; the trainer starts when it boots."
echo "follow it:      kbb watch ${plan.output_dir} --follow"
echo "its log:        gcloud compute tpus tpu-vm ssh ${plan.tpu_name} --zone=${plan.zone} --project=${plan.project} --command='tail -f ${REFERENCE_TRAINER.log}'"
echo "when it is done: ${deleteCommand(plan).join(' ')}"
`;
}
