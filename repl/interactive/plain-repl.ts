import { createInterface } from 'node:readline';
import { cancelledText } from '../io/command-io.js';
import { streamIo } from '../io/stream-io.js';
import type { Registry } from '../registry/registry.js';
import { runLine } from './run-line.js';

export interface PlainReplOptions {
  readonly registry: Registry;
  readonly input?: NodeJS.ReadableStream;
  readonly stdout?: NodeJS.WriteStream;
  readonly stderr?: NodeJS.WriteStream;
}

/**
 * The REPL without a terminal (`kbb < script.txt`, CI): one command per line, in order, with the
 * command line's plain output; a failing line is reported on stderr and the next one still runs.
 * Returns the exit code: 1 if any line failed, 130 if one was cancelled, else 0.
 */
export async function runPlainRepl(options: PlainReplOptions): Promise<number> {
  const stderr = options.stderr ?? process.stderr;
  const lines = createInterface({ input: options.input ?? process.stdin, crlfDelay: Infinity, terminal: false });
  let current: AbortController | undefined;
  const onSigint = (): void => {
    if (!current || current.signal.aborted) process.exit(130);
    current.abort();
  };
  process.on('SIGINT', onSigint);
  let status = 0;
  try {
    for await (const line of lines) {
      current = new AbortController();
      const outcome = await runLine(line, { registry: options.registry, io: streamIo({ stdout: options.stdout, stderr, signal: current.signal }) });
      current = undefined;
      if (outcome.kind === 'exit') break;
      if (outcome.kind === 'error') {
        stderr.write(`kbb: ${outcome.text.replace(/^error: /, '')}\n`);
        status = 1;
      } else if (outcome.kind === 'cancelled') {
        stderr.write(`kbb: ${cancelledText(outcome.note)}\n`);
        status = 130;
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
    lines.close();
  }
  return status;
}
