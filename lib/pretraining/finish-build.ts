import pMap from 'p-map';
import { fileSystemFor, METADATA_REQUESTS_IN_FLIGHT } from '../fs/file-system-for.js';
import { pathInside } from '../fs/path-inside.js';
import { joinPath } from '../fs/paths.js';
import { BuildError } from './build-error.js';
import { jobManifestFileName, MANIFEST_FILE, parseJobManifestFileName, shardFileName } from './build-files.js';
import { assembleManifest, type BuildManifest, type JobManifest, manifestText, parseJobManifest } from './build-manifest.js';
import { ownedShards } from './shard-writers.js';

const list = (items: readonly (string | number)[], max = 5): string =>
  `${items.slice(0, max).join(', ')}${items.length > max ? `, … (${items.length} in all)` : ''}`;

/** The first top-level key whose value differs, for a message: `flags.seed (12345 vs 1)`. */
function firstDifference(a: Record<string, unknown>, b: Record<string, unknown>, prefix: string): string {
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) return `${prefix}${key} (${JSON.stringify(a[key])} vs ${JSON.stringify(b[key])})`;
  }
  return prefix.replace(/\.$/, '');
}

async function readJobManifest(path: string): Promise<JobManifest> {
  let bytes: Buffer;
  try {
    bytes = await fileSystemFor(path).readFile(path);
  } catch (error) {
    throw new BuildError(`${path}: cannot read (${error instanceof Error ? error.message : String(error)})`, path);
  }
  return parseJobManifest(path, bytes);
}

/**
 * `kbb build-tfrecord --finish`: merges the job manifests of a multi-machine build in `outputDir`
 * (`build_manifest-job-K-of-P.json`, one per job) into `build_manifest.json`, byte for byte the one a
 * one-machine build with `--num_processes P` writes (but `totals.seconds`, here the slowest job's),
 * after checking that every job is there, that they all ran the same build (flags, tokenizer, kbb
 * version, corpus listing), and that every shard they list is there with its size. Anything missing
 * is one BuildError naming the jobs to run again. The job manifests stay: finishing again gives the
 * same manifest.
 */
