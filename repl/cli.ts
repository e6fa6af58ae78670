import { type Command, CommanderError } from 'commander';
import { type CommandIo, cancelledText, cancelNote, isAbortError } from './io/command-io.js';
import { streamIo } from './io/stream-io.js';
import { registry } from './registry/commands.js';
import { toCommander } from './registry/to-commander.js';

/** Builds the `kbb` command line from the command registry (repl/registry/commands.ts). */
export function buildProgram(io: () => CommandIo = () => streamIo()): Command {
  return toCommander(registry, { io, helpAfterError: true });
}

/**
 * Runs the command line; returns the process exit code. With no arguments it starts the REPL
 * (Ink at a terminal, plain line-by-line reading otherwise).
 */
export async function main(argv: readonly string[]): Promise<number> {
  // `kbb ckpt ls … | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  if (argv.length === 0) {
    const { startRepl } = await import('./interactive/start-repl.js');
    return startRepl();
  }
  // Ctrl-C cancels the command (a build then removes its partial output); a second one quits at once.
  const cancel = new AbortController();
  const onSigint = (): void => {
    if (cancel.signal.aborted) process.exit(130);
    process.stderr.write('\nkbb: cancelling… (Ctrl-C again to quit at once)\n');
    cancel.abort();
  };
  process.on('SIGINT', onSigint);
  const program = buildProgram(() => streamIo({ signal: cancel.signal }));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (isAbortError(error)) {
      process.stderr.write(`kbb: ${cancelledText(cancelNote(error))}\n`);
      return 130;
    }
    // Errors from lib/ already name the file, line or record and what was expected.
    process.stderr.write(`kbb: ${error instanceof Error ? error.message : String(error)}\n`);
    if (process.env.KBB_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
