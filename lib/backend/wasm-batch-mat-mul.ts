import {
  BatchMatMul,
  type BatchMatMulAttrs,
  broadcast_util,
  getKernel,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
  Transpose,
  util,
} from '@tensorflow/tfjs-core';
import {
  heapOffset,
  heapView,
  releaseHeapView,
  replaceWasmKernel,
  restoreWasmKernel,
  tensorId,
  type WasmBackendInternals,
  type WasmModule,
  wasmInternals,
} from './wasm-internals.js';

/**
 * A faster `BatchMatMul` for the wasm backend.
 *
 * The stock kernel (tfjs-backend-wasm 4.22, batch_mat_mul_impl.cc) hands the product to XNNPACK's
 * fully-connected operator only when both operands have batch size 1 and neither is transposed;
 * everything else (every batched product, and every product a gradient makes with a transposed
 * operand) runs a naive blocked triple loop at a small fraction of the speed. It also broadcasts
 * batch dimensions by clamping flattened batch indices, which is wrong when both sides broadcast
 * (e.g. [2,1,…] × [1,3,…]).
 *
 * This kernel keeps the stock C++ entry point but only ever feeds it the fast case:
 *  - transposed operands are materialised with the wasm `Transpose` kernel (a copy, O(size), small
 *    next to the O(M·K·N) product);
 *  - a right side shared by the whole batch (rank 2, or batch size 1) is folded: [B, M, K] × [K, N]
 *    is one [B·M, K] × [K, N] product;
 *  - otherwise each output batch element is its own [M, K] × [K, N] call on zero-copy heap views of
 *    the operands and output (`heapView`), with batch indices broadcast per dimension.
 */

type CppBatchMatMul = (
  aId: number,
  aShape: Uint8Array,
  aRank: number,
  bId: number,
  bShape: Uint8Array,
  bRank: number,
  transposeA: boolean,
  transposeB: boolean,
  outId: number,
) => void;

const cppFunctions = new WeakMap<WasmModule, CppBatchMatMul>();

function cppBatchMatMul(wasm: WasmModule): CppBatchMatMul {
  let fn = cppFunctions.get(wasm);
  if (fn === undefined) {
    fn = wasm.cwrap(BatchMatMul, null, [
      'number', // a_id
      'array', // a_shape
      'number', // a_shape length
      'number', // b_id
      'array', // b_shape
      'number', // b_shape length
      'number', // transpose_a
      'number', // transpose_b
      'number', // out_id
    ]) as CppBatchMatMul;
    cppFunctions.set(wasm, fn);
  }
  return fn;
}

function shapeBytes(shape: readonly number[]): Uint8Array {
  return new Uint8Array(new Int32Array(shape).buffer);
}

const FLOAT_BYTES = 4;

/**
 * out[rows, n] = a[rows, k] · b[k, n] on the XNNPACK path. `aId`/`bId`/`outId` are C++ tensor ids
 * whose data start at the operands (views or whole tensors).
 */
function fastProduct(backend: WasmBackendInternals, aId: number, bId: number, outId: number, rows: number, k: number, n: number): void {
  cppBatchMatMul(backend.wasm)(aId, shapeBytes([1, rows, k]), 3, bId, shapeBytes([1, k, n]), 3, false, false, outId);
}

/** Swaps the last two axes with the wasm `Transpose` kernel; the caller disposes the result. */
function transposeLastTwo(backend: WasmBackendInternals, x: TensorInfo): TensorInfo {
  const transpose = getKernel(Transpose, 'wasm');
  if (transpose === undefined) throw new Error('the wasm backend has no Transpose kernel');
  const rank = x.shape.length;
  const perm = [...Array(rank - 2).keys(), rank - 1, rank - 2];
  return transpose.kernelFunc({
    inputs: { x },
    backend: backend as never,
    attrs: { perm } as unknown as NamedAttrMap,
  }) as TensorInfo;
}

/** Flat index into a broadcast operand for each flat index of the output batch. */
function broadcastBatchIndex(outBatch: readonly number[], operandBatch: readonly number[]): (i: number) => number {
  const rank = outBatch.length;
  const padded = [...Array(rank - operandBatch.length).fill(1), ...operandBatch] as number[];
  if (padded.every((d, axis) => d === outBatch[axis])) return (i) => i;
  const strides = new Array<number>(rank);
  let stride = 1;
  for (let axis = rank - 1; axis >= 0; axis--) {
    strides[axis] = padded[axis] === 1 ? 0 : stride;
    stride *= padded[axis];
  }
  return (i) => {
    let index = 0;
    for (let axis = rank - 1; axis >= 0; axis--) {
      const size = outBatch[axis];
      index += (i % size) * strides[axis];
      i = Math.floor(i / size);
    }
    return index;
  };
}

