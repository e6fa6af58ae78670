import { instantiateSimdModule, type SimdMemory } from '../simd/index.js';
import { SCATTER_ADD_SIMD_WASM } from './scatter-add-simd-binary.js';

/**
 * The row scatter-add of a gather's gradient (native-kernels.ts `ScatterNd`): `out` zeroed, then row r
 * of `source` (`slice` floats) added into `out` at float offset `offsets[r]`, row after row. In
 * WebAssembly SIMD where the target is small enough to live in the module's memory (attention's
 * key and value blocks: 3 MiB at 1024 tokens, from 19 MiB of rows) and rows are whole vectors, else in
 * JavaScript at about 3 ns an element. The adds happen in the same order either way, so the sums
 * are the same bits.
 */

/** Targets up to this many floats are summed in WebAssembly memory (256 MiB). */
const MAX_SIMD_TARGET = 1 << 26;

interface ScatterAddExports {
  readonly memory: SimdMemory;
  add(target: number, source: number, n: number): void;
}

let module: ScatterAddExports | null | undefined;

function scatterAddSimd(): ScatterAddExports | undefined {
  if (module === undefined) module = instantiateSimdModule<ScatterAddExports>(SCATTER_ADD_SIMD_WASM, 0) ?? null;
  return module ?? undefined;
}

export function scatterAddRows(source: Float32Array, offsets: Int32Array | Float64Array, slice: number, out: Float32Array): void {
  const rows = offsets.length;
  const simd = scatterAddSimd();
  // Worth it where the rows cover the target several times; a few rows into a large table (the word
  // embeddings' gradient) would cost more in zeroing and copying the table than they add.
  if (simd !== undefined && slice % 4 === 0 && out.length <= MAX_SIMD_TARGET && rows * slice >= out.length) {
    const bytes = (out.length + slice) * 4;
    const pages = Math.ceil((bytes - simd.memory.buffer.byteLength) / 65536);
    if (pages > 0) simd.memory.grow(pages);
    const heap = new Float32Array(simd.memory.buffer, 0, out.length + slice);
    heap.fill(0, 0, out.length);
    for (let row = 0; row < rows; row++) {
      heap.set(source.subarray(row * slice, (row + 1) * slice), out.length);
      simd.add((offsets[row] as number) * 4, out.length * 4, slice);
    }
    out.set(heap.subarray(0, out.length));
    return;
  }
  out.fill(0);
  for (let row = 0; row < rows; row++) {
    const at = offsets[row] as number;
    const from = row * slice;
    for (let j = 0; j < slice; j++) out[at + j] = (out[at + j] as number) + (source[from + j] as number);
  }
}
