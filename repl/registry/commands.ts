import { attentionCommand } from '../commands/attention.js';
import { backendCommand } from '../commands/backend.js';
import { buildTfrecordCommand } from '../commands/build-tfrecord.js';
import { checkpointDiffCommand, checkpointLsCommand } from '../commands/checkpoint.js';
import { corpusStatsCommand } from '../commands/corpus-stats.js';
import { demoCommand } from '../commands/demo.js';
import { exportCommand } from '../commands/export.js';
import { importHfCommand } from '../commands/import-hf.js';
import { stageCommand } from '../commands/stage.js';
import { statsCommand } from '../commands/stats.js';
import { tfrecordShowCommand } from '../commands/tfrecord-show.js';
import { tokenizeCommand } from '../commands/tokenize.js';
import { tpuDeleteCommand, tpuLaunchCommand, tpuPlanCommand } from '../commands/tpu.js';
import { trainCommand } from '../commands/train.js';
import { vocabCommand } from '../commands/vocab.js';
import { warmStartCommand } from '../commands/warm-start.js';
import { watchCommand } from '../commands/watch.js';
import { type AnyCommand, defineCommand } from './command-definition.js';
import { helpText } from './help-text.js';
import type { Registry } from './registry.js';

/**
 * kbb's commands, in the order help lists them. A later stage (training, evaluation…) plugs in by
 * adding its definition here: the command line, the REPL, help and completion all follow.
 */
const commands: AnyCommand[] = [
  tokenizeCommand,
  corpusStatsCommand,
  vocabCommand,
  buildTfrecordCommand,
  tfrecordShowCommand,
  statsCommand,
  checkpointLsCommand,
  checkpointDiffCommand,
  warmStartCommand,
  attentionCommand,
  trainCommand,
  watchCommand,
  stageCommand,
  tpuPlanCommand,
  tpuLaunchCommand,
  tpuDeleteCommand,
  exportCommand,
  importHfCommand,
  backendCommand,
  demoCommand,
];

export const registry: Registry = {
  groups: [
    { name: 'corpus', description: 'inspect a corpus folder (.txt and ko_lm_dataformat .jsonl.zst)' },
    { name: 'tfrecord', description: 'inspect TFRecord shards written by build-tfrecord' },
    { name: 'ckpt', description: 'inspect TensorFlow checkpoints (PREFIX = path/model.ckpt-N, without .index)' },
    { name: 'tpu', description: 'train on a Cloud TPU: plan (check and write launch.sh), launch, delete' },
  ],
  commands,
};

commands.push(
  defineCommand({
    path: ['help'],
    description: 'list the commands, or show one command with its flags, types and defaults',
    arguments: [{ name: 'command', type: 'string', optional: true, variadic: true, description: 'a command name (corpus stats, build-tfrecord…)' }],
    async run({ command }, io) {
      io.text(helpText(registry, command ?? []));
    },
  }),
);
