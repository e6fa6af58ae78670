import * as tf from '@tensorflow/tfjs-core';
import { type AttentionInputs, selfAttention } from './attention.js';
import type { Activation, AttentionType, BigBirdConfig } from './bigbird-config.js';
import { activation, dense, dropout, layerNorm } from './nn.js';
import type { BigBirdWeights } from './weights.js';

/**
 * One post-norm BERT layer (KoBigBird's `norm_type: postnorm`, HF's `BigBirdLayer`):
 *   a = LN(dropout(Dense(attention(x))) + x)          attention/output
 *   y = LN(dropout(Dense(act(Dense(a)))) + a)         intermediate, output
 */
export function encoderLayer(
  x: tf.Tensor3D,
  weights: BigBirdWeights,
  config: BigBirdConfig,
  layer: number,
  attentionType: AttentionType,
  inputs: AttentionInputs,
  layerPlan: Int32Array | undefined,
  hiddenDropout: number,
): tf.Tensor3D {
  const p = `bert/encoder/layer_${layer}`;
  const w = (name: string): tf.Tensor2D => weights.get(`${p}/${name}`) as tf.Tensor2D;
  const b = (name: string): tf.Tensor1D => weights.get(`${p}/${name}`) as tf.Tensor1D;
  const eps = config.layer_norm_eps;

  const context = selfAttention(x, weights, config, layer, attentionType, inputs, layerPlan);
  const attended = dropout(dense(context, w('attention/output/dense/kernel'), b('attention/output/dense/bias')), hiddenDropout, inputs.nextDropoutSeed?.());
  const a = layerNorm(tf.add(attended, x), b('attention/output/LayerNorm/gamma'), b('attention/output/LayerNorm/beta'), eps);

  const act = activation(config.hidden_act as Activation);
  const intermediate = act(dense(a, w('intermediate/dense/kernel'), b('intermediate/dense/bias')));
  const out = dropout(dense(intermediate, w('output/dense/kernel'), b('output/dense/bias')), hiddenDropout, inputs.nextDropoutSeed?.());
  return layerNorm(tf.add(out, a), b('output/LayerNorm/gamma'), b('output/LayerNorm/beta'), eps) as tf.Tensor3D;
}
