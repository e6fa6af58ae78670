import { type Example, floatFeature, int64Feature } from '../tfrecord/example.js';
import type { PretrainingExample } from './example-builder.js';

/** The `tf.train.Example` the original trainer reads (no `input_mask`; NSP label is a dummy 0). */
export function toTfExample(example: PretrainingExample): Example {
  return new Map([
    ['input_ids', int64Feature(example.inputIds)],
    ['segment_ids', int64Feature(example.segmentIds)],
    ['masked_lm_positions', int64Feature(example.maskedLmPositions)],
    ['masked_lm_ids', int64Feature(example.maskedLmIds)],
    ['masked_lm_weights', floatFeature(example.maskedLmWeights)],
    ['next_sentence_labels', int64Feature([0])],
  ]);
}
