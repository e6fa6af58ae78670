import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import pMap from 'p-map';
import { findCorpusFiles } from '../corpus/find-corpus-files.js';
import { fileSystemFor, METADATA_REQUESTS_IN_FLIGHT } from '../fs/file-system-for.js';
import { joinPath } from '../fs/paths.js';
import { kbbVersion } from '../package/package-files.js';
import { loadTokenizer } from '../tokenizer/load-tokenizer.js';
import type { WordPieceTokenizer, WordPieceTokenizerState } from '../tokenizer/wordpiece-tokenizer.js';
import { BUILD_DEFAULTS, tokenCacheBytesPerJob } from './build-defaults.js';
import { BuildError } from './build-error.js';
import { jobManifestFileName, MANIFEST_FILE, shardFileName } from './build-files.js';
import { assembleManifest, type BuildManifest, type JobManifest, manifestText } from './build-manifest.js';
import type { PackingConfig } from './example-builder.js';
import type { JobMessage, JobWorkerCommand, JobWorkerStart } from './job-worker.js';
import { prepareJobOutputDir, prepareOutputDir, removeShardFiles } from './prepare-output-dir.js';
import { type JobResult, runJob } from './run-job.js';
import { ownedShards } from './shard-writers.js';
import { builderWorkerScript } from './worker-script.js';

/** The reference builder's flags (same names and defaults), plus kbb's own. Paths may be local or `gs://`. */
export interface BuildOptions {
  readonly inputDir: string;
  readonly tokenizerDir: string;
  readonly outputDir: string;
  readonly maxSeqLength?: number;
  readonly maxPredictionsPerSeq?: number;
  /** 0 = one per CPU, as the reference; set it for reproducible output (and for `jobIndex`). */
  readonly numProcesses?: number;
  readonly sentencePairProb?: number;
  readonly shortSeqProb?: number;
  readonly doWholeWordMask?: boolean;
  readonly maxNgramSize?: number;
  readonly dupeFactor?: number;
  readonly maskedLmProb?: number;
  readonly seed?: number;
  readonly longSeqThreshold?: number;
  /** Output shards (the reference hard-codes 1000). */
  readonly numShards?: number;
  /** Replace earlier output in `outputDir` (kbb never deletes anything without it). */
  readonly overwrite?: boolean;
  /**
   * Memory for token ids kept from the first pass for the other dupe passes, in MiB across all
   * workers. A corpus that fits is tokenized once; the rest is tokenized every pass.
   */
  readonly tokenCacheMb?: number;
  /**
   * Run only job `jobIndex` of `numProcesses`, on this thread: one machine's share of a build spread
   * over many. It reads only its own files (i % P == K), writes only its own shards (i % P == K) and
   * `build_manifest-job-K-of-P.json`, and leaves the other jobs' output alone; `finishBuild` merges
   * the job manifests into the `build_manifest.json` a one-machine build with `numProcesses` P writes.
   */
  readonly jobIndex?: number;
  /** Run every job on this thread instead of worker threads. */
  readonly inProcess?: boolean;
  readonly onProgress?: (progress: { readonly bytes: number; readonly totalBytes: number; readonly examples: number }) => void;
  /**
   * Cancels the build: every job stops between read batches, and the build rejects with the
   * signal's reason, leaving no shard (final or temporary) and no manifest (a job: none of its own).
   */
  readonly signal?: AbortSignal;
}

/**
 * Builds pretraining TFRecords exactly as KoBigBird's create_pretraining_data.py, seed for seed,
 * with the reference's failure modes fixed: bad flags are refused before any work, an existing
 * output folder is never wiped without `overwrite`, and every shard appears under its final name
 * only when complete. Returns the manifest it wrote: `build_manifest.json`, or with `jobIndex` the
 * job's `JobManifest`.
 */
