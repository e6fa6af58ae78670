import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from 'vitest';
import { fusedLayerNorm, hasFusedLayerNorm, LAYER_NORM } from '../../lib/backend/fused-layer-norm.js';
import { selectBackend } from '../../lib/backend/select-backend.js';
import { layerNormChain } from '../../lib/model/nn.js';

const EPS = 1e-12;

/** LayerNorm and its three gradients in float64 from float32 inputs: the reference both paths are held to. */
function inFloat64(x: Float32Array, gamma: Float32Array, beta: Float32Array, dy: Float32Array, width: number) {
  const y = new Float64Array(x.length);
  const dx = new Float64Array(x.length);
  const dgamma = new Float64Array(width);
  const dbeta = new Float64Array(width);
  const eps = Math.fround(EPS);
  for (let row = 0; row < x.length; row += width) {
    let mean = 0;
    for (let j = 0; j < width; j++) mean += x[row + j] as number;
    mean /= width;
    let variance = 0;
    for (let j = 0; j < width; j++) variance += ((x[row + j] as number) - mean) ** 2;
    variance /= width;
    const r = 1 / Math.sqrt(variance + eps);
    const xhat = Array.from({ length: width }, (_, j) => ((x[row + j] as number) - mean) * r);
    const g = Array.from({ length: width }, (_, j) => (dy[row + j] as number) * (gamma[j] as number));
    const a = g.reduce((sum, v) => sum + v, 0) / width;
    const b = g.reduce((sum, v, j) => sum + v * (xhat[j] as number), 0) / width;
    for (let j = 0; j < width; j++) {
      y[row + j] = (xhat[j] as number) * (gamma[j] as number) + (beta[j] as number);
      dx[row + j] = r * ((g[j] as number) - a - (xhat[j] as number) * b);
      dgamma[j] = (dgamma[j] as number) + (dy[row + j] as number) * (xhat[j] as number);
      dbeta[j] = (dbeta[j] as number) + (dy[row + j] as number);
    }
  }
  return { y, dx, dgamma, dbeta };
}

/** The largest difference from the reference, in units of the reference's largest magnitude. */
function relativeError(values: ArrayLike<number>, reference: Float64Array): number {
  let scale = 0;
  let error = 0;
  for (let i = 0; i < reference.length; i++) {
    scale = Math.max(scale, Math.abs(reference[i] as number));
    error = Math.max(error, Math.abs((values[i] as number) - (reference[i] as number)));
  }
  return error / scale;
}

describe('fused LayerNorm', () => {
  test('the cpu backend has no fused kernels and keeps the chain', async () => {
    expect((await selectBackend({ prefer: 'cpu' })).backend).toBe('cpu');
    expect(hasFusedLayerNorm()).toBe(false);
  });

  test.each([
    ['model-shaped, few rows', [2, 100, 768]],
    ['more rows than the native threshold', [1, 4500, 64]],
  ])('on native, %s: values and gradients within float32 rounding of float64, and no further than the chain', async (_, shape) => {
    expect((await selectBackend({ prefer: 'native' })).backend).toBe('native');
    expect(hasFusedLayerNorm()).toBe(true);
    expect(tf.getKernel(LAYER_NORM, 'native')).toBeDefined();
    const width = shape[shape.length - 1] as number;
    // An offset mean and unequal spreads, as residual streams have.
    const x = tf.add(tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 11), tf.randomUniform([width], 0.5, 4, 'float32', 12)), 3);
    const gamma = tf.randomUniform([width], 0.5, 1.5, 'float32', 13) as tf.Tensor1D;
    const beta = tf.randomNormal([width], 0, 0.1, 'float32', 14) as tf.Tensor1D;
    const dy = tf.randomNormal(shape, 0, 1, 'float32', 15);
    const reference = inFloat64(
      x.dataSync() as Float32Array,
      gamma.dataSync() as Float32Array,
      beta.dataSync() as Float32Array,
      dy.dataSync() as Float32Array,
      width,
    );

    const fused = fusedLayerNorm(x, gamma, beta, EPS);
    const chain = layerNormChain(x, gamma, beta, EPS);
    if ((shape[0] as number) * (shape[1] as number) < 4096) {
      // The chain's [rows, 1] statistics run the cpu kernels below the threshold: the graph computes as they do.
      expect(fused.dataSync()).toEqual(chain.dataSync());
    }
    expect(relativeError(fused.dataSync(), reference.y)).toBeLessThan(2e-6);

    const grads = (f: typeof layerNormChain) => tf.grads((a, g, b) => f(a, g as tf.Tensor1D, b as tf.Tensor1D, EPS))([x, gamma, beta], dy);
    const [dx, dgamma, dbeta] = grads(fusedLayerNorm).map((t) => t.dataSync());
    const [chainDx, chainDgamma, chainDbeta] = grads(layerNormChain).map((t) => t.dataSync());
    for (const [values, chainValues, exact] of [
      [dx, chainDx, reference.dx],
      [dgamma, chainDgamma, reference.dgamma],
      [dbeta, chainDbeta, reference.dbeta],
    ] as const) {
      const error = relativeError(values as Float32Array, exact);
      expect(error).toBeLessThan(1e-5);
      expect(error).toBeLessThanOrEqual(relativeError(chainValues as Float32Array, exact) + 2 ** -23);
    }
  });
});
