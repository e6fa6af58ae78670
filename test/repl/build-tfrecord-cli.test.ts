import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileSystemFor, joinPath } from '../../lib/fs/index.js';
import { buildFinishCommandLine, buildJobCommandLine, JOB_INDEX_VARIABLES } from '../../lib/pretraining/index.js';
import { projectRoot } from '../helpers/fixtures.js';
import { hasGcsEmulator, setUpGcsEmulator, uniqueBucket } from '../helpers/gcs-emulator.js';

setUpGcsEmulator();

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the real `kbb` entry point as `npx kbb` does, asynchronously: the Storage emulator answers
 * from this process, so a blocking spawn would never get its replies. The batch systems' index
 * variables are cleared unless given, so a CI that sets one does not turn a build into a job.
 */
function kbb(argv: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const variable of [...JOB_INDEX_VARIABLES, 'BATCH_TASK_COUNT', 'CLOUD_RUN_TASK_COUNT']) delete env[variable];
  Object.assign(env, options.env);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(projectRoot, 'bin', 'kbb.js'), ...argv], { cwd: options.cwd ?? projectRoot, env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const ok = (run: Run): Run => {
  if (run.status !== 0) throw new Error(`kbb exited with ${run.status}: ${run.stderr}`);
  return run;
};

const P = 3;
const NUM_SHARDS = 7;
/** `kbb build-tfrecord …` for job K of P, without its index (argv[0] is `kbb`). */
const commandLine = (outputDir: string, inputDir = join(projectRoot, 'data', 'sample-corpus'), tokenizerDir = join(projectRoot, 'data', 'sample-tokenizer')) =>
  buildJobCommandLine({
    inputDir,
    tokenizerDir,
    outputDir,
    numProcesses: P,
    maxSeqLength: 128,
    maxPredictionsPerSeq: 20,
    doWholeWordMask: true,
    maxNgramSize: 2,
    dupeFactor: 2,
    numShards: NUM_SHARDS,
  }).slice(1);

/** The three ways a task learns its index. */
const jobRuns = (argv: readonly string[], cwd?: string): Promise<Run>[] => [
  kbb([...argv, '--job_index', '0'], { cwd }),
  kbb(argv, { cwd, env: { JOB_COMPLETION_INDEX: '1' } }),
  kbb(argv, { cwd, env: { BATCH_TASK_INDEX: '2', BATCH_TASK_COUNT: String(P) } }),
];

/** Wall time differs between any two builds; everything else must not. */
const withoutSeconds = (text: string): string => text.replace(/"seconds": [\d.]+/, '"seconds": 0');

/** A build folder's files (job manifests aside), bytes as base64, the manifest without its wall time. */
async function outputOf(dir: string): Promise<Record<string, string>> {
  const fs = fileSystemFor(dir);
  const out: Record<string, string> = {};
  for (const entry of await fs.list(dir)) {
    if (entry.name.startsWith('build_manifest-job-')) continue;
    const bytes = await fs.readFile(joinPath(dir, entry.name));
    out[entry.name] = entry.name.endsWith('.json') ? withoutSeconds(bytes.toString('utf8')) : bytes.toString('base64');
  }
  return out;
}

const root = mkdtempSync(join(tmpdir(), 'kbb-build-cli-'));
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
});

