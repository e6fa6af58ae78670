import { PyRandom } from '../random/py-random.js';
import { elementCount } from '../tensor/shape.js';
import { byCodePoints } from '../text/compare-code-points.js';
import type { BigBirdConfig } from './bigbird-config.js';
import { type BigBirdHead, bigBirdModelVariables } from './variables.js';
import type { NamedArray } from './weights.js';

/**
 * A fresh BigBird's values, as KoBigBird's TF model initialises them: every kernel, embedding table and
 * the NSP weights from a truncated normal with σ = `initializer_range` (values beyond 2σ redrawn);
 * biases and LayerNorm β zero, LayerNorm γ one. Drawn in variable-name order from one seeded
 * generator, so the same seed gives the same model.
 */
export function initialBigBirdValues(config: BigBirdConfig, head: BigBirdHead, seed: number): Map<string, NamedArray> {
  const rng = new PyRandom(seed);
  const values = new Map<string, NamedArray>();
  for (const { name, shape } of bigBirdModelVariables(config, head).sort(byCodePoints((v) => v.name))) {
    const count = elementCount(shape);
    const leaf = name.slice(name.lastIndexOf('/') + 1);
    let data: Float32Array;
    if (leaf === 'gamma') data = new Float32Array(count).fill(1);
    else if (leaf === 'beta' || leaf === 'bias' || leaf === 'output_bias') data = new Float32Array(count);
    else data = rng.truncatedNormal(count, config.initializer_range);
    values.set(name, { shape, values: data });
  }
  return values;
}
