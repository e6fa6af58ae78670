import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { CheckpointReader } from '../../lib/checkpoint/index.js';
import { projectRoot } from './fixtures.js';
import { FUZZ_SEED } from './fuzz.js';

/*
 * Hard stops: a real `kbb` process (bin/kbb.js, as `npx kbb` runs it) killed with SIGKILL at seeded
 * moments, then run again. The kill tests check what a kill may leave (complete files under final
 * names, hidden temporaries) and that the rerun finishes with the bytes of an uninterrupted run.
 */

/**
 * Kills per command: a handful in `npm test`; `npm run fuzz -- --runs N` (which sets KBB_FUZZ_RUNS)
 * scales it to N / 100, at most 50.
 */
export const KILLS = process.env.KBB_FUZZ_RUNS === undefined ? 4 : Math.min(50, Math.max(4, Math.ceil(Number(process.env.KBB_FUZZ_RUNS) / 100)));

/** `count` kill moments in [0, 1), seeded (KBB_FUZZ_SEED), each a fraction of an uninterrupted run's time. */
export const killMoments = (count = KILLS, salt = 0): number[] =>
  fc.sample(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), { numRuns: count, seed: FUZZ_SEED + salt });

export interface KbbRun {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  /** Milliseconds from spawn to exit. */
  readonly ms: number;
  /** Milliseconds from spawn until `started` first held (undefined if it never did). */
  readonly startedMs?: number;
}

export interface RunKbbOptions {
  /**
   * When the command has begun its work (its output folder appeared, say): polled every few
   * milliseconds, so that a kill lands in the work rather than in the seconds a process takes to start.
   */
  readonly started?: () => boolean;
  /** Kill with SIGKILL this many milliseconds after `started` holds (or after spawn without it), if still running. */
  readonly killAfterMs?: number;
}

/**
 * Runs `kbb ARGS` to its end, or kills it with SIGKILL as `options` say. The batch systems'
 * job-index variables are cleared, so a CI that sets one does not turn a build into one job of many.
 */
export function runKbb(args: readonly string[], options: RunKbbOptions = {}): Promise<KbbRun> {
  const env: Record<string, string | undefined> = { ...process.env, KBB_DEBUG: '' };
  for (const name of ['JOB_COMPLETION_INDEX', 'BATCH_TASK_INDEX', 'CLOUD_RUN_TASK_INDEX', 'BATCH_TASK_COUNT', 'CLOUD_RUN_TASK_COUNT']) delete env[name];
  const spawned = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(projectRoot, 'bin', 'kbb.js'), ...args], { cwd: projectRoot, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let startedMs: number | undefined;
    let timer: NodeJS.Timeout | undefined;
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const armKill = (): void => {
      if (options.killAfterMs !== undefined) timer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs);
    };
    const poll = options.started
      ? setInterval(() => {
          if (startedMs === undefined && options.started!()) {
            startedMs = performance.now() - spawned;
            clearInterval(poll);
            armKill();
          }
        }, 3)
      : undefined;
    if (!options.started) armKill();
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ status, signal, stderr, ms: performance.now() - spawned, ...(startedMs === undefined ? {} : { startedMs }) });
    });
  });
}

/** Runs `kbb ARGS` to its end; a failure is an error with its stderr. */
export async function runKbbOk(args: readonly string[], options: RunKbbOptions = {}): Promise<KbbRun> {
  const run = await runKbb(args, options);
  if (run.status !== 0) throw new Error(`kbb ${args.join(' ')} exited with ${run.status}: ${run.stderr}`);
  return run;
}

/** Every file under `dir` (relative paths, sorted), hidden ones included. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(dir, path));
    }
  };
  walk(dir);
  return out.sort();
}

/** Whether a path names a hidden temporary of kbb's atomic writes: a `.NAME.tmp-PID-N` file, or a file in a `.kbb-staging-PID-N` folder. */
export const isTemporary = (path: string): boolean => /(^|\/)\.[^/]+\.tmp-\d+-\d+$/.test(path) || /(^|\/)\.kbb-staging-\d+-\d+\//.test(path);

/** Every file under `dir` with its bytes, by relative path (temporaries left out). */
export function snapshotFiles(dir: string, keep: (path: string) => boolean = () => true): Map<string, Buffer> {
  return new Map(
    filesUnder(dir)
      .filter((path) => !isTemporary(path) && keep(path))
      .map((path) => [path, readFileSync(join(dir, path))]),
  );
}

/** Milliseconds to wait after the work started before a kill: `moment` of the way through a reference run's work. */
export const killDelay = (moment: number, reference: KbbRun): number => Math.round(moment * Math.max(1, reference.ms - (reference.startedMs ?? 0)));

/** Size of a file, or undefined. */
export const sizeOf = (path: string): number | undefined => {
  try {
    return statSync(path).size;
  } catch {
    return undefined;
  }
};

/** Whether `dir` was created or had an entry added or removed at or after `since` (a `Date.now()`): a command has begun to write there. */
export const changedSince = (dir: string, since: number): boolean => {
  try {
    return statSync(dir).mtimeMs >= since - 1;
  } catch {
    return false;
  }
};

/** A kill test's timeout: room for the reference run, the killed runs and the rerun, each up to `perRunMs` on a busy machine. */
export const killTestTimeout = (perRunMs: number): number => (KILLS + 3) * perRunMs;

/** Reads every tensor of a checkpoint, each checked against its CRC-32C. */
export async function readWhole(prefix: string): Promise<void> {
  const reader = await CheckpointReader.open(prefix);
  try {
    for (const v of reader.variables) await reader.readBytes(v.name);
  } finally {
    await reader.close();
  }
}
