import { CommanderError } from 'commander';
import { type CommandIo, cancelNote, isAbortError } from '../io/command-io.js';
import type { Registry } from '../registry/registry.js';
import { toCommander } from '../registry/to-commander.js';
import { lineWords } from './split-line.js';

/** How one line at the prompt ended. */
export type LineOutcome =
  | { readonly kind: 'empty' }
  | { readonly kind: 'exit' }
  | { readonly kind: 'done' }
  /** `note`: what the cancelled command said it left (see CancelledWithNote). */
  | { readonly kind: 'cancelled'; readonly note?: string }
  /** `text` is what to show: commander's usage error as worded (it starts with `error:`), or `error: MESSAGE`. */
  | { readonly kind: 'error'; readonly message: string; readonly text: string };

const failure = (message: string): LineOutcome => ({ kind: 'error', message, text: `error: ${message}` });

export interface RunLineOptions {
  readonly registry: Registry;
  readonly io: CommandIo;
}

/**
 * Runs one REPL line through the same commander program the command line uses, so flags, types,
 * defaults and errors are exactly those of `kbb …`. Never throws: every failure is an outcome.
 */
export async function runLine(line: string, options: RunLineOptions): Promise<LineOutcome> {
  let words: string[];
  try {
    words = lineWords(line);
  } catch (error) {
    return failure((error as Error).message);
  }
  if (words.length === 0) return { kind: 'empty' };
  if (words.length === 1 && (words[0] === 'exit' || words[0] === 'quit')) return { kind: 'exit' };
  let usage = '';
  const program = toCommander(options.registry, {
    io: () => options.io,
    output: { writeOut: (text) => options.io.text(text.trimEnd()), writeErr: (text) => (usage += text) },
    helpAfterError: '(help lists the commands; help COMMAND shows its flags)',
  });
  try {
    await program.parseAsync(words, { from: 'user' });
    return { kind: 'done' };
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end this way too, successfully.
      if (error.exitCode === 0) return { kind: 'done' };
      const text = usage.trim() || error.message;
      return { kind: 'error', message: error.message, text };
    }
    if (isAbortError(error) || options.io.signal.aborted) {
      const note = cancelNote(error);
      return note === undefined ? { kind: 'cancelled' } : { kind: 'cancelled', note };
    }
    return failure(error instanceof Error ? error.message : String(error));
  }
}
