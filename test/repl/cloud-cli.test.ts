import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildJobArgs } from '../../lib/cloud/index.js';
import { fileSystemFor } from '../../lib/fs/index.js';
import { BUILD_DEFAULTS, buildFinishCommandLine, buildPretrainingData, SAMPLE_BUILD_SETTINGS } from '../../lib/pretraining/index.js';
import { projectRoot } from '../helpers/fixtures.js';
import { hasGcsEmulator, setUpGcsEmulator, uniqueBucket } from '../helpers/gcs-emulator.js';
import { kbbBin } from './kbb-process.js';

setUpGcsEmulator();

/**
 * `kbb stage`, `kbb tpu plan|launch|delete` and the build job's command line, through the real
 * command line. The emulator runs in this process, so the CLI is spawned asynchronously; it finds
 * the emulator through the STORAGE_EMULATOR_HOST it inherits.
 */

const root = mkdtempSync(join(tmpdir(), 'kbb-cloud-cli-'));
const tokenizerDir = join(projectRoot, 'data', 'sample-tokenizer');
const corpusDir = join(projectRoot, 'data', 'sample-corpus');
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
});

function kbb(args: readonly string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [kbbBin, ...args], { cwd: projectRoot, env: { ...process.env, KBB_DEBUG: '', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  return new Promise((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr })));
}

describe('kbb stage and kbb tpu on the command line', () => {
  it.skipIf(!hasGcsEmulator)('stage uploads, says what the trainer flags are, and a second run sends nothing', async () => {
    const destination = `gs://${uniqueBucket('cli-stage')}/kobigbird`;
    const first = await kbb(['stage', destination, '--tokenizer_dir', tokenizerDir, '--concurrency', '2']);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    const files = readdirSync(tokenizerDir).length;
    expect(first.stdout).toMatch(new RegExp(`^staged {4}${files} files, .* under ${destination}: ${files} uploaded \\(.*\\), 0 already there$`, 'm'));
    expect(first.stdout).toContain(`verified  ${files} objects: size and CRC-32C match the local files`);
    expect(first.stdout).toContain(`--tokenizer_dir=${destination}/tokenizer`);
    const again = await kbb(['stage', destination, '--tokenizer_dir', tokenizerDir]);
    expect(again.stdout).toMatch(new RegExp(`: 0 uploaded \\(0 B in .*\\), ${files} already there$`, 'm'));
  });

  it('tpu plan lists every problem, one per line, exits non-zero and writes nothing', async () => {
    const planDir = join(root, 'plan');
    const { status, stdout, stderr } = await kbb([
      'tpu',
      'plan',
      '--data_dir',
      join(root, 'nothing-here'),
      '--tokenizer_dir',
      tokenizerDir,
      '--output_dir',
      'gs://b/run',
      '--accelerator_type',
      'v3-8',
      '--num_tpu_cores',
      '4',
      '--plan_dir',
      planDir,
    ]);
    expect(status).toBe(1);
    expect(stdout).toBe('');
    const lines = stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^kbb: tpu plan: \d+ problem\(s\), nothing written:$/);
    expect(lines).toContain(`  --tokenizer_dir ${tokenizerDir} is not in a bucket: the TPU VM reads gs:// paths only (kbb stage uploads it)`);
    expect(lines).toContain('  --num_tpu_cores 4, but --accelerator_type v3-8 has 8 TPU cores');
    expect(lines).toContain("  --tpu_name is required: the TPU VM's name");
    expect(lines.some((line) => line.startsWith(`  --data_dir ${join(root, 'nothing-here')}`))).toBe(true);
    expect(Number(/(\d+) problem/.exec(lines[0])![1])).toBe(lines.length - 1);
    expect(() => readdirSync(planDir)).toThrow();

    // --checks shows every check first, the failing ones marked, then the same problems.
    const shown = await kbb([
      'tpu',
      'plan',
      '--checks',
      '--data_dir',
      join(root, 'nothing-here'),
      '--tokenizer_dir',
      tokenizerDir,
      '--output_dir',
      'gs://b/run',
      '--num_tpu_cores',
      '4',
      '--plan_dir',
      planDir,
    ]);
    expect(shown.status).toBe(1);
    expect(shown.stdout).toMatch(/^check +status +this run$/m);
    expect(shown.stdout).toMatch(/\bfails\b/);
    expect(shown.stdout).toMatch(/\bok\b/);
    expect(shown.stderr).toContain('--num_tpu_cores 4, but --accelerator_type v3-8 has 8 TPU cores');
  });

  it('tpu launch and tpu delete --dry_run print the TPU API requests of a plan', async () => {
    const file = join(root, 'plan.json');
    const plan = {
      kind: 'kbb-tpu-plan',
      project: 'my-project',
      zone: 'europe-west4-a',
      tpu_name: 'kbb-sample',
      accelerator_type: 'v3-8',
      runtime_version: 'tpu-vm-tf-2.15.1-se',
      queued_resource: false,
      spot: false,
      startup_script: '#!/bin/bash\necho hi\n',
      output_dir: 'gs://b/run',
    };
    await fileSystemFor(file).writeFile(file, JSON.stringify(plan));
    const launch = await kbb(['tpu', 'launch', '--plan', file, '--dry_run']);
    expect(launch.status).toBe(0);
    expect(JSON.parse(launch.stdout)).toMatchObject({
      parent: 'projects/my-project/locations/europe-west4-a',
      nodeId: 'kbb-sample',
      node: { acceleratorType: 'v3-8', runtimeVersion: 'tpu-vm-tf-2.15.1-se', metadata: { 'startup-script': plan.startup_script } },
    });
    const deleted = await kbb(['tpu', 'delete', '--plan', file, '--dry_run']);
    expect(JSON.parse(deleted.stdout)).toEqual({ name: 'projects/my-project/locations/europe-west4-a/nodes/kbb-sample' });
    const named = await kbb(['tpu', 'delete', '--tpu_name', 'x', '--dry_run']);
    expect(named.status).toBe(1);
    expect(named.stderr).toBe('kbb: tpu delete: give --plan, or --gcp_project and --tpu_zone\n');
  });
});

