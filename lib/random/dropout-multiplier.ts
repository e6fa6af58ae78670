import seedrandom from 'seedrandom';

/**
 * The multiplier `tf.dropout(x, rate, undefined, seed)` multiplies x by — `floor(u + keep) / keep` for
 * u = `tf.randomUniform(x.shape, 0, 1, 'float32', seed)` — made in one pass instead of a uniform draw
 * and three elementwise ops over the whole shape (at 4096 tokens the attention probabilities' dropout
 * is 22 M elements, about half a second a time). The values are the same bits: the same alea
 * stream from the same seed string, each step rounded to float32 as tfjs stores it (u, then u + keep,
 * then the quotient). Without a seed the stream is seeded from Math.random(), as tfjs does.
 */
export function dropoutMultiplier(length: number, rate: number, seed?: number): Float32Array {
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`dropout rate must be in [0, 1), got ${rate}`);
  const random = seedrandom.alea(String(seed ?? Math.random()));
  const keep = Math.fround(1 - rate);
  const kept = Math.fround(1 / keep);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    // floor(fround(u + keep)) is 1 exactly when fround(u + keep) ≥ 1, and 1 / keep rounds to `kept`.
    out[i] = Math.fround(Math.fround(random()) + keep) >= 1 ? kept : 0;
  }
  return out;
}
