const N = 624;

/** A generator's state, plain data (JSON-safe). */
export interface MersenneTwisterState {
  readonly words: readonly number[];
  readonly index: number;
}

const M = 397;

/**
 * The MT19937 generator of Matsumoto and Nishimura, as CPython's `_random` and numpy's legacy `RandomState`
 * both embed it. The two differ only in how an integer seed becomes state (CPython always goes through
 * `init_by_array`, numpy's `seed(int)` through `init_genrand`), so each wrapper picks its seeding here and
 * shares the one twister.
 */
export class MersenneTwister {
  private readonly state = new Uint32Array(N);
  private index = N + 1;

  /** The reference `init_genrand(s)`: a linear-congruential fill of the state from one 32-bit word. */
  seedWithWord(seed: number): void {
    const mt = this.state;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.index = N;
  }

  /** The reference `init_by_array(key)`, which starts from `init_genrand(19650218)`. */
  seedWithKey(key: readonly number[]): void {
    if (key.length === 0) throw new RangeError('MersenneTwister: init_by_array needs at least one key word');
    const mt = this.state;
    this.seedWithWord(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(prev, 1664525)) + key[j] + j) >>> 0;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = ((mt[i] ^ Math.imul(prev, 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
    }
    mt[0] = 0x80000000;
    this.index = N;
  }

  /** The whole state (Python's `getstate()` holds the same): the 624 words and the position in them. */
  getState(): MersenneTwisterState {
    return { words: Array.from(this.state), index: this.index };
  }

  /** Restores a state from `getState()`, so the generator continues exactly where that one was. */
  setState(state: MersenneTwisterState): void {
    const { words, index } = state;
    if (!Array.isArray(words) || words.length !== N || !words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)) {
      throw new RangeError(`MersenneTwister: a state needs ${N} 32-bit words`);
    }
    if (!Number.isInteger(index) || index < 0 || index > N) throw new RangeError(`MersenneTwister: state index ${index} is outside 0..${N}`);
    this.state.set(words);
    this.index = index;
  }

  /** The next raw 32-bit output (`genrand_uint32`). */
  uint32(): number {
    const mt = this.state;
    if (this.index >= N) {
      if (this.index > N) throw new Error('MersenneTwister: used before it was seeded');
      let kk = 0;
      for (; kk < N - M; kk++) {
        const y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
        mt[kk] = mt[kk + M] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      for (; kk < N - 1; kk++) {
        const y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff);
        mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      const y = (mt[N - 1] & 0x80000000) | (mt[0] & 0x7fffffff);
      mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      this.index = 0;
    }
    let y = mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }
}
