import { isDeepStrictEqual } from 'node:util';
import type { protos } from '@google-cloud/batch';
import type { V1Job } from '@kubernetes/client-node';
import { isGcsPath } from '../fs/gcs-path.js';
import { type BuildJobSettings, buildFinishCommandLine, buildJobCommandLine } from '../pretraining/job-command-line.js';

/*
 * A data build on many machines: job j of P runs on machine j (`kbb build-tfrecord --num_processes P`
 * with the index from the scheduler: JOB_COMPLETION_INDEX in a Kubernetes Indexed Job,
 * BATCH_TASK_INDEX in Cloud Batch), reading its own files and writing its own shards to the bucket.
 * The job descriptions are built as the engines' own typed models, not as text.
 */

export type BuildJobKind = 'k8s' | 'batch';

export const BUILD_JOB_KINDS: readonly BuildJobKind[] = ['k8s', 'batch'];

export interface BuildJobOptions {
  /**
   * The build, as `kbb build-tfrecord` takes it: `numProcesses` is P, the number of machines (and
   * tasks); `inputDir` and `outputDir` are `gs://` paths every machine reads and writes.
   */
  readonly build: BuildJobSettings;
  /** The container image: Node and kbb, with kbb as its entrypoint (the project's Dockerfile). */
  readonly image: string;
  /** Machines at once (default: all P). */
  readonly parallelism?: number;
  /** The job's name (Kubernetes: metadata.name; Batch takes it on `gcloud batch jobs submit NAME`). */
  readonly name?: string;
  /** CPUs per machine: a job is one process, so one or two. */
  readonly cpu?: number;
  /** Memory per machine, MiB: the tokenizer, one job's token cache and the shard buffers. */
  readonly memoryMib?: number;
  /** Tries a failed task gets again; a retried task rewrites only its own shards. */
  readonly retries?: number;
  /**
   * The service account the machines run as (Kubernetes: a service account bound to a Google one
   * through Workload Identity; Batch: the Google service account's email). It needs read access to
   * the corpus and tokenizer and write access to the output prefix.
   */
  readonly serviceAccount?: string;
}

export const BUILD_JOB_DEFAULTS = Object.freeze({
  name: 'kbb-build-tfrecord',
  cpu: 2,
  memoryMib: 4096,
  retries: 3,
  /** Where `--emit_job` writes the job, by kind. */
  file: Object.freeze({ k8s: 'kbb-build-job.yaml', batch: 'kbb-build-job.json' } satisfies Record<BuildJobKind, string>),
});

/**
 * What the container runs after its entrypoint: `kbb build-tfrecord`'s command line for the build
 * (`buildJobCommandLine`) without the leading `kbb`, which is the image's entrypoint.
 */
export function buildJobArgs(build: BuildJobSettings): string[] {
  const [program, ...args] = buildJobCommandLine(build);
  if (program !== 'kbb') throw new Error(`the build's command line starts with ${program}, not kbb`);
  return args;
}

interface JobShape {
  readonly name: string;
  readonly tasks: number;
  readonly parallelism: number;
  readonly cpu: number;
  readonly memoryMib: number;
  readonly retries: number;
  readonly argv: string[];
}

/** The options checked and defaulted; an error names the option. */
function jobShape(options: BuildJobOptions): JobShape {
  // Every machine reads the same corpus and tokenizer and writes into the same folder: a path on
  // one machine's disk would be a different (empty) folder on each of the others.
  for (const [flag, path] of [
    ['input_dir', options.build.inputDir],
    ['tokenizer_dir', options.build.tokenizerDir],
    ['output_dir', options.build.outputDir],
  ] as const) {
    if (!isGcsPath(path)) throw new Error(`--${flag} ${path} is on this machine's disk; a build on many machines needs it in a bucket (gs://…)`);
  }
  const argv = buildJobArgs(options.build);
  const tasks = options.build.numProcesses;
  const parallelism = options.parallelism ?? tasks;
  if (!Number.isSafeInteger(parallelism) || parallelism < 1) throw new Error(`--parallelism must be a positive integer, got ${parallelism}`);
  if (!options.image) throw new Error('a build job needs a container image with kbb (see the Dockerfile)');
  return {
    name: options.name ?? BUILD_JOB_DEFAULTS.name,
    tasks,
    parallelism: Math.min(parallelism, tasks),
    cpu: options.cpu ?? BUILD_JOB_DEFAULTS.cpu,
    memoryMib: options.memoryMib ?? BUILD_JOB_DEFAULTS.memoryMib,
    retries: options.retries ?? BUILD_JOB_DEFAULTS.retries,
    argv,
  };
}

