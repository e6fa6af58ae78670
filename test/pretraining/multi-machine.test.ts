import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BuildOptions,
  buildPretrainingData,
  finishBuild,
  isJobManifest,
  jobManifestFileName,
  MANIFEST_FILE,
  ownedShards,
  shardFileName,
} from '../../lib/pretraining/index.js';
import { projectRoot } from '../helpers/fixtures.js';

const SAMPLE = join(projectRoot, 'data', 'sample-corpus');
let dir = '';
let corpus = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbb-multi-'));
  // Five files, so that with three jobs each has one or two, in a shuffled order of its own.
  corpus = join(dir, 'corpus');
  mkdirSync(join(corpus, 'more'), { recursive: true });
  for (const name of ['essays.txt', 'everyday.txt', 'science-notes.txt']) copyFileSync(join(SAMPLE, name), join(corpus, name));
  const lines = readFileSync(join(SAMPLE, 'essays.txt'), 'utf8').split('\n');
  writeFileSync(join(corpus, 'more', 'first-half.txt'), lines.slice(0, lines.length >> 1).join('\n'));
  writeFileSync(join(corpus, 'more', 'second-half.txt'), lines.slice(lines.length >> 1).join('\n'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const P = 3;
const settings = (outputDir: string, extra: Partial<BuildOptions> = {}): BuildOptions => ({
  inputDir: corpus,
  tokenizerDir: join(projectRoot, 'data', 'sample-tokenizer'),
  outputDir,
  maxSeqLength: 64,
  maxPredictionsPerSeq: 10,
  numProcesses: P,
  sentencePairProb: 0.1,
  shortSeqProb: 0.1,
  doWholeWordMask: true,
  maxNgramSize: 2,
  dupeFactor: 2,
  numShards: 7,
  inProcess: true,
  ...extra,
});

/** Every file of a folder with its bytes; `totals.seconds` (wall time) zeroed in the manifests. */
function folder(path: string, { jobManifests = false } = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(path).sort()) {
    if (!jobManifests && name.startsWith('build_manifest-job-')) continue;
    let bytes = readFileSync(join(path, name));
    if (name.endsWith('.json')) bytes = Buffer.from(readFileSync(join(path, name), 'utf8').replace(/"seconds": [\d.]+/, '"seconds": 0'));
    out[name] = bytes.toString('base64');
  }
  return out;
}

describe('a build on many machines', () => {
  it('P jobs run one by one, then --finish, give the one-machine build with --num_processes P byte for byte', async () => {
    const out = join(dir, 'out');
    const one = await buildPretrainingData(settings(out));
    renameSync(out, join(dir, 'one-machine'));
    const manifests = [];
    for (const job of [2, 0, 1]) manifests.push(await buildPretrainingData(settings(out, { jobIndex: job })));
    expect(manifests.every(isJobManifest)).toBe(true);
    expect(readdirSync(out)).not.toContain(MANIFEST_FILE);
    const merged = await finishBuild(out);
    expect({ ...merged, totals: { ...merged.totals, seconds: 0 } }).toEqual({ ...one, totals: { ...one.totals, seconds: 0 } });
    expect(merged.totals.examples).toBeGreaterThan(100);
    expect(folder(out)).toEqual(folder(join(dir, 'one-machine')));
    // Each job wrote only its own shards and its manifest.
    const job1 = manifests[2];
    expect(isJobManifest(job1) && job1.job).toEqual({ index: 1, of: P });
    expect(job1.shards.map((s) => s.file)).toEqual(ownedShards(1, P, 7).map((i) => shardFileName(i, 7)));
    expect(job1.input_files.map((f) => f.path)).toEqual([join(corpus, 'everyday.txt'), join(corpus, 'science-notes.txt')]);
    // Finishing again gives the same manifest.
    const again = readFileSync(join(out, MANIFEST_FILE));
    await finishBuild(out);
    expect(readFileSync(join(out, MANIFEST_FILE)).equals(again)).toBe(true);
  });

  it("a job reads only its own corpus files: the others' may be unreadable", async () => {
    const reference = join(dir, 'reference');
    await buildPretrainingData(settings(reference));
    const files = readdirSync(corpus, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.txt'))
      .map((f) => join(corpus, f))
      .sort();
    // The listing order is the builder's (code point order of the paths); job 1 of 3 owns files 1 and 4.
    const saved = files.map((f) => readFileSync(f));
    try {
      files.forEach((f, i) => {
        if (i % P !== 1) writeFileSync(f, Buffer.from([0xff, 0xfe, 0x80, 0x0a]));
      });
      const job = join(dir, 'job-alone');
      const manifest = await buildPretrainingData(settings(job, { jobIndex: 1 }));
      const names = readdirSync(job).sort();
      expect(names).toEqual([jobManifestFileName(1, P), ...ownedShards(1, P, 7).map((i) => shardFileName(i, 7))].sort());
      for (const name of names.filter((n) => n.startsWith('pretrain_data')))
        expect(readFileSync(join(job, name)).equals(readFileSync(join(reference, name)))).toBe(true);
      const full = JSON.parse(readFileSync(join(reference, MANIFEST_FILE), 'utf8'));
      expect(manifest.jobs).toEqual([full.jobs[1]]);
      expect(manifest.input_files).toEqual([full.input_files[1], full.input_files[4]]);
      // The same files read by a one-machine build are refused, so the job above really did not read them.
      await expect(buildPretrainingData(settings(join(dir, 'corrupt-full')))).rejects.toThrow('invalid UTF-8');
    } finally {
      for (const [i, f] of files.entries()) writeFileSync(f, saved[i]);
    }
  });

  it('a retried job rewrites only its own output; a failed one removes only its own shards', async () => {
    const out = join(dir, 'retry');
    for (let job = 0; job < P; job++) await buildPretrainingData(settings(out, { jobIndex: job }));
    const others = readdirSync(out).filter((n) => !n.startsWith('.') && !/-job-1-|tfrecord-(1|4)-of/.test(n));
    const before = Object.fromEntries(others.map((n) => [n, statSync(join(out, n)).mtimeMs]));
    const shardsBefore = folder(out, { jobManifests: true });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await buildPretrainingData(settings(out, { jobIndex: 1 }));
    expect(Object.fromEntries(others.map((n) => [n, statSync(join(out, n)).mtimeMs]))).toEqual(before);
    expect(statSync(join(out, shardFileName(4, 7))).mtimeMs).toBeGreaterThan(before[shardFileName(0, 7)]);
    expect(folder(out, { jobManifests: true })).toEqual(shardsBefore);

    // Job 1 fails part way (cancelled here): its manifest and shards go, the others' stay.
    const stop = new AbortController();
    const failed = buildPretrainingData(settings(out, { jobIndex: 1, signal: stop.signal, onProgress: () => stop.abort(new Error('the machine went away')) }));
    await expect(failed).rejects.toThrow('the machine went away');
    expect(readdirSync(out).sort()).toEqual(others.sort());
    await expect(finishBuild(out)).rejects.toThrow(
      `${out}: missing job 1 of 3 (no ${jobManifestFileName(1, P)}); run them (or wait for them to finish), then --finish again`,
    );
    await buildPretrainingData(settings(out, { jobIndex: 1 }));
    await finishBuild(out);
  });

  it('--finish names missing jobs, missing shards and jobs that ran another build', async () => {
    const out = join(dir, 'checks');
    await expect(finishBuild(out)).rejects.toThrow(`${out}: no job manifests (build_manifest-job-K-of-P.json)`);
    await buildPretrainingData(settings(out, { jobIndex: 1 }));
    await expect(finishBuild(out)).rejects.toThrow(`${out}: missing jobs 0, 2 of 3`);
    await buildPretrainingData(settings(out, { jobIndex: 0 }));
    await buildPretrainingData(settings(out, { jobIndex: 2, seed: 7 }));
    await expect(finishBuild(out)).rejects.toThrow(`${out}: job 2 ran another build than job 0: flags.seed (12345 vs 7); rerun the jobs that differ`);
    await buildPretrainingData(settings(out, { jobIndex: 2 }));
    await rm(join(out, shardFileName(5, 7)));
    writeFileSync(join(out, shardFileName(3, 7)), 'not the shard');
    await expect(finishBuild(out)).rejects.toThrow(
      `${out}: shards of jobs 0, 2 are missing or differ from their manifests (pretrain_data.tfrecord-3-of-7: 13 bytes, its job wrote`,
    );
    await expect(finishBuild(out)).rejects.toThrow('pretrain_data.tfrecord-5-of-7: not there); run those jobs again, then --finish');
    expect(readdirSync(out)).not.toContain(MANIFEST_FILE);
  });

  it("a job refuses another build's output unless --overwrite, and then removes only that", async () => {
    const out = join(dir, 'stale');
    await buildPretrainingData(settings(out, { numProcesses: 1, inProcess: false }));
    await expect(buildPretrainingData(settings(out, { jobIndex: 0 }))).rejects.toThrow(
      `${out}: holds output of another build (build_manifest.json); pass --overwrite`,
    );
    writeFileSync(join(out, 'notes.txt'), 'mine');
    await expect(buildPretrainingData(settings(out, { jobIndex: 0, overwrite: true }))).rejects.toThrow('holds files that are not build output (notes.txt)');
    await rm(join(out, 'notes.txt'));
    await buildPretrainingData(settings(out, { jobIndex: 0, overwrite: true }));
    // The finished build's manifest is gone; shards of the other jobs (here the old build's) are not this job's to remove.
    expect(readdirSync(out).sort()).toEqual([jobManifestFileName(0, P), ...Array.from({ length: 7 }, (_, i) => shardFileName(i, 7))].sort());
    await expect(buildPretrainingData(settings(out, { jobIndex: 0, numShards: 9 }))).rejects.toThrow('holds output of another build (');
    await expect(buildPretrainingData(settings(out, { jobIndex: 3 }))).rejects.toThrow('--job_index 3 is not a job of --num_processes 3 (0 to 2)');
    await expect(buildPretrainingData(settings(out, { jobIndex: 0, numProcesses: 0 }))).rejects.toThrow('--job_index 0 needs --num_processes P');
  });
});
