import { backend_util, GatherV2, type GatherV2Attrs, type KernelFunc, type TensorInfo, util } from '@tensorflow/tfjs-core';
import { replaceWasmKernel, wasmInternals } from './wasm-internals.js';

/**
 * The wasm backend's `GatherV2` is wrong for `batchDims > 0` (tfjs-backend-wasm 4.22): with x
 * [2, 10, 4] and indices [[1, 3, 3], [0, 9, 1]] gathered on axis 1, batch 1 gets rows 3, 0, 9 instead
 * of 0, 9, 1. BigBird's random-attention block gathering is such a batched gather (TF's
 * `tf.gather(..., batch_dims=2)`). This does the batched case as cpu does — out[b, o, i, s] =
 * x[b, o, indices[b, i], s] over gather_util's [batch, outer, dim, slice] view — by copying slices on
 * the heap, and leaves the unbatched case to the stock kernel.
 */
/** Rows at least this long are copied as whole rows rather than handed to the stock kernel. */
const FAST_SLICE_ELEMENTS = 64;

function gatherWith(stock: KernelFunc): KernelFunc {
  return (args) => {
    const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
    const { axis, batchDims } = args.attrs as unknown as GatherV2Attrs;
    if (x.dtype === 'string') return stock(args);
    const backend = wasmInternals(args.backend);
    const parsedAxis = util.parseAxisParam(axis, x.shape)[0];
    const info = backend_util.segment_util.collectGatherOpShapeInfo(x as never, indices as never, parsedAxis, batchDims);
    // The stock kernel is right without batch dimensions, but copies element by element; gathering
    // whole rows (BigBird's key/value blocks, 4096 floats each) is a memcpy per row here.
    if (batchDims === 0 && info.sliceSize < FAST_SLICE_ELEMENTS) return stock(args);
    const perBatch = util.sizeFromShape(indices.shape) / info.batchSize;
    const out = backend.makeOutput(info.outputShape, x.dtype);
    const xs = backend.typedArrayFromHeap(x);
    const ids = backend.typedArrayFromHeap(indices);
    const result = backend.typedArrayFromHeap(out);
    const { batchSize, outerSize, dimSize, sliceSize } = info;
    let to = 0;
    for (let b = 0; b < batchSize; b++) {
      for (let o = 0; o < outerSize; o++) {
        const base = (b * outerSize + o) * dimSize;
        for (let i = 0; i < perBatch; i++) {
          const index = ids[b * perBatch + i];
          if (!(index >= 0 && index < dimSize)) {
            backend.disposeData(out.dataId);
            throw new Error(`GatherV2: the index value ${index} is not in [0, ${dimSize - 1}]`);
          }
          const from = (base + index) * sliceSize;
          result.set(xs.subarray(from, from + sliceSize), to);
          to += sliceSize;
        }
      }
    }
    return out;
  };
}

/** Replaces wasm's `GatherV2` (idempotent). */
export function registerWasmGather(): void {
  replaceWasmKernel(GatherV2, gatherWith);
}