describe("the build job's command line, run as the schedulers run it", () => {
  it('P tasks with JOB_COMPLETION_INDEX (Kubernetes) or BATCH_TASK_INDEX (Batch), then --finish, build what one machine builds', async () => {
    const P = 2;
    const settings = { ...SAMPLE_BUILD_SETTINGS, inputDir: corpusDir, tokenizerDir, numProcesses: P };
    const reference = join(root, 'one-machine');
    await buildPretrainingData({ ...settings, outputDir: reference });
    for (const variable of ['JOB_COMPLETION_INDEX', 'BATCH_TASK_INDEX']) {
      const outputDir = join(root, `tasks-${variable}`);
      const args = buildJobArgs({ ...settings, outputDir });
      const tasks = await Promise.all(Array.from({ length: P }, (_, j) => kbb(args, { [variable]: String(j) })));
      for (const task of tasks) expect(task.stderr, variable).toBe('');
      const finished = await kbb(buildFinishCommandLine(outputDir).slice(1));
      expect(finished.status, finished.stderr).toBe(0);
      const shards = readdirSync(reference).filter((name) => name.startsWith('pretrain_data.tfrecord'));
      expect(shards.length).toBe(SAMPLE_BUILD_SETTINGS.numShards);
      for (const name of shards) expect(readFileSync(join(outputDir, name)).equals(readFileSync(join(reference, name))), name).toBe(true);
    }
  }, 120_000);
});

describe('kbb build-tfrecord --emit_job', () => {
  const flags = ['--input_dir', 'gs://corpus-bucket/ko', '--tokenizer_dir', 'gs://corpus-bucket/tokenizer', '--output_dir', 'gs://corpus-bucket/tfrecords'];

  it('writes a Kubernetes Indexed Job whose pods run the build, one index each, and says how to submit and finish it', async () => {
    const file = join(root, 'job.yaml');
    const run = await kbb([
      'build-tfrecord',
      ...flags,
      '--num_processes',
      '6',
      '--dupe_factor',
      '2',
      '--emit_job',
      'k8s',
      '--image',
      'registry.example/kbb:1',
      '--job_file',
      file,
    ]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`kubectl apply -f ${file}`);
    expect(run.stdout).toContain('kbb build-tfrecord --finish --output_dir gs://corpus-bucket/tfrecords');
    const { loadYaml } = await import('@kubernetes/client-node');
    const job = loadYaml<import('@kubernetes/client-node').V1Job>(readFileSync(file, 'utf8'));
    expect(job.spec?.completionMode).toBe('Indexed');
    expect(job.spec?.completions).toBe(6);
    const container = job.spec?.template.spec?.containers[0];
    expect(container?.image).toBe('registry.example/kbb:1');
    // The pods' arguments are the build's own command line, which a task runs with JOB_COMPLETION_INDEX (tested above).
    expect(container?.args).toEqual(
      buildJobArgs({
        ...BUILD_DEFAULTS,
        inputDir: 'gs://corpus-bucket/ko',
        tokenizerDir: 'gs://corpus-bucket/tokenizer',
        outputDir: 'gs://corpus-bucket/tfrecords',
        numProcesses: 6,
        dupeFactor: 2,
      }),
    );
    expect(container?.args).not.toContain('--job_index');
  });

  it('writes a Cloud Batch job of P tasks, and refuses paths on this machine’s disk', async () => {
    const file = join(root, 'job.json');
    const run = await kbb(['build-tfrecord', ...flags, '--num_processes', '3', '--emit_job', 'batch', '--image', 'registry.example/kbb:1', '--job_file', file]);
    expect(run.status, run.stderr).toBe(0);
    const job = JSON.parse(readFileSync(file, 'utf8'));
    expect(job.taskGroups[0].taskCount).toBe(3);
    expect(job.taskGroups[0].taskSpec.runnables[0].container.commands.slice(0, 3)).toEqual(['build-tfrecord', '--input_dir', 'gs://corpus-bucket/ko']);
    const local = await kbb([
      'build-tfrecord',
      ...flags.slice(0, 4),
      '--output_dir',
      join(root, 'out'),
      '--num_processes',
      '3',
      '--emit_job',
      'batch',
      '--image',
      'i',
    ]);
    expect(local.status).toBe(1);
    expect(local.stderr.trim()).toBe(
      `kbb: --output_dir ${join(root, 'out')} is on this machine's disk; a build on many machines needs it in a bucket (gs://…)`,
    );
    const noImage = await kbb(['build-tfrecord', ...flags, '--num_processes', '3', '--emit_job', 'k8s']);
    expect(noImage.stderr.trim()).toBe('kbb: --emit_job needs --image, a container image with kbb (see the Dockerfile)');
  });
});
