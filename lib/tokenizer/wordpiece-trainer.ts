import { MergeQueue, PAIR_KEY_BASE } from './merge-queue.js';
import { PairTable } from './pair-table.js';
import type { WordCounts } from './word-counts.js';
import { WordLists } from './word-lists.js';
import type { WordPieceTrainerOptions } from './wordpiece-trainer-options.js';

/** A trained vocabulary and how training went. */
export interface TrainedWordPiece {
  /** The tokens, in id order. */
  readonly vocab: string[];
  /** Characters kept as word-initial pieces (the alphabet). */
  readonly alphabetSize: number;
  /** `##` pieces of single characters (every alphabet character seen inside a word). */
  readonly continuationAlphabetSize: number;
  /** Merges applied, counting the ones that produced a token already in the vocabulary. */
  readonly merges: number;
  /** What ended training. */
  readonly stoppedBy: 'vocab-size' | 'min-frequency' | 'no-pairs';
  /** Merges chosen over another pair of the same count (only counted with `detectTies`). */
  readonly ties?: number;
}

export interface TrainWordPieceHooks {
  /** Called every `progressEvery` merges (where `trainWordPieceAsync` yields to the event loop) and at the end, with the vocabulary's size and the target. */
  readonly onProgress?: (vocabSize: number, target: number) => void;
  /** Merges between progress reports (default 256: a few milliseconds of work on a large corpus). */
  readonly progressEvery?: number;
  /**
   * Count the merges decided by the tie-break (`TrainedWordPiece.ties`). Looks at every queued pair at
   * every merge: for tests and small corpora.
   */
  readonly detectTies?: boolean;
  /**
   * Give the `##` characters their ids in this order (as one reference run's vocab.txt lists them)
   * instead of in order of first use. With a reference run's order, kbb reproduces that run token for
   * token: the way to check the port on corpora full of ties.
   */
  readonly continuationOrder?: readonly string[];
}

/**
 * Trains a WordPiece vocabulary exactly as Hugging Face's `WordPieceTrainer` does (tokenizers 0.23,
 * `models/bpe/trainer.rs`): special tokens first; then the alphabet (every character, weighted by the
 * counts of the words it is in, cut to the `limitAlphabet` most frequent, in code-point order); then,
 * word by word, the `##` form of every character seen after a word's first; then BPE merges, the most
 * frequent adjacent pair first, each adding the joined token (`도` + `##서` → `도서`,
 * `##에` + `##서` → `##에서`) until the vocabulary has `vocabSize` entries or no pair is left.
 *
 * The reference keeps its words in a hash map with a per-process random seed and gives the `##`
 * characters their ids in that map's order. Those ids break ties between pairs of equal count, so two
 * runs on one corpus disagree once a tie is reached. kbb visits the words in JavaScript string order
 * (UTF-16 code units) instead: its result is the reference's result for that one visiting order, the
 * same on every run. Everything else follows the reference step for step, quirks included: a merged
 * pair keeps its count, an entry only merges the words it was queued with, and a merge that yields
 * an existing token adds nothing. Counts are exact doubles where the reference sums pairs in 32-bit
 * integers (which would wrap past 2^31 occurrences of one pair); `limitAlphabet` drops, among equally
 * frequent characters, the later ones in code-point order (the reference's sort is unstable there).
 */
export function trainWordPiece(counts: WordCounts, options: WordPieceTrainerOptions, hooks: TrainWordPieceHooks = {}): TrainedWordPiece {
  const run = training(counts, options, hooks);
  for (;;) {
    const step = run.next();
    if (step.done) return step.value;
  }
}

/**
 * `trainWordPiece` that gives the event loop a turn at every progress report, so a prompt or a
 * notebook can redraw while a large vocabulary trains.
 */
