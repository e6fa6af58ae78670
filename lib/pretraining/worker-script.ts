import { workerScript } from '../threads/index.js';

/** The script builder worker threads run (bundled once; see `workerScript`). */
export const builderWorkerScript = (): Promise<URL> =>
  workerScript('job-worker', new URL('./job-worker.ts', import.meta.url), new URL('./job-worker-entry.js', import.meta.url));
