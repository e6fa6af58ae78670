import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PyRandom } from '../../lib/random/py-random.js';
import { fixture, hasFixtures } from '../helpers/fixtures.js';

/** Python floats are stored as repr() strings; JS `String(x)` prints the same shortest round-trip form. */
const reprs = (xs: number[]): string[] => xs.map((x) => (Number.isInteger(x) ? `${x}.0` : String(x)));

describe('CPython random, without fixtures', () => {
  it('the first random() values for seed 12345 quoted in the spec', () => {
    const rng = new PyRandom(12345);
    expect([rng.random(), rng.random(), rng.random()]).toEqual([0.41661987254534116, 0.010169169457068361, 0.8252065092537432]);
  });

  it('randbelow stays below n and covers the range', () => {
    const rng = new PyRandom(1);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const r = rng.randbelow(7);
      expect(r).toBeGreaterThanOrEqual(0);
      expect(r).toBeLessThan(7);
      seen.add(r);
    }
    expect(seen.size).toBe(7);
  });
});

describe.skipIf(!hasFixtures)('CPython random against Python 3.11 vectors (golden-builder/rng)', () => {
  it('every seed and function in python_random_builder_vectors.json', () => {
    const vectors = JSON.parse(readFileSync(fixture('golden-builder', 'rng', 'python_random_builder_vectors.json'), 'utf8')) as Record<
      string,
      Record<string, unknown>
    >;
    const seeds = Object.keys(vectors).filter((k) => k.startsWith('seed_'));
    expect(seeds.length).toBe(7);
    for (const key of seeds) {
      const seed = BigInt(key.slice('seed_'.length));
      const v = vectors[key] as Record<string, (number | string)[]>;
      const fresh = (): PyRandom => new PyRandom(seed);
      let rng = fresh();
      expect(
        Array.from({ length: v.getrandbits32_x10.length }, () => rng.getrandbits(32)),
        key,
      ).toEqual(v.getrandbits32_x10);
      rng = fresh();
      expect(reprs(Array.from({ length: v.random_x10.length }, () => rng.random())), key).toEqual(v.random_x10);
      expect(fresh().shuffle(Array.from({ length: 20 }, (_, i) => i)), key).toEqual(v.shuffle_range20);
      expect(fresh().shuffle([0, 1, 2, 3]), key).toEqual(v.shuffle_range4);
      rng = fresh();
      expect(
        Array.from({ length: 10 }, () => rng.randint(5, 128)),
        key,
      ).toEqual(v.randint_5_128_x10);
      rng = fresh();
      expect(
        Array.from({ length: 10 }, () => rng.randint(5, 4096)),
        key,
      ).toEqual(v.randint_5_4096_x10);
      rng = fresh();
      expect(
        Array.from({ length: 10 }, () => rng.randbelow(32002)),
        key,
      ).toEqual(v.choice_range32002_x10);
      for (const n of [2, 3]) {
        const cum = (v[`cum_weights_ngram${n}`] as string[]).map(Number);
        expect(reprs(Array.from({ length: n }, (_, i) => Array.from({ length: i + 1 }, (_, k) => 1 / (k + 1)).reduce((a, b) => a + b)))).toEqual(
          v[`cum_weights_ngram${n}`],
        );
        rng = fresh();
        expect(
          Array.from({ length: 20 }, () => rng.choiceIndexByCumWeights(cum) + 1),
          key,
        ).toEqual(v[`choices_ngram${n}_x20`]);
      }
    }
  });

  it('rng_vectors.json (seed 12345)', () => {
    const v = JSON.parse(readFileSync(fixture('golden-builder', 'rng', 'rng_vectors.json'), 'utf8')) as Record<string, (number | string)[]>;
    let rng = new PyRandom(12345);
    expect(Array.from({ length: 10 }, () => rng.uint32())).toEqual(v.py_seed12345_first10_uint32);
    rng = new PyRandom(12345);
    expect(reprs(Array.from({ length: 10 }, () => rng.random()))).toEqual(v.py_seed12345_first10_random);
    expect(new PyRandom(12345).shuffle(Array.from({ length: 20 }, (_, i) => i))).toEqual(v.py_seed12345_shuffle_range20);
  });
});
