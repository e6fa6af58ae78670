/** Distinct words with how often each was seen. `countCorpusWords` gives them in JavaScript string order. */
export interface WordCounts {
  readonly words: readonly string[];
  readonly counts: ArrayLike<number>;
}

/** The entries of a word → count map, sorted in JavaScript string order (UTF-16 code units). */
export function sortedWordCounts(map: ReadonlyMap<string, number>): { words: string[]; counts: Float64Array } {
  const words = [...map.keys()].sort();
  const counts = new Float64Array(words.length);
  for (let i = 0; i < words.length; i++) counts[i] = map.get(words[i])!;
  return { words, counts };
}

/** Sorted runs merged into one sorted run, the counts of a word in several runs added up. */
export function mergeWordCounts(runs: readonly WordCounts[]): { words: string[]; counts: Float64Array } {
  let merged = runs.length === 0 ? { words: [] as string[], counts: new Float64Array(0) } : copy(runs[0]);
  for (let r = 1; r < runs.length; r++) merged = mergeTwo(merged, runs[r]);
  return merged;
}

function copy(run: WordCounts): { words: string[]; counts: Float64Array } {
  return { words: [...run.words], counts: Float64Array.from(run.counts) };
}

function mergeTwo(x: WordCounts, y: WordCounts): { words: string[]; counts: Float64Array } {
  const words: string[] = [];
  const counts = new Float64Array(x.words.length + y.words.length);
  let i = 0;
  let j = 0;
  while (i < x.words.length || j < y.words.length) {
    const a = x.words[i];
    const b = y.words[j];
    if (j >= y.words.length || (i < x.words.length && a < b)) {
      counts[words.length] = x.counts[i++];
      words.push(a);
    } else if (i >= x.words.length || b < a) {
      counts[words.length] = y.counts[j++];
      words.push(b);
    } else {
      counts[words.length] = x.counts[i++] + y.counts[j++];
      words.push(a);
    }
  }
  return { words, counts: counts.slice(0, words.length) };
}