function fastBatchMatMul(args: Parameters<KernelFunc>[0], original: KernelFunc): TensorInfo {
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as BatchMatMulAttrs;
  const aRank = a.shape.length;
  const bRank = b.shape.length;
  const m = transposeA ? a.shape[aRank - 1] : a.shape[aRank - 2];
  const k = transposeA ? a.shape[aRank - 2] : a.shape[aRank - 1];
  const kB = transposeB ? b.shape[bRank - 1] : b.shape[bRank - 2];
  const n = transposeB ? b.shape[bRank - 2] : b.shape[bRank - 1];
  // Non-float inputs and mismatched shapes: let the stock kernel raise its own error.
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || aRank < 2 || bRank < 2 || k !== kB) {
    return original(args) as TensorInfo;
  }
  const backend = wasmInternals(args.backend);
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const outBatch = broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const batchA = util.sizeFromShape(outerA);
  const batchB = util.sizeFromShape(outerB);
  const batchOut = util.sizeFromShape(outBatch);
  if (batchOut * m * n * k > 0 && batchB > 1 && transposeB && !transposeA && n > m) {
    // A different right side per product costs XNNPACK a repacking of all of it (about 12 ns per
    // element here, more than the product itself for attention's [64 × 64] · [64 × 448]ᵀ). Computing
    // (b · aᵀ)ᵀ instead packs the smaller a and reads b as stored; the two transposes are cheap copies.
    const swapped = fastBatchMatMul({ ...args, inputs: { a: b, b: a }, attrs: { transposeA: false, transposeB: true } }, original);
    try {
      return transposeLastTwo(backend, swapped);
    } finally {
      backend.disposeData(swapped.dataId);
    }
  }

  const out = backend.makeOutput([...outBatch, m, n], 'float32');
  if (batchOut * m * n === 0) return out;
  const outOffset = heapOffset(backend, out);
  if (k === 0) {
    backend.wasm.HEAPF32.fill(0, outOffset / FLOAT_BYTES, outOffset / FLOAT_BYTES + batchOut * m * n);
    return out;
  }

  const aRows = transposeA ? transposeLastTwo(backend, a) : a;
  const bRows = transposeB ? transposeLastTwo(backend, b) : b;
  try {
    const aOffset = heapOffset(backend, aRows);
    const bOffset = heapOffset(backend, bRows);
    if (batchB === 1) {
      // One right side for every batch element: fold the batch into rows. A right side that is a
      // whole untransposed tensor keeps its own id, so XNNPACK's packed-weights cache (keyed by id,
      // dropped when the tensor is disposed) serves repeated products with the same weights.
      const rows = batchA * m;
      const aId = heapView(backend, aOffset, rows * k);
      const bId = transposeB ? heapView(backend, bOffset, k * n) : tensorId(backend, b);
      const outId = heapView(backend, outOffset, rows * n);
      try {
        fastProduct(backend, aId, bId, outId, rows, k, n);
      } finally {
        releaseHeapView(backend, aId);
        if (transposeB) releaseHeapView(backend, bId);
        releaseHeapView(backend, outId);
      }
      return out;
    }
    const indexA = broadcastBatchIndex(outBatch, outerA);
    const indexB = broadcastBatchIndex(outBatch, outerB);
    for (let i = 0; i < batchOut; i++) {
      const aId = heapView(backend, aOffset + indexA(i) * m * k * FLOAT_BYTES, m * k);
      // A fresh id per product: XNNPACK caches packed weights by the right side's id, and releasing
      // the view right after drops that cache entry with it.
      const bId = heapView(backend, bOffset + indexB(i) * k * n * FLOAT_BYTES, k * n);
      const outId = heapView(backend, outOffset + i * m * n * FLOAT_BYTES, m * n);
      try {
        fastProduct(backend, aId, bId, outId, m, k, n);
      } finally {
        releaseHeapView(backend, aId);
        releaseHeapView(backend, bId);
        releaseHeapView(backend, outId);
      }
    }
    return out;
  } finally {
    if (aRows !== a) backend.disposeData(aRows.dataId);
    if (bRows !== b) backend.disposeData(bRows.dataId);
  }
}

/**
 * Replaces the wasm backend's `BatchMatMul` with the fast one above. Idempotent; the stock kernel is
 * kept (for non-float inputs, and for `restoreStockWasmBatchMatMul`).
 */
export function registerWasmBatchMatMul(): void {
  replaceWasmKernel(BatchMatMul, (stock) => (args) => fastBatchMatMul(args, stock));
}

/** Puts the stock kernel back (for the benchmark's before/after comparison). */
export function restoreStockWasmBatchMatMul(): void {
  restoreWasmKernel(BatchMatMul);
}
