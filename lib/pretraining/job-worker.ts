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

/** The one message the main thread sends: the job to run, once the output folder is ready. */
export type JobWorkerStart = Omit<JobOptions, 'onExample' | 'onProgress'>;

/** Runs one builder job in a worker thread; each thread loads its own tokenizer while it waits for the job. */
async function main(): Promise<void> {
  const data = workerData as JobWorkerData;
  const port = parentPort!;
  const job = new Promise<JobWorkerStart>((resolve) => port.once('message', resolve));
  try {
    const tokenizer = await loadTokenizer(data.tokenizerDir);
    const options = await job;
    const result = await runJob(tokenizer, {
      ...options,
      onProgress: (bytes, examples) => port.postMessage({ kind: 'progress', job: options.job, bytes, examples } satisfies JobMessage),
    });
    port.postMessage({ kind: 'done', result } satisfies JobMessage);
  } catch (error) {
    port.postMessage({ kind: 'error', message: error instanceof Error ? error.message : String(error) } satisfies JobMessage);
  }
}

await main();
