import { BuildError } from './build-error.js';
import { parseShardFileName } from './build-files.js';
import { type BuildStats, emptyStats, mergeStats } from './build-stats.js';

/** `build_manifest.json`: what a build was made from and what it wrote. */
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

/**
 * `build_manifest-job-K-of-P.json`: what job K of a build run on a machine of its own wrote. The
 * fields of `BuildManifest` cover that job only (its files, its shards, its statistics); `--finish`
 * merges P of them into the `build_manifest.json` a one-machine build writes.
 */
export interface JobManifest extends BuildManifest {
  readonly job: { readonly index: number; readonly of: number };
  /**
   * The corpus listing the job split (every job lists the whole corpus and takes files i % P == K):
   * the number of files and the SHA-256 of their paths, so that `--finish` can tell that every job
   * split the same listing.
   */
  readonly input_listing: { readonly files: number; readonly sha256: string };
  /** Its shards, with their sizes in bytes (`--finish` checks that each is there, whole). */
  readonly shards: { readonly file: string; readonly examples: number; readonly bytes: number }[];
}

export const isJobManifest = (manifest: BuildManifest): manifest is JobManifest => 'job' in manifest && 'input_listing' in manifest;

/** What a manifest is assembled from. */
export interface ManifestParts {
  readonly kbbVersion: string;
  readonly flags: Record<string, unknown>;
  readonly tokenizer: BuildManifest['tokenizer'];
  readonly inputFiles: BuildManifest['input_files'];
  readonly jobs: BuildManifest['jobs'];
  readonly shards: BuildManifest['shards'];
  /** Each job's statistics, in job order. */
  readonly stats: readonly BuildStats[];
  readonly seconds: number;
  readonly maxSeqLength: number;
}

/**
 * The manifest, its keys always in this order: a one-machine build and `--finish` both assemble it
 * here, so the same jobs give the same bytes.
 */
export function assembleManifest(parts: ManifestParts): BuildManifest {
  const statistics = emptyStats();
  for (const stats of parts.stats) mergeStats(statistics, stats);
  return {
    kbb_version: parts.kbbVersion,
    flags: parts.flags,
    tokenizer: parts.tokenizer,
    input_files: parts.inputFiles,
    jobs: parts.jobs,
    shards: parts.shards,
    totals: {
      examples: statistics.examples,
      shards: parts.shards.length,
      nonempty_shards: parts.shards.filter((s) => s.examples > 0).length,
      seconds: parts.seconds,
    },
    statistics: {
      ...statistics,
      gramsByLength: Array.from(statistics.gramsByLength, (c) => c ?? 0),
      tokens_per_example: statistics.examples ? statistics.tokens / statistics.examples : 0,
      padding_fraction: statistics.examples ? statistics.paddingTokens / (statistics.examples * parts.maxSeqLength) : 0,
    },
  };
}

/** The manifest as written: two-space JSON and a final newline. */
export const manifestText = (manifest: BuildManifest): string => `${JSON.stringify(manifest, null, 2)}\n`;

type Json = Record<string, unknown>;

/** How a JSON value is named in a message. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length <= 40 ? text : `a ${typeof value} of ${text.length} characters`;
}

/**
 * The checks of one manifest: each failure a `BuildError` naming the file, the key path and what was
 * expected, so that no value of the wrong type reaches `--finish`, `kbb stats` or the summary.
 */
class ManifestShape {
  constructor(readonly file: string) {}

  fail(path: string, expected: string, value: unknown): never {
    throw new BuildError(`${this.file}: ${path}: expected ${expected}, found ${describe(value)}`, this.file);
  }

  object(value: unknown, path: string): Json {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(path, 'an object', value);
    return value as Json;
  }

  array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) this.fail(path, 'an array', value);
    return value;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== 'string') this.fail(path, 'a string', value);
    return value;
  }

  /** A non-negative integer (a count, a size, an index), `min` and up. */
  count(value: unknown, path: string, min = 0): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) this.fail(path, `an integer of ${min} or more`, value);
    return value;
  }

  /** A finite number of 0 or more (seconds, a fraction, a mean). */
  amount(value: unknown, path: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) this.fail(path, 'a number of 0 or more', value);
    return value;
  }
}

const STATISTICS_COUNTS = ['examples', 'tokens', 'paddingTokens', 'predictions', 'masked', 'kept', 'replaced', 'twoSegmentExamples'] as const;

