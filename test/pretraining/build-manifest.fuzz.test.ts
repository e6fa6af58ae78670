import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../lib/fs/index.js';
import { sampleCorpusDir, sampleTokenizerDir } from '../../lib/package/index.js';
import { parseBuildManifest, parseJobManifest } from '../../lib/pretraining/build-manifest.js';
import {
  type BuildOptions,
  buildPretrainingData,
  finishBuild,
  jobManifestFileName,
  MANIFEST_FILE,
  maskingStatisticsFromManifest,
} from '../../lib/pretraining/index.js';
import { describeBuild } from '../../repl/views/build-summary.js';
import { expectReadOrRefused, fuzzParameters, HOSTILE_NAMES, mutated, mutatedJson } from '../helpers/fuzz.js';

/** A manifest a test changes at any key path. */
// biome-ignore lint/suspicious/noExplicitAny: the cases reach into every part of the file.
type EditableJson = Record<string, any>;

const P = 2;
let dir = '';
let jobs = ''; // the output of a two-job build, not finished
let manifestBytes: Buffer;
let manifest: Record<string, unknown>;
let jobBytes: Buffer;
let jobManifest: Record<string, unknown>;

const settings = (outputDir: string, extra: Partial<BuildOptions> = {}): BuildOptions => ({
  inputDir: sampleCorpusDir,
  tokenizerDir: sampleTokenizerDir,
  outputDir,
  maxSeqLength: 64,
  maxPredictionsPerSeq: 10,
  numProcesses: P,
  dupeFactor: 1,
  numShards: 3,
  inProcess: true,
  ...extra,
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kbb-manifest-fuzz-'));
  const one = join(dir, 'one');
  await buildPretrainingData(settings(one));
  manifestBytes = readFileSync(join(one, MANIFEST_FILE));
  manifest = JSON.parse(manifestBytes.toString('utf8'));
  jobs = join(dir, 'jobs');
  for (let job = 0; job < P; job++) await buildPretrainingData(settings(jobs, { jobIndex: job }));
  jobBytes = readFileSync(join(jobs, jobManifestFileName(0, P)));
  jobManifest = JSON.parse(jobBytes.toString('utf8'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const jsonOrBytes = (value: unknown, bytes: Buffer): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    mutatedJson(value).map((v) => Buffer.from(JSON.stringify(v) ?? 'undefined')),
    mutated(bytes).map((m) => m.bytes),
  );

describe('fuzzed build manifests', () => {
  it('parseBuildManifest returns a manifest its readers can use, or a BuildError naming the file and key', async () => {
    const file = join(dir, MANIFEST_FILE);
    await fc.assert(
      fc.asyncProperty(jsonOrBytes(manifest, manifestBytes), async (bytes) => {
        await expectReadOrRefused(
          file,
          () => {
            const parsed = parseBuildManifest(file, bytes);
            maskingStatisticsFromManifest(parsed);
            describeBuild(parsed);
          },
          Buffer.from(bytes).toString('latin1').slice(0, 2000),
        );
      }),
      fuzzParameters(),
    );
  });

  it('finishBuild with a changed job manifest merges or refuses, naming the file, and writes no build_manifest.json when it refuses', async () => {
    const work = join(dir, 'finish');
    rmSync(work, { recursive: true, force: true });
    cpSync(jobs, work, { recursive: true });
    const target = join(work, jobManifestFileName(0, P));
    await fc.assert(
      fc.asyncProperty(jsonOrBytes(jobManifest, jobBytes), async (bytes) => {
        writeFileSync(target, bytes);
        rmSync(join(work, MANIFEST_FILE), { force: true });
        const outcome = await expectReadOrRefused(work, () => finishBuild(work), Buffer.from(bytes).toString('latin1').slice(0, 2000));
        if (outcome === 'refused') expect(existsSync(join(work, MANIFEST_FILE))).toBe(false);
        else parseBuildManifest(join(work, MANIFEST_FILE), readFileSync(join(work, MANIFEST_FILE)));
      }),
      fuzzParameters(100),
    );
  });
});

describe('manifest entries stay inside the output folder', () => {
  it('a shard entry that is a path (.., absolute, a backslash …) is refused by the parser, naming the key path', () => {
    for (const name of [...HOSTILE_NAMES, 'pretrain_data.tfrecord-0-of-3/../../x', 'pretrain_data.tfrecord-9-of-3', 'pretrain_data.tfrecord-0-of-4']) {
      const changed = structuredClone(jobManifest) as { shards: { file: string }[] };
      changed.shards[0].file = name;
      const file = join(dir, 'job.json');
      expect(() => parseJobManifest(file, Buffer.from(JSON.stringify(changed))), name).toThrow(
        `${file}: shards[0].file: expected a shard name pretrain_data.tfrecord-I-of-3 (flags.num_shards), found ${JSON.stringify(name)}`,
      );
    }
  });

  it('a shard that is a symbolic link to a file outside the folder is refused by --finish', async () => {
    const work = join(dir, 'linked');
    rmSync(work, { recursive: true, force: true });
    cpSync(jobs, work, { recursive: true });
    const shard = readdirSync(work).find((n) => n.startsWith('pretrain_data.tfrecord-0-'))!;
    const outside = join(dir, 'outside-shard');
    cpSync(join(work, shard), outside);
    rmSync(join(work, shard));
    symlinkSync(outside, join(work, shard));
    const error = await finishBuild(work).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(`shard "${shard}" leads to ${outside} through a symbolic link, outside the folder`);
    expect(existsSync(join(work, MANIFEST_FILE))).toBe(false);
  });

  it('job manifest names with absurd job counts are refused without making a list of that many jobs', async () => {
    const work = join(dir, 'names');
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, 'build_manifest-job-0-of-9007199254740991.json'), jobBytes);
    await expect(finishBuild(work)).rejects.toThrow(
      `${work}: missing jobs 1, 2, 3, 4, 5, … (9007199254740990 in all) of 9007199254740991 (no build_manifest-job-1-of-9007199254740991.json, build_manifest-job-2-of-9007199254740991.json, … (9007199254740990 in all))`,
    );
    rmSync(join(work, 'build_manifest-job-0-of-9007199254740991.json'));
    writeFileSync(join(work, 'build_manifest-job-0-of-99999999999999999999.json'), jobBytes);
    await expect(finishBuild(work)).rejects.toThrow('not a job manifest name kbb writes (job 0 of 100000000000000000000); remove it');
    rmSync(join(work, 'build_manifest-job-0-of-99999999999999999999.json'));
    writeFileSync(join(work, 'build_manifest-job-3-of-2.json'), jobBytes);
    await expect(finishBuild(work)).rejects.toThrow('not a job manifest name kbb writes (job 3 of 2); remove it');
  });

  it('a job manifest whose num_shards disagrees with the shards the jobs list is refused before the owned-shard lists are made', async () => {
    const work = join(dir, 'num-shards');
    rmSync(work, { recursive: true, force: true });
    cpSync(jobs, work, { recursive: true });
    for (let job = 0; job < P; job++) {
      const path = join(work, jobManifestFileName(job, P));
      const changed = JSON.parse(readFileSync(path, 'utf8'));
      changed.flags.num_shards = 2 ** 40;
      changed.shards = changed.shards.map((s: { file: string }) => ({ ...s, file: s.file.replace(/-of-3$/, `-of-${2 ** 40}`) }));
      writeFileSync(path, JSON.stringify(changed));
    }
    await expect(finishBuild(work)).rejects.toThrow(`${work}: the job manifests list 3 shards in all, flags.num_shards says ${2 ** 40}`);
  });

  it('values of the wrong type name their key paths', () => {
    const file = join(dir, MANIFEST_FILE);
    const cases: [string, (m: EditableJson) => void, string][] = [
      ['statistics', (m) => (m.statistics = null), 'statistics: expected an object, found null'],
      ['seconds', (m) => (m.totals.seconds = 'soon'), 'totals.seconds: expected a number of 0 or more, found "soon"'],
      ['grams', (m) => (m.statistics.gramsByLength = Array(1000).fill(1)), 'statistics.gramsByLength: expected at most 65 entries (flags.max_seq_length + 1)'],
      ['input', (m) => (m.input_files[0].bytes = -1), 'input_files[0].bytes: expected an integer of 0 or more, found -1'],
      ['flags', (m) => delete m.flags.max_seq_length, 'flags.max_seq_length: expected an integer of 1 or more, found nothing'],
    ];
    for (const [name, change, message] of cases) {
      const changed = structuredClone(manifest) as EditableJson;
      change(changed);
      expect(() => parseBuildManifest(file, Buffer.from(JSON.stringify(changed))), name).toThrow(`${file}: ${message}`);
    }
    expect(() => parseBuildManifest(file, Buffer.from([0x7b, 0xff, 0x7d]))).toThrow(`${file}: not a build manifest (`);
    expect(parseBuildManifest(file, manifestBytes)).toEqual(manifest);
  });
});
