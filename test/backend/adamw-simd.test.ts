import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { adamWUpdateSimd, hasAdamWSimd } from '../../lib/backend/adamw-simd.js';
import { type FusedAdamWAttrs, fusedAdamWUpdate } from '../../lib/backend/adamw-update.js';
import { FUZZ_RUNS } from '../helpers/fuzz.js';

/** Floats from every corner: zeros of both signs, subnormals, huge values, infinities, NaN. */
const anyFloat = fc.oneof(
  { weight: 6, arbitrary: fc.float({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.constantFrom(0, -0, 1e-45, -1e-45, 1e-38, 3e38, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN) },
);

const attrsArbitrary: fc.Arbitrary<FusedAdamWAttrs> = fc.record({
  flavour: fc.constantFrom('bert' as const, 'pytorch' as const),
  beta1: fc.double({ min: 0, max: 0.999, noNaN: true }),
  beta2: fc.double({ min: 0.9, max: 0.99999, noNaN: true }),
  epsilon: fc.constantFrom(1e-6, 1e-8, 1e-12),
  learningRate: fc.double({ min: 1e-6, max: 1, noNaN: true }),
  weightDecay: fc.constantFrom(0, 0.01, 0.1),
  correction1: fc.double({ min: 0.01, max: 1, noNaN: true }),
  correction2: fc.double({ min: 0.01, max: 1, noNaN: true }),
});

function update(fn: typeof fusedAdamWUpdate, arrays: Float32Array[], attrs: FusedAdamWAttrs): Float32Array[] {
  const [variable, grad, m, v] = arrays as [Float32Array, Float32Array, Float32Array, Float32Array];
  const out = { variable: new Float32Array(variable.length), m: new Float32Array(variable.length), v: new Float32Array(variable.length) };
  fn(variable, grad, m, v, attrs, out);
  return [out.variable, out.m, out.v];
}

describe('AdamW in WebAssembly SIMD', () => {
  test('runs here', () => {
    expect(hasAdamWSimd()).toBe(true);
  });

  test('gives the JavaScript update’s bits for every value, both flavours, any length', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }).chain((length) => fc.array(fc.float32Array({ minLength: length, maxLength: length }), { minLength: 4, maxLength: 4 })),
        fc.array(anyFloat, { minLength: 4, maxLength: 4 }),
        attrsArbitrary,
        (arrays, specials, attrs) => {
          // Plant one special value in each array, so every run meets some.
          arrays.forEach((array, i) => {
            array[i % array.length] = specials[i] as number;
          });
          expect(update(adamWUpdateSimd, arrays, attrs)).toEqual(update(fusedAdamWUpdate, arrays, attrs));
        },
      ),
      { numRuns: Math.min(FUZZ_RUNS, 300) },
    );
  });

  test('across chunk boundaries: 40,001 elements', () => {
    const length = 40_001;
    let state = 7;
    const next = () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 2 ** 32 - 0.5;
    };
    const arrays = Array.from({ length: 4 }, (_, k) => Float32Array.from({ length }, () => (k === 3 ? Math.abs(next()) : next()) * 10 ** (k - 3)));
    for (const flavour of ['bert', 'pytorch'] as const) {
      const attrs: FusedAdamWAttrs = {
        flavour,
        beta1: 0.9,
        beta2: 0.999,
        epsilon: 1e-6,
        learningRate: 1e-4,
        weightDecay: 0.01,
        correction1: 0.19,
        correction2: 0.0447,
      };
      expect(update(adamWUpdateSimd, arrays, attrs)).toEqual(update(fusedAdamWUpdate, arrays, attrs));
    }
  });
});
