import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { dropoutMultiplier, dropoutMultiplierScalar } from '../../lib/random/dropout-multiplier.js';
import { FUZZ_RUNS } from '../helpers/fuzz.js';

const kept = (rate: number): number => Math.fround(1 / Math.fround(1 - rate));

/** The counter-based dropout multiplier: a function of (seed, position), with the statistics of a fair draw. */
describe('dropoutMultiplier', () => {
  test('is a function of the seed and the position alone: the same seed draws the same mask, and a longer draw extends a shorter one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.double({ min: 0.001, max: 0.95, noNaN: true }),
        fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.double({ noNaN: true })),
        (length, extra, rate, seed) => {
          const short = dropoutMultiplier(length, rate, seed);
          expect(dropoutMultiplier(length, rate, seed)).toEqual(short);
          expect(dropoutMultiplier(length + extra, rate, seed).subarray(0, length)).toEqual(short);
          expect(new Set(short).size).toBeLessThanOrEqual(2);
          for (const value of short) expect(value === 0 || value === kept(rate)).toBe(true);
        },
      ),
      { numRuns: Math.min(FUZZ_RUNS, 100) },
    );
  });

  test('drops `rate` of the values, evenly along the array, and masks of neighbouring seeds are independent', () => {
    const n = 1 << 20;
    for (const [rate, seed] of [
      [0.1, 1],
      [0.5, 2],
      [0.9, 3],
    ] as const) {
      const mask = dropoutMultiplier(n, rate, seed);
      // Dropped count is Binomial(n, rate): within 5 standard deviations.
      const dropped = mask.filter((v) => v === 0).length;
      expect(Math.abs(dropped - n * rate)).toBeLessThan(5 * Math.sqrt(n * rate * (1 - rate)));
      // Chi-square of the dropped counts over 64 equal stretches (63 degrees of freedom; 0.1% critical value 103.4).
      const stretches = 64;
      const per = n / stretches;
      let chi = 0;
      for (let s = 0; s < stretches; s++) {
        const count = mask.subarray(s * per, (s + 1) * per).filter((v) => v === 0).length;
        chi += (count - per * rate) ** 2 / (per * rate * (1 - rate));
      }
      expect(chi).toBeLessThan(103.4);
      // Consecutive elements and the next seed's mask: P(both dropped) = rate² within 5 standard deviations.
      const next = dropoutMultiplier(n, rate, seed + 1);
      let adjacent = 0;
      let crossSeed = 0;
      for (let i = 0; i < n; i++) {
        if (mask[i] === 0 && mask[(i + 1) % n] === 0) adjacent++;
        if (mask[i] === 0 && next[i] === 0) crossSeed++;
      }
      const p = rate * rate;
      // Adjacent pairs overlap, so their count's variance is below 3·n·p: 8 √(n·p) is over 4.6 standard deviations.
      const bound = 8 * Math.sqrt(n * p);
      expect(Math.abs(adjacent - n * p)).toBeLessThan(bound);
      expect(Math.abs(crossSeed - n * p)).toBeLessThan(bound);
    }
  });

  test('draws a fresh mask without a seed', () => {
    const a = dropoutMultiplier(10_000, 0.3);
    const b = dropoutMultiplier(10_000, 0.3);
    expect(a).not.toEqual(b);
  });

  test('keeps everything at rate 0 and refuses a rate outside [0, 1)', () => {
    expect(dropoutMultiplier(1000, 0, 7).every((v) => v === 1)).toBe(true);
    expect(() => dropoutMultiplier(3, 1)).toThrow(/\[0, 1\)/);
    expect(() => dropoutMultiplier(3, -0.1)).toThrow(/\[0, 1\)/);
  });
});

describe('dropoutMultiplier in WebAssembly SIMD', () => {
  test('is the JavaScript loop’s multiplier, bit for bit, at any length, rate and seed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200_000 }),
        fc.oneof(fc.double({ min: 0, max: 0.999999, noNaN: true }), fc.constantFrom(0, 1e-10, 0.5, 1 - 2 ** -33, 1 - 1e-12)),
        fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.double({ noNaN: true })),
        (length, rate, seed) => {
          expect(dropoutMultiplier(length, rate, seed)).toEqual(dropoutMultiplierScalar(length, rate, seed));
        },
      ),
      { numRuns: Math.min(FUZZ_RUNS, 60) },
    );
  });
});
