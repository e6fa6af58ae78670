import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bigBirdVariables, CheckpointReader, materialiseWarmStart, planWarmStart, readBigBirdShapeConfig } from '../../lib/checkpoint/index.js';
import { defineCommand } from '../registry/command-definition.js';

interface WarmStartFlags {
  readonly init_checkpoint: string;
  readonly config: string;
  readonly output_dir: string;
  readonly seed: number;
  readonly keep_bert_positions?: boolean;
  readonly overwrite?: boolean;
}

/** `kbb warm-start`: BERT TF v1 checkpoint → BigBird `model.ckpt-0`, every variable's fate shown. */
export const warmStartCommand = defineCommand<WarmStartFlags>({
  path: ['warm-start'],
  description: 'start BigBird from a BERT TF v1 checkpoint as KoBigBird does: show what maps to what, write DIR/model.ckpt-0',
  flags: [
    { name: 'init_checkpoint', type: 'path', value: 'prefix', required: true, description: 'BERT checkpoint prefix (path/bert_model.ckpt)' },
    { name: 'config', type: 'path', value: 'file', required: true, description: "BigBird config: Hugging Face config.json or the reference's pretrain_config.json" },
    { name: 'output_dir', type: 'path', value: 'dir', required: true, description: 'where model.ckpt-0 and the checkpoint state file go' },
    { name: 'seed', type: 'int', value: 'n', default: 12345, description: 'seed for the freshly initialised variables' },
    { name: 'overwrite', type: 'boolean', description: 'replace a model.ckpt-0 already in --output_dir' },
    { name: 'keep_bert_positions', type: 'boolean', description: "reuse BERT's position table rows instead of a fresh table (KoBigBird's random_pos_emb=False)" },
  ],
  async run(options, io) {
    if (!options.overwrite && existsSync(join(options.output_dir, 'model.ckpt-0.index'))) {
      throw new Error(`${join(options.output_dir, 'model.ckpt-0.index')} exists; pass --overwrite to replace it`);
    }
    const config = await readBigBirdShapeConfig(options.config);
    const reader = await CheckpointReader.open(options.init_checkpoint);
    try {
      const plan = planWarmStart(reader.variables, bigBirdVariables(config), { randomPositionEmbeddings: !options.keep_bert_positions });
      const shape = (s: readonly number[]): string => `[${s.join(', ')}]`;
      io.table(['BigBird variable', 'shape', 'action', 'from', 'why'], plan.rows.map((r) => [r.target, shape(r.shape), r.action, r.source ?? '', r.reason]));
      io.text('');
      io.table(['unused in the BERT checkpoint', 'shape', 'why'], plan.unused.map((u) => [u.name, shape(u.shape), u.reason]));
      io.text('');
      // Nothing is written before this point, so a cancel here leaves no output.
      io.signal.throwIfAborted();
      const prefix = await materialiseWarmStart(plan, reader, options.output_dir, { seed: options.seed, initializerRange: config.initializer_range });
      const count = (action: string): number => plan.rows.filter((r) => r.action === action).length;
      io.text(`wrote ${prefix} (${count('copy')} copied, ${count('rename')} renamed, ${count('fresh')} fresh; ${plan.unused.length} source variables unused)`);
    } finally {
      await reader.close();
    }
  },
});
