import type { Example, Feature } from './example.js';

/**
 * Typed access to one feature's values, so readers never cast: a missing key or another kind is an
 * error naming both. An empty `Feature {}` (TensorFlow's missing value) reads as no values.
 */
function lookup<K extends Feature['kind']>(example: Example, key: string, kind: K, description: string): Extract<Feature, { kind: K }> | undefined {
  const feature = example.get(key);
  if (feature === undefined || (feature.kind !== kind && feature.kind !== 'none')) {
    throw new Error(`feature ${JSON.stringify(key)}: expected ${description}, found ${feature ? feature.kind : 'nothing'}`);
  }
  return feature.kind === kind ? (feature as Extract<Feature, { kind: K }>) : undefined;
}

/** The values of an int64 feature as numbers; an error too for a value beyond ±2^53 (read `value` for those). */
export function int64Values(example: Example, key: string): number[] {
  const feature = lookup(example, key, 'int64List', 'an int64 list');
  return Array.from(feature?.value ?? [], (v) => {
    if (typeof v === 'bigint') throw new Error(`feature ${JSON.stringify(key)}: ${v} does not fit a JavaScript number`);
    return v;
  });
}

/** The values of a float feature (float32). */
export function floatValues(example: Example, key: string): Float32Array {
  return lookup(example, key, 'floatList', 'a float list')?.value ?? new Float32Array(0);
}

/** The values of a bytes feature. */
export function bytesValues(example: Example, key: string): readonly Uint8Array[] {
  return lookup(example, key, 'bytesList', 'a bytes list')?.value ?? [];
}