export async function trainWordPieceAsync(counts: WordCounts, options: WordPieceTrainerOptions, hooks: TrainWordPieceHooks = {}): Promise<TrainedWordPiece> {
  const run = training(counts, options, hooks);
  for (;;) {
    const step = run.next();
    if (step.done) return step.value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The training, pausing (yielding) after each progress report. */
function* training(counts: WordCounts, options: WordPieceTrainerOptions, hooks: TrainWordPieceHooks): Generator<void, TrainedWordPiece> {
  checkTrainerOptions(options);
  const { words } = counts;
  if (counts.counts.length !== words.length) throw new Error(`trainWordPiece: ${words.length} words but ${counts.counts.length} counts`);
  const order = stringOrder(words);
  const prefix = options.continuingSubwordPrefix;

  const idToToken: string[] = [];
  const tokenToId = new Map<string, number>();
  const idOf = (token: string): number => {
    let id = tokenToId.get(token);
    if (id === undefined) {
      id = idToToken.length;
      idToToken.push(token);
      tokenToId.set(token, id);
    }
    return id;
  };

  // 1. Special tokens.
  for (const token of options.specialTokens) idOf(token);

  // 2. The alphabet. Words are decoded to code points once, into the array that step 3 turns into ids.
  let units = 0;
  for (const word of words) units += word.length;
  const symbols = new Int32Array(units);
  const wordStart = new Int32Array(words.length + 1);
  const wordLength = new Int32Array(words.length);
  const wordCount = new Float64Array(words.length);
  const charCounts = new Float64Array(CODE_POINTS);
  const seen = new Uint8Array(CODE_POINTS);
  let at = 0;
  for (let w = 0; w < words.length; w++) {
    const word = words[order[w]];
    const count = counts.counts[order[w]];
    wordStart[w] = at;
    wordCount[w] = count;
    for (let i = 0; i < word.length; i++) {
      let cp = word.charCodeAt(i);
      if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < word.length) {
        const low = word.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) {
          cp = ((cp - 0xd800) << 10) + (low - 0xdc00) + 0x10000;
          i++;
        }
      }
      symbols[at++] = cp;
      charCounts[cp] += count;
      seen[cp] = 1;
    }
    wordLength[w] = at - wordStart[w];
  }
  wordStart[words.length] = at;
  for (const char of options.initialAlphabet) {
    const cp = char.codePointAt(0)!;
    charCounts[cp] = Number.POSITIVE_INFINITY;
    seen[cp] = 1;
  }
  let kept: number[] = [];
  for (let cp = 0; cp < CODE_POINTS; cp++) if (seen[cp] === 1) kept.push(cp);
  if (options.limitAlphabet !== undefined && kept.length > options.limitAlphabet) {
    kept.sort((a, b) => charCounts[a] - charCounts[b] || b - a);
    kept = kept.slice(kept.length - options.limitAlphabet).sort((a, b) => a - b);
  }
  const firstAlphabetId = idToToken.length;
  for (const cp of kept) idOf(String.fromCodePoint(cp));
  const alphabetSize = idToToken.length - firstAlphabetId;

  // 3. Words as symbol ids: a character's own piece first in a word, its `##` piece after; a character
  // that is not in the vocabulary (cut by limitAlphabet) is left out.
  const initialIds = new Int32Array(CODE_POINTS).fill(-1);
  const continuationIds = new Int32Array(CODE_POINTS).fill(-1);
  const firstContinuationId = idToToken.length;
  for (const token of hooks.continuationOrder ?? []) {
    if (!token.startsWith(prefix) || !tokenToId.has(token.slice(prefix.length))) {
      throw new Error(`trainWordPiece: continuationOrder entry ${JSON.stringify(token)} is not the ${prefix} form of an alphabet character`);
    }
    continuationIds[token.codePointAt(prefix.length)!] = idOf(token);
  }
  const known = new Int8Array(CODE_POINTS); // 1: in the vocabulary, -1: not, 0: not looked up yet
  at = 0;
  for (let w = 0; w < words.length; w++) {
    const start = wordStart[w];
    const end = start + wordLength[w];
    wordStart[w] = at;
    for (let k = start; k < end; k++) {
      const cp = symbols[k];
      const table = k === start ? initialIds : continuationIds;
      let id = table[cp];
      if (id < 0) {
        if (known[cp] === 0) known[cp] = tokenToId.has(String.fromCodePoint(cp)) ? 1 : -1;
        if (known[cp] < 0) continue;
        id = idOf(k === start ? String.fromCodePoint(cp) : prefix + String.fromCodePoint(cp));
        table[cp] = id;
      }
      symbols[at++] = id;
    }
    wordLength[w] = at - wordStart[w];
  }
  wordStart[words.length] = at;
  const continuationAlphabetSize = idToToken.length - firstContinuationId;

  // 4. Pair counts, and the words each pair is in (one array, sliced per pair).
  const pairs = new PairTable();
  for (let w = 0; w < words.length; w++) {
    const end = wordStart[w] + wordLength[w];
    pairs.reserve(wordLength[w]);
    for (let k = wordStart[w]; k + 1 < end; k++) pairs.counts[pairs.slot(symbols[k], symbols[k + 1])] += wordCount[w];
  }
  const queue = new MergeQueue();
  let wordLists: WordLists;
  {
    const lastWord = new Int32Array(pairs.capacity).fill(-1);
    const listStart = new Int32Array(pairs.capacity + 1);
    const eachPairOf = (visit: (slot: number, w: number) => void): void => {
      for (let w = 0; w < words.length; w++) {
        const end = wordStart[w] + wordLength[w];
        for (let k = wordStart[w]; k + 1 < end; k++) {
          const slot = pairs.find(symbols[k], symbols[k + 1]);
          if (lastWord[slot] !== w) {
            lastWord[slot] = w;
            visit(slot, w);
          }
        }
      }
    };
    eachPairOf((slot) => listStart[slot + 1]++);
    for (let s = 0; s < pairs.capacity; s++) listStart[s + 1] += listStart[s];
    const fill = listStart.slice(0, pairs.capacity);
    const lists = new Int32Array(listStart[pairs.capacity]);
    lastWord.fill(-1);
    eachPairOf((slot, w) => {
      lists[fill[slot]++] = w;
    });
    for (let s = 0; s < pairs.capacity; s++) {
      if (pairs.first[s] === -1 || !(pairs.counts[s] > 0)) continue;
      queue.push(pairs.first[s] * PAIR_KEY_BASE + pairs.second[s], pairs.counts[s], listStart[s], listStart[s + 1] - listStart[s]);
    }
    wordLists = new WordLists(lists);
  }

  // 5. Merges.
  const target = options.vocabSize;
  const every = hooks.progressEvery ?? 256;
  let merges = 0;
  let ties = 0;
  let stoppedBy: TrainedWordPiece['stoppedBy'] = 'no-pairs';
  // New occurrences of pairs in this round, as (slot, word), each pair once per word; then grouped by
  // slot into runs of words: `perSlot` counts a slot's words, then points at where the next one goes.
  let pendingSlots = new Int32Array(1024);
  let pendingWords = new Int32Array(1024);
  let pending = 0;
  let perSlot = new Int32Array(pairs.capacity);
  const touched: number[] = [];
  const note = (slot: number, w: number): void => {
    for (let i = pending - 1; i >= 0 && pendingWords[i] === w; i--) if (pendingSlots[i] === slot) return;
    pendingSlots[pending] = slot;
    pendingWords[pending++] = w;
  };
  const countOf = (key: number): number => {
    const a = Math.floor(key / PAIR_KEY_BASE);
    const slot = pairs.find(a, key - a * PAIR_KEY_BASE);
    return slot < 0 ? 0 : pairs.counts[slot];
  };
  for (;;) {
    if (tokenToId.size >= target) {
      stoppedBy = 'vocab-size';
      break;
    }
    if (!queue.pop()) break;
    const key = queue.key;
    const current = countOf(key);
    if (queue.count !== current) {
      queue.push(key, current, queue.offset, queue.length);
      continue;
    }
    if (current < 1 || options.minFrequency > current) {
      stoppedBy = current < 1 ? 'no-pairs' : 'min-frequency';
      break;
    }
    if (hooks.detectTies) {
      for (let at = 0; at < queue.size; at++) {
        if (queue.keyAt(at) !== key && countOf(queue.keyAt(at)) === current) {
          ties++;
          break;
        }
      }
    }

    const a = Math.floor(key / PAIR_KEY_BASE);
    const b = key - a * PAIR_KEY_BASE;
    const partB = idToToken[b];
    const merged = idOf(idToToken[a] + (partB.startsWith(prefix) ? partB.slice(prefix.length) : partB));
    if (merged >= PAIR_KEY_BASE) throw new Error(`trainWordPiece: more than ${PAIR_KEY_BASE} tokens`);
    merges++;

    const queued = wordLists.data.subarray(queue.offset, queue.offset + queue.length);
    let newPairs = 0;
    for (const w of queued) newPairs += 2 * wordLength[w];
    if (pairs.reserve(newPairs)) perSlot = new Int32Array(pairs.capacity);
    if (newPairs > pendingSlots.length) {
      pendingSlots = new Int32Array(newPairs * 2);
      pendingWords = new Int32Array(newPairs * 2);
    }
    const counts = pairs.counts;
    // Merge the pair in every word it was queued with, left to right, as Word::merge does: each
    // occurrence takes its neighbours' pairs away and forms new ones with the merged token.
    for (const w of queued) {
      const start = wordStart[w];
      const end = start + wordLength[w];
      const count = wordCount[w];
      let write = start;
      let read = start;
      while (read < end) {
        if (symbols[read] === a && read + 1 < end && symbols[read + 1] === b) {
          if (write > start) {
            const before = symbols[write - 1];
            counts[pairs.slot(before, a)] -= count;
            const slot = pairs.slot(before, merged);
            counts[slot] += count;
            note(slot, w);
          }
          if (read + 2 < end) {
            const after = symbols[read + 2];
            counts[pairs.slot(b, after)] -= count;
            const slot = pairs.slot(merged, after);
            counts[slot] += count;
            note(slot, w);
          }
          symbols[write++] = merged;
          read += 2;
        } else {
          symbols[write++] = symbols[read++];
        }
      }
      wordLength[w] = write - start;
    }
    // Queue every pair that gained occurrences, with the words it gained them in.
    for (let i = 0; i < pending; i++) if (perSlot[pendingSlots[i]]++ === 0) touched.push(pendingSlots[i]);
    wordLists.reserve(pending);
    for (const slot of touched) {
      const length = perSlot[slot];
      if (counts[slot] > 0) {
        queue.push(pairs.first[slot] * PAIR_KEY_BASE + pairs.second[slot], counts[slot], wordLists.length, length);
        perSlot[slot] = wordLists.length;
        wordLists.length += length;
      } else {
        perSlot[slot] = -1;
      }
    }
    const lists = wordLists.data;
    for (let i = 0; i < pending; i++) {
      const slot = pendingSlots[i];
      if (perSlot[slot] >= 0) lists[perSlot[slot]++] = pendingWords[i];
    }
    for (const slot of touched) perSlot[slot] = 0;
    touched.length = 0;
    pending = 0;
    if (merges % every === 0) {
      hooks.onProgress?.(tokenToId.size, target);
      yield;
    }
  }
  hooks.onProgress?.(tokenToId.size, target);
  return {
    vocab: idToToken,
    alphabetSize,
    continuationAlphabetSize,
    merges,
    stoppedBy,
    ...(hooks.detectTies ? { ties } : {}),
  };
}

