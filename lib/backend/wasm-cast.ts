import { Cast, type CastAttrs, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { replaceWasmKernel, wasmInternals } from './wasm-internals.js';

/**
 * The wasm backend's `Cast` copies values with a typed-array `set`, so a cast to bool stores
 * `x mod 256` truncated (2 → 2, 0.5 → 0, 256 → 0, NaN → 0) where every other backend stores x ≠ 0
 * (and NaN ≠ 0 is true). Masks built as `cast(x, 'bool')` would silently drop entries. This keeps
 * the stock kernel for every other cast and does the bool one as cpu does.
 */
function castWith(stock: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as TensorInfo;
    const { dtype } = args.attrs as unknown as CastAttrs;
    if (dtype !== 'bool' || x.dtype === 'bool') return stock(args);
    const backend = wasmInternals(args.backend);
    const out = backend.makeOutput(x.shape.slice(), 'bool');
    const values = backend.typedArrayFromHeap(x);
    const bools = backend.typedArrayFromHeap(out);
    for (let i = 0; i < values.length; i++) bools[i] = values[i] !== 0 ? 1 : 0;
    return out;
  };
}

/** Replaces wasm's `Cast` (idempotent). */
export function registerWasmCast(): void {
  replaceWasmKernel(Cast, castWith);
}
