import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { bigBirdVariables, CheckpointReader, materialiseWarmStart, planWarmStart, readBigBirdShapeConfig } from '../../lib/checkpoint/index.js';
import { table } from '../format.js';

/** `kbb warm-start`: BERT TF v1 checkpoint → BigBird `model.ckpt-0`, every variable's fate shown. */
export function warmStartCommand(): Command {
  return new Command('warm-start')
    .description("start BigBird from a BERT TF v1 checkpoint as KoBigBird does: show what maps to what, write DIR/model.ckpt-0")
    .requiredOption('--init_checkpoint <prefix>', 'BERT checkpoint prefix (path/bert_model.ckpt)')
    .requiredOption('--config <file>', "BigBird config: Hugging Face config.json or the reference's pretrain_config.json")
    .requiredOption('--output_dir <dir>', 'where model.ckpt-0 and the checkpoint state file go')
    .option('--seed <n>', 'seed for the freshly initialised variables', (v) => Number.parseInt(v, 10), 12345)
    .option('--overwrite', 'replace a model.ckpt-0 already in --output_dir')
    .option('--keep_bert_positions', "reuse BERT's position table rows instead of a fresh table (KoBigBird's random_pos_emb=False)")
    .action(async (options: { readonly init_checkpoint: string; readonly config: string; readonly output_dir: string; readonly seed: number; readonly keep_bert_positions?: boolean; readonly overwrite?: boolean }) => {
      if (!options.overwrite && existsSync(join(options.output_dir, 'model.ckpt-0.index'))) {
        throw new Error(`${join(options.output_dir, 'model.ckpt-0.index')} exists; pass --overwrite to replace it`);
      }
      const config = await readBigBirdShapeConfig(options.config);
      const reader = await CheckpointReader.open(options.init_checkpoint);
      try {
        const plan = planWarmStart(reader.variables, bigBirdVariables(config), { randomPositionEmbeddings: !options.keep_bert_positions });
        const shape = (s: readonly number[]): string => `[${s.join(', ')}]`;
        process.stdout.write(`${table(['BigBird variable', 'shape', 'action', 'from', 'why'], plan.rows.map((r) => [r.target, shape(r.shape), r.action, r.source ?? '', r.reason]))}\n\n`);
        process.stdout.write(`${table(['unused in the BERT checkpoint', 'shape', 'why'], plan.unused.map((u) => [u.name, shape(u.shape), u.reason]))}\n\n`);
        const prefix = await materialiseWarmStart(plan, reader, options.output_dir, { seed: options.seed, initializerRange: config.initializer_range });
        const count = (action: string): number => plan.rows.filter((r) => r.action === action).length;
        process.stdout.write(`wrote ${prefix} (${count('copy')} copied, ${count('rename')} renamed, ${count('fresh')} fresh; ${plan.unused.length} source variables unused)\n`);
      } finally {
        await reader.close();
      }
    });
}
