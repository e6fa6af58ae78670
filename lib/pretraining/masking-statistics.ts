import { fileSystemFor } from '../fs/file-system-for.js';
import { decodeExample } from '../tfrecord/example.js';
import { readTfRecords } from '../tfrecord/reader.js';
import type { BuildManifest } from './build-manifest.js';
import { decodePretrainingRecord, type RecordVocab } from './pretraining-record.js';

/** Masking and packing statistics of a build, from its manifest or from its shards. */
export interface MaskingStatistics {
  readonly source: 'manifest' | 'shards';
  readonly examples: number;
  readonly maxSeqLength: number;
  /** Real tokens (`[CLS]`/`[SEP]` included, padding not). */
  readonly tokens: number;
  readonly tokensPerExample: number;
  /** Padding tokens over all token slots (examples × max_seq_length). */
  readonly paddingFraction: number;
  readonly predictions: number;
  readonly predictionsPerExample: number;
  readonly masked: number;
  readonly kept: number;
  readonly replaced: number;
  /**
   * Masked spans by their number of whole words (index 1 = single words). From the manifest these
   * are the spans the builder chose; the shards do not record spans, so there they are runs of
   * adjacent masked positions (two chosen spans that touch count as one longer run).
   */
  readonly gramsByLength: readonly number[];
  readonly gramsCount: 'spans' | 'runs';
  /** Whole words masked (the sum of length × count over `gramsByLength`). */
  readonly maskedWords: number;
  readonly twoSegmentExamples: number;
  /** Examples the builder dropped because nothing in them could be masked (only the manifest knows). */
  readonly unmaskableExamples?: number;
}

const maskedWordsOf = (grams: readonly number[]): number => grams.reduce((sum, count, size) => sum + size * (count ?? 0), 0);

/** The statistics the builder recorded in build_manifest.json. */
export function maskingStatisticsFromManifest(manifest: BuildManifest): MaskingStatistics {
  const s = manifest.statistics;
  const maxSeqLength = Number(manifest.flags.max_seq_length);
  const gramsByLength = Array.from(s.gramsByLength, (c) => c ?? 0);
  return {
    source: 'manifest',
    examples: s.examples,
    maxSeqLength,
    tokens: s.tokens,
    tokensPerExample: s.tokens_per_example,
    paddingFraction: s.padding_fraction,
    predictions: s.predictions,
    predictionsPerExample: s.examples ? s.predictions / s.examples : 0,
    masked: s.masked,
    kept: s.kept,
    replaced: s.replaced,
    gramsByLength,
    gramsCount: 'spans',
    maskedWords: maskedWordsOf(gramsByLength),
    twoSegmentExamples: s.twoSegmentExamples,
    unmaskableExamples: s.unmaskableExamples,
  };
}

export interface ShardScanVocab extends RecordVocab {
  /** 1 for `##` continuation pieces: they extend the word before them. */
  readonly isContinuation: Uint8Array;
}

export interface ShardScanOptions {
  readonly signal?: AbortSignal;
  /** Bytes of shard files read so far, of the total. */
  readonly onProgress?: (doneBytes: number, totalBytes: number) => void;
}

export interface ShardScan {
  readonly statistics: MaskingStatistics;
  /** How often each original token id was a prediction target. */
  readonly targetCounts: ReadonlyMap<number, number>;
}

/** Reads every record of the shards and computes the statistics (and target counts) from them. */
export async function scanShards(shards: readonly string[], vocab: ShardScanVocab, options: ShardScanOptions = {}): Promise<ShardScan> {
  const sizes = await Promise.all(
    shards.map(async (f) => {
      const info = await fileSystemFor(f).stat(f);
      if (!info) throw new Error(`${f}: the shard has gone`);
      return info.size;
    }),
  );
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  let doneBytes = 0;
  let examples = 0;
  let tokens = 0;
  let slots = 0;
  let maxSeqLength = 0;
  let predictions = 0;
  let twoSegmentExamples = 0;
  const kinds = { masked: 0, kept: 0, replaced: 0 };
  const gramsByLength: number[] = [];
  const targetCounts = new Map<number, number>();
  for (let s = 0; s < shards.length; s++) {
    for await (const record of readTfRecords(shards[s])) {
      const r = decodePretrainingRecord(decodeExample(record.data), vocab);
      examples++;
      tokens += r.length;
      slots += r.inputIds.length;
      maxSeqLength = Math.max(maxSeqLength, r.inputIds.length);
      if (r.twoSegments) twoSegmentExamples++;
      predictions += r.predictions.length;
      // Runs of adjacent predictions, measured in whole words: a run's words are its pieces that
      // start a word (a run that begins inside a word still counts that word).
      let runWords = 0;
      let previous = -2;
      for (const p of r.predictions) {
        kinds[p.kind]++;
        targetCounts.set(p.originalId, (targetCounts.get(p.originalId) ?? 0) + 1);
        const startsWord = vocab.isContinuation[p.originalId] !== 1;
        if (p.position !== previous + 1) {
          if (runWords > 0) gramsByLength[runWords] = (gramsByLength[runWords] ?? 0) + 1;
          runWords = 1;
        } else if (startsWord) runWords++;
        previous = p.position;
      }
      if (runWords > 0) gramsByLength[runWords] = (gramsByLength[runWords] ?? 0) + 1;
      if ((examples & 255) === 0) {
        options.signal?.throwIfAborted();
        options.onProgress?.(doneBytes + record.offset, totalBytes);
      }
    }
    doneBytes += sizes[s];
    options.signal?.throwIfAborted();
    options.onProgress?.(doneBytes, totalBytes);
  }
  const grams = Array.from(gramsByLength, (c) => c ?? 0);
  return {
    statistics: {
      source: 'shards',
      examples,
      maxSeqLength,
      tokens,
      tokensPerExample: examples ? tokens / examples : 0,
      paddingFraction: slots ? (slots - tokens) / slots : 0,
      predictions,
      predictionsPerExample: examples ? predictions / examples : 0,
      ...kinds,
      gramsByLength: grams,
      gramsCount: 'runs',
      maskedWords: maskedWordsOf(grams),
      twoSegmentExamples,
    },
    targetCounts,
  };
}

export interface TokenCount {
  readonly id: number;
  readonly token: string;
  readonly count: number;
  /** Of all predictions. */
  readonly share: number;
}

/** The `n` most frequent prediction targets (ties by id, so the order is stable). */
export function mostMaskedTokens(targetCounts: ReadonlyMap<number, number>, idToToken: readonly string[], n: number): TokenCount[] {
  const total = [...targetCounts.values()].reduce((a, b) => a + b, 0);
  return [...targetCounts]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, n)
    .map(([id, count]) => ({ id, token: idToToken[id] ?? `<${id}>`, count, share: total ? count / total : 0 }));
}
