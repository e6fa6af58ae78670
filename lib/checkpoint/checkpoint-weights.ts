import type { BigBirdConfig } from '../model/bigbird-config.js';
import { type BigBirdHead, bigBirdModelVariables } from '../model/variables.js';
import { BigBirdWeights, type NamedArray } from '../model/weights.js';
import { CheckpointReader } from './tensor-bundle-reader.js';

/**
 * BigBird's weights from a KoBigBird TF checkpoint (`PREFIX.index` + data shards) under the spec §3.7
 * names; optimizer slots and `global_step` are listed as unused.
 */
export async function loadWeightsFromCheckpoint(prefix: string, config: BigBirdConfig, head: BigBirdHead): Promise<BigBirdWeights> {
  const reader = await CheckpointReader.open(prefix);
  try {
    const arrays = new Map<string, NamedArray>();
    const expected = bigBirdModelVariables(config, head);
    const wanted = new Set(expected.map((v) => v.name));
    for (const { name } of expected) {
      if (!reader.has(name)) continue; // fromArrays names what is missing
      const v = reader.variable(name);
      const tensor = await reader.read(name);
      if (!(tensor.values instanceof Float32Array) && !(tensor.values instanceof Float64Array)) {
        throw new Error(`${prefix}: variable ${name} is ${v.dtype}, not a float tensor`);
      }
      arrays.set(name, { shape: v.shape, values: tensor.values instanceof Float32Array ? tensor.values : Float32Array.from(tensor.values) });
    }
    const unused = reader.variables.map((v) => v.name).filter((name) => !wanted.has(name));
    return BigBirdWeights.fromArrays(config, head, arrays, prefix, unused);
  } finally {
    await reader.close();
  }
}
