import type { PyRandom } from '../random/py-random.js';

export interface MaskingConfig {
  readonly maskedLmProb: number;
  readonly maxPredictionsPerSeq: number;
  readonly doWholeWordMask: boolean;
  /** Largest n-gram of whole words masked together (1 = plain whole-word or token masking). */
  readonly maxNgramSize: number;
}

/** What the masking needs to know about the vocabulary, by token id. */
export interface MaskingVocab {
  /** 1 for the special tokens (`special_tokens_map` values): never masked, they break words. */
  readonly isSpecial: Uint8Array;
  /** 1 for `##` continuation pieces. */
  readonly isContinuation: Uint8Array;
  readonly maskId: number;
  /** Candidates for random replacement, in ascending id order (every entry but `[unused…]`). */
  readonly randomReplacementIds: Int32Array;
}

export interface MaskedPredictions {
  /** Token ids after masking (same length as the input). */
  readonly outputIds: Int32Array;
  /** Masked positions, ascending. */
  readonly positions: number[];
  /** Original ids at those positions. */
  readonly labels: number[];
  /** How many whole words each masked span covered, in selection order. */
  readonly gramSizes: number[];
}

/** Packs a span [begin, end) as begin × SPAN + end; exact in a double for any example length below 2^24. */
const SPAN = 2 ** 24;

/** Python 3 `round()` of a double: ties go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff < 0.5) return floor;
  if (diff > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * `[begin, end)` token spans of whole words (or of single tokens without whole-word masking), flat:
 * word k is `[grams[2k], grams[2k + 1])`. Flat so a 4,096-token example allocates one array, not thousands.
 */
export function wordGrams(tokens: Int32Array, vocab: MaskingVocab, wholeWord: boolean): number[] {
  const grams: number[] = [];
  if (!wholeWord) {
    for (let i = 0; i < tokens.length; i++) if (vocab.isSpecial[tokens[i]] !== 1) grams.push(i, i + 1);
    return grams;
  }
  let start = -1;
  for (let i = 0; i < tokens.length; i++) {
    const id = tokens[i];
    if (start >= 0 && vocab.isContinuation[id] === 1) continue; // extends the open word
    if (start >= 0) grams.push(start, i);
    start = vocab.isSpecial[id] === 1 ? -1 : i; // a special token closes the word and is never part of one
  }
  if (start >= 0) grams.push(start, tokens.length);
  return grams;
}

/**
 * The reference's static masking of one example, draw for draw: whole-word (and n-gram) spans,
 * a budget of round_half_even(len × prob) capped by max predictions, candidate lists shuffled per
 * n-gram size, sizes drawn with zipf weights 1, 1/2, …, spans popped from the end, then 80% [MASK],
 * 10% kept, 10% random tokens, decided per span in selection order.
 *
 * Returns `undefined` when nothing can be masked (every token special): the reference crashes there.
 */
export function createMaskedLmPredictions(tokens: Int32Array, rng: PyRandom, config: MaskingConfig, vocab: MaskingVocab): MaskedPredictions | undefined {
  const grams = wordGrams(tokens, vocab, config.doWholeWordMask);
  const words = grams.length / 2;
  if (words === 0) return undefined;
  const numToPredict = Math.min(config.maxPredictionsPerSeq, Math.max(1, roundHalfEven(tokens.length * config.maskedLmProb)));
  const n = Math.max(1, config.maxNgramSize);

  // Candidate spans of 1..n contiguous grams, left to right, then shuffled per size in size order.
  // A span is packed into one number (begin × 2^24 + end) so long examples allocate no tuples.
  const candidates: number[][] = [];
  for (let size = 1; size <= n; size++) {
    const spans: number[] = [];
    for (let i = 0; i + size <= words; i++) {
      let contiguous = true;
      for (let k = i; k < i + size - 1; k++) if (grams[2 * k + 1] !== grams[2 * k + 2]) contiguous = false;
      if (contiguous) spans.push(grams[2 * i] * SPAN + grams[2 * (i + size - 1) + 1]);
    }
    candidates.push(spans);
  }
  for (const spans of candidates) rng.shuffle(spans);
  const cumulativeWeights: number[] = [];
  let total = 0;
  for (let size = 1; size <= n; size++) {
    total += 1 / size;
    cumulativeWeights.push(total);
  }

  const masked = new Uint8Array(tokens.length);
  let maskedCount = 0;
  let remaining = candidates.reduce((sum, spans) => sum + spans.length, 0);
  const chosen: number[] = [];
  const gramSizes: number[] = [];
  while (maskedCount < numToPredict && remaining > 0) {
    const size = rng.choiceIndexByCumWeights(cumulativeWeights) + 1;
    const spans = candidates[size - 1];
    if (maskedCount + size > numToPredict) {
      remaining -= spans.length;
      spans.length = 0;
      continue;
    }
    if (spans.length === 0) continue;
    const span = spans.pop()!;
    remaining--;
    const begin = Math.floor(span / SPAN);
    const end = span % SPAN;
    if (maskedCount + (end - begin) > numToPredict) continue;
    let overlaps = false;
    for (let i = begin; i < end; i++) if (masked[i] === 1) overlaps = true;
    if (overlaps) continue;
    masked.fill(1, begin, end);
    maskedCount += end - begin;
    chosen.push(span);
    gramSizes.push(size);
  }

  const outputIds = tokens.slice();
  for (const span of chosen) {
    const begin = Math.floor(span / SPAN);
    const end = span % SPAN;
    if (rng.random() < 0.8) {
      outputIds.fill(vocab.maskId, begin, end);
    } else if (rng.random() >= 0.5) {
      for (let i = begin; i < end; i++) outputIds[i] = rng.choice(vocab.randomReplacementIds);
    }
  }
  // Chosen spans never overlap, so the masked positions in order are just the marked bitmap.
  const positions: number[] = [];
  for (let i = 0; i < masked.length; i++) if (masked[i] === 1) positions.push(i);
  return { outputIds, positions, labels: positions.map((i) => tokens[i]), gramSizes };
}