/** Every Unicode code point indexes the per-character tables. */
const CODE_POINTS = 0x110000;

/** Indices of `words` in JavaScript string order; the identity when they already are (counted words come sorted). */
function stringOrder(words: readonly string[]): Int32Array {
  let sorted = true;
  for (let i = 1; i < words.length && sorted; i++) if (!(words[i - 1] < words[i])) sorted = false;
  const order = new Int32Array(words.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  if (sorted) return order;
  const seen = new Set(words);
  if (seen.size !== words.length) throw new Error('trainWordPiece: a word appears twice in the counts');
  return order.sort((x, y) => (words[x] < words[y] ? -1 : 1));
}

/** Throws on options the trainer cannot use, naming the option: callers check before counting a corpus. */
export function checkTrainerOptions(options: WordPieceTrainerOptions): void {
  const positive = (name: string, value: number | undefined, min: number): void => {
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= min))
      throw new Error(`trainWordPiece: ${name} must be an integer of at least ${min}, got ${value}`);
  };
  positive('vocabSize', options.vocabSize, 1);
  positive('minFrequency', options.minFrequency, 0);
  positive('limitAlphabet', options.limitAlphabet, 0);
  for (const char of options.initialAlphabet) {
    if ([...char].length !== 1) throw new Error(`trainWordPiece: initialAlphabet entries must be single characters, got ${JSON.stringify(char)}`);
  }
  if (new Set(options.specialTokens).size !== options.specialTokens.length) throw new Error('trainWordPiece: a special token is listed twice');
  if (options.continuingSubwordPrefix === '') throw new Error('trainWordPiece: continuingSubwordPrefix must not be empty (BERT uses ##)');
}
