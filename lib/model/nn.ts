import * as tf from '@tensorflow/tfjs-core';
import { recomputed } from '../autodiff/recompute.js';
import { fusedDropout, hasFusedDropout } from '../backend/fused-dropout.js';
import { fusedGeluNew, hasFusedGeluNew } from '../backend/fused-gelu.js';
import { fusedLayerNorm, hasFusedLayerNorm } from '../backend/fused-layer-norm.js';
import { fusedSoftmaxDropout, hasFusedSoftmaxDropout } from '../backend/fused-softmax-dropout.js';
import { dropoutMultiplier } from '../random/dropout-multiplier.js';
import { mixSeeds } from '../random/mix-seeds.js';
import type { Activation } from './bigbird-config.js';

/**
 * The small building blocks every BigBird module uses. Parameters come in TF layout: a dense kernel
 * is [in, out] (so `x · kernel`, no transpose), LayerNorm has `gamma` (scale) and `beta` (shift).
 */

/** `x · kernel + bias` over the last axis of x, for any leading shape. */
export function dense(x: tf.Tensor, kernel: tf.Tensor2D, bias: tf.Tensor1D | undefined): tf.Tensor {
  const [inSize, outSize] = kernel.shape;
  const leading = x.shape.slice(0, -1);
  const flat = tf.reshape(x, [-1, inSize]) as tf.Tensor2D;
  const y = bias ? tf.add(tf.matMul(flat, kernel), bias) : tf.matMul(flat, kernel);
  return tf.reshape(y, [...leading, outSize]);
}

/**
 * LayerNorm over the last axis with the population variance, `(x − mean) / sqrt(var + eps) · gamma + beta`,
 * as torch's `nn.LayerNorm` and TF's `layer_norm` compute it.
 */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor {
  // A backend with a fused LayerNorm and gradient (lib/backend/fused-layer-norm.ts) runs that instead.
  if (x.dtype === 'float32' && x.rank >= 2 && hasFusedLayerNorm()) return fusedLayerNorm(x, gamma, beta, eps);
  return layerNormChain(x, gamma, beta, eps);
}

/** `layerNorm` as TensorFlow.js ops: the reference the fused op is tested against. */
export function layerNormChain(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  const normalized = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(normalized, gamma), beta);
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/**
 * HF's `gelu_new` (= TF BigBird's `gelu`): `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`. The cube is
 * written as products: `tf.pow` would also differentiate with respect to the exponent, through log(x).
 */
export function geluNew(x: tf.Tensor): tf.Tensor {
  const cube = tf.mul(tf.mul(x, x), x);
  const inner = tf.mul(tf.add(x, tf.mul(cube, 0.044715)), SQRT_2_OVER_PI);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

/** Exact gelu, `0.5·x·(1 + erf(x/√2))` (HF's `gelu`). */
export function geluExact(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

/**
 * The two gelus as single recomputed ops (lib/autodiff/recompute.ts): a training step keeps only their
 * input, not their six or seven elementwise products (at 4096 tokens each is a [4096, 3072] tensor of
 * 48 MiB per layer); the gradient is the same.
 */
const recomputedGeluNew = recomputed(geluNew);
const recomputedGeluExact = recomputed(geluExact);

export function activation(name: Activation): (x: tf.Tensor) => tf.Tensor {
  if (name !== 'gelu_new') return recomputedGeluExact;
  // A backend with a fused gelu_new and gradient (lib/backend/fused-gelu.ts) runs that instead.
  return (x) => (hasFusedGeluNew() ? fusedGeluNew(x) : recomputedGeluNew(x));
}

/**
 * Inverted dropout (kept values scaled by 1/(1−rate)), as torch's; the identity at rate 0 so eval
 * paths add no op. With a `seed` the mask is a function of it alone (lib/random/dropout-multiplier.ts).
 */
export function dropout(x: tf.Tensor, rate: number, seed?: number): tf.Tensor {
  if (rate <= 0) return x;
  // A backend with the fused op (lib/backend/fused-dropout.ts) makes the mask in the product's pass.
  if (x.dtype === 'float32' && hasFusedDropout()) return fusedDropout(x, rate, seed ?? Math.random() * 2 ** 31);
  return tf.mul(x, tf.tensor(dropoutMultiplier(x.size, rate, seed), x.shape, 'float32'));
}

/**
 * `dropout(softmax(x), rate, seed)` over the last axis. A backend with the fused dropout runs it as one
 * op whose gradient draws no second mask (lib/backend/fused-softmax-dropout.ts).
 */
export function softmaxDropout(x: tf.Tensor, rate: number, seed?: number): tf.Tensor {
  if (rate <= 0) return tf.softmax(x);
  if (x.dtype === 'float32' && hasFusedSoftmaxDropout()) return fusedSoftmaxDropout(x, rate, seed ?? Math.random() * 2 ** 31);
  return dropout(tf.softmax(x), rate, seed);
}

/**
 * The seeds of one forward pass's dropout sites, in the order the pass reaches them. With a pass seed
 * every site gets its own, so the same pass seed draws the same masks (what a resumed run needs);
 * without one every site gets undefined and draws unseeded.
 */
export function dropoutSeeds(passSeed: number | undefined): () => number | undefined {
  if (passSeed === undefined) return () => undefined;
  let site = 0;
  return () => mixSeeds(passSeed, site++);
}
