import { protos } from '@google-cloud/batch';
import { loadYaml, V1Job } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { type BuildJobOptions, buildJobArgs, cloudBatchBuildJob, emitBuildJob, kubernetesBuildJob } from '../../lib/cloud/index.js';
import { buildJobCommandLine } from '../../lib/pretraining/index.js';

const options: BuildJobOptions = {
  build: {
    inputDir: 'gs://corpus-bucket/ko',
    tokenizerDir: 'gs://corpus-bucket/tokenizer',
    outputDir: 'gs://kobigbird/pretrain_tfrecords',
    maxSeqLength: 4096,
    maxPredictionsPerSeq: 640,
    numProcesses: 12,
    doWholeWordMask: true,
    maxNgramSize: 2,
    dupeFactor: 3,
  },
  image: 'europe-docker.pkg.dev/my-project/kbb/kbb:0.1.0',
  parallelism: 4,
  serviceAccount: 'kbb-builder',
};

describe('the build job for many machines', () => {
  it("runs the build's command line after the image's entrypoint (kbb), with no --job_index: the scheduler gives it", () => {
    const args = buildJobArgs(options.build);
    expect(args).toEqual(buildJobCommandLine(options.build).slice(1));
    expect(args[0]).toBe('build-tfrecord');
    expect(args.slice(args.indexOf('--num_processes'), args.indexOf('--num_processes') + 2)).toEqual(['--num_processes', '12']);
    expect(args.slice(args.indexOf('--output_dir'), args.indexOf('--output_dir') + 2)).toEqual(['--output_dir', 'gs://kobigbird/pretrain_tfrecords']);
    expect(args.some((a) => a.startsWith('--job_index'))).toBe(false);
  });

  it('a Kubernetes Indexed Job: P completions, at most `parallelism` at once, retried per index; the YAML is what the client library reads back', async () => {
    const job = kubernetesBuildJob(options);
    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 12, parallelism: 4, backoffLimitPerIndex: 3 });
    const pod = job.spec!.template.spec!;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.serviceAccountName).toBe('kbb-builder');
    expect(pod.containers).toHaveLength(1);
    expect(pod.containers[0]).toMatchObject({ image: options.image, args: buildJobArgs(options.build) });
    expect(pod.containers[0].command).toBeUndefined();

    const yaml = await emitBuildJob('k8s', options);
    expect(yaml).toMatch(
      /^# Written by kbb build-tfrecord --emit_job k8s\.\n# kubectl apply -f kbb-build-job\.yaml\n# when every task has finished: kbb build-tfrecord --finish/,
    );
    // The client's serializer writes only fields its V1Job model knows: a misspelt one would be lost here.
    const read = loadYaml<V1Job>(yaml);
    expect(read).toBeInstanceOf(V1Job);
    expect(read).toEqual(job);
    expect(yaml).toContain('completionMode: Indexed');
  });

  it('parallelism defaults to all P and never exceeds it', () => {
    expect(kubernetesBuildJob({ ...options, parallelism: undefined }).spec).toMatchObject({ completions: 12, parallelism: 12 });
    expect(kubernetesBuildJob({ ...options, parallelism: 50 }).spec).toMatchObject({ completions: 12, parallelism: 12 });
    expect(cloudBatchBuildJob({ ...options, parallelism: 50 }).taskGroups![0]).toMatchObject({ taskCount: 12, parallelism: 12 });
  });

  it("a Cloud Batch job: one task group of P tasks running the image's entrypoint with the build's arguments; the Batch API's Job takes every field", async () => {
    const job = cloudBatchBuildJob(options);
    const group = job.taskGroups![0];
    expect(group).toMatchObject({ taskCount: 12, parallelism: 4 });
    expect(group.taskSpec!.runnables).toEqual([{ container: { imageUri: options.image, commands: buildJobArgs(options.build) } }]);
    expect(group.taskSpec).toMatchObject({ computeResource: { cpuMilli: 2000, memoryMib: 4096 }, maxRetryCount: 3 });
    expect(job.allocationPolicy).toEqual({ serviceAccount: { email: 'kbb-builder' } });

    const text = await emitBuildJob('batch', options);
    const parsed = JSON.parse(text);
    expect(parsed).toEqual(job);
    const Job = protos.google.cloud.batch.v1.Job;
    expect(Job.verify(Job.fromObject(parsed))).toBeNull();
    // Through the protobuf and back: a field the API does not have would be dropped.
    expect(Job.toObject(Job.fromObject(parsed), { longs: Number, enums: String })).toEqual(parsed);
  });

  it('refuses what cannot run, in one line', async () => {
    expect(() => kubernetesBuildJob({ ...options, build: { ...options.build, numProcesses: 0 } })).toThrow(/numProcesses/);
    expect(() => cloudBatchBuildJob({ ...options, image: '' })).toThrow('a build job needs a container image');
    await expect(emitBuildJob('slurm' as 'k8s', options)).rejects.toThrow('--emit_job slurm is not one of k8s, batch');
  });
});
