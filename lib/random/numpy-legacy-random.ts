import { MersenneTwister } from './mersenne-twister.js';

/**
 * numpy's legacy global generator (`np.random.seed` / `np.random.permutation`, i.e. `RandomState` on MT19937),
 * limited to what BigBird's random attention plans draw. numpy froze this stream for backward compatibility,
 * so the plans that Hugging Face and the TF reference build are a pure function of these few algorithms.
 */
export class NumpyLegacyRandom {
  private readonly twister = new MersenneTwister();

  constructor(seed: number) {
    this.seed(seed);
  }

  /**
   * `np.random.seed(n)` for a Python int: numpy's `mt19937_seed`, which is `init_genrand(n)` —
   * unlike CPython's `random.seed`, it does not go through `init_by_array`.
   */
  seed(seed: number): void {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`NumpyLegacyRandom.seed: numpy accepts integer seeds in 0..2^32-1, got ${seed}`);
    }
    this.twister.seedWithWord(seed);
  }

  /** The next raw 32-bit output. */
  uint32(): number {
    return this.twister.uint32();
  }

  /**
   * numpy's `random_interval(max)`: a uniform integer in 0..max inclusive, by masking each 32-bit draw to the
   * smallest all-ones mask covering `max` and rejecting values above it. (The 64-bit branch numpy takes for
   * max ≥ 2^32 is out of reach here: `max` is an array index.)
   */
  interval(max: number): number {
    if (!Number.isInteger(max) || max < 0 || max > 0xffffffff) {
      throw new RangeError(`NumpyLegacyRandom.interval: max must be an integer in 0..2^32-1, got ${max}`);
    }
    if (max === 0) return 0;
    const mask = 0xffffffff >>> Math.clz32(max);
    let value = (this.uint32() & mask) >>> 0;
    while (value > max) value = (this.uint32() & mask) >>> 0;
    return value;
  }

  /** `RandomState.shuffle(x)` on a 1-d array, in place: Fisher–Yates from the end, `j = interval(i)`. */
  shuffle<T extends { length: number; [index: number]: number }>(values: T): T {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.interval(i);
      const tmp = values[i];
      values[i] = values[j];
      values[j] = tmp;
    }
    return values;
  }

  /**
   * `RandomState.permutation(x)`: a shuffled copy of a 1-d array, or of `arange(n)` when given an integer.
   * The plans only permute int32 block ids, so the copy is an Int32Array.
   */
  permutation(source: number | ArrayLike<number>): Int32Array {
    let values: Int32Array;
    if (typeof source === 'number') {
      if (!Number.isInteger(source) || source < 0) throw new RangeError(`NumpyLegacyRandom.permutation: n must be a non-negative integer, got ${source}`);
      values = new Int32Array(source);
      for (let i = 0; i < source; i++) values[i] = i;
    } else {
      values = Int32Array.from(source);
    }
    return this.shuffle(values);
  }
}
