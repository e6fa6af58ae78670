import { parentPort } from 'node:worker_threads';
import { WordPieceTokenizer, type WordPieceTokenizerState } from '../tokenizer/wordpiece-tokenizer.js';
import { type JobOptions, runJob } from './run-job.js';

/** Messages a builder worker thread posts to the main thread. */
export type JobMessage =
  | { readonly kind: 'progress'; readonly job: number; readonly bytes: number; readonly examples: number }
  | { readonly kind: 'done'; readonly result: Awaited<ReturnType<typeof runJob>> }
  | { readonly kind: 'error'; readonly message: string };

/** The job to run, sent once the output folder is ready. */
export type JobWorkerStart = Omit<JobOptions, 'onExample' | 'onProgress' | 'signal'>;

/**
 * What the main thread sends, in this order: the tokenizer it loaded (as soon as it has it), the job
 * (once the output folder is ready); or, at any point, a request to stop (a check or another job failed).
 */
export type JobWorkerCommand =
  | { readonly kind: 'tokenizer'; readonly state: WordPieceTokenizerState }
  | { readonly kind: 'run'; readonly options: JobWorkerStart }
  | { readonly kind: 'stop' };

/**
 * Runs one builder job in a worker thread. The thread takes the main thread's tokenizer tables rather
 * than loading the folder itself: rebuilding them costs a few milliseconds, where a load (reading,
 * parsing, building the tries, and compiling that code in this isolate) delays the job's start.
 */
async function main(): Promise<void> {
  const port = parentPort!;
  const stop = new AbortController();
  let received: (tokenizer: WordPieceTokenizer | undefined) => void = () => {};
  const tokenizer = new Promise<WordPieceTokenizer | undefined>((resolve) => (received = resolve));
  const job = new Promise<JobWorkerStart | undefined>((resolve) => {
    port.on('message', (command: JobWorkerCommand) => {
      if (command.kind === 'tokenizer') received(WordPieceTokenizer.fromState(command.state));
      else if (command.kind === 'run') resolve(command.options);
      else {
        stop.abort(new Error('stopped'));
        received(undefined);
        resolve(undefined);
      }
    });
  });
  try {
    const options = await job;
    const loaded = await tokenizer;
    if (!options || !loaded) throw new Error('stopped before it ran');
    const result = await runJob(loaded, {
      ...options,
      signal: stop.signal,
      onProgress: (bytes, examples) => port.postMessage({ kind: 'progress', job: options.job, bytes, examples } satisfies JobMessage),
    });
    port.postMessage({ kind: 'done', result } satisfies JobMessage);
  } catch (error) {
    port.postMessage({ kind: 'error', message: error instanceof Error ? error.message : String(error) } satisfies JobMessage);
  } finally {
    port.close(); // nothing else keeps the thread alive
  }
}

await main();
