import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { expect } from 'vitest';
import { selectBackend } from '../../lib/backend/select-backend.js';

/**
 * Running the same computation on the wasm backend (with this project's kernels) and on the cpu
 * reference backend, from the same input values, and comparing the results.
 */

/** Selects wasm (registering the project's kernels and gradients) with cpu loaded beside it. */
export async function useWasmAndCpu(): Promise<void> {
  const selection = await selectBackend({ prefer: 'wasm' });
  expect(selection.backend).toBe('wasm');
  await tf.setBackend('cpu');
  await tf.ready();
}

export interface InputSpec {
  readonly shape: readonly number[];
  readonly dtype?: 'float32' | 'int32' | 'bool';
  /** Explicit values; otherwise uniform in [low, high) from a seeded generator. */
  readonly values?: readonly number[];
  readonly low?: number;
  readonly high?: number;
}

/** A small deterministic generator (mulberry32) so both backends get identical inputs. */
export function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function inputValues(spec: InputSpec, seed: number): number[] {
  if (spec.values !== undefined) return [...spec.values];
  const random = seededUniform(seed);
  const low = spec.low ?? -2;
  const high = spec.high ?? 2;
  const size = spec.shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: size }, () => {
    const x = low + (high - low) * random();
    return spec.dtype === 'int32' ? Math.floor(x) : x;
  });
}

export interface Outcome {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly values: readonly number[];
  /** d(sum(output · weights))/d(input) for each float32 input named in `differentiate`. */
  readonly gradients: readonly (readonly number[])[];
}

/**
 * Runs `f` on `backend`. With `differentiate` (input positions), also the gradients of
 * sum(f(...) · w) for fixed pseudo-random weights w, so every output element gets its own cotangent.
 */
export async function runOn(
  backend: string,
  inputs: readonly InputSpec[],
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  differentiate: readonly number[] = [],
  seed = 1,
): Promise<Outcome> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const outcome = tf.tidy(() => {
    const xs = inputs.map((spec, i) => tf.tensor(inputValues(spec, seed * 101 + i), spec.shape as number[], spec.dtype ?? 'float32'));
    const y = f(...xs);
    const gradients: number[][] = [];
    if (differentiate.length > 0) {
      const weights = tf.tensor(inputValues({ shape: y.shape }, seed * 977), y.shape, 'float32');
      const grads = tf.grads((...picked: tf.Tensor[]) => {
        const all = xs.slice();
        differentiate.forEach((position, j) => {
          all[position] = picked[j];
        });
        return tf.sum(tf.mul(f(...all), weights));
      });
      for (const g of grads(differentiate.map((position) => xs[position]))) gradients.push(Array.from(g.dataSync()));
    }
    return { dtype: y.dtype, shape: y.shape.slice(), values: Array.from(y.dataSync()), gradients };
  });
  expect(tf.memory().numTensors, `tensors leaked on ${backend}`).toBe(before);
  return outcome;
}

/** Largest |actual − expected| over the largest |expected| (NaN matching NaN counts as equal). */
export function relativeError(actual: readonly number[], expected: readonly number[]): number {
  expect(actual.length).toBe(expected.length);
  let scale = 0;
  for (const x of expected) if (Number.isFinite(x)) scale = Math.max(scale, Math.abs(x));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) || Number.isNaN(a)) {
      if (!(Number.isNaN(e) && Number.isNaN(a))) return Infinity;
      continue;
    }
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (a !== e) return Infinity;
      continue;
    }
    worst = Math.max(worst, Math.abs(a - e));
  }
  return scale === 0 ? worst : worst / scale;
}

/** float32 round-off allowance, relative to the magnitude of the expected values. */
export const TOLERANCE = 1e-5;

export function expectClose(actual: readonly number[], expected: readonly number[], what: string): void {
  expect(relativeError(actual, expected), what).toBeLessThanOrEqual(TOLERANCE);
}

export function expectSameOutcome(wasm: Outcome, cpu: Outcome, what: string): void {
  expect(wasm.dtype, `${what}: dtype`).toBe(cpu.dtype);
  expect(wasm.shape, `${what}: shape`).toEqual(cpu.shape);
  expectClose(wasm.values, cpu.values, `${what}: values`);
  expect(wasm.gradients.length, `${what}: gradient count`).toBe(cpu.gradients.length);
  wasm.gradients.forEach((g, i) => {
    expectClose(g, cpu.gradients[i], `${what}: gradient ${i}`);
  });
}