/**
 * A Kubernetes Indexed Job: P completions, each pod one job of the build (the index comes from
 * JOB_COMPLETION_INDEX), retried per index. The container's args follow the image's entrypoint (kbb).
 */
export function kubernetesBuildJob(options: BuildJobOptions): V1Job {
  const s = jobShape(options);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: s.name, labels: { 'app.kubernetes.io/name': 'kbb', 'app.kubernetes.io/component': 'build-tfrecord' } },
    spec: {
      completionMode: 'Indexed',
      completions: s.tasks,
      parallelism: s.parallelism,
      // Per index, so one bad input file does not use up the others' retries.
      backoffLimitPerIndex: s.retries,
      template: {
        metadata: { labels: { 'app.kubernetes.io/name': 'kbb', 'app.kubernetes.io/component': 'build-tfrecord' } },
        spec: {
          restartPolicy: 'Never',
          ...(options.serviceAccount ? { serviceAccountName: options.serviceAccount } : {}),
          containers: [
            {
              name: 'build-tfrecord',
              image: options.image,
              args: s.argv,
              resources: {
                requests: { cpu: String(s.cpu), memory: `${s.memoryMib}Mi` },
                limits: { memory: `${s.memoryMib}Mi` },
              },
            },
          ],
        },
      },
    },
  };
}

/**
 * A Cloud Batch job: one task group of P tasks (the index comes from BATCH_TASK_INDEX), each running
 * the image with the build's arguments after its entrypoint (kbb), logs to Cloud Logging.
 */
export function cloudBatchBuildJob(options: BuildJobOptions): protos.google.cloud.batch.v1.IJob {
  const s = jobShape(options);
  return {
    labels: { 'created-by': 'kbb' },
    taskGroups: [
      {
        taskCount: s.tasks,
        parallelism: s.parallelism,
        taskSpec: {
          runnables: [{ container: { imageUri: options.image, commands: s.argv } }],
          computeResource: { cpuMilli: s.cpu * 1000, memoryMib: s.memoryMib },
          maxRetryCount: s.retries,
        },
      },
    ],
    ...(options.serviceAccount ? { allocationPolicy: { serviceAccount: { email: options.serviceAccount } } } : {}),
    logsPolicy: { destination: 'CLOUD_LOGGING' },
  };
}

/** How to submit what `emitBuildJob` wrote, and what to run once every task is done. */
export function buildJobNextSteps(kind: BuildJobKind, options: BuildJobOptions, file: string): string[] {
  const name = options.name ?? BUILD_JOB_DEFAULTS.name;
  return [
    kind === 'k8s' ? `kubectl apply -f ${file}` : `gcloud batch jobs submit ${name} --location=REGION --config=${file}`,
    `when every task has finished: ${buildFinishCommandLine(options.build.outputDir).join(' ')}`,
  ];
}

/**
 * The job for `kbb build-tfrecord --emit_job k8s|batch`: a Kubernetes Indexed Job as YAML, or a Cloud
 * Batch job config as JSON, each checked against its engine's model first (the Kubernetes client's
 * serializer, the Batch API's protobuf). The engines' packages are loaded only here. `file` is where
 * it will be written, for the submit line in the YAML's header.
 */
export async function emitBuildJob(kind: BuildJobKind, options: BuildJobOptions, file: string = BUILD_JOB_DEFAULTS.file[kind]): Promise<string> {
  if (kind === 'k8s') {
    const { dumpYaml } = await import('@kubernetes/client-node');
    const steps = buildJobNextSteps(kind, options, file).map((line) => `# ${line}`);
    return `# Written by kbb build-tfrecord --emit_job k8s.\n${steps.join('\n')}\n${dumpYaml(kubernetesBuildJob(options))}`;
  }
  if (kind === 'batch') {
    const { protos } = await import('@google-cloud/batch');
    const { Job } = protos.google.cloud.batch.v1;
    const job = cloudBatchBuildJob(options);
    // Through the API's protobuf and back, in JSON's spelling (enum names): a field the API lacks is dropped, a wrong type refused.
    const message = Job.fromObject(job);
    const problem = Job.verify(message);
    if (problem) throw new Error(`the Cloud Batch job does not fit the Batch API's Job: ${problem}`);
    if (!isDeepStrictEqual(Job.toObject(message, { longs: Number, enums: String }), job))
      throw new Error("the Cloud Batch job has fields the Batch API's Job does not");
    return `${JSON.stringify(job, null, 2)}\n`;
  }
  throw new Error(`--emit_job ${String(kind)} is not one of ${BUILD_JOB_KINDS.join(', ')}`);
}
