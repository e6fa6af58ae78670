import * as tf from '@tensorflow/tfjs-core';
import { gatherRows } from '../autodiff/gather-rows.js';
import type { BigBirdConfig } from './bigbird-config.js';
import { dropout, layerNorm } from './nn.js';
import type { BigBirdWeights } from './weights.js';

/**
 * word + token type + absolute position embeddings → (×√hidden if `rescale_embeddings`) → dropout →
 * LayerNorm, in HF's and TF's order. The LayerNorm is TF's `bert/encoder/LayerNorm` (KoBigBird keeps
 * the embedding norm in the encoder scope; HF calls it `bert.embeddings.LayerNorm`).
 *
 * `inputIds` and `tokenTypeIds` are [B, S] int32 host arrays (row-major). Position ids are 0..S-1 of the
 * length given, so after block padding the pad positions continue the count, as in HF.
 */
export function embed(
  weights: BigBirdWeights,
  config: BigBirdConfig,
  inputIds: Int32Array,
  tokenTypeIds: Int32Array,
  batchSize: number,
  seqLength: number,
  dropoutRate: number,
  dropoutSeed?: number,
): tf.Tensor3D {
  if (seqLength > config.max_position_embeddings) {
    throw new RangeError(`BigBird embeddings: sequence length ${seqLength} exceeds max_position_embeddings ${config.max_position_embeddings}`);
  }
  checkIds(inputIds, config.vocab_size, 'input id');
  checkIds(tokenTypeIds, config.type_vocab_size, 'token type id');
  const hidden = config.hidden_size;
  let words = gatherRows(weights.get('bert/embeddings/word_embeddings'), inputIds);
  if (config.rescale_embeddings) words = tf.mul(words, Math.sqrt(hidden));
  const types = gatherRows(weights.get('bert/embeddings/token_type_embeddings'), tokenTypeIds);
  const summed = tf.reshape(tf.add(words, types), [batchSize, seqLength, hidden]);
  // Positions are arange(S): a slice of the table (its gradient is a pad, no gather needed), broadcast over the batch.
  const positions = tf.slice(weights.get('bert/embeddings/position_embeddings'), [0, 0], [seqLength, hidden]);
  const embeddings = dropout(tf.add(summed, positions), dropoutRate, dropoutSeed);
  return layerNorm(
    embeddings,
    weights.get('bert/encoder/LayerNorm/gamma') as tf.Tensor1D,
    weights.get('bert/encoder/LayerNorm/beta') as tf.Tensor1D,
    config.layer_norm_eps,
  ) as tf.Tensor3D;
}

function checkIds(ids: Int32Array, limit: number, what: string): void {
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] < 0 || ids[i] >= limit) throw new RangeError(`BigBird embeddings: ${what} ${ids[i]} at flat position ${i} is outside 0..${limit - 1}`);
  }
}
