import {
  createNodeRequest,
  deleteNodeRequest,
  formatTpuPlan,
  planTpu,
  readTpuPlan,
  sendCreateNode,
  sendDeleteNode,
  TPU_DEFAULTS,
  TPU_PLAN_FILES,
  type TpuSettings,
  tpuNodeName,
  tpuPlanChecks,
} from '../../lib/cloud/index.js';
import type { TrainFlags } from '../../lib/train/index.js';
import { table } from '../format.js';
import { defineCommand, type FlagDefinition } from '../registry/command-definition.js';
import { trainFlags } from './train.js';

/** kbb train's own: accepted so a kbb train line pastes, then refused by the checks with the reason. */
const KBB_ONLY: ReadonlySet<string> = new Set(['gradient_accumulation_steps', 'overwrite']);

/** What the TPU flags mean here, where they are used (kbb train only accepts them). */
const TPU_FLAG_DESCRIPTIONS: Readonly<Record<string, string>> = {
  tpu_name: 'the TPU VM to create (the trainer runs on it with --tpu_name=local)',
  tpu_zone: 'its zone (KoBigBird: europe-west4-a)',
  gcp_project: 'the Google Cloud project it is billed to',
  num_tpu_cores: 'TPU cores the trainer spreads over; global batch = train_batch_size × this',
  iterations_per_loop: 'training steps per TPU loop, before the host looks in',
};

/** `kbb train`'s flags themselves (the trainer's names, types and defaults), kbb's own hidden, the TPU's explained. */
const trainerFlags: FlagDefinition[] = trainFlags.map((flag) => {
  if (KBB_ONLY.has(flag.name)) return { ...flag, hidden: true, description: "kbb train's own; the TPU trainer has no such flag" };
  if (flag.name === 'use_tpu') return { ...flag, hidden: true, description: 'the plan always trains on the TPU (--use_tpu=True)' };
  const tpu = TPU_FLAG_DESCRIPTIONS[flag.name];
  return tpu ? { ...flag, hidden: false, description: tpu } : flag;
});

const tpuFlags = [
  { name: 'accelerator_type', type: 'string', value: 'type', default: TPU_DEFAULTS.accelerator_type, description: 'TPU type (v3-8: 8 cores, as KoBigBird)' },
  {
    name: 'runtime_version',
    type: 'string',
    value: 'version',
    default: TPU_DEFAULTS.runtime_version,
    description: 'TPU VM software; TensorFlow ≤ 2.15 (2.16 removed tf.estimator)',
  },
  { name: 'queued_resource', type: 'boolean', default: TPU_DEFAULTS.queued_resource, description: 'queue for capacity (queued-resources create)' },
  { name: 'spot', type: 'boolean', default: TPU_DEFAULTS.spot, description: 'a Spot TPU: cheaper, may be stopped (the trainer resumes)' },
  { name: 'steps_per_sec', type: 'float', value: 'x', description: 'training speed, for the time estimate' },
  { name: 'price_per_hour', type: 'float', value: 'x', description: 'the TPU’s price per hour, for the cost estimate' },
  { name: 'plan_dir', type: 'path', value: 'dir', default: TPU_DEFAULTS.plan_dir, description: `where ${TPU_PLAN_FILES.launch} and ${TPU_PLAN_FILES.plan} go` },
] as const satisfies readonly FlagDefinition[];

/** Shows the checks themselves, as notebook 06 does: not a setting of the plan. */
const checksFlag = {
  name: 'checks',
  type: 'boolean',
  description: 'show every check with its values and status, before the plan or the problems',
} as const satisfies FlagDefinition;

const TPU_SETTING_NAMES = tpuFlags.map((f) => f.name) as readonly string[];

