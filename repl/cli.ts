import { Command, CommanderError } from 'commander';
import { buildTfrecordCommand } from './commands/build-tfrecord.js';
import { checkpointCommand } from './commands/checkpoint.js';
import { corpusStatsCommand } from './commands/corpus-stats.js';
import { demoCommand } from './commands/demo.js';
import { exportCommand } from './commands/export.js';
import { importHfCommand } from './commands/import-hf.js';
import { tokenizeCommand } from './commands/tokenize.js';
import { warmStartCommand } from './commands/warm-start.js';

/** Builds the `kbb` command line. Each command lives in repl/commands/ and only calls lib/. */
export function buildProgram(): Command {
  const program = new Command()
    .name('kbb')
    .description('Pretrain BigBird language models the KoBigBird way: corpus → tokenizer → TFRecords → warm start → training → export.')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  program.addCommand(tokenizeCommand());
  program.addCommand(new Command('corpus').description('inspect a corpus folder (.txt and ko_lm_dataformat .jsonl.zst)').addCommand(corpusStatsCommand()));
  program.addCommand(buildTfrecordCommand());
  program.addCommand(checkpointCommand());
  program.addCommand(warmStartCommand());
  program.addCommand(exportCommand());
  program.addCommand(importHfCommand());
  program.addCommand(demoCommand());
  program.commands.forEach((command) => command.exitOverride());
  for (const group of ['corpus', 'ckpt']) program.commands.find((c) => c.name() === group)?.commands.forEach((command) => command.exitOverride());
  return program;
}

/** Runs the command line; returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  // `kbb ckpt ls … | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    // Errors from lib/ already name the file, line or record and what was expected.
    process.stderr.write(`kbb: ${error instanceof Error ? error.message : String(error)}\n`);
    if (process.env.KBB_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return 1;
  }
}
