import type { PretrainingExample } from './example-builder.js';

/** Masking and packing statistics for build_manifest.json, mergeable across workers. */
export interface BuildStats {
  examples: number;
  tokens: number;
  paddingTokens: number;
  predictions: number;
  /** Predictions written as [MASK], kept as the original token, or replaced by another token. */
  masked: number;
  kept: number;
  replaced: number;
  /** Masked spans by their number of whole words (index 1 = single words). */
  gramsByLength: number[];
  twoSegmentExamples: number;
  unmaskableExamples: number;
}

export const emptyStats = (): BuildStats => ({
  examples: 0,
  tokens: 0,
  paddingTokens: 0,
  predictions: 0,
  masked: 0,
  kept: 0,
  replaced: 0,
  gramsByLength: [],
  twoSegmentExamples: 0,
  unmaskableExamples: 0,
});

export function addExample(stats: BuildStats, example: PretrainingExample, maskId: number): void {
  stats.examples++;
  stats.tokens += example.tokens.length;
  stats.paddingTokens += example.inputIds.length - example.tokens.length;
  if (example.segmentIds[example.tokens.length - 1] === 1) stats.twoSegmentExamples++;
  for (let k = 0; k < example.maskedLmWeights.length && example.maskedLmWeights[k] === 1; k++) {
    const written = example.inputIds[example.maskedLmPositions[k]];
    stats.predictions++;
    if (written === maskId) stats.masked++;
    else if (written === example.maskedLmIds[k]) stats.kept++;
    else stats.replaced++;
  }
  for (const size of example.gramSizes) stats.gramsByLength[size] = (stats.gramsByLength[size] ?? 0) + 1;
}

export function mergeStats(into: BuildStats, other: BuildStats): void {
  for (const key of ['examples', 'tokens', 'paddingTokens', 'predictions', 'masked', 'kept', 'replaced', 'twoSegmentExamples', 'unmaskableExamples'] as const)
    into[key] += other[key];
  other.gramsByLength.forEach((count, size) => {
    if (count) into.gramsByLength[size] = (into.gramsByLength[size] ?? 0) + count;
  });
}