export async function buildPretrainingData(options: BuildOptions): Promise<BuildManifest> {
  const started = performance.now();
  // Every flag is checked before anything is read or written: a bad value is one line naming it.
  validateBuildOptions(options);
  const config = packingConfig(options);
  const { jobIndex } = options;
  const numJobs = options.numProcesses || availableParallelism();
  const numShards = options.numShards ?? BUILD_DEFAULTS.numShards;
  const seed = options.seed ?? BUILD_DEFAULTS.seed;
  const dupeFactor = options.dupeFactor ?? BUILD_DEFAULTS.dupeFactor;
  const tokenCacheMb = options.tokenCacheMb ?? BUILD_DEFAULTS.tokenCacheMb;
  if (numJobs > numShards) throw new BuildError(`--num_processes ${numJobs} is more than --num_shards ${numShards}: some workers would own no shard`);
  const { signal } = options;
  signal?.throwIfAborted();

  const files = await findCorpusFiles(options.inputDir);
  // The jobs this process runs: all of them, or one machine's.
  const jobs = jobIndex === undefined ? Array.from({ length: numJobs }, (_, j) => j) : [jobIndex];
  const ownsFile = (i: number): boolean => jobIndex === undefined || i % numJobs === jobIndex;
  const inWorkers = jobIndex === undefined && !options.inProcess && numJobs > 1;
  // Job 0 runs on this thread and jobs 1.. in worker threads: a thread of its own for job 0 would
  // cost another isolate and another JIT warm-up, competing with the other jobs for the cores while
  // this thread only waited (measured: 2 workers 5-10% slower). The threads start first (an isolate
  // takes tens of milliseconds to boot) and are handed this thread's tokenizer once it is loaded;
  // they begin only when told to (and are ended if a check fails).
  const workers = inWorkers ? await startWorkers(1, numJobs - 1, (job, bytes, examples) => report(job, bytes, examples)) : [];
  let tokenizer: WordPieceTokenizer;
  let tokenizerSha256: string;
  let sizes: (number | undefined)[];
  try {
    tokenizer = await loadTokenizer(options.tokenizerDir);
    // Read now, with every other input, so that nothing fails after the shards are written.
    tokenizerSha256 = await tokenizerHash(options.tokenizerDir);
    if (workers.length > 0) {
      const state = tokenizer.state();
      for (const worker of workers) worker.setTokenizer(state);
    }
    const overwrite = options.overwrite ?? BUILD_DEFAULTS.overwrite;
    if (jobIndex === undefined) await prepareOutputDir(options.outputDir, overwrite);
    else await prepareJobOutputDir(options.outputDir, overwrite, jobIndex, numJobs, numShards);
    // A job measures only its own files: the others are another machine's.
    sizes = await pMap(files, async (f, i) => (ownsFile(i) ? fileSize(f) : undefined), { concurrency: METADATA_REQUESTS_IN_FLIGHT });
    signal?.throwIfAborted();
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.stop()));
    throw error;
  }
  const totalBytes = sizes.reduce<number>((a, b) => a + (b ?? 0), 0) * dupeFactor;

  const tokenCacheBytes = tokenCacheBytesPerJob(tokenCacheMb, jobIndex === undefined ? numJobs : 1);
  const jobOptions = (job: number) => ({ files, job, numJobs, seed, dupeFactor, numShards, outputDir: options.outputDir, config, tokenCacheBytes });
  const progressBytes = new Array<number>(numJobs).fill(0);
  const progressExamples = new Array<number>(numJobs).fill(0);
  const report = (job: number, bytes: number, examples: number): void => {
    progressBytes[job] += bytes;
    progressExamples[job] = examples;
    options.onProgress?.({ bytes: progressBytes.reduce((a, b) => a + b, 0), totalBytes, examples: progressExamples.reduce((a, b) => a + b, 0) });
  };

  // Shards of jobs that did finish are complete files, but together they are not this build's
  // output: without a manifest nobody can tell them from a finished build, so a failure removes them
  // too. A job of a multi-machine build removes only its own: the others belong to other machines.
  const removeOutput = async (): Promise<void> => {
    const shards = jobs.flatMap((job) => ownedShards(job, numJobs, numShards)).map((i) => shardFileName(i, numShards));
    await removeShardFiles(options.outputDir, shards);
  };
  let results: JobResult[];
  try {
    results = inWorkers
      ? await runJobsInThreads(tokenizer, workers, jobOptions, report, signal)
      : await runJobsInOrder(tokenizer, jobs, jobOptions, report, signal);
    // Cancelled after the last shard was renamed but before the manifest: still no output.
    signal?.throwIfAborted();
  } catch (error) {
    await removeOutput();
    throw error;
  }

  const flags: Record<string, unknown> = {
    input_dir: options.inputDir,
    tokenizer_dir: options.tokenizerDir,
    output_dir: options.outputDir,
    max_seq_length: config.maxSeqLength,
    max_predictions_per_seq: config.maxPredictionsPerSeq,
    num_processes: numJobs,
    sentence_pair_prob: config.sentencePairProb,
    short_seq_prob: config.shortSeqProb,
    do_whole_word_mask: config.doWholeWordMask,
    max_ngram_size: options.maxNgramSize ?? null,
    dupe_factor: dupeFactor,
    masked_lm_prob: config.maskedLmProb,
    seed,
    long_seq_threshold: config.longSeqThreshold,
    num_shards: numShards,
    token_cache_mb: tokenCacheMb,
  };
  const tokenizerInfo = { dir: options.tokenizerDir, sha256: tokenizerSha256, vocab_size: tokenizer.vocabSize };
  const shardCounts = new Map<number, number>();
  for (const r of results) for (const [shard, count] of r.shardCounts) shardCounts.set(shard, count);
  const shardIndexes = jobIndex === undefined ? Array.from({ length: numShards }, (_, i) => i) : ownedShards(jobIndex, numJobs, numShards);
  const manifest = assembleManifest({
    kbbVersion: kbbVersion(),
    flags,
    tokenizer: tokenizerInfo,
    inputFiles: files.flatMap((path, i) => (ownsFile(i) ? [{ path, bytes: sizes[i]! }] : [])),
    jobs: results.map((r) => ({ job: r.job, seed: r.seed, files: r.fileOrder, examples: r.examples })),
    shards: shardIndexes.map((i) => ({ file: shardFileName(i, numShards), examples: shardCounts.get(i) ?? 0 })),
    stats: results.map((r) => r.stats),
    seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
    maxSeqLength: config.maxSeqLength,
  });
  // The manifest is written whole or not at all; if it cannot be, the shards go as after any failure.
  const writeManifest = (name: string, text: string): Promise<void> =>
    fileSystemFor(options.outputDir)
      .writeFile(joinPath(options.outputDir, name), text)
      .catch(async (error: unknown) => {
        await removeOutput();
        throw error;
      });
  if (jobIndex === undefined) {
    await writeManifest(MANIFEST_FILE, manifestText(manifest));
    return manifest;
  }
  const [result] = results;
  const jobManifest: JobManifest = {
    kbb_version: manifest.kbb_version,
    job: { index: jobIndex, of: numJobs },
    flags: manifest.flags,
    tokenizer: manifest.tokenizer,
    input_listing: { files: files.length, sha256: listingHash(files) },
    input_files: manifest.input_files,
    jobs: manifest.jobs,
    shards: manifest.shards.map((s, k) => ({ ...s, bytes: result.shardBytes.get(shardIndexes[k]) ?? 0 })),
    totals: manifest.totals,
    statistics: manifest.statistics,
  };
  // Last, after every shard of the job is in place: its presence says the job is done.
  await writeManifest(jobManifestFileName(jobIndex, numJobs), manifestText(jobManifest));
  return jobManifest;
}

