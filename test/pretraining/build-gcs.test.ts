import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyFile, fileSystemFor, joinPath } from '../../lib/fs/index.js';
import { type BuildOptions, buildOutputStatistics, buildPretrainingData, MANIFEST_FILE } from '../../lib/pretraining/index.js';
import { projectRoot } from '../helpers/fixtures.js';
import { hasGcsEmulator, setUpGcsEmulator, uniqueBucket } from '../helpers/gcs-emulator.js';

setUpGcsEmulator();

const SAMPLE_CORPUS = join(projectRoot, 'data', 'sample-corpus');
const SAMPLE_TOKENIZER = join(projectRoot, 'data', 'sample-tokenizer');
const local = mkdtempSync(join(tmpdir(), 'kbb-build-gcs-'));
afterAll(async () => {
  rmSync(local, { recursive: true, force: true });
});

const options = (outputDir: string, extra: Partial<BuildOptions> = {}): BuildOptions => ({
  inputDir: SAMPLE_CORPUS,
  tokenizerDir: SAMPLE_TOKENIZER,
  outputDir,
  maxSeqLength: 64,
  maxPredictionsPerSeq: 10,
  numProcesses: 2,
  doWholeWordMask: true,
  maxNgramSize: 2,
  dupeFactor: 2,
  numShards: 5,
  ...extra,
});

/** Each file of a folder (local or gs://) by name. */
async function files(dir: string): Promise<Map<string, Buffer>> {
  const fs = fileSystemFor(dir);
  const out = new Map<string, Buffer>();
  for (const entry of await fs.list(dir)) out.set(entry.name, await fs.readFile(joinPath(dir, entry.name)));
  return out;
}

const manifestWithout = (bytes: Buffer | undefined, ...paths: string[]): string => {
  let text = String(bytes).replace(/"seconds": [\d.]+/, '"seconds": 0');
  for (const path of paths) text = text.replaceAll(JSON.stringify(path), '"PATH"');
  return text;
};

describe.skipIf(!hasGcsEmulator)('building to and from gs:// (emulator)', () => {
  it('worker threads write to the bucket the shards a local build writes, byte for byte; stats read them back', async () => {
    const reference = join(local, 'reference');
    await buildPretrainingData(options(reference));
    const out = `gs://${uniqueBucket('build')}/tfrecords`;
    const manifest = await buildPretrainingData(options(out));
    const a = await files(reference);
    const b = await files(out);
    expect([...b.keys()].sort()).toEqual(readdirSync(reference).sort());
    for (const [name, bytes] of a) {
      if (name === MANIFEST_FILE) expect(manifestWithout(b.get(name), out)).toBe(manifestWithout(bytes, reference));
      else expect(b.get(name)?.equals(bytes), name).toBe(true);
    }
    expect(manifest.totals.examples).toBeGreaterThan(50);
    const stats = await buildOutputStatistics(out, { fromShards: true });
    expect(stats).toEqual({ ...(await buildOutputStatistics(reference, { fromShards: true })), manifest: stats.manifest });
    expect(stats.shards).toBe(5);
  });

  it('reads the corpus and the tokenizer from a bucket too', async () => {
    const bucket = `gs://${uniqueBucket('inputs')}`;
    for (const name of readdirSync(SAMPLE_CORPUS)) await copyFile(join(SAMPLE_CORPUS, name), joinPath(bucket, 'corpus', name));
    for (const name of readdirSync(SAMPLE_TOKENIZER)) await copyFile(join(SAMPLE_TOKENIZER, name), joinPath(bucket, 'tokenizer', name));
    const reference = join(local, 'inputs-reference');
    await buildPretrainingData(options(reference));
    const out = joinPath(bucket, 'out');
    await buildPretrainingData(options(out, { inputDir: joinPath(bucket, 'corpus'), tokenizerDir: joinPath(bucket, 'tokenizer') }));
    const built = await files(out);
    for (const name of readdirSync(reference).filter((n) => n !== MANIFEST_FILE))
      expect(built.get(name)?.equals(readFileSync(join(reference, name))), name).toBe(true);
    const manifest = JSON.parse(String(built.get(MANIFEST_FILE)));
    const expected = JSON.parse(readFileSync(join(reference, MANIFEST_FILE), 'utf8'));
    expect(manifest.input_files.map((f: { path: string }) => f.path.replace(joinPath(bucket, 'corpus'), ''))).toEqual(
      expected.input_files.map((f: { path: string }) => f.path.replace(SAMPLE_CORPUS, '')),
    );
    expect(manifest.tokenizer.sha256).toBe(expected.tokenizer.sha256);
    expect(manifest.statistics).toEqual(expected.statistics);
  });

  it('keeps its guarantees on a bucket: earlier output is refused without overwrite, a cancelled build leaves nothing', async () => {
    const out = `gs://${uniqueBucket('guarantees')}/tfrecords`;
    const fs = fileSystemFor(out);
    await buildPretrainingData(options(out));
    await expect(buildPretrainingData(options(out))).rejects.toThrow(`${out}: the output folder is not empty (6 entries); pass --overwrite`);
    await fs.writeFile(joinPath(out, 'notes.txt'), 'mine');
    await expect(buildPretrainingData(options(out, { overwrite: true }))).rejects.toThrow('holds files that are not build output (notes.txt)');
    await fs.remove(joinPath(out, 'notes.txt'));

    const controller = new AbortController();
    let reports = 0;
    const cancelled = buildPretrainingData({
      ...options(out, { overwrite: true, dupeFactor: 400 }),
      signal: controller.signal,
      onProgress: () => {
        if (++reports === 3) controller.abort();
      },
    });
    await expect(cancelled).rejects.toThrow(/aborted/i);
    expect(await fs.list(out)).toEqual([]);
  });
});
