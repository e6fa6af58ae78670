import { planWarmStartRun, WARM_START_DEFAULTS, type WarmStartPlan, warmStart, warmStartSummary } from '../../lib/checkpoint/index.js';
import { shapeText } from '../../lib/tensor/index.js';
import type { CommandIo } from '../io/command-io.js';
import { defineCommand } from '../registry/command-definition.js';

/** The rename table (every BigBird variable, where it comes from, the rule) and the BERT variables left out. */
function showPlan(plan: WarmStartPlan, io: CommandIo): void {
  io.table(
    ['BigBird variable', 'shape', 'action', 'from', 'why'],
    plan.rows.map((r) => [r.target, shapeText(r.shape), r.action, r.source ?? '', r.reason]),
  );
  io.text('');
  io.table(
    ['unused in the BERT checkpoint', 'shape', 'why'],
    plan.unused.map((u) => [u.name, shapeText(u.shape), u.reason]),
  );
  io.text('');
}

/** `kbb warm-start`: BERT TF v1 checkpoint → BigBird `model.ckpt-0`, every variable's fate shown. */
export const warmStartCommand = defineCommand({
  path: ['warm-start'],
  description: 'start BigBird from a BERT TF v1 checkpoint as KoBigBird does: show what maps to what, write DIR/model.ckpt-0',
  flags: [
    { name: 'init_checkpoint', type: 'path', value: 'prefix', required: true, description: 'BERT checkpoint prefix (path/bert_model.ckpt, or gs://bucket/…)' },
    {
      name: 'config',
      type: 'path',
      value: 'file',
      required: true,
      description: "BigBird config: Hugging Face config.json or the reference's pretrain_config.json",
    },
    {
      name: 'output_dir',
      type: 'path',
      value: 'dir',
      description: 'where model.ckpt-0 and the checkpoint state file go (a folder or gs://bucket/prefix); required unless --dry_run',
    },
    { name: 'seed', type: 'int', value: 'n', default: WARM_START_DEFAULTS.seed, description: 'seed for the freshly initialised variables' },
    { name: 'overwrite', type: 'boolean', description: 'replace a model.ckpt-0 already in --output_dir' },
    {
      name: 'keep_bert_positions',
      type: 'boolean',
      description: "reuse BERT's position table rows instead of a fresh table (KoBigBird's random_pos_emb=False)",
    },
    { name: 'dry_run', type: 'boolean', description: 'print the rename table and the unused BERT variables, write nothing' },
  ],
  async run(options, io) {
    const randomPositionEmbeddings = !options.keep_bert_positions;
    if (options.dry_run) {
      const plan = await planWarmStartRun({ initCheckpoint: options.init_checkpoint, configFile: options.config, randomPositionEmbeddings });
      showPlan(plan, io);
      io.text(`dry run, nothing written (${warmStartSummary(plan)})`);
      return;
    }
    if (options.output_dir === undefined) throw new Error('warm-start: --output_dir is required (or --dry_run to write nothing)');
    const { plan, prefix } = await warmStart({
      initCheckpoint: options.init_checkpoint,
      configFile: options.config,
      outputDir: options.output_dir,
      seed: options.seed,
      randomPositionEmbeddings,
      overwrite: options.overwrite,
      signal: io.signal,
      onPlan: (planned) => showPlan(planned, io),
    });
    io.text(`wrote ${prefix} (${warmStartSummary(plan)})`);
  },
});
