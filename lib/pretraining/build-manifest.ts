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
