import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { findCorpusFiles } from '../corpus/find-corpus-files.js';
import { writeBytesAtomically } from '../fs/atomic-write.js';
import { kbbVersion } from '../package/package-files.js';
import { loadTokenizer } from '../tokenizer/load-tokenizer.js';
import type { WordPieceTokenizer, WordPieceTokenizerState } from '../tokenizer/wordpiece-tokenizer.js';
import { BUILD_DEFAULTS, tokenCacheBytesPerJob } from './build-defaults.js';
import { isBuildOutput, MANIFEST_FILE, shardFileName } from './build-files.js';
import { type BuildStats, emptyStats, mergeStats } from './build-stats.js';
import type { PackingConfig } from './example-builder.js';
import type { JobMessage, JobWorkerCommand, JobWorkerStart } from './job-worker.js';
import { type JobResult, runJob } from './run-job.js';
import { builderWorkerScript } from './worker-script.js';

/** The reference builder's flags (same names and defaults), plus kbb's own. */
export interface BuildOptions {
  readonly inputDir: string;
  readonly tokenizerDir: string;
  readonly outputDir: string;
  readonly maxSeqLength?: number;
  readonly maxPredictionsPerSeq?: number;
  /** 0 = one per CPU, as the reference; set it for reproducible output. */
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
  /** Run every job on this thread instead of worker threads. */
  readonly inProcess?: boolean;
  readonly onProgress?: (progress: { readonly bytes: number; readonly totalBytes: number; readonly examples: number }) => void;
  /**
   * Cancels the build: every job stops between read batches, and the build rejects with the
   * signal's reason, leaving no shard (final or temporary) and no manifest.
   */
  readonly signal?: AbortSignal;
}

export interface BuildManifest {
  readonly kbb_version: string;
  readonly flags: Record<string, unknown>;
  readonly tokenizer: { readonly dir: string; readonly sha256: string; readonly vocab_size: number };
  readonly input_files: { readonly path: string; readonly bytes: number }[];
  readonly jobs: { readonly job: number; readonly seed: number; readonly files: string[]; readonly examples: number }[];
  readonly shards: { readonly file: string; readonly examples: number }[];
  readonly totals: { readonly examples: number; readonly shards: number; readonly nonempty_shards: number; readonly seconds: number };
  readonly statistics: BuildStats & { readonly tokens_per_example: number; readonly padding_fraction: number };
}

export class BuildError extends Error {
  override name = 'BuildError';
}

/**
 * Builds pretraining TFRecords exactly as KoBigBird's create_pretraining_data.py, seed for seed,
 * with the reference's failure modes fixed: bad flags are refused before any work, an existing
 * output folder is never wiped without `overwrite`, and every shard appears under its final name
 * only when complete.
 */
