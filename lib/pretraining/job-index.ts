import { BuildError } from './build-error.js';

/**
 * Where a batch system tells each task its index, in the order they are looked at: Kubernetes
 * Indexed Jobs, Google Cloud Batch, Cloud Run jobs.
 */
export const JOB_INDEX_VARIABLES = ['JOB_COMPLETION_INDEX', 'BATCH_TASK_INDEX', 'CLOUD_RUN_TASK_INDEX'] as const;
export type JobIndexVariable = (typeof JOB_INDEX_VARIABLES)[number];

/** The task counts the same systems set beside the index (Kubernetes sets none). */
const TASK_COUNT_VARIABLES: Partial<Record<JobIndexVariable, string>> = { BATCH_TASK_INDEX: 'BATCH_TASK_COUNT', CLOUD_RUN_TASK_INDEX: 'CLOUD_RUN_TASK_COUNT' };

/** Which job of a multi-machine build this process runs, and where that came from. */
export interface JobIndex {
  readonly index: number;
  /** `--job_index`, or the environment variable it was read from. */
  readonly source: '--job_index' | JobIndexVariable;
}

export interface ResolveJobIndexOptions {
  /** `--job_index`, when given: it wins over the environment. */
  readonly jobIndex?: number;
  /** `--num_processes`: the number of jobs, checked against the index and against a task count in the environment. */
  readonly numProcesses: number;
  /** Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * The job this process runs: `--job_index` if given, else the first of `JOB_INDEX_VARIABLES` that is
 * set; undefined when neither (a one-machine build). A value that is not a job of `numProcesses`, two
 * variables that disagree, or a task count that differs from `numProcesses` (some jobs would never
 * run, or run twice) is a BuildError naming the variable.
 */
export function resolveJobIndex(options: ResolveJobIndexOptions): JobIndex | undefined {
  const env = options.env ?? process.env;
  const { numProcesses } = options;
  let found: JobIndex | undefined;
  if (options.jobIndex !== undefined) found = { index: options.jobIndex, source: '--job_index' };
  else {
    for (const variable of JOB_INDEX_VARIABLES) {
      const text = env[variable];
      if (text === undefined || text.trim() === '') continue;
      const index = Number(text);
      if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(index))
        throw new BuildError(`${variable}=${JSON.stringify(text)} is not a job index (0, 1, 2, …)`);
      if (found && found.index !== index)
        throw new BuildError(`${found.source}=${found.index} and ${variable}=${index} disagree on this task's index; pass --job_index`);
      found ??= { index, source: variable };
    }
  }
  if (!found) return undefined;
  const from = found.source === '--job_index' ? `--job_index ${found.index}` : `${found.source}=${found.index}`;
  if (!(Number.isInteger(numProcesses) && numProcesses > 0))
    throw new BuildError(
      `${from} needs --num_processes P, the number of jobs (every machine must split the corpus the same way; 0 = one per CPU differs between machines)`,
    );
  if (!Number.isInteger(found.index) || found.index < 0 || found.index >= numProcesses)
    throw new BuildError(`${from} is not a job of --num_processes ${numProcesses} (0 to ${numProcesses - 1})`);
  const countVariable = found.source === '--job_index' ? undefined : TASK_COUNT_VARIABLES[found.source];
  const count = countVariable === undefined ? undefined : env[countVariable];
  if (countVariable && count !== undefined && count.trim() !== '' && Number(count) !== numProcesses)
    throw new BuildError(
      `${countVariable} is ${count} but --num_processes is ${numProcesses}: each task runs one job, so the build needs exactly ${numProcesses} tasks`,
    );
  return found;
}
