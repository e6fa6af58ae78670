import { registerWasmBatchMatMul } from './wasm-batch-mat-mul.js';
import { registerWasmCast } from './wasm-cast.js';
import { registerWasmUnsortedSegmentSum } from './wasm-unsorted-segment-sum.js';

/**
 * Everything the wasm backend needs to train BigBird correctly and fast: the kernel it lacks
 * (`UnsortedSegmentSum`, the gradient of gather), the one it gets wrong (`Cast` to bool), and the
 * `BatchMatMul` that keeps batched and transposed products on XNNPACK. Idempotent; call after
 * @tensorflow/tfjs-backend-wasm is imported (its kernels are registered on import).
 */
export function registerWasmTrainingKernels(): void {
  registerWasmUnsortedSegmentSum();
  registerWasmCast();
  registerWasmBatchMatMul();
}