export async function buildPretrainingData(options: BuildOptions): Promise<BuildManifest> {
  const started = performance.now();
  const config: PackingConfig = {
    maxSeqLength: options.maxSeqLength ?? BUILD_DEFAULTS.maxSeqLength,
    maxPredictionsPerSeq: options.maxPredictionsPerSeq ?? BUILD_DEFAULTS.maxPredictionsPerSeq,
    maskedLmProb: options.maskedLmProb ?? BUILD_DEFAULTS.maskedLmProb,
    sentencePairProb: options.sentencePairProb ?? BUILD_DEFAULTS.sentencePairProb,
    shortSeqProb: options.shortSeqProb ?? BUILD_DEFAULTS.shortSeqProb,
    longSeqThreshold: options.longSeqThreshold ?? BUILD_DEFAULTS.longSeqThreshold,
    doWholeWordMask: options.doWholeWordMask ?? BUILD_DEFAULTS.doWholeWordMask,
    maxNgramSize: options.maxNgramSize ?? 1,
  };
  const numJobs = options.numProcesses || availableParallelism();
  const numShards = options.numShards ?? BUILD_DEFAULTS.numShards;
  const seed = options.seed ?? BUILD_DEFAULTS.seed;
  const dupeFactor = options.dupeFactor ?? BUILD_DEFAULTS.dupeFactor;
  const tokenCacheMb = options.tokenCacheMb ?? BUILD_DEFAULTS.tokenCacheMb;
  validate(config, numJobs, numShards, dupeFactor, options.maxNgramSize, tokenCacheMb);
  const { signal } = options;
  signal?.throwIfAborted();

  const files = await findCorpusFiles(options.inputDir);
  const inWorkers = !options.inProcess && numJobs > 1;
  // Job 0 runs on this thread and jobs 1.. in worker threads: a thread of its own for job 0 would
  // cost another isolate and another JIT warm-up, competing with the other jobs for the cores while
  // this thread only waited (measured: 2 workers 5-10% slower). The threads start first (an isolate
  // takes tens of milliseconds to boot) and are handed this thread's tokenizer once it is loaded;
  // they begin only when told to (and are ended if a check fails).
  const workers = inWorkers ? await startWorkers(1, numJobs - 1, (job, bytes, examples) => report(job, bytes, examples)) : [];
  let tokenizer: WordPieceTokenizer;
  let sizes: number[];
  try {
    tokenizer = await loadTokenizer(options.tokenizerDir);
    if (workers.length > 0) {
      const state = tokenizer.state();
      for (const worker of workers) worker.setTokenizer(state);
    }
    await prepareOutputDir(options.outputDir, options.overwrite ?? BUILD_DEFAULTS.overwrite);
    sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
    signal?.throwIfAborted();
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.stop()));
    throw error;
  }
  const totalBytes = sizes.reduce((a, b) => a + b, 0) * dupeFactor;

  const tokenCacheBytes = tokenCacheBytesPerJob(tokenCacheMb, numJobs);
  const jobOptions = (job: number) => ({ files, job, numJobs, seed, dupeFactor, numShards, outputDir: options.outputDir, config, tokenCacheBytes });
  const progressBytes = new Array<number>(numJobs).fill(0);
  const progressExamples = new Array<number>(numJobs).fill(0);
  const report = (job: number, bytes: number, examples: number): void => {
    progressBytes[job] += bytes;
    progressExamples[job] = examples;
    options.onProgress?.({ bytes: progressBytes.reduce((a, b) => a + b, 0), totalBytes, examples: progressExamples.reduce((a, b) => a + b, 0) });
  };

  let results: JobResult[];
  try {
    results = inWorkers
      ? await runJobsInThreads(tokenizer, workers, jobOptions, report, signal)
      : await runJobsInOrder(tokenizer, numJobs, jobOptions, report, signal);
    // Cancelled after the last shard was renamed but before the manifest: still no output.
    signal?.throwIfAborted();
  } catch (error) {
    // Shards of jobs that did finish are complete files, but together they are not this build's
    // output: without a manifest nobody can tell them from a finished build, so they go too.
    await removeShards(options.outputDir, numShards);
    throw error;
  }

  const statistics = emptyStats();
  for (const r of results) mergeStats(statistics, r.stats);
  const shardCounts = new Map<number, number>();
  for (const r of results) for (const [shard, count] of r.shardCounts) shardCounts.set(shard, count);
  const shards = Array.from({ length: numShards }, (_, i) => ({ file: shardFileName(i, numShards), examples: shardCounts.get(i) ?? 0 }));
  const manifest: BuildManifest = {
    kbb_version: kbbVersion(),
    flags: {
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
    },
    tokenizer: { dir: options.tokenizerDir, sha256: await tokenizerHash(options.tokenizerDir), vocab_size: tokenizer.vocabSize },
    input_files: files.map((path, i) => ({ path, bytes: sizes[i] })),
    jobs: results.map((r) => ({ job: r.job, seed: r.seed, files: r.fileOrder, examples: r.examples })),
    shards,
    totals: {
      examples: statistics.examples,
      shards: numShards,
      nonempty_shards: shards.filter((s) => s.examples > 0).length,
      seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
    },
    statistics: {
      ...statistics,
      gramsByLength: Array.from(statistics.gramsByLength, (c) => c ?? 0),
      tokens_per_example: statistics.examples ? statistics.tokens / statistics.examples : 0,
      padding_fraction: statistics.examples ? statistics.paddingTokens / (statistics.examples * config.maxSeqLength) : 0,
    },
  };
  const manifestPath = join(options.outputDir, MANIFEST_FILE);
  await writeBytesAtomically(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

type JobOptionsFor = (job: number) => JobWorkerStart;
type Report = (job: number, bytes: number, examples: number) => void;

async function runJobsInOrder(
  tokenizer: WordPieceTokenizer,
  numJobs: number,
  jobOptions: JobOptionsFor,
  report: Report,
  signal: AbortSignal | undefined,
): Promise<JobResult[]> {
  const results: JobResult[] = [];
  for (let job = 0; job < numJobs; job++)
    results.push(await runJob(tokenizer, { ...jobOptions(job), signal, onProgress: (bytes, examples) => report(job, bytes, examples) }));
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

async function removeShards(dir: string, numShards: number): Promise<void> {
  const names = new Set(Array.from({ length: numShards }, (_, i) => shardFileName(i, numShards)));
  const entries = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(entries.filter((e) => names.has(e)).map((e) => rm(join(dir, e), { force: true })));
}

function validate(config: PackingConfig, numJobs: number, numShards: number, dupeFactor: number, maxNgramSize: number | undefined, tokenCacheMb: number): void {
  const fail = (message: string): never => {
    throw new BuildError(message);
  };
  if (!(config.longSeqThreshold > 1)) fail(`--long_seq_threshold must be greater than 1.0 (got ${config.longSeqThreshold})`);
  if (maxNgramSize !== undefined && maxNgramSize > 1 && !config.doWholeWordMask)
    fail('--max_ngram_size needs --do_whole_word_mask (n-grams are made of whole words)');
  if (!Number.isInteger(config.maxSeqLength) || config.maxSeqLength < 5) fail(`--max_seq_length must be an integer of at least 5 (got ${config.maxSeqLength})`);
  if (!Number.isInteger(config.maxPredictionsPerSeq) || config.maxPredictionsPerSeq < 1)
    fail(`--max_predictions_per_seq must be a positive integer (got ${config.maxPredictionsPerSeq})`);
  if (!Number.isInteger(numShards) || numShards < 1) fail(`--num_shards must be a positive integer (got ${numShards})`);
  if (numJobs > numShards) fail(`--num_processes ${numJobs} is more than --num_shards ${numShards}: some workers would own no shard`);
  if (!Number.isInteger(dupeFactor) || dupeFactor < 1) fail(`--dupe_factor must be a positive integer (got ${dupeFactor})`);
  if (!(tokenCacheMb >= 0)) fail(`--token_cache_mb must be 0 or more (got ${tokenCacheMb})`);
}

/** Creates the output folder; refuses one that holds anything unless `overwrite`, then removes only earlier build output. */
async function prepareOutputDir(dir: string, overwrite: boolean): Promise<void> {
  if (existsSync(dir)) {
    const entries = await readdir(dir);
    if (entries.length > 0 && !overwrite)
      throw new BuildError(`${dir}: the output folder is not empty (${entries.length} entries); pass --overwrite to replace earlier output`);
    const foreign = entries.filter((e) => !isBuildOutput(e));
    if (foreign.length > 0)
      throw new BuildError(
        `${dir}: holds files that are not build output (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}); refusing to mix outputs`,
      );
    await Promise.all(entries.map((e) => rm(join(dir, e), { force: true })));
  }
  await mkdir(dir, { recursive: true });
}

async function tokenizerHash(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const name of ['vocab.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']) {
    if (existsSync(join(dir, name))) hash.update(name).update(await readFile(join(dir, name)));
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