/** What every job of a multi-machine build must agree on: the corpus listing it split. */
const listingHash = (files: readonly string[]): string => createHash('sha256').update(JSON.stringify(files)).digest('hex');

async function fileSize(path: string): Promise<number> {
  const info = await fileSystemFor(path).stat(path);
  if (!info) throw new BuildError(`${path}: the corpus file has gone`);
  return info.size;
}

type JobOptionsFor = (job: number) => JobWorkerStart;
type Report = (job: number, bytes: number, examples: number) => void;

async function runJobsInOrder(
  tokenizer: WordPieceTokenizer,
  jobs: readonly number[],
  jobOptions: JobOptionsFor,
  report: Report,
  signal: AbortSignal | undefined,
): Promise<JobResult[]> {
  const results: JobResult[] = [];
  for (const job of jobs) results.push(await runJob(tokenizer, { ...jobOptions(job), signal, onProgress: (bytes, examples) => report(job, bytes, examples) }));
  return results;
}

/** Job 0 on this thread, job i + 1 on `workers[i]`; the first failure stops the rest and is thrown. */
async function runJobsInThreads(
  tokenizer: WordPieceTokenizer,
  workers: readonly BuilderThread[],
  jobOptions: JobOptionsFor,
  report: Report,
  signal: AbortSignal | undefined,
): Promise<JobResult[]> {
  const stop = new AbortController();
  // A cancel must stop the worker jobs even when job 0 has already finished, so it is raced
  // against the jobs rather than only handed to job 0.
  let onAbort = (): void => {};
  const cancelled = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  cancelled.catch(() => {}); // observed through the race below
  const jobs = [
    runJob(tokenizer, { ...jobOptions(0), signal: stop.signal, onProgress: (bytes, examples) => report(0, bytes, examples) }),
    ...workers.map((worker, i) => worker.run(jobOptions(i + 1))),
  ];
  try {
    return await Promise.race([
      Promise.all(
        jobs.map((job) =>
          job.catch((error: unknown) => {
            stop.abort(error);
            throw error;
          }),
        ),
      ),
      cancelled,
    ]);
  } catch (error) {
    stop.abort(error);
    // Every job has removed its unfinished shards before this returns.
    await Promise.all([...workers.map((worker) => worker.stop()), ...jobs.map((job) => job.catch(() => {}))]);
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** The packing settings of `options`, defaults filled in. */
function packingConfig(options: BuildOptions): PackingConfig {
  return {
    maxSeqLength: options.maxSeqLength ?? BUILD_DEFAULTS.maxSeqLength,
    maxPredictionsPerSeq: options.maxPredictionsPerSeq ?? BUILD_DEFAULTS.maxPredictionsPerSeq,
    maskedLmProb: options.maskedLmProb ?? BUILD_DEFAULTS.maskedLmProb,
    sentencePairProb: options.sentencePairProb ?? BUILD_DEFAULTS.sentencePairProb,
    shortSeqProb: options.shortSeqProb ?? BUILD_DEFAULTS.shortSeqProb,
    longSeqThreshold: options.longSeqThreshold ?? BUILD_DEFAULTS.longSeqThreshold,
    doWholeWordMask: options.doWholeWordMask ?? BUILD_DEFAULTS.doWholeWordMask,
    maxNgramSize: options.maxNgramSize ?? 1,
  };
}

/**
 * Checks every value of `options` the builder uses, before any work: counts are integers in range,
 * probabilities lie in [0, 1], lengths fit together. The first problem is a BuildError of one line
 * naming the flag (`--num_processes must be …, got -1`), as `kbb build-tfrecord` spells it. The paths
 * are checked by the readers when they are read.
 */
export function validateBuildOptions(options: BuildOptions): void {
  const fail = (message: string): never => {
    throw new BuildError(message);
  };
  const got = (value: unknown): string => `got ${JSON.stringify(value) ?? String(value)}`;
  const integer = (flag: string, value: number | undefined, min: number, what: string): void => {
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= min)) fail(`--${flag} must be ${what}, ${got(value)}`);
  };
  const probability = (flag: string, value: number | undefined): void => {
    if (value !== undefined && !(typeof value === 'number' && value >= 0 && value <= 1)) fail(`--${flag} must be a probability in [0, 1], ${got(value)}`);
  };
  for (const key of ['inputDir', 'tokenizerDir', 'outputDir'] as const) {
    const flag = { inputDir: 'input_dir', tokenizerDir: 'tokenizer_dir', outputDir: 'output_dir' }[key];
    if (typeof options[key] !== 'string' || options[key].trim() === '') fail(`--${flag} must name a folder, ${got(options[key])}`);
  }
  integer('max_seq_length', options.maxSeqLength, 5, 'an integer of at least 5 ([CLS], two tokens, two [SEP])');
  integer('max_predictions_per_seq', options.maxPredictionsPerSeq, 1, 'a positive integer');
  integer('num_processes', options.numProcesses, 0, 'a non-negative integer (0 = one per CPU)');
  integer('num_shards', options.numShards, 1, 'a positive integer');
  integer('dupe_factor', options.dupeFactor, 1, 'a positive integer');
  integer('max_ngram_size', options.maxNgramSize, 1, 'a positive integer');
  integer('seed', options.seed, 0, 'a non-negative integer');
  probability('masked_lm_prob', options.maskedLmProb);
  probability('sentence_pair_prob', options.sentencePairProb);
  probability('short_seq_prob', options.shortSeqProb);
  const threshold = options.longSeqThreshold;
  if (threshold !== undefined && !(Number.isFinite(threshold) && threshold > 1)) fail(`--long_seq_threshold must be greater than 1.0, ${got(threshold)}`);
  const cache = options.tokenCacheMb;
  if (cache !== undefined && !(Number.isFinite(cache) && cache >= 0)) fail(`--token_cache_mb must be 0 or more, ${got(cache)}`);
  const config = packingConfig(options);
  // [CLS] and [SEP] are never masked, so at most max_seq_length - 2 positions can be predicted.
  if (config.maxPredictionsPerSeq > config.maxSeqLength - 2)
    fail(
      `--max_predictions_per_seq ${config.maxPredictionsPerSeq} does not fit --max_seq_length ${config.maxSeqLength}: at most ${config.maxSeqLength - 2} tokens of an example can be masked`,
    );
  if (options.maxNgramSize !== undefined && options.maxNgramSize > 1 && !config.doWholeWordMask)
    fail('--max_ngram_size needs --do_whole_word_mask (n-grams are made of whole words)');
  const numProcesses = options.numProcesses ?? BUILD_DEFAULTS.numProcesses;
  const numShards = options.numShards ?? BUILD_DEFAULTS.numShards;
  if (numProcesses > numShards) fail(`--num_processes ${numProcesses} is more than --num_shards ${numShards}: some workers would own no shard`);
  const { jobIndex } = options;
  if (jobIndex !== undefined) {
    if (numProcesses < 1) fail(`--job_index ${jobIndex} needs --num_processes P, the number of jobs (0 = one per CPU differs between machines)`);
    if (!(Number.isSafeInteger(jobIndex) && jobIndex >= 0 && jobIndex < numProcesses))
      fail(`--job_index ${jobIndex} is not a job of --num_processes ${numProcesses} (0 to ${numProcesses - 1})`);
  }
}