describe('kbb build-tfrecord on many machines', () => {
  // Both folders are `out` relative to a working folder of their own, so the manifests agree on --output_dir too.
  const oneMachine = join(root, 'one');
  const jobs = join(root, 'jobs');
  mkdirSync(oneMachine);
  mkdirSync(jobs);

  it('P processes, one job each (--job_index, JOB_COMPLETION_INDEX, BATCH_TASK_INDEX), then --finish: the one-machine build byte for byte', async () => {
    const argv = commandLine('out');
    const [one, ...tasks] = await Promise.all([kbb(argv, { cwd: oneMachine }), ...jobRuns(argv, jobs)]);
    ok(one);
    for (const task of tasks) ok(task);
    expect(tasks[0].stdout).toMatch(/^job {7}0 of 3: 1 of 3 files × 2 passes$/m);
    expect(tasks[1].stdout).toMatch(/^job {7}1 of 3 \(from JOB_COMPLETION_INDEX\)/m);
    expect(tasks[2].stdout).toMatch(/^job {7}2 of 3 \(from BATCH_TASK_INDEX\)/m);
    expect(tasks[2].stdout).toContain(`when all 3 jobs are done: ${buildFinishCommandLine('out').join(' ')}`);
    expect(readdirSync(join(jobs, 'out'))).not.toContain('build_manifest.json');
    const finish = ok(await kbb(buildFinishCommandLine('out').slice(1), { cwd: jobs }));
    expect(finish.stdout).toMatch(/^wrote {5}\d+ examples into \d of 7 shards in out/m);
    const expected = await outputOf(join(oneMachine, 'out'));
    expect(Object.keys(expected)).toHaveLength(NUM_SHARDS + 1);
    expect(await outputOf(join(jobs, 'out'))).toEqual(expected);
  });

  it('--finish with a job missing is one line naming it', async () => {
    const dir = join(root, 'partial');
    mkdirSync(dir);
    const argv = commandLine('out');
    ok(await kbb([...argv, '--job_index', '2'], { cwd: dir }));
    const finish = await kbb(buildFinishCommandLine('out').slice(1), { cwd: dir });
    expect(finish.status).toBe(1);
    expect(finish.stderr.trim()).toBe(
      'kbb: out: missing jobs 0, 1 of 3 (no build_manifest-job-0-of-3.json, build_manifest-job-1-of-3.json); run them (or wait for them to finish), then --finish again',
    );
    const mismatch = await kbb(argv, { cwd: dir, env: { CLOUD_RUN_TASK_INDEX: '0', CLOUD_RUN_TASK_COUNT: '1' } });
    expect(mismatch.status).toBe(1);
    expect(mismatch.stderr.trim()).toBe('kbb: CLOUD_RUN_TASK_COUNT is 1 but --num_processes is 3: each task runs one job, so the build needs exactly 3 tasks');
  });

  it.skipIf(!hasGcsEmulator)(
    'on gs:// (emulator): the one-machine build gives the local shards byte for byte, P jobs + --finish give it again, and tfrecord show and stats read it',
    async () => {
      const out = `gs://${uniqueBucket('build-cli')}/pretrain/out`;
      const fs = fileSystemFor(out);
      // Worker threads (jobs 1 and 2) write to the bucket too.
      ok(await kbb(commandLine(out)));
      const built = await outputOf(out);
      const local = await outputOf(join(oneMachine, 'out'));
      expect(Object.keys(built).sort()).toEqual(Object.keys(local).sort());
      for (const name of Object.keys(local)) {
        if (name === 'build_manifest.json') expect(built[name]).toBe(local[name].replace('"output_dir": "out"', `"output_dir": "${out}"`));
        else expect(built[name], name).toBe(local[name]);
      }

      const shard = joinPath(out, `pretrain_data.tfrecord-0-of-${NUM_SHARDS}`);
      const show = ok(await kbb(['tfrecord', 'show', shard, '--n', '3', '--json']));
      const showLocal = ok(await kbb(['tfrecord', 'show', join(oneMachine, 'out', `pretrain_data.tfrecord-0-of-${NUM_SHARDS}`), '--n', '3', '--json']));
      expect(show.stdout.split('\n').filter(Boolean)).toHaveLength(3);
      expect(show.stdout).toBe(showLocal.stdout);
      const stats = ok(await kbb(['stats', out, '--json']));
      expect(stats.stdout).toBe(ok(await kbb(['stats', join(oneMachine, 'out'), '--json'])).stdout);
      expect(ok(await kbb(['stats', out, '--from_shards', '--json'])).stdout).toBe(
        ok(await kbb(['stats', join(oneMachine, 'out'), '--from_shards', '--json'])).stdout,
      );

      // The same folder built again by P tasks at once and finished.
      for (const entry of await fs.list(out)) await fs.remove(joinPath(out, entry.name));
      expect(await fs.list(out)).toEqual([]);
      for (const task of await Promise.all(jobRuns(commandLine(out)))) ok(task);
      ok(await kbb(buildFinishCommandLine(out).slice(1)));
      expect(await outputOf(out)).toEqual(built);
    },
  );
});
