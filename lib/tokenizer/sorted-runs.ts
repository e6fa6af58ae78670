import { mergeWordCounts, type WordCounts } from './word-counts.js';

/**
 * Sorted runs of word counts, merged as they arrive the way a log-structured store merges: a new run
 * is merged with the newest runs while they are no more than twice its size. Every word is then
 * copied O(log runs) times in all, and the runs held add up to at most about twice the distinct words.
 */
export class SortedRuns {
  private readonly runs: { words: string[]; counts: Float64Array }[] = [];

  add(run: { words: string[]; counts: Float64Array }): void {
    let merged = run;
    while (this.runs.length > 0 && this.runs[this.runs.length - 1].words.length <= 2 * merged.words.length) {
      merged = mergeWordCounts([this.runs.pop()!, merged]);
    }
    this.runs.push(merged);
  }

  /** Everything added, as one sorted run. */
  result(): { words: string[]; counts: Float64Array } {
    return mergeWordCounts(this.runs as readonly WordCounts[]);
  }
}
