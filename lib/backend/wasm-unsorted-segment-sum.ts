import { getKernel, type KernelConfig, registerKernel, type TensorInfo, UnsortedSegmentSum, type UnsortedSegmentSumAttrs, util } from '@tensorflow/tfjs-core';
import { wasmInternals } from './wasm-internals.js';

/**
 * `UnsortedSegmentSum` for the wasm backend, which has none. It is the gradient of `gather`, so an
 * embedding lookup (and BigBird's block gathering) cannot be trained on wasm without it.
 *
 * Matches the cpu backend: rows whose segment id is outside [0, numSegments) are dropped, empty
 * segments are 0, and the output is float32 whatever the input dtype (cpu multiplies by a float mask).
 * Each segment's rows are summed in input order in double precision and rounded once, as cpu's `Sum`
 * does. Cost is O(rows · inner), not cpu's O(numSegments · rows · inner), so a vocabulary-sized
 * embedding gradient is cheap. Plain JavaScript on the heap views: the sum is memory-bound, and a
 * scatter-add has no XNNPACK kernel to hand it to.
 */
function unsortedSegmentSum(args: Parameters<KernelConfig['kernelFunc']>[0]): TensorInfo {
  const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = args.attrs as unknown as UnsortedSegmentSumAttrs;
  const backend = wasmInternals(args.backend);
  const rows = util.sizeFromShape(segmentIds.shape);
  const innerShape = x.shape.slice(segmentIds.shape.length);
  const inner = util.sizeFromShape(innerShape);
  const out = backend.makeOutput([numSegments, ...innerShape], 'float32');
  // Views only after the last allocation: makeOutput may grow (and so replace) the heap's buffer.
  const xs = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  const result = backend.typedArrayFromHeap(out) as Float32Array;

  // Chain each segment's rows in input order: head/tail per segment, next per row.
  const head = new Int32Array(numSegments).fill(-1);
  const tail = new Int32Array(numSegments);
  const next = new Int32Array(rows).fill(-1);
  for (let row = 0; row < rows; row++) {
    const id = ids[row];
    if (id < 0 || id >= numSegments) continue;
    if (head[id] < 0) head[id] = row;
    else next[tail[id]] = row;
    tail[id] = row;
  }
  const sum = new Float64Array(inner);
  for (let segment = 0; segment < numSegments; segment++) {
    const base = segment * inner;
    let row = head[segment];
    if (row < 0) {
      result.fill(0, base, base + inner);
      continue;
    }
    sum.fill(0);
    for (; row >= 0; row = next[row]) {
      const from = row * inner;
      for (let i = 0; i < inner; i++) sum[i] += xs[from + i];
    }
    for (let i = 0; i < inner; i++) result[base + i] = sum[i];
  }
  return out;
}

export const wasmUnsortedSegmentSumConfig: KernelConfig = {
  kernelName: UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum,
};

/** Registers the kernel unless the wasm backend (a later version, say) already has one. */
export function registerWasmUnsortedSegmentSum(): void {
  if (getKernel(UnsortedSegmentSum, 'wasm') === undefined) registerKernel(wasmUnsortedSegmentSumConfig);
}
