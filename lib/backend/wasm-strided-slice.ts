import { Cast, getKernel, type KernelFunc, StridedSlice, type TensorInfo } from '@tensorflow/tfjs-core';
import { replaceWasmKernel, wasmInternals } from './wasm-internals.js';

/**
 * The wasm backend's `StridedSlice` labels every result float32 (tfjs-backend-wasm 4.22), so an int32
 * slice reads back as denormal floats (4 → 5.6e-45). Its C++ copies 4-byte elements without
 * arithmetic, so for int32 the bits are right and only the label is fixed here; a bool input (1-byte
 * elements) goes through int32 and back.
 */
function stridedSliceWith(stock: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    if (x.dtype === 'float32') return stock(args);
    const backend = wasmInternals(args.backend);
    if (x.dtype === 'int32') {
      const out = stock(args) as TensorInfo;
      const data = backend.dataIdMap.get(out.dataId) as { dtype: string } | undefined;
      if (data === undefined) throw new Error('StridedSlice output is not on the wasm backend');
      data.dtype = 'int32';
      return { ...out, dtype: 'int32' };
    }
    const cast = getKernel(Cast, 'wasm');
    if (cast === undefined) throw new Error('the wasm backend has no Cast kernel');
    const castTo = (t: TensorInfo, dtype: string): TensorInfo => cast.kernelFunc({ inputs: { x: t }, backend: args.backend, attrs: { dtype } }) as TensorInfo;
    const asInt = castTo(x, 'int32');
    const sliced = stridedSliceWith(stock)({ ...args, inputs: { x: asInt } }) as TensorInfo;
    const out = castTo(sliced, x.dtype);
    backend.disposeData(asInt.dataId);
    backend.disposeData(sliced.dataId);
    return out;
  };
}

/** Replaces wasm's `StridedSlice` (idempotent). */
export function registerWasmStridedSlice(): void {
  replaceWasmKernel(StridedSlice, stridedSliceWith);
}