/** Checks the parts every manifest has (a job manifest's extra parts are checked by `parseJobManifest`). */
function checkManifest(shape: ManifestShape, json: Json, jobManifest: boolean): void {
  shape.string(json.kbb_version, 'kbb_version');
  const flags = shape.object(json.flags, 'flags');
  const maxSeqLength = shape.count(flags.max_seq_length, 'flags.max_seq_length', 1);
  const numShards = shape.count(flags.num_shards, 'flags.num_shards', 1);
  const tokenizer = shape.object(json.tokenizer, 'tokenizer');
  shape.string(tokenizer.dir, 'tokenizer.dir');
  shape.string(tokenizer.sha256, 'tokenizer.sha256');
  shape.count(tokenizer.vocab_size, 'tokenizer.vocab_size');
  shape.array(json.input_files, 'input_files').forEach((entry, k) => {
    const file = shape.object(entry, `input_files[${k}]`);
    shape.string(file.path, `input_files[${k}].path`);
    shape.count(file.bytes, `input_files[${k}].bytes`);
  });
  shape.array(json.jobs, 'jobs').forEach((entry, k) => {
    const job = shape.object(entry, `jobs[${k}]`);
    shape.count(job.job, `jobs[${k}].job`);
    if (typeof job.seed !== 'number' || !Number.isSafeInteger(job.seed)) shape.fail(`jobs[${k}].seed`, 'an integer', job.seed);
    shape.array(job.files, `jobs[${k}].files`).forEach((file, f) => {
      shape.string(file, `jobs[${k}].files[${f}]`);
    });
    shape.count(job.examples, `jobs[${k}].examples`);
  });
  shape.array(json.shards, 'shards').forEach((entry, k) => {
    const shard = shape.object(entry, `shards[${k}]`);
    // A shard is named by the builder, never by a path: anything else (`../x`, `/etc/passwd`) is refused here.
    const name = shape.string(shard.file, `shards[${k}].file`);
    const parsed = parseShardFileName(name);
    if (!parsed || parsed.of !== numShards || parsed.index >= numShards) {
      shape.fail(`shards[${k}].file`, `a shard name pretrain_data.tfrecord-I-of-${numShards} (flags.num_shards)`, name);
    }
    shape.count(shard.examples, `shards[${k}].examples`);
    if (jobManifest) shape.count(shard.bytes, `shards[${k}].bytes`);
  });
  const totals = shape.object(json.totals, 'totals');
  for (const key of ['examples', 'shards', 'nonempty_shards'] as const) shape.count(totals[key], `totals.${key}`);
  shape.amount(totals.seconds, 'totals.seconds');
  const statistics = shape.object(json.statistics, 'statistics');
  for (const key of STATISTICS_COUNTS) shape.count(statistics[key], `statistics.${key}`);
  // Optional in a build_manifest.json (older ones lack it); a job manifest's statistics are added up by --finish, so there it must be there.
  if (statistics.unmaskableExamples !== undefined || jobManifest) shape.count(statistics.unmaskableExamples, 'statistics.unmaskableExamples');
  const grams = shape.array(statistics.gramsByLength, 'statistics.gramsByLength');
  // A span is whole words of one example: never more words than the example has tokens.
  if (grams.length > maxSeqLength + 1)
    shape.fail('statistics.gramsByLength', `at most ${maxSeqLength + 1} entries (flags.max_seq_length + 1)`, `${grams.length} entries`);
  grams.forEach((count, k) => {
    if (count !== null) shape.count(count, `statistics.gramsByLength[${k}]`);
  });
  shape.amount(statistics.tokens_per_example, 'statistics.tokens_per_example');
  shape.amount(statistics.padding_fraction, 'statistics.padding_fraction');
}

/** The JSON object of a manifest file, or a `BuildError` naming the file. */
function manifestJson(file: string, bytes: Uint8Array, what: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new BuildError(`${file}: not ${what} (${error instanceof Error ? error.message : String(error)})`, file);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new BuildError(`${file}: not ${what} (expected a JSON object, found ${describe(value)})`, file);
  return value as Json;
}

/**
 * `build_manifest.json` read from its bytes and checked as a whole: every key kbb reads has its type
 * and range, and every shard it lists is a shard name (`pretrain_data.tfrecord-I-of-N`), so nothing
 * in it names a file outside its folder. Anything else is one `BuildError` naming the file and the
 * key path.
 */
export function parseBuildManifest(file: string, bytes: Uint8Array): BuildManifest {
  const json = manifestJson(file, bytes, 'a build manifest');
  checkManifest(new ManifestShape(file), json, false);
  return json as unknown as BuildManifest;
}

/** `build_manifest-job-K-of-P.json`, checked as `parseBuildManifest` checks a manifest, with its `job`, `input_listing` and shard sizes. */
export function parseJobManifest(file: string, bytes: Uint8Array): JobManifest {
  const json = manifestJson(file, bytes, 'a job manifest');
  const shape = new ManifestShape(file);
  if (!('job' in json) || !('input_listing' in json)) throw new BuildError(`${file}: not a job manifest (no "job" and "input_listing")`, file);
  checkManifest(shape, json, true);
  const job = shape.object(json.job, 'job');
  const of = shape.count(job.of, 'job.of', 1);
  if (shape.count(job.index, 'job.index') >= of) shape.fail('job.index', `a job index below job.of (${of})`, job.index);
  const listing = shape.object(json.input_listing, 'input_listing');
  shape.count(listing.files, 'input_listing.files');
  shape.string(listing.sha256, 'input_listing.sha256');
  return json as unknown as JobManifest;
}
