import { fileSystemFor } from '../fs/file-system-for.js';
import { joinPath } from '../fs/paths.js';
import { loadTokenizer } from '../tokenizer/load-tokenizer.js';
import type { WordPieceTokenizer } from '../tokenizer/wordpiece-tokenizer.js';
import { findShards, MANIFEST_FILE } from './build-files.js';
import type { BuildManifest } from './build-manifest.js';
import { parseBuildManifest } from './build-manifest.js';
import {
  type MaskingStatistics,
  maskingStatisticsFromManifest,
  mostMaskedTokens,
  type ShardScanOptions,
  scanShards,
  type TokenCount,
} from './masking-statistics.js';
import { recordVocab } from './read-pretraining-records.js';

/** `kbb stats`'s defaults. */
export const STATISTICS_DEFAULTS = Object.freeze({
  /** How many of the most-masked tokens to list. */
  top: 10,
});

export interface BuildOutputStatisticsOptions extends ShardScanOptions {
  /** The tokenizer the build used (default: the one named in the manifest). */
  readonly tokenizerDir?: string;
  /** Compute everything from the shards even where a manifest exists. */
  readonly fromShards?: boolean;
  /** How many of the most-masked tokens to list (default 10; 0 reads no shard when there is a manifest). */
  readonly top?: number;
}

export interface BuildOutputStatistics {
  readonly statistics: MaskingStatistics;
  readonly mostMasked: readonly TokenCount[];
  readonly manifest?: BuildManifest;
  readonly shards: number;
}

/** The manifest of a build output folder (local or `gs://`), or undefined where there is none. */
export async function readBuildManifest(outputDir: string): Promise<BuildManifest | undefined> {
  const path = joinPath(outputDir, MANIFEST_FILE);
  const bytes = await fileSystemFor(path)
    .readFile(path)
    .catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'EISDIR') return undefined;
      throw error;
    });
  if (!bytes) return undefined;
  return parseBuildManifest(path, bytes);
}

/** The tokenizer a build used: the one given, else the manifest's; an error naming what to pass otherwise. */
export async function buildTokenizer(manifest: BuildManifest | undefined, tokenizerDir: string | undefined, outputDir: string): Promise<WordPieceTokenizer> {
  const dir = tokenizerDir ?? manifest?.tokenizer.dir;
  if (!dir) throw new Error(`${outputDir}: no ${MANIFEST_FILE} naming the tokenizer; pass --tokenizer_dir`);
  return loadTokenizer(dir);
}

/**
 * Masking statistics of a build output folder: from build_manifest.json where there is one (or
 * computed from the shards when there is none, or when asked), plus the most-masked tokens, which
 * only the shards know.
 */
export async function buildOutputStatistics(outputDir: string, options: BuildOutputStatisticsOptions = {}): Promise<BuildOutputStatistics> {
  const manifest = await readBuildManifest(outputDir);
  const top = options.top ?? STATISTICS_DEFAULTS.top;
  const useManifest = manifest !== undefined && !options.fromShards;
  const shards = await findShards(outputDir);
  if (useManifest && top <= 0) return { statistics: maskingStatisticsFromManifest(manifest), mostMasked: [], manifest, shards: shards.length };
  const tokenizer = await buildTokenizer(manifest, options.tokenizerDir, outputDir);
  const scan = await scanShards(shards, recordVocab(tokenizer), options);
  return {
    statistics: useManifest ? maskingStatisticsFromManifest(manifest) : scan.statistics,
    mostMasked: mostMaskedTokens(scan.targetCounts, tokenizer.idToToken, Math.max(0, top)),
    manifest,
    shards: shards.length,
  };
}
