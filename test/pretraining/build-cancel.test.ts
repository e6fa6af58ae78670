import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuildOptions, buildPretrainingData } from '../../lib/pretraining/index.js';
import { projectRoot } from '../helpers/fixtures.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbb-cancel-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const options = (outputDir: string, extra: Partial<BuildOptions> = {}): BuildOptions => ({
  inputDir: join(projectRoot, 'data', 'sample-corpus'),
  tokenizerDir: join(projectRoot, 'data', 'sample-tokenizer'),
  outputDir,
  maxSeqLength: 64,
  maxPredictionsPerSeq: 10,
  numProcesses: 1,
  numShards: 4,
  // Long enough that the cancel always lands mid-build.
  dupeFactor: 2000,
  ...extra,
});

/** Cancels on the first progress report, when shards are open and half-written. */
async function cancelMidBuild(outputDir: string, extra: Partial<BuildOptions>): Promise<unknown> {
  const controller = new AbortController();
  let reports = 0;
  return buildPretrainingData({
    ...options(outputDir, extra),
    signal: controller.signal,
    onProgress: () => {
      if (++reports === 3) controller.abort();
    },
  }).then(
    () => 'resolved',
    (error: unknown) => error,
  );
}

describe('cancelling a build (BuildOptions.signal)', () => {
  it('an already aborted signal rejects before anything is written', async () => {
    const out = join(dir, 'before');
    const error = await buildPretrainingData({ ...options(out), signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect((error as Error).name).toBe('AbortError');
    expect(existsSync(out)).toBe(false);
  });

  for (const [name, extra] of [
    ['on the calling thread', { numProcesses: 1 }],
    ['with a worker thread', { numProcesses: 2 }],
  ] as const) {
    it(`mid-build ${name}: rejects with an AbortError and leaves no shard, final or temporary, and no manifest`, async () => {
      const out = join(dir, `mid-${extra.numProcesses}`);
      const error = await cancelMidBuild(out, extra);
      expect((error as Error).name).toBe('AbortError');
      expect(readdirSync(out)).toEqual([]);
    });
  }
});
