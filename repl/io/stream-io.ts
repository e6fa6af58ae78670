import { table } from '../format.js';
import { terminalProgress } from '../progress.js';
import type { CommandIo } from './command-io.js';

export interface StreamIoOptions {
  readonly stdout?: NodeJS.WriteStream;
  readonly stderr?: NodeJS.WriteStream;
  readonly signal?: AbortSignal;
}

/**
 * Plain output for the command line and for the REPL without a terminal: results on stdout, the
 * progress bar on stderr (and only on a terminal).
 */
export function streamIo(options: StreamIoOptions = {}): CommandIo {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const write = (text: string): void => {
    stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  };
  return {
    signal: options.signal ?? new AbortController().signal,
    columns: stdout.columns || 100,
    text: write,
    table: (header, rows) => write(table(header, rows)),
    json: (value, { indent } = {}) => write(JSON.stringify(value, null, indent)),
    progress: (progressOptions) => terminalProgress(progressOptions, stderr),
  };
}