export async function finishBuild(outputDir: string): Promise<BuildManifest> {
  const fs = fileSystemFor(outputDir);
  const names = (await fs.list(outputDir)).filter((e) => !e.isDirectory).map((e) => e.name);
  const found = names.flatMap((name) => {
    const parsed = parseJobManifestFileName(name);
    if (!parsed) return [];
    // A name like build_manifest-job-7-of-3.json, or with a count past 2^53, is no job of any build kbb ran.
    if (!Number.isSafeInteger(parsed.of) || parsed.of < 1 || parsed.job >= parsed.of)
      throw new BuildError(`${joinPath(outputDir, name)}: not a job manifest name kbb writes (job ${parsed.job} of ${parsed.of}); remove it`);
    return [{ name, ...parsed }];
  });
  if (found.length === 0)
    throw new BuildError(
      `${outputDir}: no job manifests (build_manifest-job-K-of-P.json); run the jobs first (kbb build-tfrecord … --num_processes P --job_index K)`,
    );
  const counts = [...new Set(found.map((f) => f.of))].sort((a, b) => a - b);
  if (counts.length > 1)
    throw new BuildError(
      `${outputDir}: holds job manifests of builds with different --num_processes (${counts.join(', ')}); rerun the jobs of one build with --overwrite`,
    );
  const numJobs = counts[0];
  const present = new Set(found.map((f) => f.job));
  if (present.size < numJobs) {
    // The job count comes from file names: the missing jobs are counted, and only the first few listed, never all of them made.
    const first: number[] = [];
    for (let j = 0; j < numJobs && first.length < 5; j++) if (!present.has(j)) first.push(j);
    const count = numJobs - present.size;
    const some = (items: readonly (string | number)[]): string => `${items.join(', ')}${count > items.length ? `, … (${count} in all)` : ''}`;
    throw new BuildError(
      `${outputDir}: missing job${count > 1 ? 's' : ''} ${some(first)} of ${numJobs} (no ${some(first.slice(0, 2).map((j) => jobManifestFileName(j, numJobs)))}); run them (or wait for them to finish), then --finish again`,
    );
  }

  const manifests = await pMap(
    Array.from({ length: numJobs }, (_, j) => j),
    (job) => readJobManifest(joinPath(outputDir, jobManifestFileName(job, numJobs))),
    { concurrency: METADATA_REQUESTS_IN_FLIGHT },
  );
  const first = manifests[0];
  for (const [job, m] of manifests.entries()) {
    if (m.job.index !== job || m.job.of !== numJobs)
      throw new BuildError(`${joinPath(outputDir, jobManifestFileName(job, numJobs))}: says it is job ${m.job.index} of ${m.job.of}`);
    const shared = (x: JobManifest) => ({ kbb_version: x.kbb_version, flags: x.flags, tokenizer: x.tokenizer, input_listing: x.input_listing });
    if (JSON.stringify(shared(m)) !== JSON.stringify(shared(first))) {
      const difference =
        JSON.stringify(m.flags) !== JSON.stringify(first.flags)
          ? firstDifference(first.flags, m.flags, 'flags.')
          : firstDifference(shared(first), shared(m), '');
      throw new BuildError(
        `${outputDir}: job ${m.job.index} ran another build than job 0: ${difference}; rerun the jobs that differ with the same command line`,
      );
    }
  }

  const numShards = Number(first.flags.num_shards);
  // Every job lists the shards it owns; together they are all the shards. Checked before the lists of
  // owned shards are made, whose length the manifests' num_shards sets.
  const listed = manifests.reduce((n, m) => n + m.shards.length, 0);
  if (listed !== numShards)
    throw new BuildError(
      `${outputDir}: the job manifests list ${listed} shards in all, flags.num_shards says ${numShards}; run the jobs again with --overwrite`,
    );
  const problems: { job: number; shard: string; why: string }[] = [];
  const shards = new Map<string, { examples: number; bytes: number; job: number }>();
  for (const m of manifests) {
    const expected = ownedShards(m.job.index, numJobs, numShards).map((i) => shardFileName(i, numShards));
    if (JSON.stringify(m.shards.map((s) => s.file)) !== JSON.stringify(expected))
      throw new BuildError(`${joinPath(outputDir, jobManifestFileName(m.job.index, numJobs))}: does not list the shards job ${m.job.index} owns`);
    for (const s of m.shards) shards.set(s.file, { examples: s.examples, bytes: s.bytes, job: m.job.index });
  }
  const files = [...shards.keys()];
  const infos = await pMap(
    files,
    // A shard name is checked by the manifest's parser; this also refuses a shard that is a link to outside the folder.
    async (file) => fs.stat(await pathInside(outputDir, file, { what: 'shard' })),
    { concurrency: METADATA_REQUESTS_IN_FLIGHT },
  );
  files.forEach((file, k) => {
    const { bytes, job } = shards.get(file)!;
    const info = infos[k];
    if (!info) problems.push({ job, shard: file, why: 'not there' });
    else if (info.size !== bytes) problems.push({ job, shard: file, why: `${info.size} bytes, its job wrote ${bytes}` });
  });
  if (problems.length > 0) {
    const jobs = [...new Set(problems.map((p) => p.job))].sort((a, b) => a - b);
    throw new BuildError(
      `${outputDir}: shards of job${jobs.length > 1 ? 's' : ''} ${list(jobs)} are missing or differ from their manifests ` +
        `(${list(
          problems.map((p) => `${p.shard}: ${p.why}`),
          3,
        )}); run ${jobs.length > 1 ? 'those jobs' : 'that job'} again, then --finish`,
    );
  }

  // The corpus order: file i was job (i % P)'s file number floor(i / P).
  const total = first.input_listing.files;
  const inputFiles: BuildManifest['input_files'] = [];
  for (let i = 0; i < total; i++) {
    const file = manifests[i % numJobs].input_files[Math.floor(i / numJobs)];
    if (!file) throw new BuildError(`${jobManifestFileName(i % numJobs, numJobs)}: lists fewer input files than its share of ${total}`);
    inputFiles.push(file);
  }
  for (const m of manifests) {
    const share = Math.max(0, Math.ceil((total - m.job.index) / numJobs));
    if (m.input_files.length !== share)
      throw new BuildError(`${jobManifestFileName(m.job.index, numJobs)}: lists ${m.input_files.length} input files, its share of ${total} is ${share}`);
  }

  const manifest = assembleManifest({
    kbbVersion: first.kbb_version,
    flags: first.flags,
    tokenizer: first.tokenizer,
    inputFiles,
    jobs: manifests.flatMap((m) => m.jobs),
    shards: Array.from({ length: numShards }, (_, i) => {
      const file = shardFileName(i, numShards);
      return { file, examples: shards.get(file)!.examples };
    }),
    stats: manifests.map((m) => m.statistics),
    // The jobs ran side by side: the build took as long as the slowest.
    seconds: manifests.reduce((slowest, m) => Math.max(slowest, m.totals.seconds), 0),
    maxSeqLength: Number(first.flags.max_seq_length),
  });
  await fs.writeFile(joinPath(outputDir, MANIFEST_FILE), manifestText(manifest));
  return manifest;
}
