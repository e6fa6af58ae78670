import { instantiateSimdModule, type SimdMemory } from '../simd/index.js';
import { DROPOUT_SIMD_WASM } from './dropout-simd-binary.js';

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
 * elements per layer, drawn twice per step (the forward pass and its recomputation). WebAssembly SIMD
 * (dropout-simd.wat) runs the same integer arithmetic four positions at a time, at about 1 ns.
 */
export function dropoutMultiplier(length: number, rate: number, seed?: number): Float32Array {
  // 1 · kept is kept and 1 · 0 is 0: the multiplier is the dropout of ones.
  const ones = new Float32Array(length).fill(1);
  applyDropoutWith(ones, prepare(rate, seed), ones);
  return ones;
}

/**
 * `x · dropoutMultiplier(x.length, rate, seed)` into `out` (which may be x), without making the
 * multiplier: one pass where the mask and the product were two, and nothing kept for the gradient,
 * which is the same multiplication of dy.
 */
export function applyDropout(x: Float32Array, rate: number, seed: number, out: Float32Array): void {
  applyDropoutWith(x, prepare(rate, seed), out);
}

function applyDropoutWith(x: Float32Array, draw: Draw, out: Float32Array): void {
  const simd = dropoutSimd();
  if (simd === undefined || draw.threshold >= 2 ** 32) {
    applyDropoutScalarWith(x, draw, out);
    return;
  }
  const heap = new Float32Array(simd.memory.buffer, 0, SIMD_CHUNK);
  for (let start = 0; start < x.length; start += SIMD_CHUNK) {
    const n = Math.min(SIMD_CHUNK, x.length - start);
    heap.set(x.subarray(start, start + n));
    simd.apply(start, (n + 3) & ~3, draw.key1, draw.key2, draw.threshold, draw.kept);
    out.set(heap.subarray(0, n), start);
  }
}

/** `applyDropout` in plain JavaScript: the reference for the SIMD path, and the path without SIMD. */
export function applyDropoutScalar(x: Float32Array, rate: number, seed: number, out: Float32Array): void {
  applyDropoutScalarWith(x, prepare(rate, seed), out);
}

function applyDropoutScalarWith(x: Float32Array, { key1, key2, threshold, kept }: Draw, out: Float32Array): void {
  for (let i = 0; i < x.length; i++) out[i] = (x[i] as number) * (triple32(triple32(i ^ key1) ^ key2) >= threshold ? kept : 0);
}

/** `dropoutMultiplier` in plain JavaScript: the reference the SIMD path is tested against, and the path without SIMD. */
export function dropoutMultiplierScalar(length: number, rate: number, seed?: number): Float32Array {
  const ones = new Float32Array(length).fill(1);
  applyDropoutScalarWith(ones, prepare(rate, seed), ones);
  return ones;
}

interface Draw {
  readonly key1: number;
  readonly key2: number;
  /** Dropped when the hash is below this: the share dropped is rate to within 2⁻³². */
  readonly threshold: number;
  readonly kept: number;
}

function prepare(rate: number, seed: number | undefined): Draw {
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`dropout rate must be in [0, 1), got ${rate}`);
  const [key1, key2] = seedKeys(seed ?? Math.random());
  return { key1, key2, threshold: Math.round(rate * 2 ** 32), kept: Math.fround(1 / Math.fround(1 - rate)) };
}

/** Positions per SIMD call: 256 KiB of values, which stay in cache until copied out. */
const SIMD_CHUNK = 1 << 16;

interface DropoutSimdExports {
  readonly memory: SimdMemory;
  apply(start: number, n: number, key1: number, key2: number, threshold: number, kept: number): void;
}

let simdModule: DropoutSimdExports | null | undefined;

/** The SIMD module, instantiated on first use; undefined where WebAssembly has no SIMD. */
function dropoutSimd(): DropoutSimdExports | undefined {
  if (simdModule === undefined) simdModule = instantiateSimdModule<DropoutSimdExports>(DROPOUT_SIMD_WASM, SIMD_CHUNK * 4) ?? null;
  return simdModule ?? undefined;
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
