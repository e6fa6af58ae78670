import { WARM_START_DEFAULTS, warmStart } from '../../lib/checkpoint/index.js';
import { shapeText } from '../../lib/tensor/index.js';
import { defineCommand } from '../registry/command-definition.js';

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
      required: true,
      description: 'where model.ckpt-0 and the checkpoint state file go (a folder or gs://bucket/prefix)',
    },
    { name: 'seed', type: 'int', value: 'n', default: WARM_START_DEFAULTS.seed, description: 'seed for the freshly initialised variables' },
    { name: 'overwrite', type: 'boolean', description: 'replace a model.ckpt-0 already in --output_dir' },
    {
      name: 'keep_bert_positions',
      type: 'boolean',
      description: "reuse BERT's position table rows instead of a fresh table (KoBigBird's random_pos_emb=False)",
    },
  ],
  async run(options, io) {
    const { plan, prefix } = await warmStart({
      initCheckpoint: options.init_checkpoint,
      configFile: options.config,
      outputDir: options.output_dir,
      seed: options.seed,
      randomPositionEmbeddings: !options.keep_bert_positions,
      overwrite: options.overwrite,
      signal: io.signal,
      onPlan: (planned) => {
        io.table(
          ['BigBird variable', 'shape', 'action', 'from', 'why'],
          planned.rows.map((r) => [r.target, shapeText(r.shape), r.action, r.source ?? '', r.reason]),
        );
        io.text('');
        io.table(
          ['unused in the BERT checkpoint', 'shape', 'why'],
          planned.unused.map((u) => [u.name, shapeText(u.shape), u.reason]),
        );
        io.text('');
      },
    });
    const count = (action: string): number => plan.rows.filter((r) => r.action === action).length;
    io.text(`wrote ${prefix} (${count('copy')} copied, ${count('rename')} renamed, ${count('fresh')} fresh; ${plan.unused.length} source variables unused)`);
  },
});