/** `kbb tpu plan`: checks that data, tokenizer, config and checkpoint fit, then writes launch.sh and plan.json. */
export const tpuPlanCommand = defineCommand({
  path: ['tpu', 'plan'],
  description: "check the run's data, tokenizer, config and init checkpoint before paying for a TPU; write launch.sh (for Cloud Shell) and plan.json",
  flags: [...trainerFlags, ...tpuFlags, checksFlag],
  async run(args, io) {
    const given = Object.entries(args as Record<string, unknown>).filter(([key, value]) => value !== undefined && key !== checksFlag.name);
    const flags = Object.fromEntries(given.filter(([key]) => !TPU_SETTING_NAMES.includes(key))) as Partial<TrainFlags>;
    const tpu = Object.fromEntries(given.filter(([key]) => TPU_SETTING_NAMES.includes(key))) as Partial<TpuSettings>;
    const result = await planTpu(flags, tpu);
    if (args.checks) {
      const checks = tpuPlanChecks(result.inputs);
      io.text(
        table(
          ['check', 'status', 'this run'],
          checks.map((c) => [c.check, c.status, c.values]),
        ),
      );
      io.text('');
    }
    if (result.problems.length > 0) throw new Error(`tpu plan: ${result.problems.length} problem(s), nothing written:\n  ${result.problems.join('\n  ')}`);
    io.text(formatTpuPlan(result.plan!));
    io.text('');
    io.text(`wrote     ${result.files!.launch} (run it in Cloud Shell) and ${result.files!.plan} (kbb tpu launch --plan)`);
  },
});

/** `kbb tpu launch`: creates the plan's TPU VM through the TPU API; its startup script starts the trainer. */
export const tpuLaunchCommand = defineCommand({
  path: ['tpu', 'launch'],
  description: "create the plan's TPU VM through the Cloud TPU API (v2); its startup script clones KoBigBird and starts training",
  flags: [
    { name: 'plan', type: 'path', value: 'file', required: true, description: `${TPU_PLAN_FILES.plan} written by kbb tpu plan (or its folder)` },
    { name: 'dry_run', type: 'boolean', description: 'print the createNode request instead of sending it' },
  ],
  async run(args, io) {
    const plan = await readTpuPlan(args.plan);
    const request = createNodeRequest(plan);
    if (args.dry_run) {
      io.json(request, { indent: 2 });
      return;
    }
    io.text(`creating  ${tpuNodeName(plan)} (${plan.accelerator_type}, ${plan.runtime_version}); this takes a few minutes…`);
    const node = await sendCreateNode(request);
    io.text(`created   ${node.name ?? tpuNodeName(plan)}; the trainer starts as it boots`);
    io.text(`follow    kbb watch ${plan.output_dir} --follow`);
    io.text(`delete    kbb tpu delete --plan ${args.plan}`);
  },
});

/** `kbb tpu delete`: deletes the plan's TPU VM (or one named by the flags). */
export const tpuDeleteCommand = defineCommand({
  path: ['tpu', 'delete'],
  description: "delete the plan's TPU VM through the Cloud TPU API (the bucket's checkpoints stay)",
  flags: [
    { name: 'plan', type: 'path', value: 'file', description: `${TPU_PLAN_FILES.plan} written by kbb tpu plan (or its folder)` },
    { name: 'tpu_name', type: 'string', value: 'name', description: 'the TPU VM (instead of --plan)' },
    { name: 'tpu_zone', type: 'string', value: 'zone', description: 'its zone (instead of --plan)' },
    { name: 'gcp_project', type: 'string', value: 'project', description: 'its project (instead of --plan)' },
    { name: 'dry_run', type: 'boolean', description: 'print the deleteNode request instead of sending it' },
  ],
  async run(args, io) {
    const fromPlan = args.plan === undefined ? undefined : await readTpuPlan(args.plan);
    const node = {
      project: args.gcp_project ?? fromPlan?.project,
      zone: args.tpu_zone ?? fromPlan?.zone,
      tpu_name: args.tpu_name ?? fromPlan?.tpu_name,
    };
    const missing = Object.entries({ gcp_project: node.project, tpu_zone: node.zone, tpu_name: node.tpu_name }).filter(([, v]) => !v);
    if (missing.length > 0) throw new Error(`tpu delete: give --plan, or ${missing.map(([k]) => `--${k}`).join(' and ')}`);
    const request = deleteNodeRequest(node as { project: string; zone: string; tpu_name: string });
    if (args.dry_run) {
      io.json(request, { indent: 2 });
      return;
    }
    io.text(`deleting  ${request.name}…`);
    await sendDeleteNode(request);
    io.text(`deleted   ${request.name}`);
  },
});