async function tokenizerHash(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const name of ['vocab.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
    const path = joinPath(dir, name);
    const bytes = await fileSystemFor(path)
      .readFile(path)
      .catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
    if (bytes) hash.update(name).update(bytes);
  }
  return hash.digest('hex');
}

const STOP_GRACE_MS = 5000;

/** A builder thread, started early: it takes the tokenizer, then waits for `run`. */
interface BuilderThread {
  setTokenizer(state: WordPieceTokenizerState): void;
  run(options: JobWorkerStart): Promise<JobResult>;
  stop(): Promise<void>;
}

/** Threads for jobs `firstJob`, `firstJob + 1`, …, `firstJob + count - 1`. */
async function startWorkers(firstJob: number, count: number, report: (job: number, bytes: number, examples: number) => void): Promise<BuilderThread[]> {
  const script = await builderWorkerScript();
  return Array.from({ length: count }, (_, i) => {
    const job = firstJob + i;
    // The script is plain JavaScript (or registers tsx itself). A larger young generation means fewer
    // scavenges, whose helper threads otherwise compete with the other worker for the cores.
    const worker = new Worker(script, { execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 48 } });
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // Listening from the start, so a failure before the job starts is not missed.
    const result = new Promise<JobResult>((resolve, reject) => {
      worker.on('message', (message: JobMessage) => {
        if (message.kind === 'progress') report(message.job, message.bytes, message.examples);
        else if (message.kind === 'done') resolve(message.result);
        else reject(new BuildError(`job ${job}: ${message.message}`));
      });
      worker.on('error', reject);
      worker.on('exit', (code) => {
        if (code !== 0) reject(new BuildError(`job ${job}: worker exited with code ${code}`));
      });
    });
    result.catch(() => {}); // observed by run(); a thread stopped before it ran is not an error
    return {
      setTokenizer: (state) => worker.postMessage({ kind: 'tokenizer', state } satisfies JobWorkerCommand),
      run: (options) => {
        worker.postMessage({ kind: 'run', options } satisfies JobWorkerCommand);
        return result;
      },
      // Asks the job to stop, which removes its unfinished shards; a thread that does not answer
      // within a few seconds (stuck in a long read, say) is terminated.
      stop: async () => {
        worker.postMessage({ kind: 'stop' } satisfies JobWorkerCommand);
        const timer = setTimeout(() => void worker.terminate(), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      },
    };
  });
}
