/**
 * The multiplier inverted dropout multiplies x by: 0 for a dropped element, 1 / (1 − rate) (rounded to
 * float32) for a kept one. Element i is dropped when a counter-based hash of (seed, i) falls below
 * rate · 2³², so the mask is a pure function of the seed and the position: the same seed draws the
 * same mask whatever the length (a recomputed pass needs exactly that), and nothing is carried from
 * one element to the next.
 *
 * The hash is two rounds of a 32-bit integer mixer (Wellons' `triple32`, three multiplies, one of the
 * least biased such mixers known), each round keyed by its own word of the seed, so two seeds give
 * unrelated masks, not shifted copies of one stream. It runs at about 4 ns an element where the alea
 * stream tf.dropout draws from took 12 ns: at 1024 tokens full attention's probabilities are 12.6 M
 * elements per layer, drawn twice per step (the forward pass and its recomputation).
 */
export function dropoutMultiplier(length: number, rate: number, seed?: number): Float32Array {
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`dropout rate must be in [0, 1), got ${rate}`);
  const [key1, key2] = seedKeys(seed ?? Math.random());
  // Dropped when the hash is below this: the share dropped is rate to within 2⁻³².
  const threshold = Math.round(rate * 2 ** 32);
  const kept = Math.fround(1 / Math.fround(1 - rate));
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    if (triple32(triple32(i ^ key1) ^ key2) >= threshold) out[i] = kept;
  }
  return out;
}

/** Wellons' triple32 (hash-prospector): a bijection of 32-bit words with full avalanche; unsigned result. */
function triple32(word: number): number {
  let x = word;
  x ^= x >>> 17;
  x = Math.imul(x, 0xed5ad4bb);
  x ^= x >>> 11;
  x = Math.imul(x, 0xac4c1b51);
  x ^= x >>> 15;
  x = Math.imul(x, 0x31848bab);
  x ^= x >>> 14;
  return x >>> 0;
}

/** Two 32-bit keys from any number: its float64 bits, mixed, so nearby seeds give unrelated keys. */
function seedKeys(seed: number): [number, number] {
  const words = new Uint32Array(new Float64Array([seed]).buffer);
  const low = words[0] as number;
  const high = words[1] as number;
  const key1 = triple32(low ^ triple32(high ^ 0x9e3779b9));
  const key2 = triple32(key1 ^ triple32(high ^ 0x85ebca6b) ^ 0x27d4eb2f);
  return [key1, key2];
}
