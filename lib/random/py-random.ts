import { MersenneTwister, type MersenneTwisterState } from './mersenne-twister.js';

/**
 * CPython's `random` module, draw for draw: the Mersenne Twister seeded with `init_by_array` from an
 * integer seed, and the exact algorithms of `random()`, `getrandbits`, `_randbelow`, `shuffle`,
 * `choice`, `randint` and `choices(cum_weights=…)`. The reference builder's output is a function of
 * these draws, so seed-for-seed parity starts here.
 */
export class PyRandom {
  private readonly twister = new MersenneTwister();

  constructor(seed: number | bigint) {
    this.seed(seed);
  }

  /** `random.seed(n)` for an integer: the 32-bit words of |n|, least significant first. */
  seed(seed: number | bigint): void {
    let n = BigInt(seed);
    if (n < 0n) n = -n;
    const key: number[] = [];
    do {
      key.push(Number(n & 0xffffffffn));
      n >>= 32n;
    } while (n > 0n);
    this.twister.seedWithKey(key);
  }

  /** The generator's state, to continue later from exactly here (`random.getstate()`). */
  getState(): MersenneTwisterState {
    return this.twister.getState();
  }

  /** Continues from a state `getState()` returned (`random.setstate()`). */
  setState(state: MersenneTwisterState): void {
    this.twister.setState(state);
  }

  /**
   * `count` draws of a normal distribution truncated at ±2σ, as `tf.truncated_normal_initializer`
   * initialises weights: Box–Muller from two `random()` draws, values beyond 2σ drawn again.
   */
  truncatedNormal(count: number, stddev: number): Float32Array {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      let z: number;
      do {
        // 1 - random() keeps the logarithm's argument in (0, 1].
        z = Math.sqrt(-2 * Math.log(1 - this.random())) * Math.cos(2 * Math.PI * this.random());
      } while (Math.abs(z) > 2);
      out[i] = z * stddev;
    }
    return out;
  }

  /** The next raw 32-bit output (`genrand_uint32`). */
  uint32(): number {
    return this.twister.uint32();
  }

  /** `random.random()`: 53 random bits as a double in [0, 1). */
  random(): number {
    const a = this.uint32() >>> 5;
    const b = this.uint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** `random.getrandbits(k)` for 0 ≤ k ≤ 32. */
  getrandbits(k: number): number {
    if (k < 0 || k > 32 || !Number.isInteger(k)) throw new RangeError(`getrandbits: k must be an integer in 0..32, got ${k}`);
    return k === 0 ? 0 : this.uint32() >>> (32 - k);
  }

  /** `random._randbelow(n)`: rejection sampling with getrandbits(n.bit_length()). */
  randbelow(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 0xffffffff) throw new RangeError(`randbelow: n must be an integer in 1..2^32-1, got ${n}`);
    const k = 32 - Math.clz32(n);
    let r = this.getrandbits(k);
    while (r >= n) r = this.getrandbits(k);
    return r;
  }

  /** `random.shuffle(x)` in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.randbelow(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }

  /** `random.choice(seq)`. */
  choice<T>(items: ArrayLike<T>): T {
    if (items.length === 0) throw new RangeError('choice: empty sequence');
    return items[this.randbelow(items.length)];
  }

  /** `random.randint(a, b)`, both ends included. */
  randint(a: number, b: number): number {
    return a + this.randbelow(b - a + 1);
  }

  /** `random.choices(population, cum_weights=cumWeights)[0]` as an index: one `random()` and a bisect. */
  choiceIndexByCumWeights(cumWeights: readonly number[]): number {
    const x = this.random() * cumWeights[cumWeights.length - 1];
    let lo = 0;
    let hi = cumWeights.length - 1; // bisect_right(cum, x, 0, n - 1)
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (x < cumWeights[mid]) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
