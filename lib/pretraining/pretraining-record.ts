import type { Example } from '../tfrecord/example.js';
import { floatValues, int64Values } from '../tfrecord/example-accessors.js';

/**
 * What the builder did at a prediction position. The record does not store it, but the input tells:
 * `[MASK]` written → masked; the original id written → kept (a random replacement that drew the
 * original id is indistinguishable, and the builder's own statistics count it as kept too);
 * anything else → replaced.
 */
export type PredictionKind = 'masked' | 'kept' | 'replaced';

export const classifyPrediction = (writtenId: number, originalId: number, maskId: number): PredictionKind =>
  writtenId === maskId ? 'masked' : writtenId === originalId ? 'kept' : 'replaced';

export interface RecordVocab {
  readonly maskId: number;
  readonly padId: number;
}

export interface RecordPrediction {
  readonly position: number;
  /** The token before masking (`masked_lm_ids`). */
  readonly originalId: number;
  /** What the model sees there (`input_ids`). */
  readonly writtenId: number;
  readonly kind: PredictionKind;
}

/** One pretraining example as the trainer reads it, with padding and predictions made explicit. */
export interface PretrainingRecord {
  readonly inputIds: readonly number[];
  readonly segmentIds: readonly number[];
  /** Tokens before the padding (`[CLS] … [SEP]`). */
  readonly length: number;
  /** Real predictions only (weight 1), in position order; the zero-weight padding slots are left out. */
  readonly predictions: readonly RecordPrediction[];
  readonly twoSegments: boolean;
}

/** Decodes a `tf.train.Example` written by the builder (input_ids, segment_ids, masked_lm_*). */
export function decodePretrainingRecord(example: Example, vocab: RecordVocab): PretrainingRecord {
  const inputIds = int64Values(example, 'input_ids');
  const segmentIds = int64Values(example, 'segment_ids');
  const positions = int64Values(example, 'masked_lm_positions');
  const labels = int64Values(example, 'masked_lm_ids');
  const weights = floatValues(example, 'masked_lm_weights');
  // Padding is [PAD] after the final [SEP]; no real token is [PAD].
  let length = inputIds.length;
  while (length > 0 && inputIds[length - 1] === vocab.padId) length--;
  const predictions: RecordPrediction[] = [];
  for (let k = 0; k < positions.length; k++) {
    if (weights[k] !== 1) continue;
    const position = positions[k];
    const writtenId = inputIds[position];
    predictions.push({ position, originalId: labels[k], writtenId, kind: classifyPrediction(writtenId, labels[k], vocab.maskId) });
  }
  return { inputIds, segmentIds, length, predictions, twoSegments: length > 0 && segmentIds[length - 1] === 1 };
}

export interface RecordToken {
  readonly position: number;
  /** The token the model sees. */
  readonly token: string;
  readonly segment: number;
  /** Set at prediction positions: the original token and what was done to it. */
  readonly prediction?: { readonly original: string; readonly kind: PredictionKind };
}

/** The record's tokens (padding left out), each prediction position with its original token. */
export function recordTokens(record: PretrainingRecord, idToToken: readonly string[]): RecordToken[] {
  const name = (id: number): string => idToToken[id] ?? `<${id}>`;
  const byPosition = new Map(record.predictions.map((p) => [p.position, p]));
  return record.inputIds.slice(0, record.length).map((id, position) => {
    const p = byPosition.get(position);
    return { position, token: name(id), segment: record.segmentIds[position], ...(p ? { prediction: { original: name(p.originalId), kind: p.kind } } : {}) };
  });
}

/** How a token reads in an example's text: prediction targets in ⟦ ⟧ with what was done to them (see `MARK_LEGEND`). */
export function markedToken(t: RecordToken): string {
  if (!t.prediction) return t.token;
  const { original, kind } = t.prediction;
  if (kind === 'masked') return `⟦${original}⟧`;
  if (kind === 'kept') return `⟦=${original}⟧`;
  return `⟦${t.token}→${original}⟧`;
}

export const MARK_LEGEND = '⟦x⟧ x masked as [MASK] · ⟦=x⟧ x kept · ⟦y→x⟧ x replaced by y';
