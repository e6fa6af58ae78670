import { parentPort, workerData } from 'node:worker_threads';
import { loadTokenizer } from '../tokenizer/load-tokenizer.js';
import { type JobOptions, runJob } from './run-job.js';

/** Messages a builder worker thread posts to the main thread. */
export type JobMessage =
  | { readonly kind: 'progress'; readonly job: number; readonly bytes: number; readonly examples: number }
  | { readonly kind: 'done'; readonly result: Awaited<ReturnType<typeof runJob>> }
  | { readonly kind: 'error'; readonly message: string };

export interface JobWorkerData {
  readonly tokenizerDir: string;
}

/** The job to run, sent once the output folder is ready. */
export type JobWorkerStart = Omit<JobOptions, 'onExample' | 'onProgress' | 'signal'>;

/** What the main thread sends: the job, or a request to stop (another job failed). */
export type JobWorkerCommand = { readonly kind: 'run'; readonly options: JobWorkerStart } | { readonly kind: 'stop' };

/** Runs one builder job in a worker thread; each thread loads its own tokenizer while it waits for the job. */
async function main(): Promise<void> {
  const data = workerData as JobWorkerData;
  const port = parentPort!;
  const stop = new AbortController();
  const job = new Promise<JobWorkerStart | undefined>((resolve) => {
    port.on('message', (command: JobWorkerCommand) => {
      if (command.kind === 'run') resolve(command.options);
      else {
        stop.abort(new Error('stopped'));
        resolve(undefined);
      }
    });
  });
  try {
    const tokenizer = await loadTokenizer(data.tokenizerDir);
    const options = await job;
    if (!options) throw new Error('stopped before it ran');
    const result = await runJob(tokenizer, {
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
