import { registerWasmBatchMatMul } from './wasm-batch-mat-mul.js';
import { registerWasmCast } from './wasm-cast.js';
import { registerWasmGather } from './wasm-gather.js';
import { registerWasmIdentity } from './wasm-identity.js';
import { registerWasmStridedSlice } from './wasm-strided-slice.js';
import { registerWasmUnsortedSegmentSum } from './wasm-unsorted-segment-sum.js';

/**
 * Everything the wasm backend needs to train BigBird correctly and fast: the kernel it lacks
 * (`UnsortedSegmentSum`, the gradient of gather), the ones it gets wrong (`Cast` to bool, batched
 * `GatherV2`, non-float `StridedSlice`), and the
 * `BatchMatMul` that keeps batched and transposed products on XNNPACK, and the `Identity` that shares
 * data instead of copying it (the engine clones every tensor it saves for a gradient). Idempotent; call after
 * @tensorflow/tfjs-backend-wasm is imported (its kernels are registered on import).
 */
export function registerWasmTrainingKernels(): void {
  registerWasmUnsortedSegmentSum();
  registerWasmCast();
  registerWasmGather();
  registerWasmStridedSlice();
  registerWasmBatchMatMul();
  registerWasmIdentity();
}
